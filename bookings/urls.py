from django.urls import path
from rest_framework.routers import SimpleRouter

from bookings.views import BookingViewSet, SessionTimeSlotViewSet, SessionViewSet

# Path converters, so an id is an integer in the routes and in the schema.
router = SimpleRouter(use_regex_path=False)
router.register("bookings", BookingViewSet, basename="booking")
# The instructor's own sessions: the timetable's routes, whose detail shows
# the bookings of each slot (sessions_app/urls.py keeps the first API's aliases).
router.register("sessions", SessionViewSet, basename="session")

# The instructor's operations on a slot of a session. They sit under the
# session's path but cancel and mark bookings, which are this app's.
slot_operations = [
    path(
        f"sessions/<int:pk>/time-slots/<int:slot_id>/{operation}/",
        SessionTimeSlotViewSet.as_view({"post": operation}),
        name=f"session-time-slot-{operation}",
    )
    for operation in ("cancel", "attendance")
]

urlpatterns = [*router.urls, *slot_operations]
