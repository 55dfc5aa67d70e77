"""Booking races: clients released together by a barrier, each on a connection
it opened beforehand. Contention spreads them over a few slots, the hot slot
sends them all to one; the seats are then checked in the database."""

import contextlib
import http.client
import json
import threading
import time
from collections import Counter

from loadclient import HTTP_TIMEOUT, Client, percentile, summarize
from runner import inproc


def race_booking(port: int, barrier: threading.Barrier, token: str, slot: int) -> dict:
    """One racer's booking: connected beforehand, released with the others by
    `barrier`, it POSTs once; a 201 or a 409 `slot_full` is an expected answer."""
    client = Client(port)
    client.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    with contextlib.suppress(OSError):  # if it fails, request() connects again
        client.conn.connect()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=60)
    started = time.perf_counter()
    try:
        status, payload = client.request("POST", "/api/bookings/", {"time_slot": slot}, token)
        code = json.loads(payload).get("code") if status != 201 else None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        status, payload, code = None, str(exc).encode(), None
    ended = time.perf_counter()
    client.close()
    ok = status == 201 or (status == 409 and code == "slot_full")
    return {
        "start": started,
        "end": ended,
        "status": status,
        "code": code,
        "ok": ok,
        "detail": None if ok else payload[:300].decode(errors="replace"),
    }


def race_bookings(port: int, bookings: list[tuple[str, int]], deadline) -> list[dict]:
    """Each (token, slot) of `bookings` books once on a thread of its own, all
    released together by one barrier (`race_booking`); the record of each that
    answered, with its slot."""
    barrier = threading.Barrier(len(bookings))
    records: list[dict | None] = [None] * len(bookings)

    def racer(i: int, token: str, slot: int) -> None:
        records[i] = {**race_booking(port, barrier, token, slot), "slot": slot}

    threads = [
        threading.Thread(target=racer, args=(i, token, slot), daemon=True)
        for i, (token, slot) in enumerate(bookings)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            deadline.left()
            thread.join(timeout=0.5)
    return [r for r in records if r is not None]


def scenario_contention(port, ids, env, deadline) -> dict:
    """Per round, as many clients as there are tokens book the round's slots
    at once, spread evenly: with 100 clients on 10 slots of 5 seats, exactly
    50 get 201 and 50 get 409 slot_full."""
    rounds = []
    all_records = []
    slot_ids = []
    for round_ in ids["race_rounds"]:
        slots, tokens = round_["slots"], round_["tokens"]
        slot_ids += slots
        done = race_bookings(
            port, [(t, slots[i % len(slots)]) for i, t in enumerate(tokens)], deadline
        )
        wall = max(r["end"] for r in done) - min(r["start"] for r in done)
        summary = summarize(done, wall)
        summary["created"] = sum(1 for r in done if r["status"] == 201)
        summary["slot_full"] = sum(1 for r in done if r["code"] == "slot_full")
        rounds.append(summary)
        all_records += done

    seats = inproc(["verify", *map(str, slot_ids)], env, deadline)
    capacity = {s["id"]: s["capacity"] for s in seats}
    oversold = [s for s in seats if s["confirmed"] > s["capacity"]]
    drift = [s for s in seats if s["booked"] != s["confirmed"]]
    created_per_slot = Counter(r["slot"] for r in all_records if r["status"] == 201)
    mismatched = [s["id"] for s in seats if created_per_slot.get(s["id"], 0) != s["confirmed"]]
    expected_created = sum(
        min(capacity[s], n) for s, n in Counter(r["slot"] for r in all_records).items()
    )
    total = summarize(all_records, sum(r["wall_s"] for r in rounds))
    return {
        "clients": len(ids["race_rounds"][0]["tokens"]),
        "slots": len(ids["race_rounds"][0]["slots"]),
        "capacity": seats[0]["capacity"] if seats else None,
        "rounds": rounds,
        "total": total,
        "created": sum(r["created"] for r in rounds),
        "expected_created": expected_created,
        "slot_full": sum(r["slot_full"] for r in rounds),
        "oversold_slots": oversold,
        "booked_column_drift": drift,
        "answers_vs_rows_mismatch": mismatched,
        "max_confirmed_per_slot": max((s["confirmed"] for s in seats), default=0),
    }


def scenario_hot_slot(port, ids, env, deadline) -> dict:
    """Every hot client books the one hot slot once, all released together by
    a barrier, each on a connection it opened beforehand: with 200 clients
    and 20 seats, exactly 20 get 201 and 180 get 409 slot_full. Each request's
    latency is kept (first byte sent to the whole answer read), and the slot's
    `booked` column and confirmed bookings are read from the database."""
    hot = ids["hot"]
    slot, tokens = hot["slot"], hot["tokens"]
    done = race_bookings(port, [(t, slot) for t in tokens], deadline)
    latencies = sorted((r["end"] - r["start"]) * 1000 for r in done)
    wall = max(r["end"] for r in done) - min(r["start"] for r in done)
    summary = summarize(done, wall)
    created = sum(1 for r in done if r["status"] == 201)
    slot_full = sum(1 for r in done if r["status"] == 409 and r["code"] == "slot_full")
    [seats] = inproc(["verify", str(slot)], env, deadline)
    return {
        "clients": len(tokens),
        "capacity": hot["capacity"],
        "requests": len(done),
        "created": created,
        "slot_full": slot_full,
        "other": len(done) - created - slot_full,
        "other_statuses": dict(
            Counter(str(r["status"]) for r in done if r["status"] not in (201, 409))
        ),
        "error_samples": summary["error_samples"],
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(latencies[-1], 1),
        "wall_s": summary["wall_s"],
        "rps": summary["rps"],
        "booked": seats["booked"],
        "confirmed": seats["confirmed"],
    }
