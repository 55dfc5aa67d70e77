from django.urls import path
from rest_framework.routers import SimpleRouter

from sessions_app.views import PublicSessionViewSet, SessionViewSet

# Path converters, so an id is an integer in the routes and in the schema.
# /api/sessions/ itself, the instructor's own sessions, is mounted by
# bookings/urls.py: its detail lists the bookings of each slot.
router = SimpleRouter(use_regex_path=False)
router.register("public/sessions", PublicSessionViewSet, basename="public-session")

# The first API's paths, kept as aliases of the REST routes (deprecated in
# the schema, under operation ids of their own).
aliases = [
    path(
        "sessions/create/",
        SessionViewSet.as_view({"post": "create"}, alias_of="/api/sessions/"),
        name="session-create",
    ),
    path(
        "sessions/instructor/",
        SessionViewSet.as_view({"get": "list"}, alias_of="/api/sessions/"),
        name="session-instructor-list",
    ),
    path(
        "sessions/<int:pk>/update/",
        SessionViewSet.as_view(
            {"put": "update", "patch": "partial_update"}, alias_of="/api/sessions/{id}/"
        ),
        name="session-update",
    ),
    path(
        "sessions/<int:pk>/delete/",
        SessionViewSet.as_view({"delete": "destroy"}, alias_of="/api/sessions/{id}/"),
        name="session-delete",
    ),
]

urlpatterns = [*aliases, *router.urls]
