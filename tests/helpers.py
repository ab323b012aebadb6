"""Small helpers shared by the tests."""

from __future__ import annotations

import sys

from companion.llm.scripted_server import ScriptedReply


def reply(text: str = "", **kwargs: object) -> ScriptedReply:
    """A scripted reply (or fault) for the scripted LLM server."""
    return ScriptedReply(text=text, **kwargs)  # type: ignore[arg-type]


def companion_cmd(*args: str) -> list[str]:
    """The real console entry point, run through this interpreter."""
    return [sys.executable, "-m", "companion", *args]
