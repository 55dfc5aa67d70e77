"""Access tokens are HS256 under the project's own JWT key, and nothing else passes."""

import base64
import json

import jwt
from django.conf import settings
from rest_framework.test import APITestCase
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import ClientFactory
from testing.problems import assert_problem


def b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class JwtHardeningTests(APITestCase):
    def setUp(self):
        self.user = ClientFactory()
        self.claims = dict(AccessToken.for_user(self.user).payload)

    def get_me(self, token: str):
        return self.client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token}")

    def assert_refused(self, token: str) -> None:
        response = self.get_me(token)
        assert_problem(self, response, 401, "token_not_valid")

    def test_a_token_from_the_project_is_accepted(self):
        token = jwt.encode(self.claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
        self.assertEqual(self.get_me(token).status_code, 200)

    def test_the_jwt_key_is_not_the_secret_key(self):
        self.assertNotEqual(settings.SIMPLE_JWT["SIGNING_KEY"], settings.SECRET_KEY)
        self.assert_refused(jwt.encode(self.claims, settings.SECRET_KEY, algorithm="HS256"))

    def test_an_unsigned_token_is_refused(self):
        self.assert_refused(f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(self.claims)}.")

    def test_a_token_signed_with_another_algorithm_is_refused(self):
        key = settings.SIMPLE_JWT["SIGNING_KEY"]
        for algorithm in ["HS384", "HS512"]:
            with self.subTest(algorithm=algorithm):
                self.assert_refused(jwt.encode(self.claims, key, algorithm=algorithm))

    def test_a_token_with_changed_claims_is_refused(self):
        token = jwt.encode(self.claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
        header, _, signature = token.split(".")
        forged = {**self.claims, "user_id": str(ClientFactory().pk)}
        self.assert_refused(f"{header}.{b64(forged)}.{signature}")
