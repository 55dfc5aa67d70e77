from django.apps import AppConfig


class StudioConfig(AppConfig):
    """The project's wiring: its settings, URLs, processes and the commands
    that put every app together."""

    name = "studio"

    def ready(self) -> None:
        from studio import checks  # noqa: F401 (registers the checks)
