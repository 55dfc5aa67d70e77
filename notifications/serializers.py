from rest_framework import serializers

from core.serializers import ZonedDateTimeField
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    created_at = ZonedDateTimeField()
    sent_at = ZonedDateTimeField(allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "status", "subject", "booking", "created_at", "sent_at"]
        read_only_fields = fields
