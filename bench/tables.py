"""A run's figures as a table: plain text for the console, Markdown for
docs/PERFORMANCE.md."""

from report import (
    DATABASES,
    FLAT_FROM,
    contention_ratio,
    contention_sound,
    hot_sound,
    label_of,
    memory_figures,
    promotion_flat,
    queries_missed,
    query_rows,
    ratio,
    read_keys,
    targets_of,
)


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


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
