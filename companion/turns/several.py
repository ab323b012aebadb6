"""A turn that holds several requests ("take me home and play some jazz"): each part is
answered by its own skill, in the order said, and the driver hears one answer that says
all of it. The places to go make one trip (`navigation/plan.py`); a part the car can't do
gets its honest line and the others still happen. A part for the persona's model
("... and tell me a joke") is answered last, by the model, after the rest is said.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..events import ActionTaken, IntentRecognized
from .turn import Answer, Turn

if TYPE_CHECKING:
    from ..navigation.navigator import Navigator
    from ..router import Intent
    from ..skills import SkillTable

AnswerPart = Callable[[Turn, "Intent"], Awaitable[Answer]]


async def answer_parts(
    turn: Turn,
    parts: tuple[Intent, ...],
    texts: tuple[str, ...],
    skills: SkillTable,
    navigator: Navigator | None,
    answer: AnswerPart,
) -> Answer:
    """Every part answered; one spoken answer for the local ones, then the model's part."""
    from ..navigation.plan import TRIP_PARTS, plan_trip

    trip = [p for p in parts if p.name in TRIP_PARTS] if navigator is not None else []
    said: list[str] = []
    talk: list[str] = []
    result: Answer | None = None  # the last answer: a part may end without words ("stop")
    turn.collected = said
    try:
        if len(trip) > 1 and navigator is not None:
            await turn.confirmed()  # a trip changes state: never on a guess
            for part in trip:
                turn.emit(IntentRecognized(turn.id, part.name, part.slots, part.confidence))
            text, action, data = await plan_trip(navigator, trip)
            data["trip"] = navigator.snapshot()
            turn.emit(
                ActionTaken(
                    turn.id, "navigation", action, _summary(navigator, action, data, text), data
                )
            )
            said.append(text)
        for part, words in zip(parts, texts, strict=True):
            if len(trip) > 1 and part in trip:
                continue
            if not skills.claims(part.name):
                talk.append(words)
                continue
            result = await answer(turn, part)
    finally:
        turn.collected = None
    if said:
        turn.remember(" ".join(said))
        result = await turn.say(" ".join(said))
    if talk:  # "... and tell me a joke": the persona's model, on those words alone
        from ..router import Intent

        turn.text = " and ".join(talk)
        result = await answer(turn, Intent("conversation"))
    assert result is not None
    return result


def _summary(navigator: Navigator, action: str, data: dict[str, object], text: str) -> str:
    from ..navigation.report import summary_line

    return summary_line(navigator.trip, action, data, text, navigator.units)
