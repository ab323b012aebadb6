"""Trips not (yet) taken: where a place is and the road there (`plan`, for the car's "can I
make it?"), how far and how long to a place ("how far is Beanstalk Coffee", `how_far`), and a
charger on the way when the driver says yes to "Shall I add a charger on the way?"
(`charger_on_the_way`)."""

from __future__ import annotations

from typing import Any, Protocol

from .geo import LatLon, distance_m, say_distance, say_duration
from .places import Gazetteer, Place
from .routing import Route
from .trip import Trip


class Wayfinder(Protocol):
    """What these need of the navigator (`navigator.Navigator`)."""

    trip: Trip
    units: str
    gazetteer: Gazetteer
    discussed: Any  # pointing.Discussed: the places just talked about

    async def home(self) -> list[Place]: ...
    async def resolve(self, query: str) -> list[Place]: ...
    async def nearby(self, category: str, cuisine: str | None = None) -> list[Place]: ...
    async def route(self, waypoints: list[LatLon]) -> Route: ...
    async def add_stop(self, place: Place) -> Any: ...


async def plan(
    navigator: Wayfinder, place: str, category: str | None = None
) -> tuple[Place, Route] | None:
    """The place a request names (a name, "home", or the nearest of a kind) and the road from
    here, resolved as navigation does; None when there is no such place."""
    here = navigator.trip.position
    if category:
        found = sorted(await navigator.nearby(category), key=lambda p: distance_m(here, p.pos))
    elif place == "home":
        found = await navigator.home()
    else:
        found = await navigator.resolve(place)
    if not found:
        return None
    return found[0], await navigator.route([here, found[0].pos])


async def how_far(
    navigator: Wayfinder, slots: dict[str, Any], time: bool
) -> tuple[str, str, dict[str, Any]] | None:
    """The answer to "how far is X" / "how long to X" for the place or kind of place in
    `slots` (None when they name neither): distance and drive time from here, the trip left
    as it is. (spoken text, action, data)."""
    place, category = str(slots.get("place") or ""), slots.get("category")
    if not place and not category:
        return None
    found = await plan(navigator, place, None if place else str(category))
    if found is None:
        asked = place or str(category)
        return f"I couldn't find {asked}.", "no_match", {"query": asked}
    goal, route = found
    navigator.discussed.place = goal  # "take me there" now means it
    about = "about " if route.estimated else ""
    distance = say_distance(route.distance_m, navigator.units)
    duration = say_duration(route.duration_s)
    text = (
        f"{goal.label} is {about}{duration} away, {distance}."
        if time
        else f"{goal.label} is {about}{distance} away, {duration} by car."
    )
    return text[0].upper() + text[1:], "how_far", {"place": goal.name, "meters": route.distance_m}


async def charger_on_the_way(navigator: Wayfinder, goal: Place) -> tuple[str, str, dict[str, Any]]:
    """The charger that costs the smallest detour, as a stop on the way to `goal` (added to
    the route when `goal` is where the trip goes already, else a new route through it):
    (spoken text, action, data) for the navigator's answer."""
    trip = navigator.trip
    here = trip.position
    chargers = await navigator.nearby("charger")
    if not chargers:
        return "I couldn't find a charger on the way.", "no_match", {"query": "charger"}
    charger = min(chargers, key=lambda p: distance_m(here, p.pos) + distance_m(p.pos, goal.pos))
    if trip.active and trip.goal.label == goal.label:
        added = await navigator.add_stop(charger)
        return added.text, added.action, added.data
    route = await navigator.route([here, charger.pos, goal.pos])
    trip.set_route(goal, [charger], route)
    about = "about " if route.estimated else ""
    return (
        f"Navigating to {goal.label} with a stop at {charger.label}, "
        f"{say_distance(route.distance_m, navigator.units)}, "
        f"{about}{say_duration(route.duration_s)}.",
        "route_started",
        {"destination": goal.label, "stop": charger.label, "source": goal.source},
    )
