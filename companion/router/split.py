"""Several requests in one breath: "find a charger and then a coffee shop", "take me home
and play some jazz", "first turn up the heat, then how long until we get there".

`split_request` cuts an utterance at its joining words ("and then", "then", "after that",
"and also", "and") and keeps a cut only when both sides stand as requests of their own,
read by the router itself: at least one side is something the car acts on, a side the car
does not act on starts like a request ("tell me...", "what's..."), and two sides of the same
kind joined by a bare "and" are one thought ("rain and snow", "open pandora and play top
hits"), unless they are places to go. So "Barnes and Noble", "fish and chips" and "a story
about a cat and a dog" stay whole: their halves are not requests.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..text import Utterance

if TYPE_CHECKING:
    from . import Intent

_JOIN = re.compile(r"\s*,?\s*\b(and then|and after that|after that|and also|and|then)\b\s*,?\s*")
_FIRST = re.compile(r"^(?:(?:please|ok|okay|so)\s+)?first(?: of all)?,?\s+")
# What the car acts on itself (a side that is one of these is a request by its kind).
_ACTS = frozenset({"navigation", "car", "control", "places", "memory", "out_of_scope"})
# Kinds whose two requests may share a bare "and" ("a charger and a coffee shop").
_LISTS = frozenset({"navigation", "car"})
_REQUEST = re.compile(
    r"^(?:(?:please|can you|could you|would you|will you|can we|let's|let us|i want to|"
    r"i need to|i'd like to|we need to|also|now|and)\s+)*"
    r"(?:take|drive|navigate|go|head|find|add|stop|play|tell|set|turn|make|show|search|look|"
    r"what|what's|whats|how|where|where's|when|who|why|is|are|will|read|call|send|remind|"
    r"cancel|switch|give|get|book|check|text|message|remember|save|forget|"
    r"increase|decrease|lower|raise|sing|recommend|describe|explain|say)\b"
)
# "call mom and tell her I'm late": the second half is about the first one's person.
_SAME_THOUGHT = re.compile(r"^(?:tell|ask|text|send|remind|let) (?:her|him|them|it)\b")
# A second half that points back at the first's thing ("...and how do I use it").
_BACK = re.compile(r"\b(?:it|them|her|him|that one)\b")
MAX_PARTS = 4


_TRIP = ("navigation.find_nearby", "navigation.start", "navigation.add_stop")


def _somewhere(intent: Intent) -> bool:
    slots = intent.slots
    return bool(slots.get("place") or slots.get("category") or slots.get("recent"))


def _acts(intent: Intent) -> bool:
    return _family(intent) in _ACTS or intent.name == "search.weather"


def _family(intent: Intent) -> str:
    return intent.name.partition(".")[0]


def _stands(text: str, intent: Intent) -> bool:
    """A side that is a request of its own ("find and play ...": "find" alone is not)."""
    if intent.name == "unclear" or not text.strip():
        return False
    if len(text.split()) < 2 and _family(intent) != "control":
        return False
    if intent.name in _TRIP and not _somewhere(intent):
        return False  # "give me an address", "let's go": a trip with nowhere in it
    return _acts(intent) or _REQUEST.match(text) is not None


def _cut(left: str, left_i: Intent, join: str, right: str, right_i: Intent) -> bool:
    if not (_stands(left, left_i) and _stands(right, right_i)):
        return False
    if not (_acts(left_i) or _acts(right_i)):
        return False  # two things to talk about: one thought ("a story where X and then Y")
    if _SAME_THOUGHT.match(right):
        return False
    if not _acts(left_i) and _BACK.search(right):
        return False  # "what is a broiler and how do I use it": about the same thing
    if _family(left_i) == "out_of_scope" and not _acts(right_i):
        return False  # "what time is my appointment and who is coming": about that one
    bare = join in ("and", "and also")
    # "peace and quiet", "pros and cons", "a bed and breakfast": a bare "and" before words
    # that are no request joins things, not requests; only places to go make a list without
    # a verb ("a charger and a coffee shop")
    places = left_i.name in _TRIP and right_i.name in _TRIP
    if bare and _REQUEST.match(right) is None and not places:
        return False
    same = _family(left_i) == _family(right_i)
    # "will it rain and snow", "open pandora and play top hits": one thought
    return not (bare and same and _family(left_i) not in _LISTS)


def _elided(left: Intent, right: str, intent: Intent) -> Intent:
    """ "add a stop at a pharmacy and then a gas station": a place said without its verb
    takes the one before it (a stop too)."""
    if (
        left.name == "navigation.add_stop"
        and intent.name == "navigation.find_nearby"
        and _REQUEST.match(right) is None
    ):
        return dataclasses.replace(intent, name="navigation.add_stop")
    return intent


def split_request(
    text: str | Utterance, route_one: Callable[[str], Intent]
) -> list[tuple[str, Intent]]:
    """The parts of a request, each with the router's intent for it, in the order said;
    fewer than two when it holds a single request (none without a joining word: nothing
    is routed then)."""
    normal = Utterance.of(text).normal
    pieces = _JOIN.split(_FIRST.sub("", normal))
    if len(pieces) < 3:
        return []
    parts = [(pieces[0], route_one(pieces[0]))]
    for i in range(1, len(pieces) - 1, 2):
        join, right = pieces[i], pieces[i + 1]
        left, left_i = parts[-1]
        right_i = route_one(right)
        if len(parts) < MAX_PARTS and _cut(left, left_i, join, right, right_i):
            parts.append((right, _elided(left_i, right, right_i)))
        else:  # one thought: the join stays inside it
            whole = f"{left} {join} {right}"
            parts[-1] = (whole, route_one(whole))
    return parts
