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
from studio.serializers import ProblemSerializer


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
        request=LoginSerializer,
        responses={200: AuthSerializer},
        auth=[],
        examples=examples.LOGIN,
    )
    def post(self, request: Request) -> Response:
        user = services.user_authenticate(request=request, **_validated(LoginSerializer, request))
        return _signed_in(user, request, status.HTTP_200_OK)


class RefreshTokenView(SignInView):
    @extend_schema(
        request=RefreshSerializer,
        responses={200: TokenPairSerializer},
        auth=[],
        examples=examples.REFRESH,
    )
    def post(self, request: Request) -> Response:
        pair = services.token_refresh(**_validated(RefreshSerializer, request))
        return Response(TokenPairSerializer(pair).data)


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=RefreshSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        services.token_revoke(user=request.user, **_validated(RefreshSerializer, request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(examples=examples.ME_GET),
    patch=extend_schema(examples=examples.ME_PATCH),
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

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        services.user_change_password(
            user=request.user, by=request.user, **_validated(PasswordChangeSerializer, request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(SignInView):
    throttle_classes = [AuthRateThrottle]

    @extend_schema(request=PasswordResetSerializer, responses={202: None}, auth=[])
    def post(self, request: Request) -> Response:
        services.password_reset_request(**_validated(PasswordResetSerializer, request))
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(SignInView):
    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None}, auth=[])
    def post(self, request: Request) -> Response:
        services.password_reset_confirm(
            by=None, **_validated(PasswordResetConfirmSerializer, request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
