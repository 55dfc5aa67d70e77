"""The benchmark's targets and query budgets, and the verdicts of a run on them.

    .venv/bin/python bench/report.py

regenerates docs/PERFORMANCE.md from the saved runs in bench/results/*.json
(bench/perfdoc.py writes it; bench/load.py does so after every run). The
console table is bench/tables.py's; the document's sections are
bench/perfdoc_intro.py's and bench/perfdoc_results.py's.
"""

READ_TARGET = 3.0  # every read's median within 3x of /api/health/'s
POST_TARGET = 4.0  # POST /api/bookings/ within 4x
CACHED_TARGET = 1.5  # the (cached) public list within 1.5x
GROWTH_TARGET = 1.3  # each read at 100,000 slots within 1.3x of 1,000 slots
MEMORY_TARGET_MB = 150.0
FLAT_SHARE = 0.05  # "flat": RSS at the end within 5% of RSS after 2,000 requests
FLAT_FROM = 2_000
MARGIN = 0.10  # a ratio within 10% of its limit is called marginal
BUSY_WARNING = 0.15  # CPU share of other work around a run above which it is flagged

# SQL queries each booking write may take, through the whole stack of a warm
# worker (bench/inproc.py queries; BEGIN, COMMIT, ROLLBACK and savepoints
# count). Set at the counts measured when chosen, the same on SQLite and
# PostgreSQL, so one query more shows as missed.
QUERY_BUDGETS = {
    "book": 10,
    "waitlist_join": 11,
    "cancel": 17,
    "cancel_promote_1": 24,
    "cancel_promote_10": 24,
    "book_idempotent": 16,
    "book_replay": 5,
}
QUERY_LABELS = {
    "book": "POST /api/bookings/, a seat",
    "waitlist_join": 'POST /api/bookings/, `"waitlist": true` on a full slot',
    "cancel": "POST /api/bookings/{id}/cancel/, no one waiting",
    "cancel_promote_1": "cancel, 1 waiting: promoted",
    "cancel_promote_10": "cancel, 10 waiting: the oldest promoted",
    "book_idempotent": "POST /api/bookings/ with an Idempotency-Key, first",
    "book_replay": "the same request again: the answer replayed",
}

SMALL, LARGE = 1_000, 100_000
DATABASES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

# GET /api/me/: bearer-token authentication, the user's row and a small
# serializer, nothing more. No read that needs a signed-in user can cost less,
# so it is shown beside every read as their floor, with no target of its own.
FLOOR = "me"


def ratio(result: dict, key: str) -> float | None:
    health = result["reads"]["health"]["median_ms"]
    row = result["post"] if key == "post" else result["reads"][key]
    if not health or row["median_ms"] is None:
        return None
    return row["median_ms"] / health


def verdict(value: float | None, limit: float) -> str:
    """met or missed; "(marginal)" within MARGIN of the limit, where the
    run-to-run spread of this machine can tip it either way."""
    if value is None:
        return "n/a"
    word = "met" if value <= limit else "missed"
    if abs(value - limit) <= limit * MARGIN:
        word += " (marginal)"
    return word


def read_keys(result: dict) -> list[str]:
    return [e["key"] for e in result["endpoints"] if e["key"] != "health"]


def targeted_keys(result: dict) -> list[str]:
    """The reads the targets apply to: all but the signed-in floor."""
    return [key for key in read_keys(result) if key != FLOOR]


def label_of(result: dict, key: str) -> str:
    if key == "post":
        return "POST /api/bookings/"
    return next(e["label"] for e in result["endpoints"] if e["key"] == key)


def worst_read(result: dict) -> str | None:
    """The read with the highest median ÷ health, when it misses the 3x target."""
    ratios = {key: ratio(result, key) or 0 for key in targeted_keys(result)}
    key = max(ratios, key=ratios.get)
    return key if ratios[key] > READ_TARGET else None


def targets_of(result: dict, key: str) -> str:
    parts = []
    r = ratio(result, key)
    if key == "health":
        return "reference"
    if key == FLOOR:
        return "floor of a signed-in read (no target)"
    if key == "post":
        parts.append(f"≤{POST_TARGET:g}x: {verdict(r, POST_TARGET)}")
    else:
        parts.append(f"≤{READ_TARGET:g}x: {verdict(r, READ_TARGET)}")
    if key == "list":
        parts.append(f"cached ≤{CACHED_TARGET:g}x: {verdict(r, CACHED_TARGET)}")
    return "; ".join(parts)


def query_rows(result: dict) -> list[tuple[str, int, int | None, str]]:
    """Each budgeted write: key, budget, the count of this run and its
    verdict; "not measured" for a run saved before counts were taken. A count
    under its budget is met, and says so: the budget is then to be lowered,
    or a query added later would go unseen."""
    counts = result.get("queries", {}).get("counts", {})
    rows = []
    for key, budget in QUERY_BUDGETS.items():
        count = counts.get(key)
        if count is None:
            word = "not measured"
        elif count > budget:
            word = "missed"
        else:
            word = "met" if count == budget else "met (under budget)"
        rows.append((key, budget, count, word))
    return rows


def promotion_flat(result: dict) -> bool | None:
    """Cancelling with 10 waiting takes as many queries as with 1 (no query
    per waiter); None when not measured."""
    counts = result.get("queries", {}).get("counts", {})
    one, ten = counts.get("cancel_promote_1"), counts.get("cancel_promote_10")
    return None if one is None or ten is None else one == ten


def queries_missed(result: dict) -> list[str]:
    """The writes over their budget, and the promotion if it grows with the waiters."""
    missed = [key for key, _, _, word in query_rows(result) if word == "missed"]
    if promotion_flat(result) is False:
        missed.append("promotion grows with the waiters")
    return missed


def memory_figures(memory: dict) -> dict:
    """Peak RSS of any worker, and each worker's RSS after FLAT_FROM
    requests against the end."""
    samples = memory["samples"]
    last = samples[-1]["workers"]
    early = next((s for s in samples if s["requests"] >= FLAT_FROM), samples[0])["workers"]
    peak = max((w["hwm"] or 0) for w in last.values() if w) if last else None
    growth = {}
    for pid, now in last.items():
        then = early.get(pid)
        if now and then and then["rss"]:
            growth[pid] = (then["rss"], now["rss"])
    worst = max(growth.values(), key=lambda pair: pair[1] - pair[0]) if growth else None
    flat = bool(growth) and all(b <= a * (1 + FLAT_SHARE) for a, b in growth.values())
    trend = [round(max((w["rss"] or 0) for w in s["workers"].values() if w), 1) for s in samples]
    return {
        "peak": peak,
        "early": worst[0] if worst else None,
        "end": worst[1] if worst else None,
        "flat": flat and not memory["workers_restarted"],
        "trend": trend,
    }


def memory_met(m: dict) -> bool:
    """The memory target of a run's `memory_figures`: peak under
    MEMORY_TARGET_MB and flat."""
    return m["peak"] is not None and m["peak"] < MEMORY_TARGET_MB and m["flat"]


def growth_rows(small: dict, large: dict) -> list[tuple]:
    rows = []
    for key in ["health", *read_keys(large)]:
        if key not in small["reads"]:
            continue
        a = small["reads"][key]["median_ms"]
        b = large["reads"][key]["median_ms"]
        g = b / a if a and b else None
        rows.append((key, a, b, g, ratio(small, key), ratio(large, key)))
    return rows


def contention_sound(c: dict) -> bool:
    """No slot over capacity, every `booked` column equal to its confirmed
    bookings, and every 201 answer a booking in the database."""
    return not (c["oversold_slots"] or c["booked_column_drift"] or c["answers_vs_rows_mismatch"])


def post_seats_sound(result: dict) -> bool:
    """The slots of the POST scenario: none over capacity, every `booked`
    column equal to its confirmed bookings."""
    seats = result["post"]["seats"]
    return not seats["oversold"] and not seats["booked_column_drift"]


def contention_ratio(result: dict) -> float:
    c, p = result["contention"]["total"]["rps"], result["post"]["rps"]
    return c / p if c and p else 0.0


def hot_sound(h: dict) -> bool:
    """As many 201s as seats, every other answer 409 slot_full, and the
    database agreeing: `booked` and the confirmed bookings equal the seats."""
    seats = h["capacity"]
    return (
        h["created"] == seats
        and h["other"] == 0
        and h["slot_full"] == h["requests"] - seats
        and h["booked"] == seats
        and h["confirmed"] == seats
    )


def run_name(result: dict) -> str:
    return f"{DATABASES[result['database']]}, {result['slots']:,} slots"


if __name__ == "__main__":
    import perfdoc

    perfdoc.main()
