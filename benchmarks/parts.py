"""How well the router splits several requests said in one breath (`router/split.py`), on
the hand-written sets `nlu_eval/parts_*.toml` and on the corpora's own requests that hold
an "and" or a "then" (each one request: they must stay whole), plus what splitting costs.

    python benchmarks/parts.py [--data ../shared/data] [--write docs/PERFORMANCE.md]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tomllib
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from nlu_training import training  # noqa: E402
from report import machine, publish  # noqa: E402

from companion.personas import load_personas  # noqa: E402
from companion.resources import BUNDLED_PERSONAS  # noqa: E402
from companion.router import route, route_one  # noqa: E402

HEADING = "## Several requests in one breath (splitting)"


def family(name: str) -> str:
    return name.partition(".")[0]


def joined(text: str) -> bool:
    t = f" {text.lower()} "
    return " and " in t or " then " in t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=training.DEFAULT_DATA)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    cast = list(load_personas(BUNDLED_PERSONAS)[0].values())
    rows = []
    for path in sorted(training.EVAL.glob("parts_*.toml")):
        data = tomllib.loads(path.read_text())
        split = [
            [family(p.name) for p in route(t, cast).parts] == [family(w) for w in want]
            for t, want in data["multi"]
        ]
        whole = [not route(t, cast).parts for t in data["whole"]]
        rows.append(
            f"| `{path.stem}` | {sum(split)} of {len(split)} ({sum(split) / len(split):.0%}) "
            f"| {sum(whole)} of {len(whole)} ({sum(whole) / len(whole):.0%}) |"
        )
    corpus_rows = []
    slurp = [json.loads(line)["sentence"] for line in (args.data / "slurp_devel.jsonl").open()]
    kvret = [
        turn["data"]["utterance"]
        for dialogue in json.loads((args.data / "kvret_dev_public.json").read_text())
        for turn in dialogue["dialogue"]
        if turn["turn"] == "driver"
    ]
    for name, texts in (("SLURP devel", slurp), ("KVRET dev, driver turns", kvret)):
        with_and = [t for t in texts if joined(t)]
        kept = sum(not route(t, cast).parts for t in with_and)
        corpus_rows.append(
            f'| {name} with "and"/"then" | {kept} of {len(with_and)} kept whole '
            f"({kept / len(with_and):.1%}) |"
        )
    timed = [t for t in slurp if joined(t)] * 3
    cost = []
    for text in timed:
        started = time.perf_counter()
        route(text, cast)
        middle = time.perf_counter()
        route_one(text, cast)
        cost.append(((middle - started) - (time.perf_counter() - middle)) * 1000)
    cost.sort()
    lines = [
        HEADING,
        "",
        f"Measured {date.today().isoformat()} on {machine()}. Command: "
        "`python benchmarks/parts.py --write docs/PERFORMANCE.md`. A request counts as split "
        "right when its parts, in the order said, are of the expected kinds (navigation, car, "
        "control, search, out of scope, conversation).",
        "",
        "| set | several parts split right (target ≥ 90 %) | single requests kept whole "
        "(target ≥ 95 %) |",
        "|---|---|---|",
        *rows,
        "",
        "`parts_test` was written first and tuned on; `parts_final` was written after the "
        "tuning and read once.",
        "",
        "| corpus (each line one request) | |",
        "|---|---|",
        *corpus_rows,
        "",
        f'What looking for parts adds to `route()` on a request with "and" in it: median '
        f"{statistics.median(cost):.2f} ms, p90 {cost[int(0.9 * (len(cost) - 1))]:.2f} ms "
        f"({len(timed)} requests); requests without such a word pay nothing.",
    ]
    publish(lines, args.write, HEADING)


if __name__ == "__main__":
    main()
