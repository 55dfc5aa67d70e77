import re

from rest_framework.test import APITestCase

from accounts.tests.factories import ClientFactory, InstructorFactory
from calendars.models import CalendarFeed
from testing.api import sign_in
from testing.calendars import CALENDAR_CONTENT_TYPE
from testing.problems import assert_problem

URL = "/api/calendar/"
FEED_URL = re.compile(r"^http://testserver/api/calendar/[0-9a-f]{64}\.ics$")


class CalendarUrlTests(APITestCase):
    def setUp(self):
        self.user = ClientFactory()
        sign_in(self.client, self.user)

    def feed_path(self, url: str) -> str:
        return url.removeprefix("http://testserver")

    def test_anonymous_get_is_401(self):
        sign_in(self.client, None)

        assert_problem(self, self.client.get(URL), 401, "not_authenticated")

    def test_anonymous_post_is_401_and_makes_no_feed(self):
        sign_in(self.client, None)

        assert_problem(self, self.client.post(URL), 401, "not_authenticated")
        self.assertFalse(CalendarFeed.objects.exists())

    def test_get_answers_the_absolute_url_of_the_feed(self):
        response = self.client.get(URL)

        self.assertEqual(response.status_code, 200)
        self.assertEqual(set(response.json()), {"url"})
        self.assertRegex(response.json()["url"], FEED_URL)

    def test_get_answers_the_same_url_each_time(self):
        first = self.client.get(URL).json()["url"]

        self.assertEqual(self.client.get(URL).json()["url"], first)

    def test_an_instructor_has_a_feed_url_too(self):
        sign_in(self.client, InstructorFactory())

        response = self.client.get(URL)

        self.assertEqual(response.status_code, 200)
        self.assertRegex(response.json()["url"], FEED_URL)

    def test_the_url_serves_the_feed_without_sign_in(self):
        url = self.client.get(URL).json()["url"]
        sign_in(self.client, None)

        response = self.client.get(self.feed_path(url))

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], CALENDAR_CONTENT_TYPE)

    def test_an_authorization_header_does_not_matter_to_the_feed(self):
        path = self.feed_path(self.client.get(URL).json()["url"])
        for header in ["Bearer not-a-token", "Basic dXNlcjpwYXNz"]:
            with self.subTest(header=header):
                self.client.credentials(HTTP_AUTHORIZATION=header)

                self.assertEqual(self.client.get(path).status_code, 200)

    def test_post_answers_a_new_url_and_the_old_one_is_404(self):
        old = self.feed_path(self.client.get(URL).json()["url"])

        response = self.client.post(URL)

        self.assertEqual(response.status_code, 200)
        new = self.feed_path(response.json()["url"])
        self.assertNotEqual(new, old)
        assert_problem(self, self.client.get(old), 404, "not_found")
        self.assertEqual(self.client.get(new).status_code, 200)
        self.assertEqual(self.client.get(URL).json()["url"], response.json()["url"])

    def test_an_unknown_secret_is_a_404_problem(self):
        response = self.client.get(f"/api/calendar/{'0' * 64}.ics")

        assert_problem(self, response, 404, "not_found")

    def test_a_malformed_secret_is_a_404_problem(self):
        for path in ["/api/calendar/abc.ics", f"/api/calendar/{'A' * 64}.ics"]:
            with self.subTest(path=path):
                assert_problem(self, self.client.get(path), 404, "not_found")

    def test_the_feed_of_a_deactivated_account_is_404(self):
        path = self.feed_path(self.client.get(URL).json()["url"])
        self.user.is_active = False
        self.user.save(update_fields=["is_active"])

        assert_problem(self, self.client.get(path), 404, "not_found")

    def test_the_database_holds_no_secret_of_a_url_shown(self):
        url = self.client.post(URL).json()["url"]
        secret = url.rsplit("/", 1)[1].removesuffix(".ics")

        row = CalendarFeed.objects.filter(user=self.user).values().get()

        self.assertNotIn(secret, repr(row))
