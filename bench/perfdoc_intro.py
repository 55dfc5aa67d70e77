"""The sections of docs/PERFORMANCE.md before the runs' own: the targets met or
missed by every run, the machine, and how to run the benchmark."""

from report import (
    CACHED_TARGET,
    FLOOR,
    GROWTH_TARGET,
    LARGE,
    MEMORY_TARGET_MB,
    POST_TARGET,
    QUERY_BUDGETS,
    QUERY_LABELS,
    READ_TARGET,
    SMALL,
    contention_sound,
    growth_rows,
    hot_sound,
    label_of,
    memory_figures,
    memory_met,
    post_seats_sound,
    queries_missed,
    ratio,
    run_name,
    targeted_keys,
    verdict,
)
from tables import fmt, md_table


def worst_cell(result: dict, keys: list[str], limit: float) -> str:
    pairs = [(ratio(result, k), k) for k in keys]
    pairs = [(r, k) for r, k in pairs if r is not None]
    if not pairs:
        return "n/a"
    r, k = max(pairs)
    if len(keys) == 1:
        return f"**{verdict(r, limit)}** ({r:.2f}x)"
    return f"**{verdict(r, limit)}** (worst {r:.2f}x, {label_of(result, k)})"


def growth_cell(r: dict, results: list[dict]) -> str:
    small = next(
        (s for s in results if s["database"] == r["database"] and s["slots"] == SMALL), None
    )
    if r["slots"] != LARGE or small is None:
        return "–" if r["slots"] == SMALL else "n/a (no 1,000-slot run)"
    grown = {
        row[0]: row[3]
        for row in growth_rows(small, r)
        if row[0] not in ("health", FLOOR) and row[3]
    }
    key = max(grown, key=grown.get)
    g = grown[key]
    return f"**{verdict(g, GROWTH_TARGET)}** (worst {g:.2f}x, {label_of(r, key)})"


def memory_cell(r: dict) -> str:
    m = memory_figures(r["memory"])
    return (
        f"**{'met' if memory_met(m) else 'missed'}** (peak {fmt(m['peak'])} MB, "
        f"{'flat' if m['flat'] else 'growing'})"
    )


def seats_cell(r: dict) -> str:
    c = r["contention"]
    sound = contention_sound(c) and post_seats_sound(r)
    return (
        f"**{'met' if sound else 'missed'}** (max {c['max_confirmed_per_slot']} "
        f"of {c['capacity']} seats)"
    )


def hot_cell(r: dict) -> str:
    h = r.get("hot_slot")
    if not h:
        return "not measured"
    return (
        f"**{'met' if hot_sound(h) else 'missed'}** ({h['created']} of {h['clients']} "
        f"booked {h['capacity']} seats; p99 {fmt(h['p99_ms'])} ms)"
    )


def budgets_cell(r: dict) -> str:
    if "queries" not in r:
        return "not measured"
    missed = queries_missed(r)
    if not missed:
        return f"**met** ({len(QUERY_BUDGETS)} writes)"
    return f"**missed** ({'; '.join(QUERY_LABELS.get(key, key) for key in missed)})"


def errors_cell(r: dict) -> str:
    n = (
        sum(row["errors"] for row in r["reads"].values())
        + r["post"]["errors"]
        + r["contention"]["total"]["errors"]
        + (r.get("hot_slot") or {}).get("other", 0)
        + r["memory"]["errors"]
    )
    return "none" if n == 0 else f"**{n} failed requests**"


def summary_section(results: list[dict]) -> str:
    """One row a target, one cell a run: met or missed, and by how much."""
    targets = [
        (
            f"every read's median ≤ {READ_TARGET:g}x health",
            lambda r: worst_cell(r, targeted_keys(r), READ_TARGET),
        ),
        (
            f"POST /api/bookings/ ≤ {POST_TARGET:g}x health",
            lambda r: worst_cell(r, ["post"], POST_TARGET),
        ),
        (
            f"cached public list ≤ {CACHED_TARGET:g}x health",
            lambda r: worst_cell(r, ["list"], CACHED_TARGET),
        ),
        (
            f"each read at 100,000 slots ≤ {GROWTH_TARGET:g}x of 1,000 slots",
            lambda r: growth_cell(r, results),
        ),
        (f"worker memory < {MEMORY_TARGET_MB:g} MB and flat", memory_cell),
        ("no seat oversold under contention", seats_cell),
        ("hot slot: exactly its seats booked, no other answer", hot_cell),
        ("booking writes within their query budgets", budgets_cell),
        ("unexpected answers", errors_cell),
    ]
    header = ["target", *[run_name(r) for r in results]]
    return md_table(header, [[target, *map(cell, results)] for target, cell in targets])


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
