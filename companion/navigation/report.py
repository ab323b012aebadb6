"""How the trip is shown: as plain data for events, the screen and dialogue tests
(`trip_snapshot`), and as one line for the screen (`summary_line`)."""

from __future__ import annotations

from typing import Any

from .geo import METRES_PER_MILE
from .trip import Trip


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
