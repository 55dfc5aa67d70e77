"""A rule-based state machine over the HTTP API, against a plain model.

Clients register, instructors create sessions, add and remove slots and
change capacities, clients book and cancel, the studio cancels slots in the
admin, and instructors delete sessions, in any order. A model of dicts says
what each step must answer; after every step the database and the
instructors' timetables (`booked`, `available`, `status`) must agree with it:

- confirmed bookings on a slot never exceed its capacity;
- each slot's `booked` and the API's `available` agree with its confirmed bookings;
- no client holds two confirmed bookings on one slot;
- every refused step answers the status and code the model predicts, and
  changes nothing in the database.

Slots lie a few days ahead on a half-hour grid, with one to three seats and
at most six at a time, so overlaps, conflicts and full slots come up often.
"""

from datetime import datetime

from django.db.models import Count, Q
from django.test import TestCase, override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import User
from accounts.tests.factories import PASSWORD
from bookings.models import Booking, BookingStatus
from bookings.tests.state_model import (
    MAX_CLIENTS,
    MAX_SLOTS,
    StudioModel,
    overlaps,
    pick,
    picks,
    slot_items,
    strays,
)
from sessions_app.models import Session, TimeSlot


class BookingMachine(StudioModel):
    # Rules -----------------------------------------------------------------
    # Each rule predicts its answer from the model before it sends the request.
    # Hypothesis tries rules with fewer arguments more often, so the busiest
    # rules take theirs as one tuple.

    @initialize(
        first=st.lists(slot_items, min_size=1, max_size=3),
        second=st.lists(slot_items, min_size=1, max_size=3),
    )
    def open_the_studio(self, first, second):
        """Two instructors with a session each, and two clients."""
        self.instructors = [self.register("instructor"), self.register("instructor")]
        for _ in range(2):
            self.register_client()
        self.create_session(0, first, alias=False)
        self.create_session(1, second, alias=True)

    @precondition(lambda self: len(self.clients) < MAX_CLIENTS)
    @rule(which=picks, stray=strays)
    def register_client(self, which=0, stray=1):
        """Registers a client; now and then first with a taken email, in any case."""
        if stray == 0 and self.clients:
            email = self.clients[pick(self.clients, which)]
            email = email.upper() if which % 2 else email
            body = {"email": email, "password": PASSWORD, "name": "Again", "role": "client"}
            response = self.call(None, "post", "/api/register/", body, expect=400, code="invalid")
            assert "email" in response.json()["errors"]
        client = self.register("client")
        self.clients[client] = User.objects.get(pk=client).email

    @precondition(lambda self: len(self.slots) < MAX_SLOTS)
    @rule(who=picks, items=st.lists(slot_items, min_size=1, max_size=3), alias=st.booleans())
    def create_session(self, who, items, alias):
        instructor = self.instructors[who % len(self.instructors)]
        spans = [self.times(start, length) for start, length, _capacity in items]
        clash = any(overlaps(a, b) for i, a in enumerate(spans) for b in spans[i + 1 :]) or any(
            overlaps(span, self.span(other))
            for span in spans
            for other in self.active_slots(instructor)
        )
        title = f"Session {self.next_serial()}"
        body = {
            "title": title,
            "category": "yoga",
            "time_slots": [
                {"start": start.isoformat(), "end": end.isoformat(), "capacity": capacity}
                for (start, end), (_s, _l, capacity) in zip(spans, items, strict=True)
            ],
        }
        url = "/api/sessions/create/" if alias else "/api/sessions/"
        if clash:
            response = self.call(instructor, "post", url, body, expect=400, code="invalid")
            assert "time_slots" in response.json()["errors"]
            return
        data = self.call(instructor, "post", url, body, expect=201).json()
        self.sessions[data["id"]] = {"instructor": instructor, "title": title}
        by_start = {start: (end, items[i][2]) for i, (start, end) in enumerate(spans)}
        assert len(data["time_slots"]) == len(items)
        for slot in data["time_slots"]:
            start = datetime.fromisoformat(slot["start"])
            end, capacity = by_start[start]
            assert datetime.fromisoformat(slot["end"]) == end
            assert (slot["capacity"], slot["booked"], slot["available"]) == (capacity, 0, capacity)
            self.slots[slot["id"]] = {
                "session": data["id"],
                "start": start,
                "end": end,
                "capacity": capacity,
                "cancelled": False,
            }

    @precondition(lambda self: self.clients and self.slots)
    @rule(step=st.tuples(picks, picks, st.sampled_from(["offered", "any", "beside", "gone"])))
    def book(self, step):
        """A client books: one of the most booked open slots they do not hold,
        so slots fill up; or any slot; or one at the time of a slot they hold;
        or a deleted one."""
        who, which, how = step
        client = pick(self.clients, who)
        mine = self.held_by(client)
        offered = [
            pk
            for pk, slot in self.slots.items()
            if not slot["cancelled"]
            and len(self.confirmed(pk)) < slot["capacity"]
            and pk not in mine
        ]
        beside = [
            pk
            for pk in self.slots
            if pk not in mine and any(overlaps(self.span(pk), self.span(m)) for m in mine)
        ]
        if how == "offered" and offered:
            most = max(len(self.confirmed(pk)) for pk in offered)
            choices = [pk for pk in offered if len(self.confirmed(pk)) == most]
        elif how == "beside" and beside:
            choices = beside
        elif how == "gone" and self.gone_slots:
            choices = self.gone_slots
        else:
            choices = list(self.slots)
        slot_id = pick(choices, which)
        body = {"time_slot": slot_id}
        if slot_id not in self.slots:
            self.call(client, "post", "/api/bookings/", body, expect=400, code="invalid")
            return
        refusal = None
        if self.slots[slot_id]["cancelled"]:
            refusal = "slot_cancelled"
        elif slot_id in mine:
            refusal = "already_booked"
        elif any(overlaps(self.span(slot_id), self.span(other)) for other in mine):
            refusal = "time_conflict"
        elif len(self.confirmed(slot_id)) >= self.slots[slot_id]["capacity"]:
            refusal = "slot_full"
        if refusal:
            self.call(client, "post", "/api/bookings/", body, expect=409, code=refusal)
            return
        data = self.call(client, "post", "/api/bookings/", body, expect=201).json()
        self.bookings[data["id"]] = {"client": client, "slot": slot_id, "confirmed": True}
        assert data["status"] == BookingStatus.CONFIRMED
        seats = self.slots[slot_id]["capacity"]
        taken = len(self.confirmed(slot_id))
        assert (data["time_slot"]["booked"], data["time_slot"]["available"]) == (
            taken,
            seats - taken,
        )

    @precondition(lambda self: self.bookings)
    @rule(step=st.tuples(picks, picks, strays, st.booleans()))
    def cancel_booking(self, step):
        """A client cancels a booking of theirs (either route); now and then
        someone else's, which they cannot see."""
        who, which, stray, delete = step
        booking_id = pick(self.bookings, which)
        booking = self.bookings[booking_id]
        client = pick(self.clients, who) if stray == 0 else booking["client"]
        url = f"/api/bookings/{booking_id}/" if delete else f"/api/bookings/{booking_id}/cancel/"
        method = "delete" if delete else "post"
        if booking["client"] != client:
            self.call(client, method, url, expect=404, code="not_found")
            return
        data = self.call(client, method, url, expect=200).json()
        booking["confirmed"] = False
        assert data["status"] == BookingStatus.CANCELLED

    @precondition(lambda self: self.slots)
    @rule(step=st.tuples(picks, strays, st.integers(-1, 2), st.booleans(), st.booleans()))
    def change_capacity(self, step):
        """Sets one slot's capacity near its confirmed bookings (one below to
        two above), sending the session's other slots as they are; mostly on
        one of the most booked slots; now and then as the other instructor."""
        which, stray, change, put, alias = step
        if stray == 0:
            choices = list(self.slots)
        else:
            most = max(len(self.confirmed(pk)) for pk in self.slots)
            choices = [pk for pk in self.slots if len(self.confirmed(pk)) == most]
        slot_id = pick(choices, which)
        capacity = len(self.confirmed(slot_id)) + change
        session_id = self.slots[slot_id]["session"]
        owner = self.sessions[session_id]["instructor"]
        actor = owner if stray else next(pk for pk in self.instructors if pk != owner)
        items = [
            self.slot_body(pk, capacity=capacity) if pk == slot_id else self.slot_body(pk)
            for pk in self.session_slots(session_id)
        ]
        args = {"put": put, "alias": alias}
        if actor != owner:
            self.update(actor, session_id, items, **args, expect=403, code="permission_denied")
        elif capacity < 1:
            self.update(actor, session_id, items, **args, expect=400, code="invalid")
        elif capacity < len(self.confirmed(slot_id)):
            self.update(actor, session_id, items, **args, expect=409, code="capacity_below_booked")
        else:
            self.update(actor, session_id, items, **args, expect=200)
            self.slots[slot_id]["capacity"] = capacity

    @precondition(lambda self: self.sessions)
    @rule(which=picks, stray=strays, add=st.booleans(), slot=slot_items)
    def add_or_remove_a_slot(self, which, stray, add, slot):
        """The owner adds a slot to a session's list, or leaves one out (now
        and then a session's only one)."""
        if add and len(self.slots) < MAX_SLOTS:
            self.add_slot(pick(self.sessions, which), slot)
            return
        several = [
            pk for pk in self.slots if len(self.session_slots(self.slots[pk]["session"])) > 1
        ]
        self.remove_slot(pick(several if several and stray else self.slots, which))

    def add_slot(self, session_id: int, slot: tuple[int, int, int]) -> None:
        owner = self.sessions[session_id]["instructor"]
        start, length, capacity = slot
        span = self.times(start, length)
        items = [self.slot_body(pk) for pk in self.session_slots(session_id)]
        items.append(
            {"start": span[0].isoformat(), "end": span[1].isoformat(), "capacity": capacity}
        )
        args = {"put": False, "alias": False}
        if any(overlaps(span, self.span(other)) for other in self.active_slots(owner)):
            self.update(owner, session_id, items, **args, expect=400, code="invalid")
            return
        data = self.update(owner, session_id, items, **args, expect=200).json()
        [new] = [slot for slot in data["time_slots"] if slot["id"] not in self.slots]
        assert (datetime.fromisoformat(new["start"]), datetime.fromisoformat(new["end"])) == span
        self.slots[new["id"]] = {
            "session": session_id,
            "start": span[0],
            "end": span[1],
            "capacity": capacity,
            "cancelled": False,
        }

    def remove_slot(self, slot_id: int) -> None:
        session_id = self.slots[slot_id]["session"]
        owner = self.sessions[session_id]["instructor"]
        rest = [pk for pk in self.session_slots(session_id) if pk != slot_id]
        items = [self.slot_body(pk) for pk in rest]
        args = {"put": True, "alias": True}
        if not rest:
            self.update(owner, session_id, items, **args, expect=400, code="invalid")
        elif self.held(slot_id):
            self.update(owner, session_id, items, **args, expect=409, code="has_bookings")
        else:
            self.update(owner, session_id, items, **args, expect=200)
            del self.slots[slot_id]
            self.gone_slots.append(slot_id)

    @precondition(lambda self: self.slots)
    @rule(which=picks)
    def cancel_slot(self, which):
        """The studio cancels a slot with the admin's action."""
        slot_id = pick(self.slots, which)
        response = self.admin.post(
            "/admin/sessions_app/timeslot/",
            {"action": "cancel_slots", "_selected_action": [str(slot_id)]},
        )
        assert response.status_code == 302, response.content
        self.slots[slot_id]["cancelled"] = True
        for booking_id in self.confirmed(slot_id):
            self.bookings[booking_id]["confirmed"] = False

    @precondition(lambda self: self.sessions)
    @rule(who=picks, which=picks, stray=strays, alias=st.booleans())
    def delete_session(self, who, which, stray, alias):
        """Deletes a session as its owner; now and then one already deleted,
        or as the other instructor."""
        gone = stray == 0 and self.gone_sessions
        session_id = pick(self.gone_sessions if gone else self.sessions, which)
        actor = self.instructors[who % len(self.instructors)]
        if session_id in self.sessions and stray != 1:
            actor = self.sessions[session_id]["instructor"]
        url = f"/api/sessions/{session_id}/delete/" if alias else f"/api/sessions/{session_id}/"
        if session_id not in self.sessions:
            self.call(actor, "delete", url, expect=404, code="not_found")
        elif self.sessions[session_id]["instructor"] != actor:
            self.call(actor, "delete", url, expect=403, code="permission_denied")
        elif any(self.held(pk) for pk in self.session_slots(session_id)):
            self.call(actor, "delete", url, expect=409, code="has_bookings")
        else:
            self.call(actor, "delete", url, expect=204)
            for pk in self.session_slots(session_id):
                del self.slots[pk]
                self.gone_slots.append(pk)
            del self.sessions[session_id]
            self.gone_sessions.append(session_id)

    # Invariants ------------------------------------------------------------

    @invariant()
    def seats_never_oversell_and_the_counter_agrees(self):
        slots = TimeSlot.objects.annotate(
            held=Count("bookings", filter=Q(bookings__status=BookingStatus.CONFIRMED))
        )
        for slot in slots:
            assert slot.held <= slot.capacity, (slot.pk, slot.held, slot.capacity)
            assert slot.booked == slot.held, (slot.pk, slot.booked, slot.held)

    @invariant()
    def no_client_holds_two_confirmed_bookings_on_one_slot(self):
        doubles = (
            Booking.objects.confirmed()
            .values("client", "time_slot")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
        )
        assert not doubles.exists(), list(doubles)

    @invariant()
    def the_database_holds_what_the_model_says(self):
        sessions = dict(Session.objects.values_list("pk", "instructor_id"))
        assert sessions == {pk: s["instructor"] for pk, s in self.sessions.items()}
        slots = {
            pk: (session, start, end, capacity, cancelled)
            for pk, session, start, end, capacity, cancelled in TimeSlot.objects.values_list(
                "pk", "session_id", "start", "end", "capacity", "is_cancelled"
            )
        }
        assert slots == {
            pk: (s["session"], s["start"], s["end"], s["capacity"], s["cancelled"])
            for pk, s in self.slots.items()
        }
        bookings = {
            pk: (client, slot, status == BookingStatus.CONFIRMED)
            for pk, client, slot, status in Booking.objects.values_list(
                "pk", "client_id", "time_slot_id", "status"
            )
        }
        assert bookings == {
            pk: (b["client"], b["slot"], b["confirmed"]) for pk, b in self.bookings.items()
        }

    @invariant()
    def the_timetable_shows_booked_and_available_from_the_bookings(self):
        for instructor in self.instructors:
            response = self.call(instructor, "get", "/api/sessions/?page_size=100", expect=200)
            shown = {
                slot["id"]: slot
                for session in response.json()["results"]
                for slot in session["time_slots"]
            }
            mine = {
                pk
                for pk in self.slots
                if self.sessions[self.slots[pk]["session"]]["instructor"] == instructor
            }
            assert set(shown) == mine
            for pk in mine:
                model = self.slots[pk]
                taken = len(self.confirmed(pk))
                if model["cancelled"]:
                    expected_status = "cancelled"
                elif taken >= model["capacity"]:
                    expected_status = "full"
                else:
                    expected_status = "open"
                assert (
                    shown[pk]["capacity"],
                    shown[pk]["booked"],
                    shown[pk]["available"],
                    shown[pk]["is_full"],
                    shown[pk]["status"],
                ) == (
                    model["capacity"],
                    taken,
                    model["capacity"] - taken,
                    taken >= model["capacity"],
                    expected_status,
                ), (pk, shown[pk], model)


# Registration is throttled per address; the machine registers from one.
@override_settings(STUDIO_AUTH_THROTTLE="100000/min")
class BookingStateMachineTests(TestCase):
    def test_any_sequence_of_steps_keeps_the_booking_invariants(self):
        run_state_machine_as_test(
            BookingMachine,
            settings=settings(
                max_examples=50,
                stateful_step_count=30,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
