"""Writes docs/PERFORMANCE.md from the saved runs in bench/results/*.json.

    .venv/bin/python bench/report.py

bench/load.py calls it after every run, so the document always shows the
latest run of each database and scale. It is regenerated whole each time;
only the block between the `analysis` markers is carried over by hand.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "PERFORMANCE.md"

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
ANALYSIS_START = "<!-- analysis:start -->"
ANALYSIS_END = "<!-- analysis:end -->"
DEFAULT_ANALYSIS = "(No analysis written yet.)"


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


# --- figures and verdicts ------------------------------------------------------------


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


# GET /api/me/: bearer-token authentication, the user's row and a small
# serializer, nothing more. No read that needs a signed-in user can cost less,
# so it is shown beside every read as their floor, with no target of its own.
FLOOR = "me"


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


# --- text ------------------------------------------------------------------------------


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def table_rows(result: dict) -> list[list[str]]:
    rows = []
    for key in ["health", *read_keys(result), "post"]:
        row = result["post"] if key == "post" else result["reads"][key]
        r = ratio(result, key)
        rows.append(
            [
                label_of(result, key),
                fmt(row["requests"]),
                fmt(row["errors"]),
                fmt(row["median_ms"], 2),
                fmt(row["p95_ms"], 2),
                fmt(row["rps"]),
                f"{r:.2f}x" if r is not None else "–",
                targets_of(result, key),
            ]
        )
    return rows


HEADER = ["endpoint", "requests", "errors", "median ms", "p95 ms", "req/s", "÷ health", "target"]


def text_table(result: dict) -> str:
    rows = [HEADER, *table_rows(result)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [
        f"{DATABASES[result['database']]}, {result['slots']:,} slots "
        f"({result['settings']['workers']} workers, concurrency "
        f"{result['settings']['concurrency']}, cache {result['cache']})"
    ]
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(widths[i]) if i in (0, 7) else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    c = result["contention"]
    lines.append(
        f"contention: {c['total']['requests']} POSTs in {len(c['rounds'])} rounds, "
        f"{fmt(c['total']['rps'])} req/s ({contention_ratio(result):.2f}x uncontended), "
        f"{c['created']} booked of {c['expected_created']} seats, "
        f"seats {'sound' if contention_sound(c) else 'WRONG'} "
        f"(max {c['max_confirmed_per_slot']} of {c['capacity']}), "
        f"errors: {c['total']['errors']}"
    )
    h = result.get("hot_slot")
    if h:
        lines.append(
            f"hot slot: {h['clients']} clients on one slot of {h['capacity']} seats, "
            f"p50 {fmt(h['p50_ms'])} ms, p99 {fmt(h['p99_ms'])} ms, max {fmt(h['max_ms'])} ms; "
            f"201: {h['created']}, 409 slot_full: {h['slot_full']}, other: {h['other']}; "
            f"database: booked {h['booked']}, confirmed {h['confirmed']} "
            f"({'sound' if hot_sound(h) else 'WRONG'})"
        )
    if "queries" in result:
        cells = [
            f"{key} {count}/{budget}" + {"met": "", "missed": " MISSED"}.get(word, f" {word}")
            for key, budget, count, word in query_rows(result)
        ]
        missed = queries_missed(result)
        lines.append(
            f"queries (count/budget): {', '.join(cells)}; promotion "
            f"{'flat' if promotion_flat(result) else 'GROWS'} over waiters; budgets "
            + ("met" if not missed else f"MISSED: {', '.join(missed)}")
        )
    m = memory_figures(result["memory"])
    lines.append(
        f"memory: peak worker RSS {fmt(m['peak'])} MB, {fmt(m['early'])} MB after "
        f"{FLAT_FROM:,} requests -> {fmt(m['end'])} MB after {result['memory']['requests']:,} "
        f"({'flat' if m['flat'] else 'growing'}), errors: {result['memory']['errors']}"
    )
    for key in ["health", *read_keys(result), "post"]:
        row = result["post"] if key == "post" else result["reads"][key]
        for sample in row["error_samples"]:
            lines.append(f"error in {label_of(result, key)}: {sample}")
    return "\n".join(lines)


def contention_sound(c: dict) -> bool:
    """No slot over capacity, every `booked` column equal to its confirmed
    bookings, and every 201 answer a booking in the database."""
    return not (c["oversold_slots"] or c["booked_column_drift"] or c["answers_vs_rows_mismatch"])


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


# --- markdown -------------------------------------------------------------------------


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def run_name(result: dict) -> str:
    return f"{DATABASES[result['database']]}, {result['slots']:,} slots"


def load_results() -> list[dict]:
    results = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    order = list(DATABASES)
    return sorted(results, key=lambda r: (order.index(r["database"]), r["slots"]))


def summary_section(results: list[dict]) -> str:
    header = ["target", *[run_name(r) for r in results]]
    rows = []

    def worst_cell(result: dict, keys: list[str], limit: float) -> str:
        pairs = [(ratio(result, k), k) for k in keys]
        pairs = [(r, k) for r, k in pairs if r is not None]
        if not pairs:
            return "n/a"
        r, k = max(pairs)
        if len(keys) == 1:
            return f"**{verdict(r, limit)}** ({r:.2f}x)"
        return f"**{verdict(r, limit)}** (worst {r:.2f}x, {label_of(result, k)})"

    rows.append(
        [f"every read's median ≤ {READ_TARGET:g}x health"]
        + [worst_cell(r, targeted_keys(r), READ_TARGET) for r in results]
    )
    rows.append(
        [f"POST /api/bookings/ ≤ {POST_TARGET:g}x health"]
        + [worst_cell(r, ["post"], POST_TARGET) for r in results]
    )
    rows.append(
        [f"cached public list ≤ {CACHED_TARGET:g}x health"]
        + [worst_cell(r, ["list"], CACHED_TARGET) for r in results]
    )
    growth = []
    for r in results:
        small = next(
            (s for s in results if s["database"] == r["database"] and s["slots"] == SMALL), None
        )
        if r["slots"] != LARGE or small is None:
            growth.append("–" if r["slots"] == SMALL else "n/a (no 1,000-slot run)")
            continue
        grown = {
            row[0]: row[3]
            for row in growth_rows(small, r)
            if row[0] not in ("health", FLOOR) and row[3]
        }
        key = max(grown, key=grown.get)
        g = grown[key]
        growth.append(f"**{verdict(g, GROWTH_TARGET)}** (worst {g:.2f}x, {label_of(r, key)})")
    rows.append([f"each read at 100,000 slots ≤ {GROWTH_TARGET:g}x of 1,000 slots", *growth])
    mem = []
    for r in results:
        m = memory_figures(r["memory"])
        ok = m["peak"] is not None and m["peak"] < MEMORY_TARGET_MB and m["flat"]
        mem.append(
            f"**{'met' if ok else 'missed'}** (peak {fmt(m['peak'])} MB, "
            f"{'flat' if m['flat'] else 'growing'})"
        )
    rows.append([f"worker memory < {MEMORY_TARGET_MB:g} MB and flat", *mem])
    seats = []
    for r in results:
        c = r["contention"]
        sound = (
            contention_sound(c)
            and not r["post"]["seats"]["oversold"]
            and not r["post"]["seats"]["booked_column_drift"]
        )
        seats.append(
            f"**{'met' if sound else 'missed'}** (max {c['max_confirmed_per_slot']} "
            f"of {c['capacity']} seats)"
        )
    rows.append(["no seat oversold under contention", *seats])
    hot = []
    for r in results:
        h = r.get("hot_slot")
        if not h:
            hot.append("not measured")
            continue
        hot.append(
            f"**{'met' if hot_sound(h) else 'missed'}** ({h['created']} of {h['clients']} "
            f"booked {h['capacity']} seats; p99 {fmt(h['p99_ms'])} ms)"
        )
    rows.append(["hot slot: exactly its seats booked, no other answer", *hot])
    budgets = []
    for r in results:
        if "queries" not in r:
            budgets.append("not measured")
            continue
        missed = queries_missed(r)
        budgets.append(
            f"**met** ({len(QUERY_BUDGETS)} writes)"
            if not missed
            else f"**missed** ({'; '.join(QUERY_LABELS.get(key, key) for key in missed)})"
        )
    rows.append(["booking writes within their query budgets", *budgets])
    errors = []
    for r in results:
        n = (
            sum(row["errors"] for row in r["reads"].values())
            + r["post"]["errors"]
            + r["contention"]["total"]["errors"]
            + (r.get("hot_slot") or {}).get("other", 0)
            + r["memory"]["errors"]
        )
        errors.append("none" if n == 0 else f"**{n} failed requests**")
    rows.append(["unexpected answers", *errors])
    return md_table(header, rows)


def machine_section(results: list[dict]) -> str:
    latest = max(results, key=lambda r: r["when"])
    m = latest["machine"]
    pg = next(
        (r["machine"].get("postgresql") for r in results if "postgresql" in r["machine"]), "?"
    )
    redis = next((r["machine"].get("redis") for r in results if "redis" in r["machine"]), None)
    lines = [
        f"- CPUs: {m['cpus']} (`nproc`), {m['cpu_model']}",
        f"- Memory: {memory_total(m['memory'])}",
        f"- Linux {m['kernel']}",
        f"- Python {m['python']}, Django {m['django']}, gunicorn {m['gunicorn']}",
        f"- PostgreSQL {pg}, SQLite {m['sqlite']}" + (f", Redis {redis}" if redis else ""),
        "- Server and load generator share the machine: the load generator's threads "
        "take CPU from the workers, which is why absolute figures are modest and why every "
        "figure is also given as a ratio to `/api/health/` measured in the same run.",
    ]
    return "\n".join(lines)


def memory_total(text: str) -> str:
    """MemTotal of /proc/meminfo ("24684092 kB") in GiB."""
    try:
        return f"{int(text.split()[0]) / 1024 / 1024:.1f} GiB (MemTotal {text})"
    except (ValueError, IndexError):
        return text


def how_section(results: list[dict]) -> str:
    s = results[0]["settings"]
    return f"""Everything, both databases at both scales (about 8 minutes on the machine above):

```sh
make bench
```

which runs, one after the other (each run can be run alone; `--help` lists the knobs):

```sh
.venv/bin/python bench/load.py --database sqlite --slots 1000
.venv/bin/python bench/load.py --database sqlite --slots 100000
.venv/bin/python bench/load.py --database postgres --slots 1000
.venv/bin/python bench/load.py --database postgres --slots 100000
```

PostgreSQL runs use `postgres://postgres@127.0.0.1:5432/studio_bench` (created
and dropped by the run; `--pg-url` to change) and Redis database 13 at
127.0.0.1:6379 as the cache (`--redis-url`; emptied before and after); SQLite runs
use a fresh file in a temporary directory and the local-memory cache. Each run
saves `bench/results/<database>-<slots>.json` and regenerates this file
(`.venv/bin/python bench/report.py` does only the latter).

What a run does:

- **Data.** `manage.py migrate` and `bench/seed.py --sessions <slots/10>
  --slots-per-session 10 --clients {s["clients"]}` (5 confirmed bookings per client on the
  first instructor's upcoming slots; one instructor per 20 sessions, each
  instructor's slots two hours apart, the first fifth in the past), then
  `bench/inproc.py prepare` adds, through the ORM, {s["post_requests"]} clients without
  bookings for the POST scenario, the contention clients and slots, and mints
  their access tokens (signing {s["post_requests"]}+ clients in with PBKDF2 would take
  minutes and is not what is measured). The seeded client and the first
  instructor sign in through `POST /api/login/`.
- **Server.** `gunicorn -c gunicorn.conf.py` on a free port of 127.0.0.1 with
  `DJANGO_DEBUG` unset, a random `DJANGO_SECRET_KEY`,
  `DJANGO_ALLOWED_HOSTS=127.0.0.1` and `STUDIO_AUTH_THROTTLE=1000000/min`
  (sign-in is set-up, not load); workers as in `gunicorn.conf.py` (2 x CPUs + 1
  = {s["workers"]} here), sync workers.
- **Reads.** {s["warmup"]} unmeasured requests per endpoint, then {s["requests"]} measured
  requests per endpoint from {s["concurrency"]} concurrent clients (threads, each with its
  own `http.client` connection), in {s["rounds"]} interleaved rounds so that a slow
  moment of the machine falls on every endpoint alike. Every answer's status
  is checked, and one answer of each endpoint is checked for its content
  (20 results a page, the client's bookings, the session's bookings). Times
  are from sending the request to reading the whole answer, connect included
  (a sync worker closes the connection after each answer). *req/s* is the
  endpoint's requests over the wall time they took.
  - *public list* is `/api/public/sessions/?page_size=20`, the same URL each
    time: what the timetable cache serves. *filtered* adds
    `category=yoga&available=true&date_from=<tomorrow>`.
  - *uncached* rows add a query parameter that the API ignores (`&bench=<n>`),
    new for every request, so no answer can come from the cache: the cost of
    the first read after any booking, which moves the timetable on. (A
    list's count depends on the schedule alone unless it asks for free
    seats, so it is kept over bookings; `available=true` lists count again.)
  - *GET /api/me/* is the floor of every read that needs a signed-in user:
    bearer-token authentication, the user's row, a serializer of five
    fields. It has no target; the instructor detail and the booking history
    are read beside it.
  - *public detail* is the session of the soonest upcoming slot; *instructor
    detail* the first instructor's session with the most bookings, read with
    the owner's token; *booking history* is `/api/bookings/?when=upcoming` of
    a seeded client.
- **POST /api/bookings/.** After the reads (a booking moves the timetable on
  and so empties the cache), {s["post_requests"]} requests from as many different clients
  holding no booking, at the same concurrency, spread over 100 upcoming slots
  (4 per slot, within capacity), in {s["rounds"]} rounds, each after a chunk of
  `/api/health/` (the health row counts both phases); every answer must be 201.
  Afterwards the database is checked: each slot's `booked` column equals its
  confirmed bookings, within capacity.
- **Contention.** Rounds of 100 clients, each with its connection open,
  released together by a barrier to book 10 fresh slots of 5 seats (10
  clients per slot). Exactly 50 must get 201 and 50 `409 slot_full`; the
  database is then checked slot by slot.
- **Hot slot.** 200 more clients, each with its connection open, released
  together to book one slot of 20 seats, one request each: p50, p99 and max
  latency; exactly 20 must get 201 and 180 `409 slot_full`, and the database
  must then hold 20 confirmed bookings and `booked` = 20 on that slot.
- **Memory.** 10,000 mixed reads (health, pages 1 to 5 of the list, the
  uncached list, the filtered list cached and uncached, 50 different public
  details, instructor detail, booking history), in batches of 1,000; after
  each batch every worker's `VmRSS` and `VmHWM` (peak) from
  `/proc/<pid>/status`.
- **Query budgets.** After the server has stopped, `bench/inproc.py queries`
  counts the SQL queries of each booking write in-process (see *Query budgets*
  below).
- Server and load generator share the machine, so other work would skew the
  figures: before the server starts, a run waits (up to 120 s,
  `--wait-quiet`) until other work uses under 15% of the CPU, and it records
  that share just before and after; a run above it is flagged in its section.
- A run is bounded (`--timeout`, 900 s) and always stops gunicorn (its
  process group) and drops its database."""


def run_section(result: dict) -> str:
    c = result["counts"]
    g = result["git"]
    tree = (
        "clean tree"
        if not g["uncommitted"]
        else (f"uncommitted changes in {', '.join(g['uncommitted'][:6])}")
    )
    post_seats = result["post"]["seats"]
    post_ok = not post_seats["oversold"] and not post_seats["booked_column_drift"]
    lines = [
        f"### {run_name(result)}",
        "",
        f"{result['when']}, commit `{g['commit']}` ({g['subject']}), {tree}. "
        f"Data: {c['sessions']:,} sessions, {c['slots']:,} slots ({c['upcoming_slots']:,} "
        f"upcoming), {c['users']:,} users, {c['bookings']:,} bookings. "
        f"{result['settings']['workers']} workers, concurrency "
        f"{result['settings']['concurrency']}, cache: {result['cache']}.",
        "",
        md_table(HEADER, table_rows(result)),
        "",
        f"POST seats checked in the database on {post_seats['slots']} slots: "
        + ("booked = confirmed, within capacity." if post_ok else f"**wrong**: {post_seats}"),
    ]
    samples = [
        f"- {label_of(result, key)}: {sample}"
        for key in ["health", *read_keys(result), "post"]
        for sample in (result["post"] if key == "post" else result["reads"][key])["error_samples"]
    ]
    if samples:
        lines += ["", "Unexpected answers:", "", *samples]
    if result.get("server_errors_logged"):
        lines += ["", "**The server logged errors during this run.**"]
    busy = result.get("machine_busy", {})
    if max(busy.values(), default=0) > BUSY_WARNING:
        lines += [
            "",
            f"**Other work used {busy['before']:.0%} of the CPU just before this run and "
            f"{busy['after']:.0%} just after it; its figures may be skewed.**",
        ]
    return "\n".join(lines)


def growth_section(results: list[dict]) -> str:
    parts = []
    for database, name in DATABASES.items():
        small = next(
            (r for r in results if r["database"] == database and r["slots"] == SMALL), None
        )
        large = next(
            (r for r in results if r["database"] == database and r["slots"] == LARGE), None
        )
        if small is None or large is None:
            continue
        rows = []
        for key, a, b, g, ra, rb in growth_rows(small, large):
            target = (
                "reference"
                if key == "health"
                else "floor (no target)"
                if key == FLOOR
                else f"≤{GROWTH_TARGET:g}x: {verdict(g, GROWTH_TARGET)}"
            )
            rows.append(
                [
                    label_of(large, key),
                    fmt(a, 2),
                    fmt(b, 2),
                    f"{g:.2f}x" if g else "–",
                    f"{ra:.2f}x" if ra else "–",
                    f"{rb:.2f}x" if rb else "–",
                    target,
                ]
            )
        header = [
            "endpoint",
            "median ms, 1,000 slots",
            "median ms, 100,000 slots",
            "growth",
            "÷ health, 1,000",
            "÷ health, 100,000",
            "target",
        ]
        parts.append(f"### {name}\n\n{md_table(header, rows)}")
    if not parts:
        return "(Needs a run at 1,000 and one at 100,000 slots of the same database.)"
    note = (
        "Growth compares medians of two runs (two servers, minutes apart), so a few "
        "per cent either way is noise; the ÷ health columns show the same reads "
        "against each run's own baseline."
    )
    return "\n\n".join([note, *parts])


def contention_section(results: list[dict]) -> str:
    header = [
        "run",
        "requests",
        "booked (201)",
        "slot_full (409)",
        "errors",
        "median ms",
        "p95 ms",
        "req/s",
        "uncontended POST req/s",
        "ratio",
        "max confirmed / capacity",
        "seats",
    ]
    rows = []
    for r in results:
        c = r["contention"]
        sound = contention_sound(c)
        rows.append(
            [
                run_name(r),
                f"{c['total']['requests']} ({len(c['rounds'])} x {c['clients']})",
                f"{c['created']} of {c['expected_created']}",
                fmt(c["slot_full"]),
                fmt(c["total"]["errors"]),
                fmt(c["total"]["median_ms"], 1),
                fmt(c["total"]["p95_ms"], 1),
                fmt(c["total"]["rps"]),
                fmt(r["post"]["rps"]),
                f"{contention_ratio(r):.2f}x",
                f"{c['max_confirmed_per_slot']} / {c['capacity']}",
                "sound" if sound else "**wrong**",
            ]
        )
    return (
        "Each round: 100 clients, connections open, released at once by a barrier on 10 "
        "slots of 5 seats. *req/s* is the round's requests over the round's wall time "
        "(first send to last answer), summed over rounds; the uncontended figure is the "
        "POST scenario above (different clients on different slots, concurrency 8). "
        "*seats* are checked in the database: per slot, confirmed bookings ≤ capacity, "
        "the `booked` column = confirmed bookings, and one confirmed booking for each 201 "
        "answer.\n\n" + md_table(header, rows)
    )


def hot_slot_section(results: list[dict]) -> str:
    header = [
        "run",
        "clients",
        "seats",
        "booked (201)",
        "slot_full (409)",
        "other answers",
        "p50 ms",
        "p99 ms",
        "max ms",
        "wall s",
        "req/s",
        "database: booked / confirmed",
        "verdict",
    ]
    rows = []
    for r in results:
        h = r.get("hot_slot")
        if not h:
            continue
        other = fmt(h["other"])
        if h["other_statuses"]:
            other += " (" + ", ".join(f"{n} x {k}" for k, n in h["other_statuses"].items()) + ")"
        rows.append(
            [
                run_name(r),
                fmt(h["clients"]),
                fmt(h["capacity"]),
                fmt(h["created"]),
                fmt(h["slot_full"]),
                other,
                fmt(h["p50_ms"]),
                fmt(h["p99_ms"]),
                fmt(h["max_ms"]),
                fmt(h["wall_s"], 2),
                fmt(h["rps"]),
                f"{h['booked']} / {h['confirmed']}",
                "sound" if hot_sound(h) else "**wrong**",
            ]
        )
    if not rows:
        return "(No run has measured the hot slot yet.)"
    return (
        "One class everybody wants (`--hot-clients`, 200 by default, and "
        "`--hot-capacity`, 20): each client with its connection open and a token of its "
        "own, all released at once by a barrier, each sending one `POST /api/bookings/` "
        "for the same slot. Every booking locks that slot's row, so they all queue on one "
        "row lock: the worst case of contention. Latencies run from sending the request "
        "to reading the whole answer, queueing for one of the run's workers included. "
        "Exactly as many as there are seats must get 201, every other client "
        "`409 slot_full`, and no other answer; the slot's `booked` column and its "
        "confirmed bookings are then read from the database and must both equal its "
        "seats.\n\n" + md_table(header, rows)
    )


def queries_section(results: list[dict]) -> str:
    header = ["write", "budget", *[run_name(r) for r in results]]
    rows = []
    for n, key in enumerate(QUERY_BUDGETS):
        cells = []
        for r in results:
            _, _, count, word = query_rows(r)[n]
            if count is None:
                cells.append("–")
            else:
                cells.append(f"**{count}: missed**" if word == "missed" else f"{count}: {word}")
        rows.append([QUERY_LABELS[key], str(QUERY_BUDGETS[key]), *cells])
    flat = []
    for r in results:
        same = promotion_flat(r)
        flat.append("–" if same is None else ("met" if same else "**missed**"))
    rows.append(["promotion: as many queries with 10 waiting as with 1", "equal", *flat])
    missed_sql = []
    for r in results:
        statements = r.get("queries", {}).get("statements", {})
        for key, budget, count, word in query_rows(r):
            if word == "missed" and key in statements:
                listing = "\n".join(statements[key])
                missed_sql.append(
                    f"{run_name(r)}, {QUERY_LABELS[key]}: {count} queries, budget {budget}:"
                    f"\n\n```\n{listing}\n```"
                )
    text = (
        "SQL queries of each booking write, counted in-process after the server has "
        "stopped (`bench/inproc.py queries`): each request goes through Django's whole "
        "stack (middleware, bearer-token authentication, the view, the serializer) with "
        "Django's test client, on slots and clients of its own in the run's database, "
        "and every statement sent counts, BEGIN, COMMIT, ROLLBACK and savepoints included. "
        "A first, unrecorded pass does what happens once, not per request (a worker "
        "caches the content types), so these are "
        "a warm worker's counts. Each "
        "answer is checked: the seat, the place in the waitlist, the oldest waiter "
        "promoted, the first answer replayed with `Idempotent-Replayed: true`. The budgets "
        "are `QUERY_BUDGETS` in bench/report.py, set at the counts measured when chosen; "
        "a count is exact, not noisy, so one query more is missed. "
        "bookings/tests/test_write_queries.py holds booking and cancelling with promotion "
        "to the same counts in the test suite.\n\n" + md_table(header, rows)
    )
    if missed_sql:
        text += "\n\nStatements of the writes over budget:\n\n" + "\n\n".join(missed_sql)
    return text


def memory_section(results: list[dict]) -> str:
    header = [
        "run",
        "requests",
        "errors",
        "workers",
        "peak RSS (VmHWM), MB",
        f"RSS after {FLAT_FROM:,}, MB",
        "RSS at the end, MB",
        "largest worker's RSS every 1,000 requests, MB",
        "< 150 MB and flat",
    ]
    rows = []
    for r in results:
        mem = r["memory"]
        m = memory_figures(mem)
        ok = m["peak"] is not None and m["peak"] < MEMORY_TARGET_MB and m["flat"]
        rows.append(
            [
                run_name(r),
                fmt(mem["requests"]),
                fmt(mem["errors"]),
                str(mem["worker_count"]) + (" (restarted!)" if mem["workers_restarted"] else ""),
                fmt(m["peak"]),
                fmt(m["early"]),
                fmt(m["end"]),
                " ".join(f"{v:g}" for v in m["trend"]),
                "met" if ok else "**missed**",
            ]
        )
    return (
        f"*Flat* means every worker's RSS at the end is within {FLAT_SHARE:.0%} of its RSS after "
        f"the first {FLAT_FROM:,} requests (the same worker, no restarts); the two RSS "
        "columns show the worker that grew most.\n\n" + md_table(header, rows)
    )


def profile_section(results: list[dict]) -> str:
    parts = []
    for r in results:
        p = r.get("profile")
        if not p:
            continue
        queries = "\n".join(f"{q['ms']:>8.2f} ms  {q['sql'][:220]}" for q in p["queries"])
        cprof = "\n".join(p["cprofile"][:22])
        parts.append(
            f"#### {run_name(r)}: {label_of(r, p['key'])}\n\n"
            f"`{p['path']}` in-process through Django's test client (no HTTP, every URL "
            f"new so nothing comes from the cache): {p['ms_per_request']:.1f} ms a request "
            f"over {p['repeat']} requests, of which {p['ms_sql_per_request']:.1f} ms in SQL "
            f"(timed around each statement's execute; on SQLite, rows fetched later are not "
            f"in it) and the rest in Python (Django, DRF, serializers).\n\n"
            f"SQL of one request:\n\n```\n{queries}\n```\n\n"
            f"cProfile of {p['repeat']} requests, the functions with the most own time:"
            f"\n\n```\n{cprof}\n```"
        )
    if not parts:
        return "Every read met its target in every run; nothing was profiled."
    return (
        "For each run whose slowest read misses the 3x target, bench/load.py profiles "
        "that read in-process (`bench/inproc.py profile`) after the server has stopped.\n\n"
        + "\n\n".join(parts)
    )


def render(results: list[dict], analysis: str) -> str:
    sections = [
        "# Performance",
        "This file is written by the benchmark in `bench/` (`make bench`); the figures below "
        "are measured, not estimated. Re-running regenerates it whole; only the analysis "
        "under *Where the time goes* (between two HTML comment markers) is written by hand "
        "and kept.",
        "## Targets",
        "Targets are checked in the benchmark, not as timed tests. Ratios are medians over "
        "the median of `GET /api/health/` (no authentication, one `SELECT 1`) on the same "
        "server in the same run.",
        summary_section(results),
        "## Machine",
        machine_section(results),
        "## How to run",
        how_section(results),
        "## Results",
        "median and p95 in milliseconds; ÷ health is the median over the median of "
        "`/api/health/` in the same run.",
        *[run_section(r) for r in results],
        "## Growth: 1,000 to 100,000 slots",
        growth_section(results),
        "## Booking under contention",
        contention_section(results),
        "## Hot slot",
        hot_slot_section(results),
        "## Query budgets",
        queries_section(results),
        "## Memory",
        memory_section(results),
        "## Where the time goes",
        ANALYSIS_START + "\n" + analysis.strip() + "\n" + ANALYSIS_END,
        "### Profiles",
        profile_section(results),
    ]
    return "\n\n".join(sections) + "\n"


def current_analysis() -> str:
    try:
        text = DOC.read_text()
    except OSError:
        return DEFAULT_ANALYSIS
    start, end = f"\n{ANALYSIS_START}\n", f"\n{ANALYSIS_END}\n"
    if start in text and end in text:
        return text.split(start, 1)[1].split(end, 1)[0]
    return DEFAULT_ANALYSIS


def write() -> Path:
    results = load_results()
    if not results:
        raise SystemExit("no results in bench/results/; run bench/load.py first")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(results, current_analysis()))
    return DOC


if __name__ == "__main__":
    out(f"wrote {write().relative_to(ROOT)}")
