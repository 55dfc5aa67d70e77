from django.contrib.contenttypes.models import ContentType
from django.test import TestCase, override_settings

from accounts.tests.factories import ClientFactory, InstructorFactory
from calendars import services
from calendars.models import CalendarFeed
from core.models import ActionLogEntry


def logged_actions(feed: CalendarFeed) -> list[str]:
    return list(
        ActionLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(CalendarFeed), object_id=feed.pk
        )
        .order_by("id")
        .values_list("action", flat=True)
    )


class CalendarFeedGetTests(TestCase):
    def test_the_first_get_makes_the_feed_and_logs_it(self):
        user = ClientFactory()

        feed, secret = services.calendar_feed_get(user=user, by=user)

        self.assertEqual(CalendarFeed.objects.get(user=user), feed)
        self.assertRegex(secret, r"^[0-9a-f]{64}$")
        self.assertEqual(logged_actions(feed), ["calendar_feed.created"])

    def test_a_later_get_shows_the_same_secret_and_writes_nothing(self):
        user = InstructorFactory()
        feed, secret = services.calendar_feed_get(user=user, by=user)

        with self.assertNumQueries(1):
            again, secret_again = services.calendar_feed_get(user=user, by=user)

        self.assertEqual((again.pk, secret_again), (feed.pk, secret))
        self.assertEqual(logged_actions(feed), ["calendar_feed.created"])

    def test_each_user_has_a_secret_of_their_own(self):
        first, second = ClientFactory(), ClientFactory()

        _feed, secret = services.calendar_feed_get(user=first, by=first)
        _feed, other = services.calendar_feed_get(user=second, by=second)

        self.assertNotEqual(secret, other)

    def test_the_database_holds_only_a_hash_of_the_secret(self):
        user = ClientFactory()

        feed, secret = services.calendar_feed_get(user=user, by=user)

        row = CalendarFeed.objects.filter(pk=feed.pk).values().get()
        self.assertEqual(row["token_hash"], services.secret_hash(secret))
        self.assertNotIn(secret, repr(row))
        entries = ActionLogEntry.objects.values_list("data", flat=True)
        self.assertNotIn(secret, repr(list(entries)))

    def test_a_new_secret_key_gives_a_new_secret_and_stores_its_hash(self):
        user = ClientFactory()
        feed, old = services.calendar_feed_get(user=user, by=user)

        with override_settings(SECRET_KEY="another-secret-key-for-this-test-only-0123456789"):
            feed, new = services.calendar_feed_get(user=user, by=user)
            stored = CalendarFeed.objects.get(pk=feed.pk).token_hash

        self.assertNotEqual(new, old)
        self.assertEqual(stored, services.secret_hash(new))
        self.assertEqual(logged_actions(feed), ["calendar_feed.created", "calendar_feed.rekeyed"])


class CalendarFeedRotateTests(TestCase):
    def test_rotating_replaces_the_secret_and_its_hash(self):
        user = ClientFactory()
        feed, old = services.calendar_feed_get(user=user, by=user)

        rotated, new = services.calendar_feed_rotate(user=user, by=user)

        self.assertEqual(rotated.pk, feed.pk)
        self.assertNotEqual(new, old)
        self.assertEqual(CalendarFeed.objects.get(pk=feed.pk).token_hash, services.secret_hash(new))
        self.assertEqual(services.calendar_feed_get(user=user, by=user)[1], new)

    def test_rotating_is_logged_with_its_actor(self):
        user = ClientFactory()
        feed, _secret = services.calendar_feed_get(user=user, by=user)

        services.calendar_feed_rotate(user=user, by=user)

        entry = ActionLogEntry.objects.get(action="calendar_feed.rotated")
        self.assertEqual((entry.object_id, entry.actor), (feed.pk, user))
        self.assertEqual(logged_actions(feed), ["calendar_feed.created", "calendar_feed.rotated"])

    def test_rotating_before_any_get_makes_the_feed(self):
        user = InstructorFactory()

        feed, secret = services.calendar_feed_rotate(user=user, by=user)

        self.assertEqual(feed.token_hash, services.secret_hash(secret))
        self.assertEqual(logged_actions(feed), ["calendar_feed.created"])
