from rest_framework import serializers


class CalendarFeedUrlSerializer(serializers.Serializer):
    url = serializers.URLField(
        read_only=True, help_text="The secret address of the signed-in user's calendar feed."
    )
