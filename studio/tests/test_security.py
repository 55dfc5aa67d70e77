"""Deployment hardening: security headers, HTTPS, CORS, and answers that reveal no accounts."""

from django.core import mail
from django.test import override_settings
from rest_framework.test import APITestCase

from accounts.tests.factories import PASSWORD, ClientFactory
from testing.processes import PRODUCTION_KEYS, run

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class SecurityHeaderTests(APITestCase):
    def test_every_kind_of_answer_carries_the_security_headers(self):
        answers = {
            "ok": self.client.get("/api/public/sessions/"),
            "refused": self.client.get("/api/me/"),
            "unknown path": self.client.get("/api/nowhere/"),
            "admin": self.client.get("/admin/login/"),
            "docs": self.client.get("/api/docs/"),
        }
        for name, response in answers.items():
            for header, value in SECURITY_HEADERS.items():
                with self.subTest(answer=name, header=header):
                    self.assertEqual(response.headers.get(header), value)

    def test_api_answers_keep_other_origins_windows_apart(self):
        # The docs page alone opts out (drf-spectacular), for OAuth pop-ups.
        for path in ["/api/public/sessions/", "/api/me/", "/api/nowhere/"]:
            with self.subTest(path=path):
                response = self.client.get(path)
                self.assertEqual(response.headers.get("Cross-Origin-Opener-Policy"), "same-origin")

    def test_no_hsts_on_plain_http_in_development(self):
        self.assertNotIn("Strict-Transport-Security", self.client.get("/api/nowhere/").headers)


PRINT_ANSWERS = """
import django; django.setup()
from django.test import Client
client = Client()
secure = client.get("/api/nowhere/", secure=True, HTTP_HOST="studio.example.com")
plain = client.get("/api/nowhere/", HTTP_HOST="studio.example.com")
print(secure.headers.get("Strict-Transport-Security"))
print(plain.status_code, plain.headers.get("Location"))
"""


class HttpsTests(APITestCase):
    def test_with_https_on_answers_carry_hsts_and_http_redirects(self):
        result = run(
            ["-c", PRINT_ANSWERS],
            DJANGO_HTTPS="1",
            DJANGO_ALLOWED_HOSTS="studio.example.com",
            **PRODUCTION_KEYS,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        hsts, redirect = result.stdout.strip().splitlines()
        self.assertEqual(hsts, "max-age=31536000; includeSubDomains; preload")
        self.assertEqual(redirect, "301 https://studio.example.com/api/nowhere/")


class CorsTests(APITestCase):
    def preflight(self, origin: str, path: str = "/api/public/sessions/"):
        return self.client.options(
            path,
            HTTP_ORIGIN=origin,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
        )

    @override_settings(CORS_ALLOWED_ORIGINS=[])
    def test_cors_is_closed_when_no_origin_is_named(self):
        response = self.preflight("https://app.example")
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)
        get = self.client.get("/api/public/sessions/", HTTP_ORIGIN="https://app.example")
        self.assertNotIn("Access-Control-Allow-Origin", get.headers)

    @override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"])
    def test_a_named_origin_may_call_the_api_and_no_other(self):
        allowed = self.preflight("https://app.example")
        self.assertEqual(allowed.headers.get("Access-Control-Allow-Origin"), "https://app.example")
        self.assertIn("authorization", allowed.headers.get("Access-Control-Allow-Headers", ""))
        self.assertNotIn(
            "Access-Control-Allow-Origin", self.preflight("https://evil.example").headers
        )

    @override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"])
    def test_a_named_origin_may_book_with_an_idempotency_key_and_see_a_replay(self):
        preflight = self.client.options(
            "/api/bookings/",
            HTTP_ORIGIN="https://app.example",
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
        )
        allowed = preflight.headers.get("Access-Control-Allow-Headers", "")
        for header in ["authorization", "content-type", "idempotency-key"]:
            self.assertIn(header, allowed)
        answer = self.client.post("/api/bookings/", {}, HTTP_ORIGIN="https://app.example")
        self.assertIn("Idempotent-Replayed", answer.headers.get("Access-Control-Expose-Headers"))

    @override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"])
    def test_cors_never_opens_the_admin(self):
        response = self.preflight("https://app.example", path="/admin/login/")
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)


class AccountEnumerationTests(APITestCase):
    """Login and password reset answer alike whether or not an account exists."""

    def setUp(self):
        ClientFactory(email="ana@example.com")
        ClientFactory(email="off@example.com", is_active=False)

    def test_login_answers_the_same_for_unknown_email_wrong_password_and_inactive(self):
        answers = [
            self.client.post("/api/login/", {"email": email, "password": password})
            for email, password in [
                ("nobody@example.com", PASSWORD),
                ("ana@example.com", "wrong-Pass-123"),
                ("off@example.com", PASSWORD),
            ]
        ]
        self.assertEqual({answer.status_code for answer in answers}, {401})
        self.assertEqual(len({answer.content for answer in answers}), 1)

    def test_password_reset_answers_the_same_for_known_and_unknown_emails(self):
        with self.captureOnCommitCallbacks(execute=True):
            known = self.client.post("/api/password/reset/", {"email": "ana@example.com"})
        unknown = self.client.post("/api/password/reset/", {"email": "nobody@example.com"})
        inactive = self.client.post("/api/password/reset/", {"email": "off@example.com"})
        self.assertEqual({known.status_code, unknown.status_code, inactive.status_code}, {202})
        self.assertEqual(known.content, unknown.content)
        self.assertEqual(known.content, inactive.content)
        self.assertEqual(len(mail.outbox), 1)

    def test_refused_sign_in_says_nothing_about_which_part_was_wrong(self):
        response = self.client.post(
            "/api/login/", {"email": "nobody@example.com", "password": PASSWORD}
        )
        detail = response.json()["detail"].lower()
        self.assertNotIn("password is wrong", detail)
        self.assertNotIn("no user", detail)
        self.assertNotIn("not found", detail)
