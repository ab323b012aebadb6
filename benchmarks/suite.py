"""Where the test suite's time goes: runs it once with pytest's own durations and writes the
table by file and by kind of wait into docs/CONTRIBUTING.md.

    python benchmarks/suite.py [--workers 3] [--write docs/CONTRIBUTING.md]

Times are the sum of each test's setup, call and teardown (pytest --durations=0), so they
add up to more than the wall time when workers run side by side. The kind of each file is
what dominates its time, named by hand below: keep it true when you add a file.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, replace_section  # noqa: E402

HEADING = "## Where the suite's time goes"

KINDS = {
    "real-time audio on the virtual sound card": [
        "test_voice_loop.py",
        "test_voice_chat.py",
        "test_speech.py",
        "test_echo_and_earcons.py",
    ],
    "speech recognition and recordings (paced or as fast as they decode)": [
        "test_speech_in.py",
        "test_intents_on_speech.py",
        "test_speech_models.py",
    ],
    "Piper, wake words and Wyoming services": ["test_voices.py", "test_cabin.py"],
    "the screen (Textual pilot, snapshots, the route map)": [
        "test_ui.py",
        "test_ui_keyboard.py",
        "test_ui_snapshots.py",
        "test_route_map.py",
        "test_recording.py",
        "test_serve.py",
    ],
    "the real local model (llama.cpp)": ["test_local_model.py"],
    "the wheel in fresh venvs (packaging)": ["test_packaging.py"],
    "`companion` subprocesses (exit codes, signals, the terminal)": [
        "test_cli.py",
        "security/test_exit_codes.py",
        "security/test_secrets.py",
        "security/test_hostile_files.py",
        "test_navigation_cli.py",
        "test_logs.py",
    ],
    "router training and held-out folds": ["test_router_model.py", "test_intents.py"],
    "lint and types (ruff, mypy)": ["test_repo.py"],
}
LINE = re.compile(r"^([0-9.]+)s (setup|call|teardown)\s+(tests/\S+?)::")


def kind_of(file: str) -> str:
    name = file.removeprefix("tests/")
    return next((kind for kind, files in KINDS.items() if name in files), "everything else")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="3", help="pytest -n (0: one process)")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=0",
         "--durations-min=0", "-n", args.workers],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.monotonic() - started
    summary = done.stdout.strip().splitlines()[-1]
    by_file: dict[str, float] = defaultdict(float)
    for line in done.stdout.splitlines():
        if match := LINE.match(line):
            by_file[match.group(3)] += float(match.group(1))
    by_kind: dict[str, float] = defaultdict(float)
    for file, seconds in by_file.items():
        by_kind[kind_of(file)] += seconds
    total = sum(by_file.values())

    lines = [
        HEADING,
        "",
        f"Measured {date.today().isoformat()} on {machine()} with "
        f"`python benchmarks/suite.py --workers {args.workers} --write docs/CONTRIBUTING.md`: "
        f"{summary.strip('= ')}; {wall:.0f} s for the whole command. The seconds below are "
        f"each test's setup + call + teardown, summed ({total:.0f} s in all: the workers "
        "overlap them).",
        "",
        "| kind of wait | seconds | share |",
        "| --- | --- | --- |",
    ]
    for kind, seconds in sorted(by_kind.items(), key=lambda item: -item[1]):
        lines.append(f"| {kind} | {seconds:.0f} | {seconds / total:.0%} |")
    lines += ["", "| file | seconds | kind |", "| --- | --- | --- |"]
    for file, seconds in sorted(by_file.items(), key=lambda item: -item[1])[:20]:
        lines.append(f"| {file} | {seconds:.1f} | {kind_of(file)} |")
    rest = sorted(by_file.items(), key=lambda item: -item[1])[20:]
    if rest:
        lines.append(f"| {len(rest)} other files | {sum(s for _, s in rest):.1f} | |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        replace_section(args.write, HEADING, text)
    if done.returncode != 0:
        print(done.stdout[-5000:], file=sys.stderr)
        raise SystemExit(done.returncode)


if __name__ == "__main__":
    main()
