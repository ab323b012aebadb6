"""The navigator's open questions and the driver's answers to them: "Which one?" (several
places fit) and "Replace the route or add it as a stop?". `answer_to` recognises an answer
("the second one", "the one on Oak Avenue", "add it as a stop", "never mind") before the
normal router runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..text import fold, normalize
from .geo import LatLon, distance_m, say_distance
from .places import Place
from .routing import ROAD_FACTOR

_COUNT = {2: "Two", 3: "Three", 4: "Four", 5: "Five"}

_ORDINALS = (  # index, the words for it
    (0, ("first", "1st", "one", "top")),
    (1, ("second", "2nd", "two")),
    (2, ("third", "3rd", "three")),
    (3, ("fourth", "4th", "four")),
)
# The whole answer is the choice: "the second one", "two", "number two, please".
_ORDINAL_RES = [
    (
        i,
        re.compile(
            r"^(?:(?:the|that|take|pick|choose|go to|i'll take|let's do|number|"
            r"option)\s+)*(?:" + "|".join(words) + r")(?:\s+(?:one|option|please))*$"
        ),
    )
    for i, words in _ORDINALS
]
# Or it is said inside a longer answer: "let's go with the second one".
_ORDINAL_IN = [
    (
        i,
        re.compile(
            r"\b(?:(?:"
            + "|".join(w for w in words[:2])
            + r") one|number "
            + ("one", "two", "three", "four")[i]
            + r")\b"
        ),
    )
    for i, words in _ORDINALS
]
_LAST = re.compile(r"\b(?:the )?last(?: one)?\b")
_CLOSEST = re.compile(r"\b(?:the )?(?:closest|nearest|closer|nearer)(?: one)?\b")
_NONE = re.compile(
    r"^(?:none(?: of (?:them|those))?|neither(?: one)?|never ?mind|forget it|"
    r"cancel(?: that)?|no thanks?|nope|no)\b"
)
_YES = re.compile(
    r"^(?:yes|yeah|yep|sure|ok|okay|do it|go ahead|please do|replace(?: it)?|"
    r"instead|go there(?: instead)?|change (?:it|the route)|new route|"
    r"switch(?: to it)?)\b"
)
_ADD = re.compile(
    r"\b(?:add(?: it)?(?: as)?(?: a)? stop|as a stop|add it|both|on the way|"
    r"stop there first|a stop)\b"
)
_KEEP = re.compile(
    r"^(?:no|nope|keep(?: it| the route| going| the current route)?|cancel|"
    r"never ?mind|forget it|don't|do not|stay)\b"
)


@dataclass
class Choice:
    places: list[Place]
    purpose: str  # go | stop
    preferences: tuple[str, ...] = ()


@dataclass
class Confirm:
    place: Place
    preferences: tuple[str, ...] = ()


@dataclass
class ChargerOffer:
    """ "Shall I add a charger on the way?" to `place` (the trip's goal when it is one)."""

    place: Place


_PLEASE_DO = re.compile(
    r"^(?:yes|yeah|yep|yup|sure|ok|okay|please|do it|go ahead|please do|add (?:it|one|a charger)|"
    r"sounds good|good idea|let's do (?:it|that))\b"
)
Question = Choice | Confirm | ChargerOffer


def answer_to(
    pending: Question | None, text: str, here: LatLon
) -> tuple[str, dict[str, Any]] | None:
    """If `text` answers the open question, the intent for it."""
    if pending is None:
        return None
    # The router's normalisation (fillers off, apostrophes kept: "i'll take", "let's do").
    t = normalize(text)
    if isinstance(pending, ChargerOffer):
        if _KEEP.match(t) or _NONE.match(t):
            return "navigation.charge_stop", {"answer": False}
        if _PLEASE_DO.match(t):
            return "navigation.charge_stop", {"answer": True}
        return None
    if isinstance(pending, Confirm):
        if _ADD.search(t):
            return "navigation.confirm", {"answer": "add_stop"}
        if _KEEP.match(t):
            return "navigation.confirm", {"answer": "keep"}
        if _YES.match(t):
            return "navigation.confirm", {"answer": "replace"}
        return None
    return _choice(pending.places, t, here)


def _choice(places: list[Place], t: str, here: LatLon) -> tuple[str, dict[str, Any]] | None:
    if _NONE.match(t):
        return "navigation.choose", {"index": None}
    for index, pattern in _ORDINAL_RES + _ORDINAL_IN:
        if pattern.search(t) and index < len(places):
            return "navigation.choose", {"index": index}
    if _LAST.search(t):
        return "navigation.choose", {"index": len(places) - 1}
    if _CLOSEST.search(t):
        best = min(range(len(places)), key=lambda i: distance_m(here, places[i].pos))
        return "navigation.choose", {"index": best}
    # "the one on Oak Avenue", "Bluebird": words only one of the choices has.
    words = set(fold(t).split()) - {"the", "one", "on", "at", "in", "please", "that", "go", "to"}
    sets = [set(fold(p.label).split()) for p in places]
    shared = set.intersection(*sets) if sets else set()
    scores = [len(words & (labels - shared)) for labels in sets]
    best = max(scores, default=0)
    if best and scores.count(best) == 1:  # the one choice these words fit best
        return "navigation.choose", {"index": scores.index(best)}
    return None


def which_one(places: list[Place], label: str | None, here: LatLon, units: str) -> str:
    """The question for several places that fit: "Three chargers nearby: Main Street, 0.4
    miles; ... Which one?" (`label` names them; a chain's branches by their street)."""
    parts = []
    for p in places:
        road = distance_m(here, p.pos) * ROAD_FACTOR
        where = p.label
        if label and p.name == label and p.label != p.name:  # "Main Street" for chains
            where = p.label.split(" on ", 1)[1]
        parts.append(where if p.source == "city" else f"{where}, {say_distance(road, units)}")
    # Items contain commas ("Main Street, 0.4 miles"), so three of them take semicolons.
    listed = ", or ".join(parts) if len(parts) == 2 else "; ".join(parts[:-1]) + "; or " + parts[-1]
    if places[0].source == "city":
        return f"Which one: {listed}?"
    count = _COUNT.get(len(places), str(len(places)))
    return f"{count} {label} nearby: {listed}. Which one?"
