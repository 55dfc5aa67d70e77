"""Running the benchmark's steps: the console, one deadline for the whole run,
and the commands it runs to completion (manage.py, bench/inproc.py)."""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class RunTimeout(Exception):
    pass


class BenchError(Exception):
    pass


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise RunTimeout("the run's time is up")
        return left


def run(cmd: list[str], env: dict, deadline: Deadline, what: str) -> str:
    """Runs a command to completion within the deadline; its output on failure."""
    try:
        done = subprocess.run(
            cmd,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=deadline.left(),
        )
    except subprocess.TimeoutExpired as exc:
        raise RunTimeout(f"{what} did not finish in time") from exc
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise BenchError(f"{what} failed ({done.returncode}):\n{tail}")
    return done.stdout


def manage(args: list[str], env: dict, deadline: Deadline) -> str:
    return run([PYTHON, "manage.py", *args], env, deadline, f"manage.py {args[0]}")


def inproc(args: list[str], env: dict, deadline: Deadline) -> object:
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        cmd = [PYTHON, str(ROOT / "bench" / "inproc.py"), args[0], "--out", result.name, *args[1:]]
        run(cmd, env, deadline, f"bench/inproc.py {args[0]}")
        return json.loads(Path(result.name).read_text())
