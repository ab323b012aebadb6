"""`companion test --update`: offer the replies the assistant gave now as the new expected
`reply = "..."` of turns whose exact reply no longer matches; the designer approves each."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .runner import DialogueResult


@dataclass
class Proposal:
    path: Path
    line: int
    turn: int
    old: str
    new: str


def proposals(result: DialogueResult) -> list[Proposal]:
    found = []
    for record in result.turns:
        expect = record.turn.expect
        if "reply" in expect.values and record.reply.strip() != expect.values["reply"].strip():
            found.append(
                Proposal(
                    result.dialogue.path,
                    expect.lines["reply"],
                    record.turn.number,
                    expect.values["reply"],
                    record.reply,
                )
            )
    return found


def apply(proposal: Proposal) -> None:
    """Rewrite the `reply = ...` line in place (TOML basic string; JSON escapes are valid)."""
    lines = proposal.path.read_text(encoding="utf-8").splitlines(keepends=True)
    old = lines[proposal.line - 1]
    match = re.match(r"(\s*reply\s*=\s*)", old)
    if match is None:
        raise ValueError(f"{proposal.path}:{proposal.line} is not a `reply = ...` line")
    ending = "\n" if old.endswith("\n") else ""
    lines[proposal.line - 1] = (
        match.group(1) + json.dumps(proposal.new, ensure_ascii=False) + ending
    )
    proposal.path.write_text("".join(lines), encoding="utf-8")


def review(
    results: list[DialogueResult], ask: Callable[[str], bool], say: Callable[[str], None]
) -> int:
    """Show each proposal and apply the approved ones; returns how many were applied."""
    applied = 0
    for result in results:
        for proposal in proposals(result):
            say(
                f"{proposal.path}:{proposal.line}: turn {proposal.turn} reply\n"
                f"  expected: {proposal.old}\n  now:      {proposal.new}"
            )
            if ask("Record the new reply as the expectation? [y/N] "):
                apply(proposal)
                applied += 1
    return applied
