from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated

from core.schema import Tags
from notifications import examples
from notifications.models import Notification
from notifications.serializers import NotificationSerializer


class NotificationListView(generics.ListAPIView):
    """The signed-in user's own notifications, newest first: the mail sent
    and the mail to be sent (a reminder shows once it falls due)."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationSerializer
    filter_backends = []

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        operation_id="notifications_list",
        tags=[Tags.PROFILE],
        summary="Your notifications",
        description="The signed-in user's own notifications, newest first: mail sent "
        "and mail to be sent (a reminder shows once it falls due).",
        examples=examples.NOTIFICATION_LIST,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
