"""`inproc.py profile`: where the time of one read goes, in this process."""

import cProfile
import io
import pstats
import re
import sysconfig
import time
from pathlib import Path

import django
from django.db import connection
from django.test import Client
from djangosetup import ROOT


def profile(args) -> dict:
    """Runs GETs of one path through Django in this process (no HTTP server):
    the SQL of one request, each statement timed; the share of SQL in the
    time of `repeat` requests; then a cProfile of them. A query parameter that
    the API ignores makes every URL new, so no answer comes from a cache."""
    headers = {"HTTP_HOST": "127.0.0.1"}
    if args.token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {args.token}"
    client = Client(**headers)
    sep = "&" if "?" in args.path else "?"
    statements: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - started, sql))

    def get(n: int) -> None:
        response = client.get(f"{args.path}{sep}bench-profile={n}")
        if response.status_code != 200:
            raise SystemExit(f"{args.path}: {response.status_code} {response.content[:300]!r}")

    get(0)  # URLconf, serializers, connection
    with connection.execute_wrapper(timed):
        started = time.perf_counter()
        get(1)
        one = time.perf_counter() - started
        queries = [
            {"ms": round(seconds * 1000, 2), "sql": " ".join(sql.split())[:400]}
            for seconds, sql in statements
        ]
        statements.clear()
        started = time.perf_counter()
        for n in range(args.repeat):
            get(2 + n)
        plain = (time.perf_counter() - started) / args.repeat
        sql_share = sum(seconds for seconds, _ in statements) / args.repeat
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(args.repeat):
        get(2 + args.repeat + n)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(args.lines)
    prefixes = [
        str(Path(django.__file__).resolve().parent.parent) + "/",  # site-packages
        sysconfig.get_paths()["stdlib"] + "/",
        str(ROOT) + "/",
    ]
    lines = []
    for line in text.getvalue().splitlines():
        if line.strip():
            for prefix in prefixes:
                line = line.replace(prefix, "")
            lines.append(re.sub(r" at 0x[0-9a-f]+", "", line.rstrip()))
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return {
        "path": args.path,
        "ms_one_request": round(one * 1000, 2),
        "ms_per_request": round(plain * 1000, 2),
        "ms_sql_per_request": round(sql_share * 1000, 2),
        "repeat": args.repeat,
        "queries": queries,
        "cprofile": lines[start:],
        "database": connection.vendor,
    }
