"""Every field the API reads has a size limit; input over it is a 400 and changes nothing."""

from datetime import timedelta

from django.utils.timezone import now
from rest_framework.test import APITestCase

from accounts.models import User
from accounts.tests.factories import ClientFactory, InstructorFactory
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import TimeSlotFactory
from testing.problems import assert_problem


def slot(days: int) -> dict:
    start = now() + timedelta(days=days)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}


class SizeLimitTests(APITestCase):
    def assert_too_long(self, response, field: str) -> None:
        body = assert_problem(self, response, 400, "invalid")
        self.assertIn(field, body["errors"])

    def test_register_limits_every_field(self):
        valid = {
            "email": "new@client.example",
            "password": "sturdy-Pass-123",
            "name": "New Client",
            "role": "client",
            "timezone": "Asia/Kolkata",
        }
        oversized = {
            "email": "x" * 250 + "@client.example",
            "password": "sturdy-Pass-123" + "x" * 120,
            "name": "n" * 151,
            "timezone": "Asia/" + "K" * 60,
        }
        for field, value in oversized.items():
            with self.subTest(field=field):
                response = self.client.post("/api/register/", {**valid, field: value})
                self.assert_too_long(response, field)
        self.assertFalse(User.objects.exists())

    def test_login_limits_email_and_password(self):
        for field, value in {"email": "x" * 255, "password": "p" * 129}.items():
            with self.subTest(field=field):
                body = {"email": "a@client.example", "password": "pw", field: value}
                self.assert_too_long(self.client.post("/api/login/", body), field)

    def test_profile_name_is_limited(self):
        client = ClientFactory(name="Maya")
        self.client.force_authenticate(client)
        self.assert_too_long(self.client.patch("/api/me/", {"name": "n" * 151}), "name")
        client.refresh_from_db()
        self.assertEqual(client.name, "Maya")

    def test_session_title_description_and_slot_count_are_limited(self):
        self.client.force_authenticate(InstructorFactory())
        valid = {"title": "Yoga", "category": "yoga", "time_slots": [slot(1)]}
        oversized = {
            "title": "t" * 201,
            "description": "d" * 5001,
            "time_slots": [slot(1 + day) for day in range(201)],
        }
        for field, value in oversized.items():
            with self.subTest(field=field):
                response = self.client.post("/api/sessions/", {**valid, field: value})
                self.assert_too_long(response, field)
        self.assertFalse(Session.objects.exists())

    def test_session_update_title_is_limited(self):
        slot_ = TimeSlotFactory()
        self.client.force_authenticate(slot_.session.instructor)
        response = self.client.patch(f"/api/sessions/{slot_.session.pk}/", {"title": "t" * 201})
        self.assert_too_long(response, "title")
        self.assertEqual(Session.objects.get().title, slot_.session.title)
        self.assertEqual(TimeSlot.objects.count(), 1)

    def test_search_is_limited(self):
        response = self.client.get("/api/public/sessions/", {"search": "s" * 101})
        self.assert_too_long(response, "search")

    def test_page_size_is_capped_at_one_hundred(self):
        session = TimeSlotFactory().session
        TimeSlotFactory.create_batch(3, session=session)
        for _ in range(101):
            TimeSlotFactory()
        response = self.client.get("/api/public/sessions/", {"page_size": 100_000})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.json()["results"]), 100)
        self.assertIsNotNone(response.json()["next"])
