"""The calendar feed's secret URL: made on first use, made anew on request.

The secret is `feed_secret(feed)`, an HMAC of the user's id and the feed's
salt under the project's secret key; only its SHA-256 is stored. Each write
locks the user's row, so two requests for a new URL at once leave one URL
that works: the one answered last.
"""

import hashlib
import secrets

from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.timezone import now

from accounts.models import User
from calendars.models import CalendarFeed
from core.actionlog import log_action
from core.locking import lock_objects

KEY_SALT = "studio.calendar"


def feed_secret(feed: CalendarFeed) -> str:
    """The secret of `feed`'s URL: 64 hex digits."""
    value = f"{feed.user_id}:{feed.salt}"
    return salted_hmac(KEY_SALT, value, algorithm="sha256").hexdigest()


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(feed: CalendarFeed, secret: str) -> bool:
    """`secret` is the current secret of `feed` (under the current secret key)."""
    return constant_time_compare(feed_secret(feed), secret)


def _new_salt(feed: CalendarFeed) -> str:
    feed.salt = secrets.token_hex(32)
    feed.token_hash = secret_hash(feed_secret(feed))
    feed.rotated_at = now()
    return feed.salt


def calendar_feed_get(*, user: User, by: User | None) -> tuple[CalendarFeed, str]:
    """`user`'s feed and its secret; the feed is made on first use.

    Should the project's secret key have changed, the stored hash is of a
    secret no longer made: it is replaced, so the URL shown works (and the
    one made under the old key does not).
    """
    feed = CalendarFeed.objects.filter(user=user).first()
    if feed is not None:
        secret = feed_secret(feed)
        if constant_time_compare(feed.token_hash, secret_hash(secret)):
            return feed, secret
    with transaction.atomic():
        lock_objects(User.objects.filter(pk=user.pk))
        feed = CalendarFeed.objects.filter(user=user).first()
        if feed is None:
            feed = CalendarFeed(user=user)
            _new_salt(feed)
            feed.save()
            log_action(feed, "calendar_feed.created", by=by)
        else:
            secret = feed_secret(feed)
            if not constant_time_compare(feed.token_hash, secret_hash(secret)):
                feed.token_hash = secret_hash(secret)
                feed.save(update_fields=["token_hash"])
                log_action(feed, "calendar_feed.rekeyed", by=by)
    return feed, feed_secret(feed)


def calendar_feed_rotate(*, user: User, by: User | None) -> tuple[CalendarFeed, str]:
    """Makes `user`'s feed URL anew; the previous URL stops working at once."""
    with transaction.atomic():
        lock_objects(User.objects.filter(pk=user.pk))
        feed = CalendarFeed.objects.filter(user=user).first()
        created = feed is None
        if created:
            feed = CalendarFeed(user=user)
        _new_salt(feed)
        feed.save()
        log_action(feed, "calendar_feed.created" if created else "calendar_feed.rotated", by=by)
    return feed, feed_secret(feed)
