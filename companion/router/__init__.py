"""The router: what did the driver ask for? Local, offline and fast; runs before any LLM call.

Order: attempts to change a safety setting by voice, persona switching, then the in-car
intents of `intents.py` (assistant control, navigation, weather and search); everything else is
`conversation` for the active persona. Until the navigation and search skills exist, the
pipeline hands those intents to the persona as conversation too; the intent is reported in
`IntentRecognized` either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..personas.loader import Persona
from ..personas.switching import asks_to_change_safety, detect_switch
from .intents import recognize


@dataclass(frozen=True)
class Intent:
    """`name` is dotted: `persona.switch`, `safety.change_request`, `navigation.*`
    (`start`, `find_nearby`, `add_stop`, `cancel`, `eta`, `distance`, `where_am_i`),
    `search.*` (`weather`, `lookup`), `control.*` (`stop`, `repeat`, `louder`, `quieter`,
    `cancel`), `conversation`."""

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
    found = recognize(text)
    return Intent(found.name, found.slots, found.confidence)
