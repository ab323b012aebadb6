"""How the trip is shown: as plain data for events, the screen and dialogue tests
(`trip_snapshot`), as one line for the screen (`summary_line`), and where we are
(`where_we_are`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .geo import METRES_PER_MILE, bearing_deg, compass, say_distance, say_duration
from .trip import Trip

if TYPE_CHECKING:
    from .charging import Wayfinder


def trip_snapshot(trip: Trip) -> dict[str, Any]:
    """The trip as plain data."""
    return {
        "active": trip.active,
        "destination": trip.goal.label if trip.destination else None,
        "stops": [s.label for s in trip.stops],
        "remaining_m": round(trip.remaining_m),
        "remaining_s": round(trip.remaining_s),
        "estimated": trip.estimated,
        "preferences": list(trip.preferences),
        "position": str(trip.position),
        "speed_kmh": round(trip.speed_kmh),
        "next": trip.next_instruction(),
        # For a progress drawing: how far along, and where each stop is, as fractions.
        "progress": (
            trip.travelled_m / trip.path.distance_m
            if trip.active and trip.path.distance_m > 0
            else 0.0
        ),
        "stop_marks": (
            [end / trip.path.distance_m for end in trip.path.leg_ends_m[:-1]]
            if trip.active and trip.path.distance_m > 0
            else []
        ),
        # For the map: the route's shape (at most MAP_POINTS), the car, stops, goal.
        "map": _map_data(trip) if trip.active else None,
    }


def summary_line(trip: Trip, action: str, data: dict[str, Any], text: str, units: str) -> str:
    """One line for the screen: 'Navigating to X · 2.1 mi · 7 min (est.)'."""
    if action == "choices":
        return "Which one? " + "  ".join(f"{i}. {c}" for i, c in enumerate(data["choices"], 1))
    if action == "confirm_replace":
        return (
            f"Replace the route to {trip.goal.label} with {data['proposed']}, or add it as a stop?"
        )
    if trip.active and action not in ("no_match", "kept"):
        unit = 1000.0 if units == "km" else METRES_PER_MILE
        minutes = round(trip.remaining_s / 60)
        eta = f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
        via = f" · via {', '.join(s.label for s in trip.stops)}" if trip.stops else ""
        est = " (est.)" if trip.estimated else ""
        return (
            f"Navigating to {trip.goal.label} · "
            f"{trip.remaining_m / unit:.1f} {units} · {eta}{est}{via}"
        )
    return text


MAP_POINTS = 160  # the route's shape on the map: enough for a terminal, small in an event


def _map_data(trip: Trip) -> dict[str, Any]:
    """[lat, lon] pairs: the route from where it started (thinned evenly to MAP_POINTS), the
    car now, the stops and the destination."""
    points = trip.route.points if trip.route is not None else []
    step = max(1, -(-len(points) // MAP_POINTS))
    shape = points[::step] + ([points[-1]] if points and (len(points) - 1) % step else [])
    here = trip.position
    return {
        "route": [[p.lat, p.lon] for p in shape],
        "here": [here.lat, here.lon],
        "stops": [[s.pos.lat, s.pos.lon] for s in trip.stops],
        "destination": ([trip.goal.pos.lat, trip.goal.pos.lon] if trip.destination else None),
    }


async def where_we_are(navigator: Wayfinder) -> tuple[str, str, dict[str, Any]]:
    """ "Where am I?": the town we are in or near, and the trip's distance to go."""
    here, units, trip = navigator.trip.position, navigator.units, navigator.trip
    found = await asyncio.to_thread(navigator.gazetteer.locality, here)
    if found is None:
        return f"We're at {here.lat:.3f}, {here.lon:.3f}.", "where_am_i", {"position": str(here)}
    city, metres = found
    name = f"{city.name}, {city.region.split(',')[0]}"
    if metres < 8000:
        text = f"We're in {name}."
    else:
        side = compass(bearing_deg(city.pos, here))
        text = f"We're about {say_distance(metres, units)} {side} of {name}."
    if trip.active:
        text += f" {say_distance(trip.remaining_m, units).capitalize()} to {trip.goal.label}."
    return text, "where_am_i", {"position": str(here), "locality": name}


def trip_left(navigator: Wayfinder, time: bool) -> tuple[str, str, dict[str, Any]]:
    """ "How long until we get there?" (`time`) / "how far is it?": the trip's time and
    distance to go."""
    trip, units = navigator.trip, navigator.units
    if not trip.active:
        return "We're not navigating anywhere right now.", "no_trip", {}
    about = "About " if trip.estimated else ""
    note = " (estimated)" if trip.estimated else ""
    if not time:
        to_go = say_distance(trip.remaining_m, units)
        return f"{about}{to_go} to {trip.goal.label}{note}.", "distance", {}
    text = (
        f"{about}{say_duration(trip.remaining_s)} to {trip.goal.label}, "
        f"{say_distance(trip.remaining_m, units)} to go{note}."
    )
    if trip.stops:
        text += f" First we stop at {trip.stops[0].label}."
    return text, "eta", {}
