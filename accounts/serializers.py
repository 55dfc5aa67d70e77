from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Role, User
from core.serializers import StrictBooleanField, StrictCharField
from core.timezones import validate_zone_name


class UserSerializer(serializers.ModelSerializer):
    """The user object; on `PATCH /api/me/` only name, timezone and
    email_reminders change."""

    name = StrictCharField(max_length=150)
    email_reminders = StrictBooleanField(
        required=False,
        help_text="Mail a reminder before each booked class. The other mail is always sent.",
    )

    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "timezone", "email_reminders"]
        read_only_fields = ["id", "email", "role"]


class PasswordField(StrictCharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", 128)
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = PasswordField()
    name = StrictCharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)
    timezone = serializers.CharField(max_length=64, required=False, validators=[validate_zone_name])

    def validate_email(self, value: str) -> str:
        value = User.objects.normalize_email(value)
        if User.objects.filter(email=value).exists():
            raise serializers.ValidationError(_("A user with this email already exists."))
        return value


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = PasswordField()


class AuthSerializer(serializers.Serializer):
    """A signed-in user with a fresh token pair."""

    user = UserSerializer()
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class PasswordChangeSerializer(serializers.Serializer):
    old_password = PasswordField()
    new_password = PasswordField()


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = PasswordField()
