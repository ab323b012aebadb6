"""The router: what did the driver ask for? Local, offline and fast; runs before any LLM call.

A trained intent model (`model.py`, trained by `benchmarks/nlu_training/` on in-car
dialogues, ordinary voice-assistant requests and our own sentence templates) decides *what*
was asked: navigation, search, assistant control, a persona switch, plain conversation, or
something the car can't do (`out_of_scope.*`: music, alarms, lights, messages...). Two rules
stay in front of it because they are exact by construction: a request to change a safety
setting, and an utterance that is nothing but a persona's name. The details (the place
category and cuisine, a distance limit, route preferences, the persona's name) are then read
out of the words by `slots.py` and `personas/switching.py`. The utterance is normalised once,
into a `text.Utterance` that every step reads.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..personas.loader import Persona
from ..personas.switching import asks_to_change_safety, detect_switch
from ..text import Utterance, key_of
from .car_slots import climate_request, range_request, status_topic
from .slots import category_of, is_proper_place, named_place, place_slots, stop_place

if TYPE_CHECKING:
    from .model import IntentModel


@dataclass(frozen=True)
class Intent:
    """`name` is dotted: `persona.switch`, `safety.change_request`, `navigation.*`
    (`start`, `find_nearby`, `add_stop`, `cancel`, `eta`, `distance`, `where_am_i`),
    `search.*` (`weather`, `lookup`), `car.*` (`status`, `climate`, `range`: the car's
    readings, its climate, whether the battery reaches a place), `control.*` (`stop`,
    `repeat`, `louder`, `quieter`, `cancel`), `out_of_scope.*` (what the car can't do:
    `media`, `alarm`, `smart_home`, `messages`, `calendar`, `lists`, `orders`,
    `transport`), `unclear` (nothing to understand: empty, emoji, noise) and
    `conversation`."""

    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    confidence: float = 1.0


# Below this, a navigation guess is not enough to move the car: the persona answers instead
# (and its model may still call a navigation tool if the words really were a request). Chosen
# by cross-validation on the public corpora (benchmarks/train_nlu.py): the value that keeps
# ordinary requests off navigation (≤ 0.5 %) with the most margin while recall stays ≥ 0.97.
MIN_NAVIGATION_PROBABILITY = 0.6
# A switch changes who is talking: the model must find a switch request more likely than all
# else together.
MIN_SWITCH_PROBABILITY = 0.5
# "I can't do that" closes the door on the persona's model: only when it is the likelier answer.
MIN_OUT_OF_SCOPE_PROBABILITY = 0.5
# A car answer is the car's own numbers: only when the model finds it the likelier reading.
MIN_CAR_PROBABILITY = 0.5
_LOOKUP_COMMAND = re.compile(
    r"^(?:can you |could you )?(?:search(?: the web| online)? for|"
    r"look up|lookup|google|find out)\s+"
)


def route(
    text: str | Utterance, cast: Iterable[Persona], *, model: IntentModel | None = None
) -> Intent:
    """The intent of one utterance. `slots["explicit"]` of a persona switch is False when the
    utterance was only a persona's name or alias; the pipeline decides whether that is a
    switch or a request to the active persona."""
    u = Utterance.of(text)
    if not any(ch.isalnum() for ch in u.normal):
        return Intent("unclear", confidence=0.0)
    if asks_to_change_safety(u):
        return Intent("safety.change_request")
    if model is None:
        from .model import shipped_model

        model = shipped_model()
    cast = list(cast)
    found = model.predict(u, _cast_names(tuple(n for p in cast for n in p.spoken_names)))
    label, p = found.label, round(found.probability, 2)

    by_name = detect_switch(u, cast)
    if by_name is not None and not by_name.explicit:
        if by_name.score >= 0.999:
            # The whole utterance is exactly a persona's name, or an alias of two words or
            # more ("Storyteller!", "kids trivia"). A lone ordinary word that is only an alias
            # or an id ("trivia", "quiz") is a request for the thing, not for the persona.
            named = {key_of(each.name) for each in cast if each.id == by_name.persona_id}
            if by_name.heard in named or len(u.key.split()) > 1:
                return Intent(
                    "persona.switch",
                    {"persona": by_name.persona_id, "heard": by_name.heard, "explicit": False},
                    1.0,
                )
            if label == "persona.switch":
                label = "conversation"
        by_name = None  # a near miss of a lone name: the model and the phrases decide
    if label == "persona.switch" and p < MIN_SWITCH_PROBABILITY:
        label = "conversation"  # not sure enough to change who is talking
    if label == "persona.switch":
        request = by_name or detect_switch(u, cast, asked=True, bare=False)
        if request is None:
            return Intent("conversation", confidence=p)  # a switch, but to whom?
        return Intent(
            "persona.switch",
            {"persona": request.persona_id, "heard": request.heard, "explicit": request.explicit},
            p,
        )

    if label.startswith("navigation."):
        nav_p = sum(v for k, v in found.probabilities.items() if k.startswith("navigation."))
        if nav_p < MIN_NAVIGATION_PROBABILITY:
            return Intent("conversation", confidence=round(1 - nav_p, 2))
        return _navigation(label, u, p)
    if label == "search.weather":
        return Intent(label, {"query": u.raw.strip()}, p)
    if label == "search.lookup":
        t = u.normal
        command = _LOOKUP_COMMAND.match(t)
        return Intent(label, {"query": t[command.end() :] if command else t}, p)
    if label.startswith("car."):
        car_p = sum(v for k, v in found.probabilities.items() if k.startswith("car."))
        if car_p < MIN_CAR_PROBABILITY:
            return Intent("conversation", confidence=round(1 - car_p, 2))
        return Intent(label, car_slots(label, u), p)
    if label.startswith("out_of_scope."):
        if p < MIN_OUT_OF_SCOPE_PROBABILITY:  # unsure: the persona's model may well help
            return Intent("conversation", confidence=p)
        return Intent(label, {"domain": label.removeprefix("out_of_scope.")}, p)
    return Intent(label, {}, p)


def car_slots(label: str, u: Utterance) -> dict[str, Any]:
    """The details of a `car.*` request (`car_slots.py`)."""
    if label == "car.climate":
        return climate_request(u)
    if label == "car.range":
        return range_request(u)
    return {"topic": status_topic(u)}


@functools.lru_cache(maxsize=8)
def _cast_names(names: tuple[str, ...]) -> frozenset[str]:
    from .model import persona_names

    return persona_names(names)


def _navigation(label: str, text: Utterance, p: float) -> Intent:
    """A navigation intent with its slots; a request without a destination we can read is
    answered by the persona rather than guessed at."""
    slots = place_slots(text)
    category = slots.get("category")
    if label == "navigation.start":
        place = named_place(text)
        if category in ("home", "friend") and not (
            place and is_proper_place(place) and category_of(place) is None
        ):
            return Intent(label, {**slots, "place": category}, p)
        if place and (is_proper_place(place) or not category):
            return Intent(label, {**slots, "place": place}, p)
        if category:
            return Intent("navigation.find_nearby", slots, p)
        return Intent("conversation", confidence=p)  # "take me there": where?
    if label == "navigation.find_nearby":
        if category in ("home", "friend"):
            return Intent("navigation.start", {**slots, "place": category}, p)
        if category is None:
            place = named_place(text)
            if place and is_proper_place(place):
                return Intent("navigation.start", {**slots, "place": place}, p)
        return Intent(label, slots, p)
    if label == "navigation.add_stop":
        place = stop_place(text)
        if place and is_proper_place(place):
            slots["place"] = place  # "stop at Beanstalk Coffee": a name
        return Intent(label, slots, p)
    return Intent(label, {}, p)
