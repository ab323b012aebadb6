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

import dataclasses
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..personas.loader import Persona
from ..personas.switching import asks_to_change_safety, detect_switch
from ..text import Utterance, key_of
from .car_slots import climate_request, range_request, status_topic
from .places import KnownPlaces, sample_places
from .slots import (
    asked_about,
    category_of,
    is_proper_place,
    modifiers,
    named_place,
    names_a_place,
    place_slots,
    stop_place,
)
from .split import split_request
from .stored import (
    as_said,
    forget_all_slots,
    forget_fact_slots,
    forget_place_slots,
    goes_back,
    recent_slots,
    remember_slots,
    rename_slots,
    renames,
    save_slots,
    sets_home,
)

if TYPE_CHECKING:
    from .model import IntentModel


@dataclass(frozen=True)
class Intent:
    """`name` is dotted: `persona.switch`, `safety.change_request`, `navigation.*`
    (`start`, `find_nearby`, `add_stop`, `cancel`, `eta`, `distance`, `where_am_i`),
    `search.*` (`weather`, `lookup`), `car.*` (`status`, `climate`, `range`: the car's
    readings, its climate, whether the battery reaches a place), `control.*` (`stop`,
    `repeat`, `louder`, `quieter`, `cancel`), `places.*` (`save`, `list`, `forget`,
    `rename`: saved places), `memory.*` (`remember`, `recall`, `forget`, `forget_all`: the
    persona's opt-in memory of the driver), `out_of_scope.*` (what the car can't do:
    `media`, `alarm`, `smart_home`, `messages`, `calendar`, `lists`, `orders`,
    `transport`), `unclear` (nothing to understand: empty, emoji, noise) and
    `conversation`."""

    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    # How sure the router is: of the label; for navigation and the car, that it is a trip
    # (any navigation.*) or the car's (any car.*), which is what acting on it needs.
    confidence: float = 1.0
    # Several requests in one breath ("a charger and then a coffee shop"): each part's
    # intent, in the order said (`split.py`); empty for a single request.
    parts: tuple[Intent, ...] = ()
    part_texts: tuple[str, ...] = ()


# Below this, a navigation guess is not enough to move the car: the persona answers instead
# (and its model may still call a navigation tool if the words really were a request). Chosen
# by cross-validation on the public corpora (benchmarks/train_nlu.py): the value that keeps
# ordinary requests off navigation (≤ 0.5 %) with the most margin while recall stays ≥ 0.97.
MIN_NAVIGATION_PROBABILITY = 0.6
# With a place named (one the car knows, or a proper name said as somewhere to go), the bar
# is lower: the name is evidence of its own. Chosen by cross-validation like the one above
# (SLURP false navigation) and on the hand-written place sets (benchmarks/nlu_eval/places_*).
MIN_NAVIGATION_PROBABILITY_NAMED = 0.2
# ... but never over these: a switch request, or what the car can't do with the place.
_NEVER_A_PLACE = ("persona.switch", "out_of_scope.messages", "out_of_scope.orders")
# A switch changes who is talking: the model must find a switch request more likely than all
# else together.
MIN_SWITCH_PROBABILITY = 0.5
# "I can't do that" closes the door on the persona's model: only when it is the likelier answer.
MIN_OUT_OF_SCOPE_PROBABILITY = 0.5
# Saving or forgetting a place or a fact about the driver: only when the model finds it the
# likelier reading (else the persona answers, and nothing is written).
MIN_STORED_PROBABILITY = 0.5
# A car answer is the car's own numbers: only when the model finds it the likelier reading.
MIN_CAR_PROBABILITY = 0.5
_LOOKUP_COMMAND = re.compile(
    r"^(?:can you |could you )?(?:search(?: the web| online)? for|"
    r"look up|lookup|google|find out)\s+"
)


def route(
    text: str | Utterance,
    cast: Iterable[Persona],
    *,
    model: IntentModel | None = None,
    places: KnownPlaces | None = None,
) -> Intent:
    """The intent of one utterance. `slots["explicit"]` of a persona switch is False when the
    utterance was only a persona's name or alias; the pipeline decides whether that is a
    switch or a request to the active persona. `places`: the names the car knows (the
    navigator's; by default the bundled sample places). An utterance holding several
    requests keeps its whole reading, with each part's intent in `parts`."""
    cast, u = list(cast), Utterance.of(text)
    whole = route_one(u, cast, model=model, places=places)
    found = split_request(u, lambda t: route_one(t, cast, model=model, places=places))
    if len(found) < 2:
        return whole
    return dataclasses.replace(
        whole, parts=tuple(i for _, i in found), part_texts=tuple(t for t, _ in found)
    )


def route_one(
    text: str | Utterance,
    cast: Iterable[Persona],
    *,
    model: IntentModel | None = None,
    places: KnownPlaces | None = None,
) -> Intent:
    """The intent of an utterance read as one request (`route` also looks for several)."""
    u = Utterance.of(text)
    if not any(ch.isalnum() for ch in u.normal):
        return Intent("unclear", confidence=0.0)
    if asks_to_change_safety(u):
        return Intent("safety.change_request")
    if model is None:
        from .model import shipped_model

        model = shipped_model()
    if places is None:
        places = sample_places()
    cast = list(cast)
    found = model.predict(u, _cast_names(tuple(n for p in cast for n in p.spoken_names)), places)
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

    if sets_home(u) and label != "persona.switch":
        return Intent("places.save", save_slots(u) or {}, 1.0)  # "set my home to X"
    if label != "persona.switch" and renames(u):
        return _stored("places.rename", {"places.rename": 1.0}, u)  # "rename X to Y"
    if label.startswith(("places.", "memory.")):
        return _stored(label, found.probabilities, u)
    trip = _trip(label, found.probabilities, u, places)
    if trip is not None:
        return trip
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
        return Intent(label, car_slots(label, u), round(car_p, 2))  # sure it is the car's
    if label.startswith("out_of_scope."):
        if p < MIN_OUT_OF_SCOPE_PROBABILITY:  # unsure: the persona's model may well help
            return Intent("conversation", confidence=p)
        return Intent(label, {"domain": label.removeprefix("out_of_scope.")}, p)
    return Intent(label, {}, p)


def _trip(
    label: str, probabilities: dict[str, float], u: Utterance, places: KnownPlaces
) -> Intent | None:
    """The navigation intent when the words ask to go somewhere or about a place (or
    `conversation` when the model is not sure enough of one); None when they don't."""
    going = going_to(u)
    if going is not None and not label.startswith("navigation."):
        # "take me to / navigate to / directions to X": a trip, whatever X is; a name the car
        # doesn't know gets "I couldn't find ..." from the navigator, never the model.
        return _navigation("navigation.start", u, 1.0, places)
    navigation = {k: v for k, v in probabilities.items() if k.startswith("navigation.")}
    nav_p = sum(navigation.values())
    if label not in _NEVER_A_PLACE and goes_back(u):
        # "go back to where we went yesterday", "take me to the last charger we used"
        name = label if label == "navigation.add_stop" else "navigation.start"
        return _navigation(name, u, round(nav_p, 2), places)
    # A place the car knows, named exactly, or a proper name said as somewhere to go ("can we
    # go to X", "where's X"): evidence enough for a lower bar. (A near miss of a known name
    # is only a <place> word to the model: "a golden walk" may be just a walk.)
    known = places.find(u.normal.split())
    going_there = travels_to(u)
    exact = known is not None and known.exact
    # "message X" is never a trip, unless the model is unsure and the words say "go to X"
    never = label in _NEVER_A_PLACE and probabilities.get(label, 0.0) >= 0.5
    if going_there is not None and (names_a_place(going_there) or exact) and not never:
        # "I'd like to go to the Tin Whistle Pub", "actually go to the Daily Grind instead":
        # somewhere to go, by its very words or a name the car knows ("how far is Halloway
        # Park": a question about it, when the model reads one).
        best = max(navigation, key=navigation.__getitem__)
        asked = best if best in ("navigation.distance", "navigation.eta") else "navigation.start"
        return _navigation(asked, u, round(nav_p, 2), places)
    named = (known is not None and known.exact) or going_there is not None
    if named and nav_p >= MIN_NAVIGATION_PROBABILITY_NAMED and label not in _NEVER_A_PLACE:
        best = max(navigation, key=navigation.__getitem__)
        return _navigation(best, u, round(nav_p, 2), places)
    if not label.startswith("navigation."):
        return None
    if nav_p < MIN_NAVIGATION_PROBABILITY and going is None:
        return Intent("conversation", confidence=round(1 - nav_p, 2))
    return _navigation(label, u, round(nav_p, 2), places)  # how sure: that it is a trip


def _stored(label: str, probabilities: dict[str, float], u: Utterance) -> Intent:
    """Saving, listing, forgetting a place or a fact: only when the model is sure it is such
    a request (the family together), else the persona answers."""
    family = label.partition(".")[0] + "."
    family_p = sum(v for k, v in probabilities.items() if k.startswith(family))
    if family_p < MIN_STORED_PROBABILITY:
        return Intent("conversation", confidence=round(1 - family_p, 2))
    if label in ("memory.remember", "memory.forget"):
        # The model mixes the two up ("forget that I ..."); the words' own frame decides.
        remember, forget = remember_slots(u), forget_fact_slots(u)
        if (remember is None) != (forget is None):
            label = "memory.remember" if remember is not None else "memory.forget"
    read = {
        "places.save": save_slots,
        "places.forget": forget_place_slots,
        "places.rename": rename_slots,
        "memory.remember": remember_slots,
        "memory.forget": forget_fact_slots,
        "memory.forget_all": forget_all_slots,
    }.get(label)
    slots = read(u) if read else {}
    if slots is None:  # the model heard a request the words don't make ("call home")
        return Intent("conversation", confidence=round(1 - family_p, 2))
    said = {k: as_said(u, v) if isinstance(v, str) else v for k, v in slots.items()}
    return Intent(label, said, round(family_p, 2))


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


def _navigation(label: str, text: Utterance, p: float, places: KnownPlaces) -> Intent:
    """A navigation intent with its slots; a request without a destination we can read is
    answered by the persona rather than guessed at. A place the car knows by name is that
    place, whatever its words say ("Beanstalk Coffee" is not "the nearest coffee")."""
    if label in ("navigation.start", "navigation.find_nearby", "navigation.add_stop"):
        recent = recent_slots(text)  # "back to where we went yesterday"
        if recent is not None:
            name = "navigation.add_stop" if label == "navigation.add_stop" else "navigation.start"
            return Intent(name, {**modifiers(text), **recent}, p)
    known = places.find(text.normal.split())
    if known is not None:
        if label in ("navigation.distance", "navigation.eta"):
            return Intent(label, {"place": known.name}, p)
        if label in ("navigation.start", "navigation.find_nearby"):
            return Intent("navigation.start", {**modifiers(text), "place": known.name}, p)
        if label == "navigation.add_stop":
            return Intent(label, {**place_slots(text), "place": known.name}, p)
    slots = place_slots(text)
    category = slots.get("category")
    if label in ("navigation.distance", "navigation.eta"):
        asked = asked_about(text)
        if asked is None:
            return Intent(label, {}, p)
        return Intent(label, {**slots, "place": asked} if is_proper_place(asked) else slots, p)
    if label == "navigation.start":
        place = named_place(text) or travels_to(text)
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
            place = named_place(text) or travels_to(text)
            if place and is_proper_place(place):
                return Intent("navigation.start", {**slots, "place": place}, p)
        return Intent(label, slots, p)
    if label == "navigation.add_stop":
        place = stop_place(text)
        if place and is_proper_place(place):
            slots["place"] = place  # "stop at Beanstalk Coffee": a name
        return Intent(label, slots, p)
    return Intent(label, {}, p)


# "take me to X": a trip whatever X is; not "take me to the ... website" (not a place).
_GOING = re.compile(
    r"^(?:(?:please|ok|okay|hey|car|so|now|can you|could you|would you|will you|just|"
    r"actually|no|nope|wait|sorry|oh),?\s+)*"
    r"(?:take (?:me|us)|navigate(?: me| us)?|(?:give me |get |i need )?directions|"
    r"drive (?:me|us)|get (?:me|us)|route (?:me|us)|bring (?:me|us)|guide (?:me|us)|"
    r"steer (?:me|us)|point (?:me|us)|send (?:me|us)|start navigation|start navigating|"
    r"set (?:the |a |my )?destination|set (?:a )?course|plot a (?:route|course)|"
    r"find (?:a |the )?route)(?: back)?\s+(?:to|for)\s+(.+?)(?:\s+instead)?$"
)
_NOT_A_PLACE = re.compile(
    r"\b(?:website|web site|site|page|app|application|settings|menu|channel|playlist|song|"
    r"album|podcast|screen|tab)s?$"
)


# Somewhere to go, said any everyday way: "can we go to X", "let's head over to X", "how far
# is X", "how long to X". Only a proper name counts (`travels_to`). ("where is X" asks about
# Denmark as often as about a shop: it counts only for a place the car knows.)
_TRAVELS = re.compile(
    r"^(?:(?:please|ok|okay|hey|car|so|now|and|then|just|well|actually|no|nope|wait|sorry|"
    r"oh),?\s+)*"
    r"(?:(?:(?:i|we) (?:want|need|have|would like|wanna|gotta)|i'd like|we'd like|let's|"
    r"let us|can (?:we|i|you)|could (?:we|i|you)|shall we|i'm|we're|i am|we are)\s+)?"
    r"(?:to\s+)?(?:go|get|head|drive|ride|travel|going|heading|driving|getting|stop by|"
    r"swing by|pop over|make it)(?: over| back| down| up| out)?\s+(?:to|towards|at)\s+"
    r"(.+?)(?:\s+instead)?$|"
    r"^(?:how far is|how far away is|how far to|how long to|how long is the drive to|"
    r"how do i get to)\s+(.+)$"
)
# "where is X" / "find X" ask about Denmark or a recipe as often as about a shop: they count
# only with a place's name (`names_a_place`: "where's Halloway Park").
_LOOKS_FOR = re.compile(
    r"^(?:(?:please|ok|okay|hey|car|so|now|can you|could you)\s+)*"
    r"(?:where is|where's|where are|find|find me|locate|show me|look for)\s+(.+)$"
)


def travels_to(text: str | Utterance) -> str | None:
    """The proper place a request says it wants to get to ("can we go to Ashford Dental",
    "how far is Bramblewood Community Center"), or None (no such frame, or no name after it:
    "let's go to sleep" has one, the model decides; "where is the nearest bank" has none)."""
    normal = Utterance.of(text).normal
    found = _TRAVELS.match(normal)
    if found is not None:
        place = (found.group(1) or found.group(2) or "").strip()
    elif (looked := _LOOKS_FOR.match(normal)) is not None and names_a_place(looked.group(1)):
        place = looked.group(1).strip()
    else:
        return None
    if not place or _NOT_A_PLACE.search(place) or not is_proper_place(place):
        return None
    return place


def going_to(text: str | Utterance) -> str | None:
    """The destination of a request to go somewhere, said as a trip ("take me to X",
    "navigate to X", "directions to X"), or None."""
    found = _GOING.match(Utterance.of(text).normal)
    if found is None or _NOT_A_PLACE.search(found.group(1)):
        return None
    return found.group(1)
