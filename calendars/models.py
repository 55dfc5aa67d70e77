from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarFeed(models.Model):
    """A user's secret calendar feed URL, one per user.

    The secret in the URL is derived, never stored: an HMAC (keyed with the
    project's secret key) of the user's id and `salt`, so the URL can be shown
    again. The database keeps only `salt` and the SHA-256 of the secret, by
    which a feed request finds its row; a new salt makes a new secret and the
    old URL finds nothing.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    salt = models.CharField(_("salt"), max_length=64)
    token_hash = models.CharField(_("hash of the secret"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the URL last changed: made, or made anew.
    rotated_at = models.DateTimeField(_("URL made"))

    class Meta:
        verbose_name = _("calendar feed")

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id}"
