"""The navigation skill: turns navigation intents into trip changes and short spoken answers.

Reads the router's `navigation.*` intents, looks places up (online geocoder when enabled, the
offline gazetteer otherwise or when it fails), plans routes (online router or an offline
estimate), keeps the `Trip`, and asks back when it must: which of several places, or whether
to replace the active route. The driver's answer to such a question ("the second one", "add
it as a stop") is recognised by `followup()` before the normal router runs.

Answers are short and deterministic (no LLM): they are read while driving.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from ..router.places import KnownPlaces
from ..router.slots import ROUTE_PREFERENCES, cuisine_said
from ..webapi import ServiceError
from .charging import charger_on_the_way, how_far
from .geo import (
    LatLon,
    distance_m,
    say_distance,
    say_duration,
)
from .online import CATEGORY_QUERY, NominatimGeocoder, OSRMRouter
from .places import Gazetteer, Place
from .pointing import Discussed, WhereTo, answer_where_to, pointed_at
from .questions import ChargerOffer, Choice, Confirm, Question, answer_to, which_one
from .report import summary_line, trip_left, trip_snapshot, where_we_are
from .routing import Route, estimate_route
from .saved import PlaceBook
from .trip import Trip, TripEvent

log = logging.getLogger(__name__)

CATEGORY_WORDS = {  # singular, plural as said aloud
    "charger": ("charger", "chargers"),
    "gas_station": ("gas station", "gas stations"),
    "coffee": ("coffee place", "coffee places"),
    "restaurant": ("place to eat", "places to eat"),
    "grocery": ("grocery store", "grocery stores"),
    "parking": ("parking", "parking places"),
    "hotel": ("hotel", "hotels"),
    "hospital": ("hospital", "hospitals"),
    "pharmacy": ("pharmacy", "pharmacies"),
    "shopping": ("shopping center", "shopping centers"),
    "rest_stop": ("rest stop", "rest stops"),
    "bank": ("bank", "banks"),
    "airport": ("airport", "airports"),
}


@dataclass
class Answer:
    """What the skill did: `text` is spoken; `action` and `data` go to the screen and tests."""

    text: str
    action: str
    data: dict[str, Any] = field(default_factory=dict)


_PREFERENCE_WORDS = {
    "avoid_traffic": "avoid heavy traffic",
    "avoid_tolls": "avoid tolls",
    "avoid_highways": "avoid highways",
    "fastest": "fastest route",
}


_INSTEAD = re.compile(r"\binstead\b|^(?:actually|no|nope|wait)\b")


def _preferences(slots: dict[str, Any]) -> tuple[str, ...]:
    """The route preferences the driver said ("avoid heavy traffic", "fastest route")."""
    return tuple(key for key in ROUTE_PREFERENCES if slots.get(key))


def _say_preferences(preferences: tuple[str, ...]) -> str:
    """Spoken back, honestly: the routes here can't see traffic, tolls or road types yet."""
    if not preferences:
        return ""
    said = " and ".join(_PREFERENCE_WORDS[p] for p in preferences)
    if any(p.startswith("avoid_") for p in preferences):
        return f" Noted: {said}, though I can't see live traffic or road types yet."
    return f" Noted: {said}."


def _within(
    found: list[Place], slots: dict[str, Any], here: LatLon, units: str, one: str
) -> tuple[list[Place], str | None]:
    """The places within the distance the driver said ("within 2 miles"), or the nearest
    and what to say when none is (the places unchanged without a limit)."""
    limit = slots.get("within_m")
    if not found or not isinstance(limit, (int, float)):
        return found, None
    near = [p for p in found if distance_m(here, p.pos) <= limit]
    if near:
        return near, None
    closest = found[0]
    away = say_distance(distance_m(here, closest.pos), units)
    return found, (
        f"There's no {one} within {slots.get('distance') or 'that'}; "
        f"the nearest is {closest.label}, {away} away."
    )


class Navigator:
    def __init__(
        self,
        gazetteer: Gazetteer,
        *,
        units: str = "mi",
        geocoder: NominatimGeocoder | None = None,
        router: OSRMRouter | None = None,
    ) -> None:
        self.gazetteer, self.units, self.geocoder, self.router = gazetteer, units, geocoder, router
        self.trip = Trip(gazetteer.start)
        self.pending: Question | WhereTo | None = None
        self._fallback: str | None = None
        # The names the router reads as places: the sample places, then those found online.
        self.known = KnownPlaces(p.name for p in gazetteer.samples)
        self.book: PlaceBook | None = None  # saved places and the trip history (`attach`)
        self.discussed = Discussed()  # what "there", "that" and "the other one" point at

    def attach(self, book: PlaceBook) -> None:
        """The driver's saved places: found by name, and the router knows their names."""
        self.book = book
        self.known.update(book.names())

    async def aclose(self) -> None:
        for provider in (self.geocoder, self.router):
            if provider is not None:
                await provider.aclose()

    # --- follow-up answers -------------------------------------------------------------------

    def followup(self, text: str) -> tuple[str, dict[str, Any]] | None:
        """The intent of an answer to the open question, or of words that point back."""
        if isinstance(self.pending, WhereTo):
            return answer_where_to(text, self.known)
        pointed = pointed_at(self.discussed, text)
        if pointed is not None and pointed[0] == "navigation.choose_again":
            return pointed  # "no, the other one": a correction, whatever was asked since
        return answer_to(self.pending, text, self.trip.position) or pointed

    def forget_question(self) -> None:
        """The driver moved on without answering: drop the open question."""
        self.pending = None

    # --- actions -----------------------------------------------------------------------------

    async def handle(self, intent: str, slots: dict[str, Any], text: str) -> Answer:
        self._fallback = None
        action = intent.removeprefix("navigation.")
        handler = getattr(self, f"_do_{action}", None)
        if handler is None:
            return Answer("I can't do that with navigation yet.", "unsupported")
        if action not in ("choose", "confirm", "charge_stop"):
            self.pending = None
        answer: Answer = await handler(slots, text)
        answer.data.setdefault("trip", self.snapshot())
        if self._fallback:
            answer.data["fallback"] = self._fallback
        return answer

    async def _do_start(self, slots: dict[str, Any], text: str) -> Answer:
        place = str(slots.get("place") or "").strip()
        if place == "friend":
            return Answer(
                "I don't have your friends' addresses. Tell me the place or the street.",
                "no_match",
                {"query": place},
            )
        if slots.get("recent"):
            return await self._recent(slots)
        if not place:
            return await self._do_find_nearby(slots, text)
        if place == "home":
            found = await self.home()
            if not found:
                return Answer(
                    'I don\'t know where home is yet. Say "set my home to" and the address.',
                    "no_match",
                    {"query": "home"},
                )
        else:
            found = await self.resolve(place)
        if not found:
            return Answer(f"I couldn't find a place called {place}.", "no_match", {"query": place})
        top = found[0]
        if top.source == "sample" and len(found) > 1 and not slots.get("nearest"):
            return self._ask(found, "go", label=top.name, preferences=_preferences(slots))
        if top.source == "city" and len(found) > 1 and found[1].score * 3 > top.score:
            return self._ask(found[:3], "go", label=None, preferences=_preferences(slots))
        if slots.get("nearest") and len(found) > 1:
            found = sorted(found, key=lambda p: distance_m(self.trip.position, p.pos))
        instead = _INSTEAD.search(text.lower()) is not None  # "actually, go to X instead"
        return await self._go(found[0], preferences=_preferences(slots), confirmed=instead)

    async def _do_find_nearby(self, slots: dict[str, Any], text: str) -> Answer:
        category = slots.get("category") or ""
        if category in ("home", "friend"):
            return await self._do_start({**slots, "place": category}, text)
        one, many = CATEGORY_WORDS.get(category, (category.replace("_", " ") or "place", "places"))
        cuisine = slots.get("cuisine") if category == "restaurant" else None
        if cuisine:  # "a Chinese restaurant", "pizza places"
            one, many = f"{cuisine_said(cuisine)} {one}", f"{cuisine_said(cuisine)} {many}"
        found = await self.nearby(category, cuisine)
        data = {"category": category, **({"cuisine": cuisine} if cuisine else {})}
        found, too_far = _within(found, slots, self.trip.position, self.units, one)
        if too_far is not None:
            return Answer(too_far, "no_match", {**data, "nearest": found[0].label})
        if not found:
            return Answer(f"I couldn't find a {one} nearby.", "no_match", data)
        if slots.get("nearest") or len(found) == 1:
            return await self._go(
                found[0], lead=f"The nearest {one} is ", preferences=_preferences(slots)
            )
        return self._ask(found, "go", label=many, preferences=_preferences(slots))

    async def _do_add_stop(self, slots: dict[str, Any], text: str) -> Answer:
        if slots.get("recent"):
            return await self._recent(slots, stop=True)
        found: list[Place] = []
        said = str(slots.get("place") or "")
        if said:
            found = await self.resolve(said)
            found = [p for p in found if p.source in ("sample", "online")]
        category = slots.get("category")
        if not found and category:
            found = await self.nearby(category)
            if self.trip.active and found:  # the one that costs the smallest detour
                here, goal = self.trip.position, self.trip.goal.pos
                found.sort(key=lambda p: distance_m(here, p.pos) + distance_m(p.pos, goal))
        if not found:
            if said:
                return Answer(
                    f"I couldn't find a place called {said} to stop at.",
                    "no_match",
                    {"query": said},
                )
            what = CATEGORY_WORDS.get(category or "", ("place",))[0]
            return Answer(f"I couldn't find a {what} to stop at.", "no_match", {"query": what})
        if not self.trip.active:
            return await self._go(found[0], lead="There's no route yet, so navigating to ")
        return await self.add_stop(found[0])

    async def _do_cancel(self, slots: dict[str, Any], text: str) -> Answer:
        was = self.trip.cancel()
        if was is None:
            return Answer("There's no route to cancel.", "nothing_to_cancel")
        return Answer(
            f"Navigation to {was.label} cancelled.", "cancelled", {"destination": was.label}
        )

    async def _do_eta(self, slots: dict[str, Any], text: str) -> Answer:
        asked = await how_far(self, slots, time=True)  # "how long to X"
        return Answer(*(asked or trip_left(self, time=True)))

    async def _do_distance(self, slots: dict[str, Any], text: str) -> Answer:
        asked = await how_far(self, slots, time=False)  # "how far is X"
        return Answer(*(asked or trip_left(self, time=False)))

    async def _do_where_am_i(self, slots: dict[str, Any], text: str) -> Answer:
        return Answer(*await where_we_are(self))

    async def _recent(self, slots: dict[str, Any], stop: bool = False) -> Answer:
        """ "back to where we went yesterday", "the last charger we used": the trip history."""
        place, why = self.book.recent(slots) if self.book else (None, "I keep no trip history.")
        if place is None:
            return Answer(why, "no_match", {"query": "recent"})
        if stop and self.trip.active:
            return await self.add_stop(place)
        return await self._go(place, preferences=_preferences(slots))

    async def _do_where_to(self, slots: dict[str, Any], text: str) -> Answer:  # "go there"
        self.pending = WhereTo()
        return Answer("Where to?", "where_to")

    async def _do_go_there(self, slots: dict[str, Any], text: str) -> Answer:
        place = self.discussed.place or self.trip.goal  # "take me there" (said: pointing.py)
        return await self._go(place, confirmed=bool(slots.get("instead")))

    async def _do_choose_again(self, slots: dict[str, Any], text: str) -> Answer:  # "no, the other"
        self.discussed.picked = index = int(slots["index"])
        return await self._go(self.discussed.choices[index], confirmed=True)

    async def _do_choose(self, slots: dict[str, Any], text: str) -> Answer:
        pending, self.pending = self.pending, None
        index = slots.get("index")
        if not isinstance(pending, Choice) or index is None:
            return Answer("Okay, never mind.", "choice_dropped")
        self.discussed.picked = index
        place = pending.places[index]
        if pending.purpose == "stop" and self.trip.active:
            return await self.add_stop(place)
        return await self._go(place, preferences=pending.preferences)

    async def _do_confirm(self, slots: dict[str, Any], text: str) -> Answer:
        pending, self.pending = self.pending, None
        if not isinstance(pending, Confirm):
            return Answer("Okay.", "confirm_dropped")
        answer = slots.get("answer")
        if answer == "replace":
            return await self._go(pending.place, confirmed=True, preferences=pending.preferences)
        if answer == "add_stop":
            return await self.add_stop(pending.place)
        return Answer(f"Okay, keeping the route to {self.trip.goal.label}.", "kept")

    async def _do_charge_stop(self, slots: dict[str, Any], text: str) -> Answer:
        """The answer to "Shall I add a charger on the way?"."""
        pending, self.pending = self.pending, None
        if not isinstance(pending, ChargerOffer) or not slots.get("answer"):
            return Answer("Okay, no charger.", "charger_declined")
        return Answer(*await charger_on_the_way(self, pending.place))

    # --- for the car -------------------------------------------------------------------------

    def offer_charger(self, place: Place) -> None:
        """Ask "Shall I add a charger on the way?" (the caller says it); "yes" adds one."""
        self.pending = ChargerOffer(place)

    # --- helpers -----------------------------------------------------------------------------

    def _ask(
        self,
        places: list[Place],
        purpose: str,
        label: str | None,
        preferences: tuple[str, ...] = (),
    ) -> Answer:
        places = places[:3]
        self.pending = Choice(places, purpose, preferences)
        self.discussed.choices, self.discussed.picked = places, None
        text = which_one(places, label, self.trip.position, self.units)
        return Answer(text, "choices", {"choices": [p.label for p in places]})

    async def _go(
        self,
        place: Place,
        *,
        lead: str = "",
        confirmed: bool = False,
        preferences: tuple[str, ...] = (),
    ) -> Answer:
        trip = self.trip
        self.discussed.place = place
        confirmed = confirmed or (trip.active and place.label == trip.goal.label)
        if trip.active and not confirmed:
            self.pending = Confirm(place, preferences)
            return Answer(
                f"We're on the way to {trip.goal.label}. Go to {place.label} "
                "instead, or add it as a stop?",
                "confirm_replace",
                {"proposed": place.label},
            )
        route = await self.route([trip.position, place.pos])
        trip.set_route(place, [], route)
        if self.book is not None:
            self.book.went_to(place)
        trip.preferences = preferences
        about = "about " if route.estimated else ""
        said = f"{lead}{place.label}" if lead else f"Navigating to {place.label}"
        text = (
            f"{said}, {say_distance(route.distance_m, self.units)}, "
            f"{about}{say_duration(route.duration_s)}."
        )
        if lead:
            text = (
                f"{said}, {say_distance(route.distance_m, self.units)}. Navigating there, "
                f"{about}{say_duration(route.duration_s)}."
            )
        text += _say_preferences(preferences)
        return Answer(
            text,
            "route_started",
            {"destination": place.label, "source": place.source, "preferences": list(preferences)},
        )

    async def add_stop(self, place: Place) -> Answer:
        trip = self.trip
        stops = [*trip.stops, place]
        route = await self.route([trip.position, *(s.pos for s in stops), trip.goal.pos])
        trip.set_route(trip.goal, stops, route)
        if self.book is not None:
            self.book.went_to(place)
        about = "about " if route.estimated else ""
        return Answer(
            f"Adding a stop at {place.label}. We'll reach {trip.goal.label} "
            f"in {about}{say_duration(route.duration_s)}.",
            "stop_added",
            {"stop": place.label, "source": place.source},
        )

    def snapshot(self) -> dict[str, Any]:
        """The trip as plain data (for events, the screen and dialogue tests)."""
        return trip_snapshot(self.trip)

    def summary(self, answer: Answer) -> str:
        """One line for the screen: 'Navigating to X · 2.1 mi · 7 min (est.)'."""
        return summary_line(self.trip, answer.action, answer.data, answer.text, self.units)

    def advance(self, seconds: float) -> list[TripEvent]:
        return self.trip.advance(seconds)

    # --- providers with fallback -------------------------------------------------------------

    def _fell_back(self, exc: ServiceError) -> None:
        log.warning("%s; using offline data", exc)
        note = f"{exc.provider} {exc.kind}: {exc.detail}"
        self._fallback = f"{self._fallback}; {note}" if self._fallback else note

    async def home(self) -> list[Place]:
        """Home: the one the driver saved, else `navigation.home`, else nothing."""
        mine = self.book.find("home") if self.book is not None else []
        return mine or await asyncio.to_thread(self.gazetteer.find, "home", self.trip.position)

    async def resolve(self, query: str) -> list[Place]:
        here = self.trip.position
        if self.book is not None and (mine := self.book.find(query)):
            return mine  # a name the driver saved
        if self.geocoder is not None:
            try:
                found = await self.geocoder.search(query, here)
                if found:
                    self.known.update(p.name for p in found[:5])  # names the router now knows
                    return found
            except ServiceError as exc:
                self._fell_back(exc)
        return await asyncio.to_thread(self.gazetteer.find, query, here)

    async def nearby(self, category: str, cuisine: str | None = None) -> list[Place]:
        here = self.trip.position
        if self.geocoder is not None and category in CATEGORY_QUERY:
            query = f"{cuisine} {CATEGORY_QUERY[category]}" if cuisine else CATEGORY_QUERY[category]
            try:
                found = await self.geocoder.search(query, here, radius_m=10_000)
                found = sorted(found, key=lambda p: distance_m(here, p.pos))[:3]
                self.known.update(p.name for p in found)
                return [
                    Place(
                        p.name, p.pos, category, p.address, cuisine=cuisine or "", source="online"
                    )
                    for p in found
                ]
            except ServiceError as exc:
                self._fell_back(exc)
        return await asyncio.to_thread(self.gazetteer.nearest, category, here, cuisine=cuisine)

    async def route(self, waypoints: list[LatLon]) -> Route:
        if self.router is not None:
            try:
                return await self.router.route(waypoints)
            except ServiceError as exc:
                self._fell_back(exc)
        return estimate_route(waypoints)
