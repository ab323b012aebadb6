"""Dialogue tests: how long each shipped dialogue takes to run (target: text-only dialogues
well under a second each).

    python benchmarks/dialogues.py [--runs 5] [--write docs/PERFORMANCE.md]

Runs every file in tests/dialogues and personas/dialogues in one process, as `companion test`
and pytest do (one warm-up pass first, so the one-time loads — the city table, the speech
model — are not counted), then `--runs` timed passes; reports the median per dialogue.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, replace_section  # noqa: E402

from companion.dialogue import load_dialogue, run_dialogue  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path, help="update this PERFORMANCE.md")
    args = parser.parse_args()
    files = sorted((ROOT / "tests" / "dialogues").glob("*.toml")) + sorted(
        (ROOT / "personas" / "dialogues").glob("*.toml")
    )
    dialogues = [load_dialogue(f) for f in files]
    times: dict[str, list[float]] = {d.name: [] for d in dialogues}
    for run in range(args.runs + 1):
        for dialogue in dialogues:
            result = run_dialogue(dialogue)
            if not result.passed:
                sys.exit(f"{dialogue.name} failed; fix it before measuring")
            if run:
                times[dialogue.name].append(result.seconds)
    audio = {d.name for d in dialogues if any(t.audio for t in d.turns)}
    text = sorted(statistics.median(v) * 1000 for k, v in times.items() if k not in audio)
    spoken = sorted(statistics.median(v) * 1000 for k, v in times.items() if k in audio)
    print(
        f"text-only dialogues ({len(text)}): median {statistics.median(text):.0f} ms, "
        f"slowest {text[-1]:.0f} ms"
    )
    print(
        f"audio dialogues ({len(spoken)}): median {statistics.median(spoken):.0f} ms, "
        f"slowest {spoken[-1]:.0f} ms"
    )
    if args.write:
        lines = [
            "## Dialogue tests",
            "",
            f"Measured {date.today().isoformat()} on {machine()}. Command: "
            f"`python benchmarks/dialogues.py --runs {args.runs} --write docs/PERFORMANCE.md`"
            f" ({len(dialogues)} shipped dialogues in one process after a warm-up pass; median "
            f"of {args.runs} runs per dialogue; scripted model, no network).",
            "",
            "| dialogues | median per dialogue | slowest | target |",
            "|---|---|---|---|",
            f"| text only ({len(text)}) | {statistics.median(text):.0f} ms | {text[-1]:.0f} ms "
            "| well under 1 s |",
            f"| with recorded speech ({len(spoken)}) | {statistics.median(spoken):.0f} ms | "
            f"{spoken[-1]:.0f} ms | — (recogniser runs faster than real time) |",
            "",
            "A cold process adds one-time loads to the first dialogue that needs them: the city "
            "index (0.1 s to open; ~2 s the first time on a machine, when it is built) and the "
            "speech model (~1 s, the first audio dialogue).",
            "",
        ]
        replace_section(args.write, "## Dialogue tests", "\n".join(lines))


if __name__ == "__main__":
    main()
