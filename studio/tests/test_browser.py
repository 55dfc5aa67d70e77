"""Staff in the admin and developers in Swagger UI, in headless Chromium.

The tests drive Debian's Chromium (never a downloaded browser) through
Playwright against a live server on 127.0.0.1, and save screenshots of the
pages they end on into `screenshots/` (ignored by git), or into the folder
STUDIO_SCREENSHOT_DIR names: `docs/screenshots` refreshes the README's.

Without Chromium at that path (or at STUDIO_CHROMIUM) they are skipped, and
the run logs one line saying why; with STUDIO_REQUIRE_BROWSER=1 (as in CI) a
missing browser fails them instead.
"""

import json
import logging
import os
import unittest
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.test import tag
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from bookings.models import BookingStatus
from bookings.tests.factories import add_slot, book, make_slot
from core.env import env_bool
from sessions_app.models import Session

logger = logging.getLogger(__name__)

CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = os.access(CHROMIUM, os.X_OK)
BROWSER_REQUIRED = env_bool("STUDIO_REQUIRE_BROWSER", default=False)
NO_CHROMIUM = (
    f"no Chromium at {CHROMIUM} (install Debian's chromium, or set STUDIO_CHROMIUM "
    "to its path, to run them)"
)
SKIP_BROWSER_TESTS = not HAVE_CHROMIUM and not BROWSER_REQUIRED
if SKIP_BROWSER_TESTS:
    logger.warning("Browser tests skipped: %s", NO_CHROMIUM)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def studio_time(days: int, hour: int) -> datetime:
    """`hour` o'clock in the studio's zone, `days` from today."""
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


SCREENSHOTS = Path(settings.BASE_DIR) / os.environ.get("STUDIO_SCREENSHOT_DIR", "screenshots")
# The machine may be slow and shared: generous waits, each one bounded.
TIMEOUT_MS = 15_000


@tag("browser")
@unittest.skipIf(SKIP_BROWSER_TESTS, f"Browser tests skipped: {NO_CHROMIUM}")
class BrowserTestCase(StaticLiveServerTestCase):
    """One Chromium for the class; a fresh browser context (no cookies, no
    storage) for each test."""

    host = "127.0.0.1"

    @classmethod
    def setUpClass(cls):
        if not HAVE_CHROMIUM:
            raise RuntimeError(
                f"The browser tests need Chromium at {CHROMIUM} (Debian: apt-get install "
                "chromium), or its path in STUDIO_CHROMIUM; STUDIO_REQUIRE_BROWSER is set, "
                "so they fail instead of being skipped."
            )
        super().setUpClass()
        # Playwright's sync API runs an event loop in this thread; the test's
        # own ORM calls in it are still plain synchronous code.
        cls._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        expect.set_options(timeout=TIMEOUT_MS)
        cls.playwright = cls.browser = None
        try:
            cls.playwright = sync_playwright().start()
            cls.browser = cls.playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
            )
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.browser is not None:
                cls.browser.close()
            if cls.playwright is not None:
                cls.playwright.stop()
        finally:
            if cls._async_unsafe is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = cls._async_unsafe
            super().tearDownClass()

    def setUp(self):
        self.context = self.browser.new_context(
            base_url=self.live_server_url, viewport={"width": 1280, "height": 800}
        )
        self.addCleanup(self.context.close)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.set_default_navigation_timeout(TIMEOUT_MS)
        self.requests = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()

    def screenshot(self, name: str, height: int | None = None) -> None:
        """The full page, or its top `height` pixels."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        clip = None if height is None else {"x": 0, "y": 0, "width": 1280, "height": height}
        self.page.screenshot(path=SCREENSHOTS / name, full_page=True, clip=clip)

    def admin_screenshot(self, name: str) -> None:
        """The admin page, with its navigation sidebar folded so the list has room."""
        toggle = self.page.locator("#toggle-nav-sidebar")
        if toggle.is_visible() and "shifted" in (self.page.get_attribute("#main", "class") or ""):
            toggle.click()
            expect(self.page.locator("#nav-sidebar")).to_be_hidden()
        self.screenshot(name)

    def admin_login(self, user: User) -> None:
        self.page.goto("/admin/login/?next=/admin/")
        self.page.fill("#id_username", user.email)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("#login-form [type=submit]")
        expect(self.page.locator("#user-tools")).to_be_visible()

    def api_login(self, user: User) -> str:
        answer = self.page.request.post(
            "/api/login/", data={"email": user.email, "password": PASSWORD}
        )
        self.assertEqual(answer.status, 200, answer.text())
        return answer.json()["access"]

    def make_staff(self) -> User:
        staff = InstructorFactory(email="desk@studio.example", name="Front Desk")
        User.objects.filter(pk=staff.pk).update(is_staff=True, is_superuser=True)
        return staff


class AdminSessionTests(BrowserTestCase):
    def test_staff_create_a_session_with_two_slots_and_the_timetable_lists_it(self):
        staff = self.make_staff()
        instructor = InstructorFactory(email="priya@studio.example", name="Priya Shah")
        make_slot(
            instructor=instructor,
            start=studio_time(2, 7),
            title="Morning Pilates",
            category="pilates",
        )
        starts = [studio_time(3, 19), studio_time(4, 19)]

        self.admin_login(staff)
        page = self.page
        page.goto("/admin/sessions_app/session/add/")
        page.fill("#id_title", "Evening Yoga")
        page.fill("#id_description", "Slow flow for every level.")
        page.select_option("#id_category", "yoga")
        page.select_option("#id_instructor", str(instructor.pk))
        # The inline shows one empty slot form or more; add forms up to two.
        for _ in range(2):
            if page.locator("#id_time_slots-1-start_0").count():
                break
            page.click("#time_slots-group .add-row a")
        for n, start in enumerate(starts):
            prefix = f"#id_time_slots-{n}"
            page.fill(f"{prefix}-start_0", f"{start:%Y-%m-%d}")
            page.fill(f"{prefix}-start_1", f"{start:%H:%M:%S}")
            page.fill(f"{prefix}-end_0", f"{start:%Y-%m-%d}")
            page.fill(f"{prefix}-end_1", f"{start + timedelta(hours=1):%H:%M:%S}")
            page.fill(f"{prefix}-capacity", "12")
        page.click("input[name=_save]")

        expect(page.locator(".messagelist .success")).to_be_visible()
        self.assertEqual(page.locator(".errornote").count(), 0)
        expect(page.locator("#result_list")).to_contain_text("Evening Yoga")
        self.admin_screenshot("admin-sessions.png")

        session = Session.objects.get(title="Evening Yoga")
        self.assertEqual(session.instructor, instructor)
        answer = page.request.get("/api/public/sessions/?search=Evening%20Yoga")
        self.assertEqual(answer.status, 200)
        body = answer.json()
        self.assertEqual(body["count"], 1)
        listed = body["results"][0]
        self.assertEqual(listed["id"], session.pk)
        self.assertEqual(listed["instructor"], {"id": instructor.pk, "name": "Priya Shah"})
        self.assertEqual(
            [datetime.fromisoformat(slot["start"]) for slot in listed["time_slots"]], starts
        )
        self.assertEqual([slot["capacity"] for slot in listed["time_slots"]], [12, 12])
        self.assertEqual({slot["status"] for slot in listed["time_slots"]}, {"open"})


class AdminSlotCancelTests(BrowserTestCase):
    # The action is chosen by its value, the admin method's name; its label may change.
    ACTION = "cancel_slots"

    def test_staff_cancel_a_slot_and_the_clients_booking_shows_cancelled(self):
        staff = self.make_staff()
        client = ClientFactory(email="maya@client.example", name="Maya Rao")
        priya = InstructorFactory(email="priya@studio.example", name="Priya Shah")
        arjun = InstructorFactory(email="arjun@studio.example", name="Arjun Mehta")
        slot = make_slot(instructor=priya, start=studio_time(2, 19), title="Evening Yoga")
        kept = make_slot(
            instructor=arjun,
            start=studio_time(3, 7),
            title="Sunrise HIIT",
            category="hiit",
            minutes=45,
            capacity=20,
        )
        add_slot(kept.session, start=studio_time(4, 7), minutes=45, capacity=20)
        booking = book(slot, client)
        book(slot, ClientFactory())
        other = book(kept, client)

        self.admin_login(staff)
        page = self.page
        page.goto("/admin/sessions_app/timeslot/")
        page.check(f"input[name=_selected_action][value='{slot.pk}']")
        page.select_option("#changelist-form select[name=action]", self.ACTION)
        page.locator("#changelist-form button[name=index]").first.click()
        confirm = page.locator("form input[name=post][value=yes]")
        if confirm.count():  # an action with a confirmation page
            confirm.locator("xpath=ancestor::form").locator("[type=submit]").first.click()
        # One slot and its two bookings cancelled, whatever the message's words.
        expect(page.locator(".messagelist .success")).to_contain_text("2")
        self.admin_screenshot("admin-time-slots.png")

        token = self.api_login(client)
        answer = page.request.get("/api/bookings/", headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(answer.status, 200)
        statuses = {item["id"]: item["status"] for item in answer.json()["results"]}
        self.assertEqual(
            statuses, {booking.pk: BookingStatus.CANCELLED, other.pk: BookingStatus.CONFIRMED}
        )
        slot.refresh_from_db()
        self.assertEqual((slot.is_cancelled, slot.booked), (True, 0))


class SwaggerUITests(BrowserTestCase):
    def operation(self, dom_id: str):
        """An operation of the page, opened and ready to try out."""
        operation = self.page.locator(f"#{dom_id}")
        operation.locator(".opblock-summary").first.click()
        operation.locator(".try-out__btn").click()
        return operation

    def test_developer_authorizes_with_a_login_token_and_calls_me_from_the_page(self):
        client = ClientFactory(email="dev@client.example", name="Dev Client")
        page = self.page
        page.goto("/api/docs/")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Studio API")

        login = self.operation("operations-Authentication-auth_login")
        login.locator("textarea.body-param__text").fill(
            json.dumps({"email": client.email, "password": PASSWORD})
        )
        with page.expect_response(lambda r: urlsplit(r.url).path == "/api/login/") as sent:
            login.locator(".execute").click()
        self.assertEqual(sent.value.status, 200)
        token = sent.value.json()["access"]
        expect(
            login.locator(".live-responses-table tbody .response-col_status").first
        ).to_have_text("200")
        login.locator(".opblock-summary").first.click()  # closed again

        page.click(".auth-wrapper .authorize")
        page.fill("#auth-bearer-value", token)
        page.click(".modal-ux .auth-btn-wrapper .authorize")
        expect(page.locator(".modal-ux")).to_contain_text("Authorized")
        page.click(".modal-ux .btn-done")

        me = self.operation("operations-Profile-profile_retrieve")
        with page.expect_response(lambda r: urlsplit(r.url).path == "/api/me/") as sent:
            me.locator(".execute").click()
        self.assertEqual(sent.value.status, 200)
        self.assertEqual(sent.value.request.headers.get("authorization"), f"Bearer {token}")
        answer = me.locator(".live-responses-table tbody")
        expect(answer.locator(".response-col_status").first).to_have_text("200")
        expect(answer.locator(".response-col_description").first).to_contain_text(client.email)
        # The picture: the whole page from its top down to the answer shown.
        bottom = answer.evaluate("table => table.getBoundingClientRect().bottom + window.scrollY")
        self.screenshot("api-docs.png", height=int(bottom) + 8)

        server = urlsplit(self.live_server_url).netloc
        elsewhere = [url for url in self.requests if urlsplit(url).netloc != server]
        self.assertEqual(elsewhere, [])
        paths = {urlsplit(url).path for url in self.requests}
        self.assertIn("/api/schema/", paths)
        self.assertIn("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js", paths)
