"""The machine a run measures on: how busy other work keeps its CPUs, the
memory of the server's workers, the versions and the commit a run records."""

import os
import platform
import sqlite3
import subprocess
import time
from pathlib import Path

from runner import PYTHON, ROOT, Deadline, out

QUIET = 0.15  # share of the machine's CPU that other work may use when a run starts


def cpu_times() -> tuple[int, int]:
    """Busy and total jiffies of all CPUs, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])
    return total - idle, total


def busy_share(seconds: float) -> float:
    """The share of the machine's CPU time in use over `seconds`."""
    busy0, total0 = cpu_times()
    time.sleep(seconds)
    busy1, total1 = cpu_times()
    return (busy1 - busy0) / max(total1 - total0, 1)


def wait_for_quiet(limit: float, deadline: Deadline) -> float:
    """Waits (up to `limit` seconds) until other work on the machine uses
    less than QUIET of its CPU, so that it does not skew the figures;
    returns the share last seen."""
    until = time.monotonic() + min(limit, deadline.left())
    share = busy_share(2)
    while share > QUIET and time.monotonic() < until:
        out(f"   machine busy ({share:.0%} CPU in use by other work); waiting")
        share = busy_share(5)
    return share


def memory_of(pid: int) -> dict | None:
    """VmRSS and VmHWM (peak RSS) of a process, in MB."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    values = {}
    for line in lines:
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)
    return {"rss": values.get("VmRSS"), "hwm": values.get("VmHWM")}


def git_state() -> dict:
    def git(*cmd: str) -> str:
        try:
            return subprocess.run(
                ["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.rstrip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    # Porcelain lines are "XY path"; the benchmark's own files do not count.
    changed = [
        line[3:]
        for line in git("status", "--porcelain", "--untracked-files=all").splitlines()
        if not line[3:].startswith(("bench/", "docs/PERFORMANCE.md"))
    ]
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        "uncommitted": changed,
    }


def machine_info(pg_admin_url: str | None, redis_url: str | None) -> dict:
    def first_line(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    def version_of(code: str) -> str:
        try:
            return subprocess.run(
                [PYTHON, "-c", code], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    info = {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu_model": first_line("/proc/cpuinfo", "model name"),
        "memory": first_line("/proc/meminfo", "MemTotal"),
        "kernel": platform.release(),
        "python": version_of("import platform; print(platform.python_version())"),
        "django": version_of("import django; print(django.get_version())"),
        "gunicorn": version_of("import gunicorn; print(gunicorn.__version__)"),
        "sqlite": sqlite3.sqlite_version,
    }
    if pg_admin_url:
        try:
            info["postgresql"] = subprocess.run(
                ["psql", pg_admin_url, "-Atc", "SHOW server_version"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            info["postgresql"] = "?"
    if redis_url:
        info["redis"] = version_of(
            f"import redis; print(redis.Redis.from_url({redis_url!r}).info()['redis_version'])"
        )
    return info
