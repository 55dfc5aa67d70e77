"""Who may call each endpoint of API.md section 3: anonymous, a client, an
instructor who does not own the session, and the owning instructor."""

from datetime import timedelta

from rest_framework import status

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.tests.factories import book, move_to_past
from sessions_app.models import Session
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.api import (
    CREATE,
    INSTRUCTOR_LIST,
    PUBLIC,
    SESSIONS,
    SessionApiTestCase,
    delete_url,
    detail_url,
    listed,
    public_url,
    sign_in,
    slot_body,
    update_url,
)
from testing.problems import assert_problem
from testing.timetable import db_state, ist

MISSING = 999_999
WHO = ["anonymous", "client", "other instructor", "owner"]


class SessionEndpointPermissionTests(SessionApiTestCase):
    def setUp(self):
        super().setUp()
        self.owner = InstructorFactory()
        self.users = {
            "anonymous": None,
            "client": ClientFactory(),
            "other instructor": InstructorFactory(),
            "owner": self.owner,
        }
        self.session = SessionFactory(instructor=self.owner, title="Morning Yoga")
        self.slot = TimeSlotFactory(session=self.session, start=ist(3, 7))

    def as_(self, who: str) -> None:
        sign_in(self.client, self.users[who])

    def create_body(self, days: int = 5) -> dict:
        return {"title": "New", "category": "yoga", "time_slots": [slot_body(ist(days, 7))]}

    def write_bodies(self) -> dict[str, dict]:
        return {
            "put": {
                "title": "Taken over",
                "category": "hiit",
                "time_slots": [slot_body(ist(6, 9))],
            },
            "patch": {"title": "Taken over", "time_slots": [listed(self.slot, capacity=1)]},
        }

    def assert_refused(self, response, who: str) -> None:
        if who == "anonymous":
            assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")
            self.assertIn("Bearer", response["WWW-Authenticate"])
        else:
            assert_problem(self, response, status.HTTP_403_FORBIDDEN, "permission_denied")

    # Create and list: instructors only.

    def test_only_instructors_can_create_on_either_path(self):
        for url in [CREATE, SESSIONS]:
            for who in ["anonymous", "client"]:
                with self.subTest(url=url, who=who):
                    self.as_(who)
                    before = db_state()

                    response = self.client.post(url, self.create_body())

                    self.assert_refused(response, who)
                    self.assertEqual(db_state(), before)

    def test_any_instructor_can_create_on_either_path(self):
        for days, (url, who) in enumerate(
            [(u, w) for u in [CREATE, SESSIONS] for w in ["other instructor", "owner"]], start=5
        ):
            with self.subTest(url=url, who=who):
                self.as_(who)

                response = self.client.post(url, self.create_body(days))

                self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
                session = Session.objects.get(pk=response.json()["id"])
                self.assertEqual(session.instructor, self.users[who])

    def test_only_instructors_can_list_on_either_path(self):
        for url in [INSTRUCTOR_LIST, SESSIONS]:
            for who in ["anonymous", "client"]:
                with self.subTest(url=url, who=who):
                    self.as_(who)

                    self.assert_refused(self.client.get(url), who)

    def test_each_instructor_lists_only_their_own_sessions(self):
        theirs = TimeSlotFactory(session__instructor=self.users["other instructor"]).session
        for url in [INSTRUCTOR_LIST, SESSIONS]:
            for who, expected in [("owner", self.session.pk), ("other instructor", theirs.pk)]:
                with self.subTest(url=url, who=who):
                    self.as_(who)

                    response = self.client.get(url)

                    self.assertEqual(response.status_code, status.HTTP_200_OK)
                    self.assertEqual([s["id"] for s in response.json()["results"]], [expected])

    # Detail, update, delete: the owner only; 404 for an id that does not exist.

    def test_only_the_owner_can_read_the_detail(self):
        for who in WHO:
            with self.subTest(who=who):
                self.as_(who)

                response = self.client.get(detail_url(self.session.pk))

                if who == "owner":
                    self.assertEqual(response.status_code, status.HTTP_200_OK)
                    self.assertEqual(response.json()["id"], self.session.pk)
                else:
                    self.assert_refused(response, who)

    def test_only_the_owner_can_update_on_either_path(self):
        for url in [update_url(self.session.pk), detail_url(self.session.pk)]:
            for method, body in self.write_bodies().items():
                for who in ["anonymous", "client", "other instructor"]:
                    with self.subTest(url=url, method=method, who=who):
                        self.as_(who)
                        before = db_state()

                        response = getattr(self.client, method)(url, body)

                        self.assert_refused(response, who)
                        self.assertEqual(db_state(), before)

    def test_the_owner_can_update_on_either_path(self):
        for url in [update_url(self.session.pk), detail_url(self.session.pk)]:
            for method in ["put", "patch"]:
                with self.subTest(url=url, method=method):
                    self.as_("owner")
                    title = f"{method} {url}"

                    response = getattr(self.client, method)(
                        url, {"title": title, "category": "pilates"}
                    )

                    self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                    self.assertEqual(Session.objects.get(pk=self.session.pk).title, title)

    def test_only_the_owner_can_delete_on_either_path(self):
        for url in [delete_url(self.session.pk), detail_url(self.session.pk)]:
            for who in ["anonymous", "client", "other instructor"]:
                with self.subTest(url=url, who=who):
                    self.as_(who)
                    before = db_state()

                    response = self.client.delete(url)

                    self.assert_refused(response, who)
                    self.assertEqual(db_state(), before)

    def test_the_owner_can_delete_on_either_path(self):
        second = SessionFactory(instructor=self.owner)
        self.as_("owner")
        for session, url in [(self.session, delete_url), (second, detail_url)]:
            with self.subTest(url=url(session.pk)):
                response = self.client.delete(url(session.pk))

                self.assertEqual(response.status_code, status.HTTP_204_NO_CONTENT)
                self.assertFalse(Session.objects.filter(pk=session.pk).exists())

    def test_an_id_that_does_not_exist_is_404_for_every_signed_in_user(self):
        requests = [
            ("get", detail_url(MISSING)),
            ("put", update_url(MISSING)),
            ("patch", update_url(MISSING)),
            ("put", detail_url(MISSING)),
            ("patch", detail_url(MISSING)),
            ("delete", delete_url(MISSING)),
            ("delete", detail_url(MISSING)),
        ]
        for who in ["client", "other instructor", "owner"]:
            for method, url in requests:
                with self.subTest(who=who, method=method, url=url):
                    self.as_(who)

                    response = getattr(self.client, method)(url, {"title": "x", "category": "yoga"})

                    assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")

    def test_anonymous_gets_401_before_any_lookup(self):
        self.as_("anonymous")

        for url in [detail_url(MISSING), update_url(MISSING)]:
            with self.subTest(url=url):
                assert_problem(
                    self,
                    self.client.patch(url, {"title": "x"}),
                    status.HTTP_401_UNAUTHORIZED,
                    "not_authenticated",
                )

    def test_a_bad_token_is_401_token_not_valid(self):
        self.client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

        for url in [SESSIONS, detail_url(self.session.pk)]:
            with self.subTest(url=url):
                assert_problem(
                    self, self.client.get(url), status.HTTP_401_UNAUTHORIZED, "token_not_valid"
                )

    def test_a_refused_update_with_bookings_changes_nothing(self):
        book(self.slot)
        for who in ["client", "other instructor"]:
            with self.subTest(who=who):
                self.as_(who)
                before = db_state()

                response = self.client.patch(
                    detail_url(self.session.pk), {"time_slots": [slot_body(ist(9, 7))]}
                )

                self.assert_refused(response, who)
                self.assertEqual(db_state(), before)

    # Public endpoints: open to all.

    def test_everyone_can_read_the_public_list_and_detail(self):
        for who in WHO:
            with self.subTest(who=who):
                self.as_(who)

                listing = self.client.get(PUBLIC)
                detail = self.client.get(public_url(self.session.pk))

                self.assertEqual(listing.status_code, status.HTTP_200_OK)
                self.assertEqual([s["id"] for s in listing.json()["results"]], [self.session.pk])
                self.assertEqual(detail.status_code, status.HTTP_200_OK)
                self.assertEqual(detail.json()["id"], self.session.pk)

    def test_public_detail_of_an_id_that_does_not_exist_is_404_for_everyone(self):
        for who in WHO:
            with self.subTest(who=who):
                self.as_(who)

                assert_problem(
                    self,
                    self.client.get(public_url(MISSING)),
                    status.HTTP_404_NOT_FOUND,
                    "not_found",
                )

    def test_public_detail_does_not_show_the_owner_a_session_without_upcoming_slots(self):
        move_to_past(self.slot, ago=timedelta(hours=2))
        self.as_("owner")

        assert_problem(
            self,
            self.client.get(public_url(self.session.pk)),
            status.HTTP_404_NOT_FOUND,
            "not_found",
        )
        self.assertEqual(self.client.get(detail_url(self.session.pk)).status_code, 200)
