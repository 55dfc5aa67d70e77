from django.apps import AppConfig


class BookingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bookings"

    def ready(self) -> None:
        from bookings import selectors, services
        from core.signals import seats_freed, waiting_clients_asked

        # The timetable raises capacities without importing the bookings;
        # the freed seats go to the waitlist in the same transaction.
        seats_freed.connect(services.seats_freed_received, dispatch_uid="waitlist")
        # It asks first who waits on the slots, to lock their rows with them.
        waiting_clients_asked.connect(selectors.waiting_clients_received, dispatch_uid="waiting")
