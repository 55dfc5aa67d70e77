"""The account services of tokens: refreshing a pair and revoking a refresh token."""

from django.test import TestCase
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.tests.factories import ClientFactory, InstructorFactory
from core.errors import (
    ForbiddenError,
    TokenNotValidError,
)
from testing.api import NEW_PASSWORD, is_revoked


class TokenRefreshTests(TestCase):
    def setUp(self):
        self.user = ClientFactory()
        self.pair = services.tokens_for(self.user)

    def test_tokens_for_records_the_refresh_token_as_outstanding(self):
        jti = RefreshToken(self.pair["refresh"])["jti"]

        self.assertTrue(OutstandingToken.objects.filter(jti=jti, user=self.user).exists())

    def test_refresh_returns_a_new_pair_for_the_same_user(self):
        pair = services.token_refresh(refresh=self.pair["refresh"])

        self.assertNotEqual(pair["refresh"], self.pair["refresh"])
        self.assertNotEqual(pair["access"], self.pair["access"])
        self.assertEqual(RefreshToken(pair["refresh"])["user_id"], str(self.user.pk))

    def test_refresh_revokes_the_old_refresh_token(self):
        services.token_refresh(refresh=self.pair["refresh"])

        self.assertTrue(is_revoked(self.pair["refresh"]))

    def test_refresh_refuses_a_refresh_token_used_twice(self):
        services.token_refresh(refresh=self.pair["refresh"])

        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=self.pair["refresh"])

    def test_refreshed_refresh_token_can_itself_be_refreshed(self):
        pair = services.token_refresh(refresh=self.pair["refresh"])

        again = services.token_refresh(refresh=pair["refresh"])

        self.assertTrue(is_revoked(pair["refresh"]))
        self.assertFalse(is_revoked(again["refresh"]))

    def test_refresh_refuses_garbage(self):
        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh="not-a-token")

    def test_refresh_refuses_an_access_token(self):
        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=self.pair["access"])

    def test_refresh_refuses_a_token_the_studio_never_issued(self):
        token = RefreshToken()
        token["user_id"] = str(self.user.pk)

        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=str(token))

    def test_refresh_refuses_a_token_issued_before_a_password_set_outside_the_api(self):
        self.user.set_password(NEW_PASSWORD)
        self.user.save()

        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=self.pair["refresh"])

    def test_refresh_refuses_a_token_of_a_deactivated_user(self):
        self.user.is_active = False
        self.user.save()

        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=self.pair["refresh"])
        self.assertFalse(is_revoked(self.pair["refresh"]))


class TokenRevokeTests(TestCase):
    def setUp(self):
        self.user = ClientFactory()
        self.pair = services.tokens_for(self.user)

    def test_revoke_blacklists_the_refresh_token(self):
        services.token_revoke(refresh=self.pair["refresh"], user=self.user)

        self.assertTrue(is_revoked(self.pair["refresh"]))
        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=self.pair["refresh"])

    def test_revoke_leaves_the_users_other_refresh_tokens_alone(self):
        other = services.tokens_for(self.user)

        services.token_revoke(refresh=self.pair["refresh"], user=self.user)

        self.assertFalse(is_revoked(other["refresh"]))

    def test_revoke_refuses_another_users_token_and_leaves_it_live(self):
        stranger = InstructorFactory()

        with self.assertRaises(ForbiddenError):
            services.token_revoke(refresh=self.pair["refresh"], user=stranger)

        self.assertFalse(is_revoked(self.pair["refresh"]))

    def test_revoke_refuses_an_already_revoked_token(self):
        services.token_revoke(refresh=self.pair["refresh"], user=self.user)

        with self.assertRaises(TokenNotValidError):
            services.token_revoke(refresh=self.pair["refresh"], user=self.user)

    def test_revoke_refuses_garbage(self):
        with self.assertRaises(TokenNotValidError):
            services.token_revoke(refresh="garbage", user=self.user)

    def test_revoke_all_revokes_every_live_refresh_token_of_the_user_only(self):
        first = services.tokens_for(self.user)
        services.token_revoke(refresh=first["refresh"], user=self.user)
        stranger_pair = services.tokens_for(ClientFactory())

        revoked = services.user_revoke_refresh_tokens(user=self.user)

        self.assertEqual(revoked, 1)
        self.assertTrue(is_revoked(self.pair["refresh"]))
        self.assertFalse(is_revoked(stranger_pair["refresh"]))
