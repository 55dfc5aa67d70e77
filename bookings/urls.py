from django.urls import path
from rest_framework.routers import SimpleRouter

from bookings.views import BookingViewSet, SessionTimeSlotViewSet

router = SimpleRouter()
router.register("bookings", BookingViewSet, basename="booking")

# The instructor's operations on a slot of a session. They sit under the
# session's path but cancel bookings, which are this app's.
slot_operations = [
    path(
        "sessions/<int:pk>/time-slots/<int:slot_id>/cancel/",
        SessionTimeSlotViewSet.as_view({"post": "cancel"}),
        name="session-time-slot-cancel",
    ),
]

urlpatterns = [*router.urls, *slot_operations]
