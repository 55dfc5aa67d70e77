from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from studio import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/health/", views.HealthView.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The Swagger UI page is HTML to read, nothing else (an OPTIONS answer has no page).
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", http_method_names=["get", "head"]),
        name="docs",
    ),
    path("api/", include("accounts.urls")),
    path("api/", include("sessions_app.urls")),
    path("api/", include("bookings.urls")),
    path("api/", include("notifications.urls")),
    path("api/", include("calendars.urls")),
    re_path(r"^api/(?P<path>.*)$", views.api_not_found),
]

handler400 = "studio.views.bad_request"
handler404 = "studio.views.not_found"
handler500 = "studio.views.server_error"
