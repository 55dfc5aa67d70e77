"""Load benchmark of the studio API: one database at one scale per run.

    .venv/bin/python bench/load.py --database sqlite --slots 1000
    .venv/bin/python bench/load.py --database postgres --slots 100000

A run makes a fresh database (a SQLite file in a temporary directory, or the
PostgreSQL database `studio_bench`, dropped afterwards), migrates it, seeds it
with `bench/seed.py`, adds bench-only clients and slots
(bench/inproc.py), starts gunicorn with gunicorn.conf.py on a free port of
127.0.0.1 (debug off, a random secret key), and drives it over loopback:

1. reads and POST /api/bookings/, a bounded number of requests each at a
   fixed concurrency, every answer checked for its status;
2. contention: 100 clients book 10 slots of 5 seats at once (a barrier),
   then the database is checked for oversold seats;
3. hot slot: 200 clients book one 20-seat class at once (a barrier), one
   request each; p50, p99 and max of their latencies, exactly 20 must get
   201 and the rest 409 slot_full, then the slot is checked in the database;
4. memory: 10,000 mixed reads, sampling every worker's RSS each 1,000;
5. query budgets, once the server has stopped: the SQL queries of each
   booking write, counted in-process (bench/inproc.py queries) and held to
   bench/report.py's QUERY_BUDGETS.

It prints one table and saves bench/results/<database>-<slots>.json, then
regenerates docs/PERFORMANCE.md from every saved result (bench/perfdoc.py).
The steps live beside it: runner.py (the deadline, the commands a run
runs), server.py (gunicorn, the database and the cache), loadclient.py (the
HTTP clients and the figures of their records), scenarios.py (reads, POST,
memory), races.py (contention, the hot slot) and machine.py (CPU, memory,
versions). Only the standard library is used here; the server and the helpers run in
the project's virtualenv. Gunicorn is always stopped, and the whole run is
bounded by --timeout.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import perfdoc
from machine import busy_share, git_state, machine_info, wait_for_quiet
from races import scenario_contention, scenario_hot_slot
from report import worst_read
from runner import PYTHON, ROOT, BenchError, Deadline, RunTimeout, inproc, manage, out, run
from scenarios import (
    Unique,
    check_answers,
    read_endpoints,
    scenario_memory,
    scenario_reads_and_post,
    sign_in,
    verify_post_slots,
)
from server import Server, admin_url, flush_redis, free_port, psql, server_env
from tables import text_table


def bench(args, deadline: Deadline) -> dict:
    scale = args.slots
    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    pg_admin = admin_url(args.pg_url) if args.database == "postgres" else None
    db_made = False
    server = None
    cache = (
        args.cache
        if args.cache != "auto"
        else ("redis" if args.database == "postgres" else "locmem")
    )
    redis_url = args.redis_url if cache == "redis" else None
    try:
        if args.database == "sqlite":
            database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        else:
            database_url = args.pg_url
            name = urlsplit(database_url).path.lstrip("/")
            psql(pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', deadline)
            psql(pg_admin, f'CREATE DATABASE "{name}"', deadline)
            db_made = True
        port = free_port()
        env = server_env(database_url, redis_url, port, args.workers)
        if redis_url:
            flush_redis(redis_url, deadline)

        out(f"== {args.database}, {scale:,} slots: migrate and seed")
        started = time.monotonic()
        manage(["migrate", "--noinput"], env, deadline)
        run(
            [
                PYTHON,
                str(ROOT / "bench" / "seed.py"),
                "--sessions",
                str(scale // 10),
                "--slots-per-session",
                "10",
                "--clients",
                str(args.clients),
            ],
            env,
            deadline,
            "bench/seed.py",
        )
        race_rounds = args.race_rounds
        ids = inproc(
            [
                "prepare",
                "--post-clients",
                str(args.post_requests),
                "--race-clients",
                str(args.race_clients),
                "--race-slots",
                str(args.race_slots),
                "--race-capacity",
                str(args.race_capacity),
                "--race-rounds",
                str(race_rounds),
                "--hot-clients",
                str(args.hot_clients),
                "--hot-capacity",
                str(args.hot_capacity),
            ],
            env,
            deadline,
        )
        seeded_s = time.monotonic() - started
        out(f"   seeded in {seeded_s:.0f} s: {ids['counts']}")

        busy_before = wait_for_quiet(args.wait_quiet, deadline)
        server = Server(env, tmp / "gunicorn.log")
        server.start(deadline)
        workers = len(server.worker_pids())
        out(f"   gunicorn on 127.0.0.1:{port}, {workers} workers, cache {cache}")
        tokens = {
            "client": sign_in(port, ids["client"], ids["password"]),
            "instructor": sign_in(port, ids["first_instructor"], ids["password"]),
        }
        endpoints = read_endpoints(ids, tokens)
        check_answers(port, endpoints, ids)
        unique = Unique()

        out(f"   reads: {args.requests} requests each, concurrency {args.concurrency}")
        out(f"   then POST /api/bookings/: {len(ids['post'])} clients, one request each")
        reads, post = scenario_reads_and_post(port, endpoints, ids, args, unique)
        post["seats"] = verify_post_slots(ids, env, deadline)
        out(f"   contention: {race_rounds} rounds of {args.race_clients} clients")
        contention = scenario_contention(port, ids, env, deadline)
        hot_slot = None
        if args.hot_clients:
            out(f"   hot slot: {args.hot_clients} clients, one slot of {args.hot_capacity} seats")
            hot_slot = scenario_hot_slot(port, ids, env, deadline)
        out(f"   memory: {args.memory_requests} mixed requests")
        memory = scenario_memory(port, server, endpoints, ids, args, unique, deadline)
        server.stop()
        gunicorn_log = server.log_tail(2000)
        busy_after = busy_share(2)

        result = {
            "database": args.database,
            "slots": scale,
            "cache": cache,
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join([".venv/bin/python", "bench/load.py", *sys.argv[1:]]),
            "via_make": bool(os.environ.get("BENCH_FROM_MAKE")),
            "settings": {
                "requests": args.requests,
                "concurrency": args.concurrency,
                "warmup": args.warmup,
                "rounds": args.rounds,
                "post_requests": args.post_requests,
                "clients": args.clients,
                "workers": workers,
            },
            "counts": ids["counts"],
            "seed_seconds": round(seeded_s, 1),
            "endpoints": [
                {"key": e["key"], "label": e["label"], "path": e["path"]} for e in endpoints
            ],
            "reads": reads,
            "post": post,
            "contention": contention,
            "hot_slot": hot_slot,
            "memory": memory,
            "machine": machine_info(pg_admin or admin_url(args.pg_url), redis_url),
            "git": git_state(),
            "server_errors_logged": "Traceback" in gunicorn_log or "[ERROR]" in gunicorn_log,
            # CPU in use by other work just before the server started and
            # just after it stopped (0 to 1); above QUIET, figures may be skewed.
            "machine_busy": {"before": round(busy_before, 3), "after": round(busy_after, 3)},
        }
        worst = worst_read(result)
        if worst is not None and not args.no_profile:
            endpoint = next(e for e in endpoints if e["key"] == worst)
            out(f"   profile of {endpoint['label']} (in-process)")
            profile_args = ["profile", "--path", endpoint["path"]]
            if endpoint.get("token"):
                profile_args += ["--token", endpoint["token"]]
            result["profile"] = {"key": worst, **inproc(profile_args, env, deadline)}
        out("   query counts of the booking writes (in-process)")
        result["queries"] = inproc(["queries"], env, deadline)
        return result
    finally:
        if server is not None:
            server.stop()
        if redis_url and not args.keep:
            try:
                flush_redis(redis_url, Deadline(30))
            except (BenchError, RunTimeout) as exc:
                out(f"   could not empty {redis_url}: {exc}")
        if db_made and not args.keep:
            name = urlsplit(args.pg_url).path.lstrip("/")
            try:
                psql(pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', Deadline(60))
            except (BenchError, RunTimeout) as exc:
                out(f"   could not drop {name}: {exc}")
        if args.keep:
            out(f"   kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Load benchmark of the studio API (one database, one scale).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--slots", type=int, required=True, help="slots to seed (10 per session)")
    parser.add_argument("--requests", type=int, default=400, help="measured requests per read")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured requests per read")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved chunks per endpoint")
    parser.add_argument("--post-requests", type=int, default=400, help="POSTs, one per client")
    parser.add_argument("--clients", type=int, default=200, help="bench/seed.py --clients")
    parser.add_argument("--race-clients", type=int, default=100)
    parser.add_argument("--race-slots", type=int, default=10)
    parser.add_argument("--race-capacity", type=int, default=5)
    parser.add_argument("--race-rounds", type=int, default=3)
    parser.add_argument(
        "--hot-clients", type=int, default=200, help="clients racing for the hot slot; 0: skip"
    )
    parser.add_argument("--hot-capacity", type=int, default=20, help="seats of the hot slot")
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument("--memory-every", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=None, help="default: gunicorn.conf.py's")
    parser.add_argument(
        "--cache",
        choices=["auto", "locmem", "redis"],
        default="auto",
        help="auto: Redis with PostgreSQL, local memory with SQLite",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/studio_bench")
    parser.add_argument("--timeout", type=int, default=900, help="hard limit of the run, seconds")
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=120,
        help="seconds to wait for other work on the machine to end before measuring",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process profile")
    parser.add_argument("--keep", action="store_true", help="keep the database and the log")
    parser.add_argument("--no-report", action="store_true", help="do not write the results")
    args = parser.parse_args()

    def on_alarm(signum, frame):
        raise RunTimeout(f"the run took longer than --timeout {args.timeout} s")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.timeout)
    deadline = Deadline(args.timeout)
    try:
        result = bench(args, deadline)
    except (BenchError, RunTimeout) as exc:
        signal.alarm(0)
        out(f"!! {args.database}, {args.slots:,} slots: {exc}")
        return 1
    finally:
        signal.alarm(0)
    out(text_table(result))
    if not args.no_report:
        perfdoc.RESULTS.mkdir(parents=True, exist_ok=True)
        path = perfdoc.RESULTS / f"{args.database}-{args.slots}.json"
        path.write_text(json.dumps(result, indent=1) + "\n")
        doc = perfdoc.write()
        out(f"saved {path.relative_to(ROOT)}; wrote {doc.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
