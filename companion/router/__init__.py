"""The router: what did the driver ask for? Local, offline and fast; runs before any LLM call.

Today it recognises persona switching and attempts to change a safety setting by voice;
everything else is `conversation` for the active persona. Navigation and search intents join
here (their own issue).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..personas.loader import Persona
from ..personas.switching import asks_to_change_safety, detect_switch


@dataclass(frozen=True)
class Intent:
    """`name` is dotted (`persona.switch`, `safety.change_request`, `conversation`)."""

    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    confidence: float = 1.0


def route(text: str, cast: Iterable[Persona]) -> Intent:
    """`slots["explicit"]` is False when the utterance was only a persona's name or alias; the
    pipeline decides whether that is a switch or a request to the active persona."""
    if asks_to_change_safety(text):
        return Intent("safety.change_request")
    request = detect_switch(text, cast)
    if request is not None:
        return Intent(
            "persona.switch",
            {"persona": request.persona_id, "heard": request.heard,
             "explicit": request.explicit},
            round(request.score, 2),
        )
    return Intent("conversation")
