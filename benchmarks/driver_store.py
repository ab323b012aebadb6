"""What keeping things between drives costs (`companion/store/`): opening the driver
database and restoring the preferences at start-up, saving a place, finding a saved place
by name, keeping a preference (the write on every persona switch or volume change) and
remembering a fact. Real SQLite files in a temporary folder, WAL mode as shipped.

    python benchmarks/driver_store.py [--runs 200] [--places 200] [--write docs/PERFORMANCE.md]

Median and p90 over `--runs` repetitions of each step, with a database already holding
`--places` saved places and as many trips (a driver after a year or so).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, publish  # noqa: E402

from companion.store import Database, DriverStore, SavedPlace  # noqa: E402

HEADING = "## Driver database (saved places, preferences, memory)"


def timed(step: Callable[[int], object], runs: int) -> tuple[float, float]:
    """(median, p90) in milliseconds of `step(n)` for n in range(runs)."""
    took = []
    for n in range(runs):
        started = time.perf_counter()
        step(n)
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return statistics.median(took), took[int(0.9 * (len(took) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--places", type=int, default=200)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="companion-bench-"))
    path = folder / "companion.sqlite3"
    store = DriverStore(Database(path), "default", remember=True)
    for n in range(args.places):
        place = SavedPlace(f"place {n}", f"Somewhere {n}", 37 + n / 1000, -122, at=n)
        store.places.save(f"place {n}", place)
        store.places.visited(place)
    store.prefs.set("persona", "storyteller")
    store.close()

    def reopen(n: int) -> None:
        opened = DriverStore(Database(path), "default")
        opened.prefs.all()
        opened.places.names()
        opened.close()

    store = DriverStore(Database(path), "default", remember=True)
    rows = [
        ("open the database and read the preferences and saved names (start-up)", reopen),
        (
            "save a place",
            lambda n: store.places.save(f"new {n}", SavedPlace("x", "There", 37.5, -122.1)),
        ),
        ("find a saved place by name", lambda n: store.places.get(f"place {n % args.places}")),
        (
            "keep a preference (a persona switch, a volume step)",
            lambda n: store.prefs.set("volume", 0.5 + (n % 5) / 10),
        ),
        ("remember a fact", lambda n: store.memory.remember(f"fact number {n}")),
        ("the trip history, last charger", lambda n: store.places.recent("charger")),
    ]
    results = [(name, *timed(step, args.runs)) for name, step in rows]
    size_kib = sum(p.stat().st_size for p in folder.iterdir()) / 1024
    store.close()
    lines = [
        HEADING,
        "",
        f"Measured {date.today().isoformat()} on {machine()}. Command: "
        f"`python benchmarks/driver_store.py --runs {args.runs} --places {args.places} "
        "--write docs/PERFORMANCE.md`. A real SQLite file (WAL, `synchronous = NORMAL`) "
        f"holding {args.places} saved places and {args.places} trips; each step "
        f"{args.runs} times.",
        "",
        "| step | median | p90 |",
        "|---|---|---|",
        *(f"| {name} | {median:.2f} ms | {p90:.2f} ms |" for name, median, p90 in results),
        "",
        f"The files on disk: {size_kib:.0f} KiB (database, WAL and shared memory). A write "
        "happens on the loop when a preference changes or a place is saved, so its p90 is "
        "what a turn can feel; none of it is on the path of an ordinary turn.",
    ]
    publish(lines, args.write, HEADING)


if __name__ == "__main__":
    main()
