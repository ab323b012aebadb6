"""Small helpers shared by the tests."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from companion.llm.scripted_server import ScriptedReply


def reply(text: str = "", **kwargs: object) -> ScriptedReply:
    """A scripted reply (or fault) for the scripted LLM server."""
    return ScriptedReply(text=text, **kwargs)  # type: ignore[arg-type]


def companion_cmd(*args: str) -> list[str]:
    """The real console entry point, run through this interpreter."""
    return [sys.executable, "-m", "companion", *args]


def read_events(path: Path) -> list[dict]:
    """The events `companion listen --timings FILE` has written so far."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # the line being written right now
            events.append(json.loads(line))
    return events


def wait_for_event(
    path: Path, predicate: Callable[[dict], bool], timeout: float = 30, nth: int = 1
) -> dict | None:
    """The `nth` event in a timings file that `predicate` accepts, waiting up to `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        matching = [event for event in read_events(path) if predicate(event)]
        if len(matching) >= nth:
            return matching[nth - 1]
        time.sleep(0.05)
    return None
