"""`manage.py purge_idempotency_keys`: expired keys go, in batches; live ones stay."""

from datetime import timedelta
from io import StringIO

from django.core.management import CommandError, call_command
from django.test import TestCase
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings.models import IdempotencyKey


def add_keys(client, count: int, *, expires_in: timedelta, prefix: str) -> set[int]:
    keys = IdempotencyKey.objects.bulk_create(
        IdempotencyKey(
            client=client,
            key=f"{prefix}-{index}",
            request_hash="0" * 64,
            status_code=201,
            response_body={"id": index},
            expires_at=now() + expires_in,
        )
        for index in range(count)
    )
    return {key.pk for key in keys}


class PurgeIdempotencyKeysTests(TestCase):
    def purge(self, *args) -> str:
        out = StringIO()
        call_command("purge_idempotency_keys", *args, stdout=out)
        return out.getvalue()

    def test_expired_keys_are_deleted_in_batches_and_live_ones_stay(self):
        client = ClientFactory()
        add_keys(client, 7, expires_in=-timedelta(seconds=1), prefix="old")
        live = add_keys(client, 3, expires_in=timedelta(hours=1), prefix="new")
        live |= add_keys(ClientFactory(), 1, expires_in=timedelta(hours=23), prefix="old")

        with self.assertNumQueries(4 * 3 + 1):  # per batch: select, then delete in a savepoint
            output = self.purge("--batch-size", "3")

        self.assertEqual(output.strip(), "Deleted 7 expired idempotency keys.")
        self.assertEqual(set(IdempotencyKey.objects.values_list("pk", flat=True)), live)

    def test_running_it_again_deletes_nothing_more(self):
        client = ClientFactory()
        add_keys(client, 2, expires_in=-timedelta(hours=1), prefix="old")
        add_keys(client, 2, expires_in=timedelta(hours=1), prefix="new")

        self.assertIn("Deleted 2 ", self.purge())
        self.assertIn("Deleted 0 ", self.purge())
        self.assertEqual(IdempotencyKey.objects.count(), 2)

    def test_a_batch_size_below_one_is_refused(self):
        with self.assertRaisesMessage(CommandError, "--batch-size"):
            self.purge("--batch-size", "0")
