from django.urls import path, re_path

from calendars import views

urlpatterns = [
    path("calendar/", views.CalendarFeedUrlView.as_view(), name="calendar-url"),
    re_path(
        r"^calendar/(?P<secret>[0-9a-f]{64})\.ics$",
        views.CalendarFeedView.as_view(),
        name="calendar-feed",
    ),
    path(
        "public/sessions/<int:pk>/calendar.ics",
        views.SessionCalendarView.as_view(),
        name="public-session-calendar",
    ),
]
