"""Words that point back at the places just discussed: "take me there", "how far is that",
"no, the other one", "actually, make it the second", and "Where to?" when there is nothing
to point at. `Discussed` is what the navigator last offered or said; `pointed_at` reads
the driver's words against it before the normal router runs (like an answer to a
question), and `answer_where_to` takes the answer to "Where to?".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..router.places import KnownPlaces
from ..router.slots import category_of, place_slots
from ..text import normalize
from .places import Place

_LEAD = r"^(?:(?:no|nope|actually|oh|wait|hmm|ok|okay|please|then|and|so|well|sorry),?\s+)*"
_THERE = re.compile(
    _LEAD + r"(?:(?:can you |could you |please )?(?:take me|take us|drive me|drive us|"
    r"get me|get us|bring me|navigate|go|head|drive|let's go|let's head|lets go)"
    r"(?: over)? there|go to (?:that|that one|that place)|navigate to (?:that|that one|that "
    r"place))(?:\s+(?:please|now|then|instead))*$"
)
_HOW_FAR = re.compile(
    _LEAD + r"how (far|long)(?: is| will it take| does it take)?(?: to get)?(?: to)? "
    r"(?:that|there|that one|that place)(?: from here)?(?:\s+(?:please|now))*$"
)
_OTHER = re.compile(
    _LEAD + r"(?:i meant |i mean |make it |go to |take |pick )?(?:the )?other"
    r"(?: one| place)?(?:\s+(?:please|instead))*$"
)
_AGAIN = re.compile(
    _LEAD + r"(?:make it|i meant|i mean|go to|take|pick|change it to)\s+"
    r"(?:the |number )?(first|second|third|1st|2nd|3rd|one|two|three)"
    r"(?: one)?(?:\s+(?:please|instead))*$"
)
_CORRECTING = re.compile(r"^(?:no|nope|actually|wait|sorry)\b")
_INDEX = {
    "first": 0,
    "1st": 0,
    "one": 0,
    "second": 1,
    "2nd": 1,
    "two": 1,
    "third": 2,
    "3rd": 2,
    "three": 2,
}
_NOWHERE = re.compile(r"^(?:never ?mind|nowhere|cancel|forget it|nothing|no)\b")


@dataclass
class Discussed:
    """The choices last offered (and which one was taken), and the last place said."""

    choices: list[Place] = field(default_factory=list)
    picked: int | None = None
    place: Place | None = None


@dataclass
class WhereTo:
    """ "Where to?": asked when the driver asked to go without saying where."""


def pointed_at(discussed: Discussed, text: str) -> tuple[str, dict[str, Any]] | None:
    """The intent of words that point back at what was just discussed, or None."""
    t = normalize(text)
    choices = discussed.choices
    if choices and discussed.picked is not None:
        if _OTHER.match(t) and len(choices) > 1:
            other = (discussed.picked + 1) % len(choices)
            return "navigation.choose_again", {"index": other}
        again = _AGAIN.match(t)
        if again and _CORRECTING.match(t) and _INDEX[again.group(1)] < len(choices):
            return "navigation.choose_again", {"index": _INDEX[again.group(1)]}
    if _THERE.match(t):
        if discussed.place is None:
            return "navigation.where_to", {}
        instead = _CORRECTING.match(t) is not None or t.endswith("instead")
        return "navigation.go_there", {"instead": instead}
    far = _HOW_FAR.match(t)
    if far and discussed.place is not None:
        asked = "navigation.eta" if far.group(1) == "long" else "navigation.distance"
        return asked, {"place": discussed.place.name}
    return None


def answer_where_to(text: str, known: KnownPlaces) -> tuple[str, dict[str, Any]] | None:
    """The answer to "Where to?": a place the car knows by name, a kind of place, or any
    name (the navigator looks it up)."""
    t = normalize(text)
    if _NOWHERE.match(t):
        return "navigation.choose", {"index": None}  # nothing: the question is dropped
    t = re.sub(r"^(?:(?:take me|go|navigate|drive|head|let's go)\s+)?(?:to\s+)?", "", t)
    named = known.find(t.split())
    if named is not None:
        return "navigation.start", {"place": named.name}
    category = category_of(t)
    if category is not None and category not in ("home", "friend"):
        return "navigation.find_nearby", place_slots(t)
    return "navigation.start", {"place": "home" if t in ("home", "my home") else t}
