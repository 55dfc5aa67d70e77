from django.urls import path
from rest_framework.routers import SimpleRouter

from sessions_app.views import PublicSessionViewSet, SessionViewSet

router = SimpleRouter()
router.register("sessions", SessionViewSet, basename="session")
router.register("public/sessions", PublicSessionViewSet, basename="public-session")

# The first API's paths, kept as aliases of the REST routes.
aliases = [
    path("sessions/create/", SessionViewSet.as_view({"post": "create"}), name="session-create"),
    path(
        "sessions/instructor/",
        SessionViewSet.as_view({"get": "list"}),
        name="session-instructor-list",
    ),
    path(
        "sessions/<int:pk>/update/",
        SessionViewSet.as_view({"put": "update", "patch": "partial_update"}),
        name="session-update",
    ),
    path(
        "sessions/<int:pk>/delete/",
        SessionViewSet.as_view({"delete": "destroy"}),
        name="session-delete",
    ),
]

urlpatterns = [*aliases, *router.urls]
