"""`companion test`: run dialogue files, print transcripts and precise failures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..resources import BUNDLED_DIALOGUES
from ..schema import DataFileError

PROJECT_DIR = Path("tests/dialogues")  # a checkout's (or the user's project's) dialogues


def default_paths() -> list[Path]:
    """With no paths: the shipped personas' own dialogues, plus tests/dialogues here if any."""
    return [BUNDLED_DIALOGUES] + ([PROJECT_DIR] if PROJECT_DIR.is_dir() else [])


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> Any:
    """`companion test`; returns its command."""
    test = sub.add_parser(
        "test",
        help="run scripted dialogue tests (*.toml)",
        description="Plays each dialogue file through the real pipeline (text, or audio "
        "through the recogniser) against a scripted language model, and checks every "
        "expectation. Exit status 1 when any fails. See docs/DIALOGUE_TESTS.md.",
    )
    test.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="dialogue files or folders (default: the shipped personas' "
        "dialogues and ./tests/dialogues if it exists)",
    )
    test.add_argument(
        "--llm",
        choices=("scripted", "real"),
        help="override the files' [setup] llm: 'real' uses your configured "
        "model and checks only what does not depend on its words",
    )
    test.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML")
    test.add_argument(
        "--update",
        action="store_true",
        help="offer the current replies as new `reply = ...` expectations",
    )
    test.add_argument("--yes", action="store_true", help="with --update: accept every change")
    test.add_argument(
        "--enforce-latency",
        action="store_true",
        help="fail turns over their latency_ms budgets (always reported)",
    )
    test.add_argument(
        "--personas",
        type=Path,
        metavar="DIR",
        help="a folder of persona files that override the shipped ones",
    )
    test.add_argument(
        "-v",
        "--show-all",
        action="store_true",
        help="print the transcript of passing dialogues too",
    )
    test.add_argument(
        "--from-session",
        type=Path,
        metavar="RECORDING",
        help="write a dialogue test from a recorded session (`companion ui "
        "--record FILE`), then run it",
    )
    test.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="with --from-session: where to write it (default: the "
        "recording's name with .toml, in the current folder)",
    )
    return cmd_test


def _files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths or default_paths():
        if path.is_dir():
            files += sorted(path.rglob("*.toml"))
        elif path.is_file():
            files.append(path)
        else:
            raise DataFileError(path, "no such dialogue file or folder")
    if not files:
        raise DataFileError(paths[0] if paths else PROJECT_DIR, "no dialogue files (*.toml)")
    return files


def cmd_test(args: argparse.Namespace) -> int:
    from ..dialogue import load_dialogue, run_dialogue

    if args.from_session is not None:
        from ..recording import dialogue_from_session, load_session

        out = args.output or Path(args.from_session.stem + ".toml")
        if out.resolve() == args.from_session.resolve():
            raise DataFileError(out, "would overwrite the recording; choose another --output")
        out.write_text(dialogue_from_session(load_session(args.from_session)), encoding="utf-8")
        print(f"companion: wrote {out}; running it now (edit its expectations as you like)")
        args.paths = [out]
    from ..dialogue.report import format_result, latency_table, write_junit
    from ..dialogue.runner import DialogueResult

    results: list[DialogueResult] = []
    broken = 0
    for path in _files(args.paths):
        try:
            dialogue = load_dialogue(path)
        except DataFileError as exc:
            print(f"FAIL {path}\n  {exc}")
            broken += 1
            continue
        result = run_dialogue(
            dialogue, llm=args.llm, personas=args.personas, enforce_latency=args.enforce_latency
        )
        results.append(result)
        print(format_result(result, verbose=args.show_all), flush=True)
    passed = sum(r.passed for r in results)
    total = len(results) + broken
    table = latency_table(results)
    if table and args.show_all:
        print("\nlatency (recorded; budgets enforced with --enforce-latency):\n" + table)
    print(
        f"\n{passed} of {total} dialogues passed"
        f"{'' if passed == total else f', {total - passed} failed'}."
    )
    if args.junit:
        write_junit(results, args.junit)
    if args.update:
        from ..dialogue.update import review

        def ask(question: str) -> bool:
            if args.yes:
                return True
            if not sys.stdin.isatty():
                print(f"{question}no (not a terminal; use --yes to accept)")
                return False
            return input(question).strip().lower() in ("y", "yes")

        applied = review(results, ask, print)
        print(f"{applied} reply expectation(s) updated.")
    return 0 if passed == total else 1
