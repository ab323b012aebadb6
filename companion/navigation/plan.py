"""One trip from several places said in one breath: "find a charger and then a coffee
shop" stops at the charger on the way to the coffee shop; "... then take me home" makes
home the destination; "add a stop at a pharmacy and then a gas station" adds both, in order,
before the destination we already have. Each place is found as navigation finds it (a
name, a saved place, home, the nearest of a kind, a trip from the history) but without
asking "which one?": the nearest fitting one is taken. A place that can't be found is said
in the same answer, and the others still make the trip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .geo import distance_m, say_distance, say_duration

if TYPE_CHECKING:
    from ..router import Intent
    from .navigator import Navigator
    from .places import Place

TRIP_PARTS = ("navigation.start", "navigation.find_nearby", "navigation.add_stop")


def _said(intent: Intent) -> str:
    from .navigator import CATEGORY_WORDS

    slots = intent.slots
    if slots.get("place"):
        return f"a place called {slots['place']}"
    category = str(slots.get("category") or "")
    return "a " + CATEGORY_WORDS.get(category, (category.replace("_", " ") or "place",))[0]


async def _place_for(navigator: Navigator, intent: Intent) -> Place | None:
    slots, here = intent.slots, navigator.trip.position
    if slots.get("recent") and navigator.book is not None:
        return navigator.book.recent(slots)[0]
    place = str(slots.get("place") or "")
    if place == "home":
        found = await navigator.home()
    elif place and place != "friend":
        found = await navigator.resolve(place)
    elif slots.get("category") and slots["category"] not in ("home", "friend"):
        cuisine = slots.get("cuisine") if slots["category"] == "restaurant" else None
        found = await navigator.nearby(str(slots["category"]), cuisine)
    else:
        return None
    return min(found, key=lambda p: distance_m(here, p.pos)) if found else None


async def plan_trip(navigator: Navigator, parts: list[Intent]) -> tuple[str, str, dict[str, Any]]:
    """(spoken, action, data) for the trip the parts make together."""
    found: list[tuple[Intent, Place]] = []
    missing: list[str] = []
    for part in parts:
        place = await _place_for(navigator, part)
        if place is None:
            missing.append(_said(part))
        else:
            found.append((part, place))
    missed = "".join(f" I couldn't find {what}." for what in missing)
    if not found:
        return missed.strip() or "I couldn't find those places.", "no_match", {}
    trip = navigator.trip
    goals = [i for i, (part, _) in enumerate(found) if part.name != "navigation.add_stop"]
    added: list[Place] = []  # stops on the way to where we were already going
    if goals:
        goal = found[goals[-1]][1]
        stops = [place for i, (_, place) in enumerate(found) if i != goals[-1]]
    elif trip.active:  # only stops: on the way to where we are going
        added = [place for _, place in found]
        goal, stops = trip.goal, [*trip.stops, *added]
    else:
        goal, stops = found[-1][1], [place for _, place in found[:-1]]
    route = await navigator.route([trip.position, *(s.pos for s in stops), goal.pos])
    trip.set_route(goal, stops, route)
    navigator.pending = None
    if navigator.book is not None:
        for place in [*stops, goal]:
            navigator.book.went_to(place)
    about = "about " if route.estimated else ""
    far = f"{say_distance(route.distance_m, navigator.units)}, {about}"
    if added:
        at = " and then ".join(s.label for s in added)
        text = f"Adding {'stops' if len(added) > 1 else 'a stop'} at {at} on the way to "
    else:
        via = f", stopping at {' and then '.join(s.label for s in stops)} first" if stops else ""
        text = f"Navigating to {goal.label}{via}, "
    text = text + (goal.label + ", " if added else "")
    text += f"{far}{say_duration(route.duration_s)}.{missed}"
    data = {"destination": goal.label, "stops": [s.label for s in stops], "missing": missing}
    return text, "route_started", data
