"""The contract's problem-details body (API.md "Errors") and the checks of
its `errors` member."""

from http import HTTPStatus
from typing import Any
from unittest import TestCase as UnitTestCase

PROBLEM_KEYS = frozenset({"type", "title", "status", "code", "detail"})
PROBLEM_CONTENT_TYPE = "application/problem+json"


def assert_problem(test: UnitTestCase, response, status: int, code: str) -> dict[str, Any]:
    """`response` is the contract's problem body for `status` and `code`.

    Checks the HTTP status, the content type `application/problem+json`, exactly the keys `type`,
    `title`, `status`, `code` and `detail` (plus `errors` only when the body
    has it, as a non-empty object), `type` about:blank, `title` the status's
    HTTP phrase, `status` the HTTP status, `detail` one non-empty string, and
    no traceback in the body. Returns the body.
    """
    test.assertEqual(response.status_code, status, response.content[:500])
    test.assertEqual(response["Content-Type"], PROBLEM_CONTENT_TYPE)
    body = response.json()
    test.assertIsInstance(body, dict, body)
    expected_keys = PROBLEM_KEYS | ({"errors"} if "errors" in body else set())
    test.assertEqual(set(body), expected_keys, body)
    test.assertEqual(body["code"], code, body)
    test.assertEqual(body["status"], status, body)
    test.assertEqual(body["type"], "about:blank", body)
    test.assertEqual(body["title"], HTTPStatus(status).phrase, body)
    test.assertIsInstance(body["detail"], str, body)
    test.assertTrue(body["detail"], body)
    if "errors" in body:
        test.assertIsInstance(body["errors"], dict, body)
        test.assertTrue(body["errors"], body)
    test.assertNotIn("Traceback", response.content.decode())
    return body


def assert_messages(test: UnitTestCase, messages) -> None:
    """`messages` is a non-empty list of non-empty strings."""
    test.assertIsInstance(messages, list, messages)
    test.assertTrue(messages)
    test.assertTrue(all(isinstance(m, str) and m for m in messages), messages)


def assert_invalid(test: UnitTestCase, response, *fields: str) -> dict:
    """`response` is a 400 `invalid` problem whose `errors` name each of
    `fields` with its messages. Returns the `errors`."""
    errors = assert_problem(test, response, HTTPStatus.BAD_REQUEST, "invalid")["errors"]
    for field in fields:
        test.assertIn(field, errors, errors)
        assert_messages(test, errors[field])
    return errors


def assert_slot_errors(test: UnitTestCase, errors: dict, expected_keys: list[set[str]]) -> list:
    """`errors` has only `time_slots`, one dict per item with these keys,
    each holding its messages. Returns the items."""
    test.assertEqual(set(errors), {"time_slots"}, errors)
    items = errors["time_slots"]
    test.assertIsInstance(items, list)
    test.assertEqual([set(item) for item in items], expected_keys, items)
    for item in items:
        for messages in item.values():
            assert_messages(test, messages)
    return items


class ProblemAssertions:
    """The checks above as methods of a test case."""

    def assert_invalid(self, response, *fields: str) -> dict:
        return assert_invalid(self, response, *fields)

    def assert_messages(self, messages) -> None:
        assert_messages(self, messages)

    def assert_slot_errors(self, errors: dict, expected_keys: list[set[str]]) -> list:
        return assert_slot_errors(self, errors, expected_keys)
