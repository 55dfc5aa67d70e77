"""The benchmark's helpers that need Django loaded; bench/load.py runs them as
subprocesses with the server's environment (the same DATABASE_URL and keys).

    python bench/inproc.py prepare --out FILE ...   bench-only clients, race and hot slots, tokens
    python bench/inproc.py verify --out FILE SLOT_ID...   seats of slots, from the database
    python bench/inproc.py profile --out FILE --path PATH [--token T]   where a request's time goes
    python bench/inproc.py queries --out FILE   SQL queries of each booking write

Nothing here is timed; it sets up and checks what bench/load.py measures.
Each command is a module of its own: inproc_prepare.py (prepare, verify),
inproc_profile.py and inproc_queries.py; they load Django through
djangosetup.py.
"""

import argparse
import json
from pathlib import Path

from inproc_prepare import prepare, verify
from inproc_profile import profile
from inproc_queries import queries


def write_json(path: str, data) -> None:
    Path(path).write_text(json.dumps(data, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare")
    p.add_argument("--out", required=True)
    p.add_argument("--post-clients", type=int, default=400)
    p.add_argument("--post-slots", type=int, default=100)
    p.add_argument("--race-clients", type=int, default=100)
    p.add_argument("--race-slots", type=int, default=10)
    p.add_argument("--race-capacity", type=int, default=5)
    p.add_argument("--race-rounds", type=int, default=3)
    p.add_argument("--hot-clients", type=int, default=200)
    p.add_argument("--hot-capacity", type=int, default=20)
    p.set_defaults(run=prepare)
    v = commands.add_parser("verify")
    v.add_argument("--out", required=True)
    v.add_argument("slots", type=int, nargs="+")
    v.set_defaults(run=verify)
    f = commands.add_parser("profile")
    f.add_argument("--out", required=True)
    f.add_argument("--path", required=True)
    f.add_argument("--token", default="")
    f.add_argument("--repeat", type=int, default=20)
    f.add_argument("--lines", type=int, default=25)
    f.set_defaults(run=profile)
    q = commands.add_parser("queries")
    q.add_argument("--out", required=True)
    q.set_defaults(run=queries)
    args = parser.parse_args()
    write_json(args.out, args.run(args))


if __name__ == "__main__":
    main()
