"""Gunicorn settings for the studio API (`gunicorn -c gunicorn.conf.py`).

Every value can be changed from the environment, so `make serve`, the
benchmark in bench/ and a process manager all start the same server:

- GUNICORN_BIND           address to listen on (default 127.0.0.1:8000)
- WEB_CONCURRENCY         worker processes (default 2 x CPUs + 1, see below)
- GUNICORN_THREADS        threads per worker (default 1: sync workers)
- GUNICORN_TIMEOUT        seconds a silent worker may take before it is restarted (30)
- GUNICORN_MAX_REQUESTS   restart a worker after this many requests (default 0: never)
- GUNICORN_ACCESS_LOG     set to anything to log each request to stdout
- GUNICORN_LOG_LEVEL      error-log level (default info)
- GUNICORN_CONTROL_SOCKET path of the control socket for `gunicornc` (default: none)
"""

import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cpu_count() -> int:
    """The CPUs this process may run on (a container's CPU set, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


wsgi_app = "studio.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]

# Workers: 2 x CPUs + 1 sync workers. A sync worker serves one request at a
# time and spends part of it waiting on PostgreSQL or Redis; while one worker
# waits another can use the CPU, so about two per core keep every core busy,
# and the extra one covers a worker that is restarting or stuck on a slow
# query. More workers than that add memory (one Django process each, about
# 80 MB, see docs/PERFORMANCE.md) and database connections (one each, kept
# for DJANGO_CONN_MAX_AGE) without adding throughput, since the work is
# CPU-bound Python. On 2 CPUs that is 5 workers.
workers = _env_int("WEB_CONCURRENCY", 2 * _cpu_count() + 1)

# One thread per worker (the sync worker). With GUNICORN_THREADS above 1,
# gunicorn runs its threaded worker instead, which also keeps connections alive.
threads = _env_int("GUNICORN_THREADS", 1)

# Gunicorn's sync or threaded worker, except that what gunicorn itself refuses
# (a request line or headers over its limits, a request it cannot parse)
# answers in the API's JSON problem shape, not as an HTML page.
if threads > 1:
    worker_class = "studio.gunicorn_workers.ProblemThreadWorker"
else:
    worker_class = "studio.gunicorn_workers.ProblemSyncWorker"

# The longest request line (method, path, query string, protocol) gunicorn
# reads: its maximum, 8190 bytes (0 would mean no limit at all). The API
# itself refuses a query string over 4096 characters with a 414 problem
# (core.middleware.QueryStringLimitMiddleware); gunicorn's default of 4094
# bytes would refuse such requests first, with its own answer. Only a line
# over 8190 bytes is now gunicorn's to refuse.
limit_request_line = 8190

# A request that takes longer than this is a bug or a stuck query: the worker
# is killed and replaced, and the client gets a 502 from the proxy.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (a deploy), workers finish the requests they hold for up to this long.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Seconds an idle keep-alive connection stays open (threaded workers only;
# a sync worker closes the connection after each response, which suits a
# reverse proxy in front of it).
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)

# Recycling workers is off: memory stays flat (docs/PERFORMANCE.md).
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

# Worker heartbeats go to a RAM-backed directory where there is one, so a slow
# disk never makes the master think a worker hangs.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# The error log (start-up, worker restarts, tracebacks) goes to stderr; the
# access log to stdout only when asked for, since a proxy usually logs requests.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") else None
proc_name = "studio"

# Gunicorn's control socket (runtime management through `gunicornc`) only
# where asked for: its default path is one per user, so two servers on one
# machine (say `make serve` and the benchmark) would fight over it.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
