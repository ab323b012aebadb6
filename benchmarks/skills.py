"""Navigation and search, offline: how long a turn's skill work takes, what the world tables
cost to load, and how often a real driver's first request gets a useful navigation answer.

    python benchmarks/skills.py [--runs 5] [--write docs/PERFORMANCE.md]

- Skill time: `Navigator.handle()` / `Searcher.search()` for typical requests (shipped sample
  places around the default start, GeoNames cities and IATA airports already loaded), median
  over runs after a warm-up. A navigation turn's answer is local, so this plus routing is
  the whole time from final transcript to reply text.
- Tables: loading the city and airport tables in a fresh process (wall time, RSS growth),
  median of `--runs` processes; the front ends do this on a background thread at start-up.
- KVRET answer rate (when ../shared is present): the navigator's action for each first
  driver utterance the router calls navigation. KVRET's own places (its dialogue-specific
  POI lists) are not in our data, so named places there mostly end in "I couldn't find".
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, replace_section  # noqa: E402

from companion.config import load_settings  # noqa: E402
from companion.navigation import build_navigator  # noqa: E402
from companion.router import route  # noqa: E402
from companion.search import build_searcher  # noqa: E402

NAV_REQUESTS = [
    "navigate to Luigi's Trattoria",
    "take me to the nearest charger",
    "find me a coffee shop",
    "drive to San Francisco",
    "take me to SFO",
    "how long until we get there",
    "where am I",
    "navigate to Zorblax Quuxville",
]
SEARCH_REQUESTS = [
    "what does the turtle symbol mean",
    "how long does charging take",
    "what is the capital of France",
]

LOAD_TABLES = """
import gc, json, sys, time
from pathlib import Path
def rss_mb():  # resident now (not ru_maxrss: a forked child inherits its parent's peak)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
from companion.navigation.places import Gazetteer
from companion.navigation.geo import LatLon
before = rss_mb()
t = time.perf_counter()
Gazetteer(LatLon(0, 0), sample_file=None, cache=Path(sys.argv[1])).preload()
took = time.perf_counter() - t
gc.collect()
print(json.dumps({"s": took, "mb": rss_mb() - before}))
"""


async def skill_times(runs: int) -> tuple[dict[str, float], dict[str, float]]:
    settings = load_settings(environ={})
    navigator = build_navigator(settings)
    navigator.gazetteer.preload()
    searcher = build_searcher(settings)
    nav: dict[str, list[float]] = collections.defaultdict(list)
    found: dict[str, list[float]] = collections.defaultdict(list)
    for run in range(runs + 1):
        for text in NAV_REQUESTS:
            navigator.trip.cancel()
            if text.startswith("how long"):
                await navigator.handle("navigation.start", {"place": "san jose"}, "")
            intent = route(text, [])
            started = time.perf_counter()
            await navigator.handle(intent.name, intent.slots, text)
            if run:
                nav[text].append(time.perf_counter() - started)
        for text in SEARCH_REQUESTS:
            started = time.perf_counter()
            await searcher.search(text)
            if run:
                found[text].append(time.perf_counter() - started)
    await navigator.aclose()
    return (
        {k: statistics.median(v) * 1000 for k, v in nav.items()},
        {k: statistics.median(v) * 1000 for k, v in found.items()},
    )


def table_cost(runs: int) -> dict[str, tuple[float, float]]:
    """Cold (the city index is built into an empty folder) and warm (it exists) loads of the
    city index and the airport table, each in a fresh process: median seconds and MB."""
    import tempfile

    found: dict[str, tuple[float, float]] = {}
    for kind in ("cold", "warm"):
        seconds, mb = [], []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as folder:
                if kind == "warm":
                    subprocess.run(
                        [sys.executable, "-c", LOAD_TABLES, folder],
                        check=True,
                        capture_output=True,
                        cwd=ROOT,
                    )
                out = subprocess.run(
                    [sys.executable, "-c", LOAD_TABLES, folder],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                ).stdout
            data = json.loads(out)
            seconds.append(data["s"])
            mb.append(data["mb"])
        found[kind] = (statistics.median(seconds), statistics.median(mb))
    return found


async def kvret_actions() -> tuple[collections.Counter, int] | None:
    try:
        from tests.test_intents import KVRET, first_driver_utterances
    except ImportError:
        return None
    if not KVRET.exists():
        return None
    navigator = build_navigator(load_settings(environ={}))
    actions: collections.Counter = collections.Counter()
    total = 0
    for task, text, _ in first_driver_utterances():
        if task != "navigate":
            continue
        intent = route(text, [])
        if not intent.name.startswith("navigation."):
            continue
        total += 1
        navigator.trip.cancel()
        navigator.pending = None
        answer = await navigator.handle(intent.name, intent.slots, text)
        actions[answer.action] += 1
    await navigator.aclose()
    return actions, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path, help="update this PERFORMANCE.md")
    args = parser.parse_args()
    nav, found = asyncio.run(skill_times(args.runs))
    tables = table_cost(args.runs)
    kvret = asyncio.run(kvret_actions())
    for text, ms in nav.items():
        print(f"navigation {ms:8.2f} ms  {text}")
    for text, ms in found.items():
        print(f"search     {ms:8.2f} ms  {text}")
    for kind, (sec, mb) in tables.items():
        print(f"city index + airports, {kind}: {sec:.2f} s, +{mb:.0f} MB RSS")
    if kvret:
        print(f"KVRET navigation answers: {dict(kvret[0])} of {kvret[1]}")
    if not args.write:
        return
    lines = [
        "## Navigation and search (offline)",
        "",
        f"Measured {date.today().isoformat()} on {machine()}. Command: "
        f"`python benchmarks/skills.py --runs {args.runs} --write docs/PERFORMANCE.md`. "
        "Skill time is `Navigator.handle()` / `Searcher.search()` alone (median of "
        f"{args.runs} runs after a warm-up; the route estimate included, no network); the "
        "reply is then spoken like any other.",
        "",
        "| request | median |",
        "|---|---|",
        *(f'| navigation: "{text}" | {ms:.2f} ms |' for text, ms in nav.items()),
        *(f'| search: "{text}" | {ms:.2f} ms |' for text, ms in found.items()),
        "",
        "Loading the places tables in a fresh process (median of "
        f"{args.runs}): the first time on a machine the GeoNames city index is built into an "
        f"SQLite file in the cache folder — {tables['cold'][0]:.2f} s, "
        f"+{tables['cold'][1]:.0f} MB resident afterwards; every later start opens it: "
        f"{tables['warm'][0]:.2f} s, +{tables['warm'][1]:.0f} MB (the airport table, loaded "
        "into memory, included). Before the index, the in-memory city table took 1.4 s and "
        "+102 MB on every start. `companion chat`/`listen` load them on a background thread "
        "at start-up; a lookup before that finishes waits for it (on a worker thread, never "
        "the event loop).",
        "",
    ]
    if kvret:
        actions, total = kvret
        listed = ", ".join(f"{name} {count}" for name, count in actions.most_common())
        lines += [
            f"KVRET dev, first driver utterances recognised as navigation ({total}): what the "
            f"navigator did — {listed}. KVRET's places are per-dialogue inventions (\"Stanford "
            'Express Care", "Mandarin Roots") that no offline data has; category requests '
            '("nearest gas station") are answered from the sample places, named ones end in '
            '"I couldn\'t find a place called ...", as they should.',
            "",
        ]
    replace_section(args.write, "## Navigation and search (offline)", "\n".join(lines))


if __name__ == "__main__":
    main()
