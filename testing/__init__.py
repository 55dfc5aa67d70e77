"""Support shared by the test suites of every app; not a test module itself.

Test modules never import each other: whatever more than one of them needs
lives in one of these modules (or, for building rows, in an app's
`tests/factories.py`). Each test imports from the module that holds it:

- `testing.problems`: `assert_problem`, the one check of an error answer
  against the contract's problem-details body; `assert_invalid`,
  `assert_slot_errors` and `assert_messages` for the `errors` of a 400, also
  as methods of `ProblemAssertions`.
- `testing.api`: `sign_in`, `api_client`; the URLs, keys and base test cases
  of the account, session and booking endpoints; `slot_body` and `listed`,
  the JSON items of a session's `time_slots`.
- `testing.bookings`: `book`, `wait`, `book_and_cancel`, `cancel_slot`:
  bookings and cancellations through the services, counters kept.
- `testing.timetable`: studio time (`IST`, `ist`, `hours_from_now`), the
  session services' `slot_item` and `SessionServiceTestCase`, and `db_state`,
  a snapshot of every row a write can change.
- `testing.races`: `race`, threads with their own connections;
  `stale_first_read`, a read that first answers as before a concurrent write.
- `testing.admin`: `AdminTestCase`, what the admin's pages show, and its
  session and time slot forms as a browser posts them.
- `testing.processes`: start-up runs under the production settings in a
  fresh interpreter (`run`), and servers and workers beside the test
  (`BackgroundProcess`, `ServedApi`).
- `testing.calendars`: the events of a calendar feed.
"""
