from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import examples, services
from accounts.serializers import (
    AuthSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.throttles import AuthRateThrottle
from core.schema import Tags
from core.serializers import ProblemSerializer


def _validated(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _signed_in(user, request: Request, status_code: int) -> Response:
    body = {"user": user, **services.tokens_for(user)}
    return Response(AuthSerializer(body, context={"request": request}).data, status=status_code)


class SignInView(APIView):
    """An endpoint for anyone that ignores the `Authorization` header: a client
    whose access token has expired still sends it, and must still be able to
    register, sign in, refresh its tokens or reset its password."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class RegisterView(SignInView):
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        operation_id="auth_register",
        tags=[Tags.AUTHENTICATION],
        summary="Register",
        description="Creates a client or instructor account and signs it in: the answer "
        "carries the user and a token pair. Registering as an instructor is 403 "
        "`instructor_signup_closed` while the studio's instructor sign-up is closed. "
        "Throttled per client address.",
        request=RegisterSerializer,
        responses={201: AuthSerializer, 403: ProblemSerializer},
        auth=[],
        examples=examples.REGISTER,
    )
    def post(self, request: Request) -> Response:
        user = services.user_register(**_validated(RegisterSerializer, request))
        return _signed_in(user, request, status.HTTP_201_CREATED)


class LoginView(SignInView):
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        operation_id="auth_login",
        tags=[Tags.AUTHENTICATION],
        summary="Sign in",
        description="Signs in with email (any case) and password: the answer carries the "
        "user and a token pair. A wrong email or password is 401 `invalid_credentials`. "
        "Throttled per client address.",
        request=LoginSerializer,
        responses={200: AuthSerializer, 401: ProblemSerializer},
        auth=[],
        examples=examples.LOGIN,
    )
    def post(self, request: Request) -> Response:
        user = services.user_authenticate(request=request, **_validated(LoginSerializer, request))
        return _signed_in(user, request, status.HTTP_200_OK)


class RefreshTokenView(SignInView):
    @extend_schema(
        operation_id="auth_refresh",
        tags=[Tags.AUTHENTICATION],
        summary="Refresh the token pair",
        description="Trades a refresh token for a new access and refresh token; the old "
        "refresh token is revoked. A refresh token that is bad, expired or revoked is 401 "
        "`token_not_valid`. An expired access token in the Authorization header is ignored.",
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, 401: ProblemSerializer},
        auth=[],
        examples=examples.REFRESH,
    )
    def post(self, request: Request) -> Response:
        pair = services.token_refresh(**_validated(RefreshSerializer, request))
        return Response(TokenPairSerializer(pair).data)


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout",
        tags=[Tags.AUTHENTICATION],
        summary="Sign out",
        description="Revokes the given refresh token of the signed-in user; other sign-ins stay.",
        request=RefreshSerializer,
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        services.token_revoke(user=request.user, **_validated(RefreshSerializer, request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        operation_id="profile_retrieve",
        tags=[Tags.PROFILE],
        summary="Your profile",
        description="The signed-in user.",
        examples=examples.ME_GET,
    ),
    patch=extend_schema(
        operation_id="profile_update",
        tags=[Tags.PROFILE],
        summary="Change your profile",
        description="Changes the fields given (name, time zone, email reminders); the "
        "others stay as they are. Role and email are not changed here.",
        examples=examples.ME_PATCH,
    ),
)
class MeView(generics.RetrieveUpdateAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = UserSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user

    def perform_update(self, serializer: UserSerializer) -> None:
        serializer.instance = services.user_update(
            user=serializer.instance, by=self.request.user, **serializer.validated_data
        )


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_password_change",
        tags=[Tags.AUTHENTICATION],
        summary="Change your password",
        description="Sets a new password given the current one; the user's refresh "
        "tokens are revoked, so other sign-ins end.",
        request=PasswordChangeSerializer,
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        services.user_change_password(
            user=request.user, by=request.user, **_validated(PasswordChangeSerializer, request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(SignInView):
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        operation_id="auth_password_reset",
        tags=[Tags.AUTHENTICATION],
        summary="Ask for a password reset link",
        description="Mails a reset link to the account with this email, if there is one; "
        "the answer is the same either way. Throttled per client address.",
        request=PasswordResetSerializer,
        responses={202: None},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        services.password_reset_request(**_validated(PasswordResetSerializer, request))
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(SignInView):
    @extend_schema(
        operation_id="auth_password_reset_confirm",
        tags=[Tags.AUTHENTICATION],
        summary="Set a new password with a reset link",
        description="Sets a new password with the `uid` and `token` of a mailed reset "
        "link; a link that is wrong, used or expired is 400 `invalid`.",
        request=PasswordResetConfirmSerializer,
        responses={204: None},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        services.password_reset_confirm(
            by=None, **_validated(PasswordResetConfirmSerializer, request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
