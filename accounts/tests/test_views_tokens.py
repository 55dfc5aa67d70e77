"""Refreshing and revoking tokens through HTTP: the refresh endpoint's
rotation and refusals, and logging out."""

from datetime import timedelta

from rest_framework import status
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.tests.factories import ClientFactory, InstructorFactory
from testing.api import (
    LOGOUT,
    ME,
    REFRESH,
    AccountApiTestCase,
    sign_in,
)
from testing.problems import assert_problem


class RefreshTokenViewTests(AccountApiTestCase):
    def setUp(self):
        super().setUp()
        self.user = ClientFactory()
        self.pair = services.tokens_for(self.user)

    def test_refresh_returns_a_new_working_pair(self):
        response = self.client.post(REFRESH, {"refresh": self.pair["refresh"]})

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(set(body), {"access", "refresh"})
        self.assertNotEqual(body["refresh"], self.pair["refresh"])
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
        self.assertEqual(self.client.get(ME).json()["id"], self.user.pk)
        self.client.credentials()
        again = self.client.post(REFRESH, {"refresh": body["refresh"]})
        self.assertEqual(again.status_code, status.HTTP_200_OK)

    def test_refresh_refuses_the_old_refresh_token_afterwards(self):
        self.client.post(REFRESH, {"refresh": self.pair["refresh"]})

        self.assert_token_refused(self.pair["refresh"])

    def test_refresh_refuses_garbage(self):
        response = self.client.post(REFRESH, {"refresh": "garbage.token.value"})

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "token_not_valid")

    def test_refresh_refuses_an_expired_refresh_token(self):
        token = RefreshToken.for_user(self.user)
        token.set_exp(lifetime=-timedelta(seconds=1))

        self.assert_token_refused(str(token))

    def test_refresh_refuses_an_access_token(self):
        self.assert_token_refused(self.pair["access"])

    def test_refresh_refuses_a_deactivated_users_token(self):
        self.user.is_active = False
        self.user.save()

        self.assert_token_refused(self.pair["refresh"])

    def test_refresh_refuses_a_missing_refresh(self):
        response = self.client.post(REFRESH, {})

        self.assert_invalid(response, "refresh")

    def test_refresh_refuses_a_malformed_json_body(self):
        response = self.client.post(REFRESH, data="{", content_type="application/json")

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")


class LogoutViewTests(AccountApiTestCase):
    def setUp(self):
        super().setUp()
        self.user = ClientFactory()
        self.pair = sign_in(self.client, self.user)

    def test_logout_returns_204_and_revokes_the_refresh_token(self):
        response = self.client.post(LOGOUT, {"refresh": self.pair["refresh"]})

        self.assertEqual(response.status_code, status.HTTP_204_NO_CONTENT, response.content)
        self.client.credentials()
        self.assert_token_refused(self.pair["refresh"])

    def test_logout_leaves_the_users_other_sessions_alone(self):
        other = services.tokens_for(self.user)

        self.client.post(LOGOUT, {"refresh": self.pair["refresh"]})

        response = self.client.post(REFRESH, {"refresh": other["refresh"]})
        self.assertEqual(response.status_code, status.HTTP_200_OK)

    def test_logout_refuses_another_users_refresh_token_and_leaves_it_live(self):
        stranger = services.tokens_for(InstructorFactory())

        response = self.client.post(LOGOUT, {"refresh": stranger["refresh"]})

        assert_problem(self, response, status.HTTP_403_FORBIDDEN, "permission_denied")
        self.client.credentials()
        self.assertEqual(
            self.client.post(REFRESH, {"refresh": stranger["refresh"]}).status_code,
            status.HTTP_200_OK,
        )

    def test_logout_refuses_garbage_refresh(self):
        response = self.client.post(LOGOUT, {"refresh": "garbage"})

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "token_not_valid")

    def test_logout_refuses_a_refresh_token_already_revoked(self):
        self.client.post(LOGOUT, {"refresh": self.pair["refresh"]})

        response = self.client.post(LOGOUT, {"refresh": self.pair["refresh"]})

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "token_not_valid")

    def test_logout_refuses_a_missing_refresh(self):
        response = self.client.post(LOGOUT, {})

        self.assert_invalid(response, "refresh")

    def test_logout_refuses_a_malformed_json_body(self):
        response = self.client.post(LOGOUT, data="[1,", content_type="application/json")

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")

    def test_logout_without_credentials_is_401_not_authenticated(self):
        self.client.credentials()

        response = self.client.post(LOGOUT, {"refresh": self.pair["refresh"]})

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")
        self.assertIn("Bearer", response["WWW-Authenticate"])
