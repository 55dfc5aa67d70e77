from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Role, User
from accounts.services import email_check_available
from core.admin import show_service_error
from core.errors import ValidationFailedError
from core.signals import timetable_changed


def _clean_email(form, cleaned: dict) -> None:
    """The email, checked (and normalised) by the service; a refusal shows
    on the field, in the service's words."""
    if "email" not in cleaned:
        return  # the field shows its own error
    try:
        cleaned["email"] = email_check_available(cleaned["email"], user=form.instance)
    except ValidationFailedError as error:
        show_service_error(form, error)


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "name", "role", "timezone"]

    def clean(self):
        cleaned = super().clean()
        _clean_email(self, cleaned)
        return cleaned


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        _clean_email(self, cleaned)
        return cleaned

    def clean_role(self) -> str:
        """An instructor keeps the role while any session is theirs: a session
        is always taught by an instructor."""
        role = self.cleaned_data["role"]
        user = self.instance
        if user.pk is not None and user.is_instructor and role != Role.INSTRUCTOR:
            sessions = user.sessions.count()
            if sessions:
                raise ValidationError(
                    ngettext(
                        "This instructor teaches %(count)d session; give it to another "
                        "instructor first.",
                        "This instructor teaches %(count)d sessions; give them to another "
                        "instructor first.",
                        sessions,
                    ),
                    code="instructor_has_sessions",
                    params={"count": sessions},
                )
        return role


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = ["email", "name", "role", "timezone", "is_staff", "is_active", "date_joined"]
    list_filter = ["role", "timezone", "is_staff", "is_active"]
    search_fields = ["email", "name"]
    ordering = ["email"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["name", "role", "timezone", "email_reminders"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "name", "role", "timezone", "password1", "password2"],
            },
        ),
    ]

    # The public timetable shows instructors' names: a change here reaches its
    # next read at once, as a change through the API does.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        timetable_changed.send(sender=User)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        timetable_changed.send(sender=User)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        timetable_changed.send(sender=User)
