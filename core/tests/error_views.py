"""Views that fail in each way the exception handler must answer, and the
URL configuration the error tests route to them (`ROOT_URLCONF`)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from core import errors


class Payload(serializers.Serializer):
    name = serializers.CharField()
    slots = serializers.ListField(
        child=serializers.DictField(child=serializers.IntegerField()), required=False
    )


class Nested(serializers.Serializer):
    end = serializers.DateTimeField()


class NestedPayload(serializers.Serializer):
    time_slots = Nested(many=True)


class NeverThrottle(BaseThrottle):
    def allow_request(self, request, view):
        return False

    def wait(self):
        return 42


def view(raise_exc):
    class RaisingView(APIView):
        permission_classes = [AllowAny]
        authentication_classes = []

        def get(self, request):
            raise raise_exc

    return RaisingView.as_view()


class NestedView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def post(self, request):
        NestedPayload(data=request.data).is_valid(raise_exception=True)
        return Response({})


class ThrottledView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [NeverThrottle]

    def get(self, request):
        return Response({})


def django_view_that_breaks(request):
    raise RuntimeError("secret /srv/path SELECT * FROM accounts_user")


urlpatterns = [
    path("api/slot-full/", view(errors.SlotFullError())),
    path("api/not-found/", view(Http404())),
    path("api/django-invalid/", view(DjangoValidationError({"capacity": ["Too many."]}))),
    path("api/db-down/", view(OperationalError("connection refused"))),
    path("api/bug/", view(RuntimeError("secret /srv/path SELECT * FROM accounts_user"))),
    path("api/nested/", NestedView.as_view()),
    path("api/throttled/", ThrottledView.as_view()),
    path("api/django-bug/", django_view_that_breaks),
]
handler500 = "studio.views.server_error"
