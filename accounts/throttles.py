from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class AuthRateThrottle(SimpleRateThrottle):
    """Limits register, login and password-reset requests per client address
    (`STUDIO_AUTH_THROTTLE`), whoever is signed in."""

    scope = "auth"

    def get_rate(self) -> str:
        return settings.STUDIO_AUTH_THROTTLE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
