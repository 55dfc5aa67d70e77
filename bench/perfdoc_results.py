"""The sections of docs/PERFORMANCE.md on the runs: one table per run, growth
from 1,000 to 100,000 slots, contention, the hot slot, query budgets, memory
and the profiles of slow reads."""

from report import (
    BUSY_WARNING,
    DATABASES,
    FLAT_FROM,
    FLAT_SHARE,
    FLOOR,
    GROWTH_TARGET,
    LARGE,
    QUERY_BUDGETS,
    QUERY_LABELS,
    SMALL,
    contention_ratio,
    contention_sound,
    growth_rows,
    hot_sound,
    label_of,
    memory_figures,
    memory_met,
    post_seats_sound,
    promotion_flat,
    query_rows,
    read_keys,
    run_name,
    verdict,
)
from tables import HEADER, fmt, md_table, table_rows


def run_section(result: dict) -> str:
    c = result["counts"]
    g = result["git"]
    tree = (
        "clean tree"
        if not g["uncommitted"]
        else (f"uncommitted changes in {', '.join(g['uncommitted'][:6])}")
    )
    post_seats = result["post"]["seats"]
    post_ok = post_seats_sound(result)
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
                "met" if memory_met(m) else "**missed**",
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
