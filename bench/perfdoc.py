"""Writes docs/PERFORMANCE.md from the saved runs in bench/results/*.json.

bench/load.py calls it after every run, so the document always shows the
latest run of each database and scale; `.venv/bin/python bench/report.py`
does only this. It is regenerated whole each time; only the block between
the `analysis` markers is carried over by hand.
"""

import json
from pathlib import Path

from perfdoc_intro import how_section, machine_section, summary_section
from perfdoc_results import (
    contention_section,
    growth_section,
    hot_slot_section,
    memory_section,
    profile_section,
    queries_section,
    run_section,
)
from report import DATABASES
from runner import ROOT, out

RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "PERFORMANCE.md"
ANALYSIS_START = "<!-- analysis:start -->"
ANALYSIS_END = "<!-- analysis:end -->"
DEFAULT_ANALYSIS = "(No analysis written yet.)"


def load_results() -> list[dict]:
    results = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    order = list(DATABASES)
    return sorted(results, key=lambda r: (order.index(r["database"]), r["slots"]))


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


def main() -> None:
    out(f"wrote {write().relative_to(ROOT)}")
