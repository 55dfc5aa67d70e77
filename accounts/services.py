"""Every write on accounts and tokens."""

import logging

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.models import update_last_login
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import Role, User
from core.actionlog import log_action
from core.errors import (
    ForbiddenError,
    InstructorSignupClosedError,
    InvalidCredentialsError,
    TokenNotValidError,
    ValidationFailedError,
)
from core.locking import lock_objects
from core.signals import MailKind, mail_due, timetable_changed
from core.timezones import studio_zone_name

logger = logging.getLogger(__name__)


def _check_password(password: str, *, user: User, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailedError(errors={field: exc.messages}) from None


EMAIL_TAKEN = _lazy("A user with this email already exists.")


def email_check_available(email: str, *, user: User | None = None) -> str:
    """The normalised email, if no other account than `user` holds it (in any
    case); the unique constraint on the table stays the last defence."""
    email = User.objects.normalize_email(email)
    others = User.objects.filter(email=email)
    if user is not None and user.pk is not None:
        others = others.exclude(pk=user.pk)
    if others.exists():
        raise ValidationFailedError(errors={"email": [EMAIL_TAKEN]})
    return email


def user_register(
    *, email: str, password: str, name: str, role: str, timezone: str | None = None
) -> User:
    """A new account; it is its own actor in the action log. While the
    studio's sign-up for instructors is closed, only clients register here."""
    if role == Role.INSTRUCTOR and settings.STUDIO_INSTRUCTOR_SIGNUP == "closed":
        raise InstructorSignupClosedError()
    user = User(
        email=User.objects.normalize_email(email),
        name=name,
        role=role,
        timezone=timezone or studio_zone_name(),
    )
    _check_password(password, user=user, field="password")
    email_check_available(user.email)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            log_action(user, "user.registered", by=user, data={"role": role})
    except IntegrityError:
        # Another request took the email since the check above.
        raise ValidationFailedError(errors={"email": [EMAIL_TAKEN]}) from None
    return user


def user_authenticate(*, request, email: str, password: str) -> User:
    user = authenticate(request, username=User.objects.normalize_email(email), password=password)
    if user is None:
        raise InvalidCredentialsError()
    update_last_login(None, user)
    return user


def tokens_for(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _read_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError:
        raise TokenNotValidError() from None


def token_refresh(*, refresh: str) -> dict[str, str]:
    """A new access and refresh token for a valid refresh token, which is revoked.

    The refresh token's row is locked, so two requests racing with the same
    token get one new pair between them and a 401 for the other.
    """
    token = _read_refresh(refresh)
    with transaction.atomic():
        (rows,) = lock_objects(OutstandingToken.objects.filter(jti=token[jwt_settings.JTI_CLAIM]))
        outstanding = rows[0] if rows else None
        if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
            raise TokenNotValidError()
        user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
        if user is None:
            raise TokenNotValidError()
        if jwt_settings.CHECK_REVOKE_TOKEN and token.get(
            jwt_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            # The password changed since this token was issued (in the admin, say).
            raise TokenNotValidError()
        BlacklistedToken.objects.create(token=outstanding)
        return tokens_for(user)


def token_revoke(*, refresh: str, user: User) -> None:
    token = _read_refresh(refresh)
    if str(token.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise ForbiddenError(_("This refresh token belongs to another account."))
    token.blacklist()


def user_revoke_refresh_tokens(*, user: User) -> int:
    """Revokes every refresh token of `user`; returns how many were live."""
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    return len(revoked)


def user_update(
    *,
    user: User,
    by: User | None,
    name: str | None = None,
    timezone: str | None = None,
    email_reminders: bool | None = None,
) -> User:
    changes = {
        field: [getattr(user, field), value]
        for field, value in (
            ("name", name),
            ("timezone", timezone),
            ("email_reminders", email_reminders),
        )
        if value is not None and value != getattr(user, field)
    }
    if not changes:
        return user
    with transaction.atomic():
        for field, (_old, new) in changes.items():
            setattr(user, field, new)
        user.save(update_fields=list(changes))
        log_action(user, "user.updated", by=by, data=changes)
        if "name" in changes and user.is_instructor:
            # The public timetable shows instructors' names.
            timetable_changed.send(sender=User)
    return user


def _set_password(user: User, password: str, *, by: User | None, action: str) -> None:
    """Sets the password and revokes every session of the old one."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        user_revoke_refresh_tokens(user=user)
        log_action(user, action, by=by)


def user_change_password(
    *, user: User, old_password: str, new_password: str, by: User | None
) -> None:
    if not user.check_password(old_password):
        raise ValidationFailedError(errors={"old_password": [_("The current password is wrong.")]})
    _check_password(new_password, user=user, field="new_password")
    _set_password(user, new_password, by=by, action="user.password_changed")


def password_reset_request(*, email: str) -> None:
    """Mails a reset link to the active account with this email, if there is one.

    The caller learns nothing of whether the account exists.
    """
    user = User.objects.filter(email=User.objects.normalize_email(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    # The mail (its link made as it is written, so no token is stored) goes
    # through the outbox like every other.
    with transaction.atomic():
        mail_due.send(User, kind=MailKind.PASSWORD_RESET, user=user)


def password_reset_confirm(*, uid: str, token: str, new_password: str, by: User | None) -> User:
    """Sets a new password with a reset link's uid and token. Whoever holds the
    link acts for the account, so `by` is None (the system) from the API."""
    invalid = ValidationFailedError(
        errors={"token": [_("This password reset link is invalid or has expired.")]}
    )
    try:
        pk = force_str(urlsafe_base64_decode(uid))
        user = User.objects.get(pk=int(pk), is_active=True)
    except (ValueError, OverflowError, User.DoesNotExist):
        raise invalid from None
    if not default_token_generator.check_token(user, token):
        raise invalid
    _check_password(new_password, user=user, field="new_password")
    _set_password(user, new_password, by=by, action="user.password_reset")
    return user
