"""What `companion test` prints and writes: a readable transcript per dialogue, a precise
`file:line: expected vs got` for every failed expectation, JUnit XML for CI systems."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from .runner import DialogueResult


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def transcript(result: DialogueResult) -> list[str]:
    lines = []
    for record in result.turns:
        turn = record.turn
        source = f" (from {turn.audio.name})" if turn.audio else ""
        lines.append(f"  {turn.number}. driver{source}> {record.heard}")
        detail = [record.intent or "?"]
        detail += [a for a in record.actions if a not in ("done",)]
        if record.model_asked:
            detail.append("model asked")
        lines.append(f"     [{' · '.join(detail)}]")
        lines.append(f"     {record.persona_name}> {record.reply}")
    return lines


def failures(result: DialogueResult) -> list[str]:
    where = _rel(result.dialogue.path)
    if result.problem:
        return [f"  {result.problem}"]
    return [
        f"  {where}:{f.line}: {f.what}\n      expected: {f.expected}\n      got:      {f.got}"
        for f in result.failures
    ]


def summary_line(result: DialogueResult) -> str:
    status = "PASS" if result.passed else "FAIL"
    llm = "" if result.llm == "scripted" else f" · {result.llm} model"
    return (
        f"{status} {_rel(result.dialogue.path)} ({result.seconds:.2f} s{llm}) — "
        f"{result.dialogue.description}"
    )


def format_result(result: DialogueResult, verbose: bool = False) -> str:
    lines = [summary_line(result)]
    if verbose or not result.passed:
        lines += transcript(result)
    lines += failures(result)
    where = _rel(result.dialogue.path)
    lines += [f"  note: {where}:{note}" for record in result.turns for note in record.notes]
    return "\n".join(lines)


def latency_table(results: list[DialogueResult]) -> str:
    rows = []
    for result in results:
        for record in result.turns:
            if record.latency_ms:
                stages = " ".join(f"{k}={v:.0f}ms" for k, v in sorted(record.latency_ms.items()))
                rows.append(f"  {result.dialogue.name} turn {record.turn.number}: {stages}")
    return "\n".join(rows)


def write_junit(results: list[DialogueResult], path: Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="dialogues",
        tests=str(len(results)),
        failures=str(sum(not r.passed for r in results)),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="dialogues",
            name=result.dialogue.name,
            file=_rel(result.dialogue.path),
            time=f"{result.seconds:.3f}",
        )
        if not result.passed:
            message = result.problem or (f"{len(result.failures)} expectation(s) failed")
            failure = ET.SubElement(case, "failure", message=message)
            failure.text = "\n".join(failures(result))
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(transcript(result))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
