"""Routes: the road a trip follows, from an online OSRM-compatible router or estimated offline.

A `Route` is a polyline with its length, its duration, where each leg ends (stops) and the
manoeuvres along it. Offline there are no roads: the estimate follows the great circle,
counts it 25 % longer (roads wind) and drives it at a speed that grows with the distance
(town streets for short hops, highways for long ones). Such routes say `estimated=True`, and
every answer built on them says so.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from .geo import LatLon, distance_m, great_circle_points, interpolate

ROAD_FACTOR = 1.25  # offline: road distance / straight-line distance


@dataclass(frozen=True)
class Step:
    """A manoeuvre `at_m` metres along the route: 'Turn left onto Main Street'."""

    at_m: float
    instruction: str


@dataclass
class Route:
    points: list[LatLon]
    distance_m: float
    duration_s: float
    estimated: bool
    leg_ends_m: list[float] = field(default_factory=list)  # along-route distance of each stop
    steps: list[Step] = field(default_factory=list)
    source: str = "offline"

    def __post_init__(self) -> None:
        if len(self.points) < 2:
            self.points = [self.points[0], self.points[0]] if self.points else []
        self._cum = [0.0]
        for a, b in zip(self.points, self.points[1:], strict=False):
            self._cum.append(self._cum[-1] + distance_m(a, b))
        if not self.leg_ends_m:
            self.leg_ends_m = [self.distance_m]

    @property
    def speed_mps(self) -> float:
        return self.distance_m / self.duration_s if self.duration_s > 0 else 0.0

    def position_at(self, along_m: float) -> LatLon:
        """Where the car is after `along_m` metres of the route."""
        if not self.points:
            raise ValueError("empty route")
        geometry = self._cum[-1]
        if geometry <= 0 or self.distance_m <= 0:
            return self.points[-1]
        target = max(0.0, min(1.0, along_m / self.distance_m)) * geometry
        i = max(1, bisect.bisect_left(self._cum, target))
        i = min(i, len(self.points) - 1)
        seg = self._cum[i] - self._cum[i - 1]
        frac = (target - self._cum[i - 1]) / seg if seg > 0 else 1.0
        return interpolate(self.points[i - 1], self.points[i], frac)

    def next_step(self, along_m: float) -> Step | None:
        for step in self.steps:
            if step.at_m > along_m:
                return step
        return None


def estimated_speed_mps(straight_m: float) -> float:
    """Average speed for an offline estimate: ~35 km/h across town, up to 95 km/h far away."""
    km = straight_m / 1000
    kmh = min(95.0, 28.0 + 12.0 * math.log1p(km))
    return kmh / 3.6


def estimate_route(waypoints: list[LatLon]) -> Route:
    """Offline: straight legs, road factor, distance-dependent speed. `estimated=True`."""
    if len(waypoints) < 2:
        raise ValueError("a route needs a start and a destination")
    points: list[LatLon] = [waypoints[0]]
    leg_ends, total, duration = [], 0.0, 0.0
    for a, b in zip(waypoints, waypoints[1:], strict=False):
        straight = distance_m(a, b)
        road = straight * ROAD_FACTOR
        total += road
        duration += road / estimated_speed_mps(straight) if road else 0.0
        leg_ends.append(total)
        points.extend(great_circle_points(a, b)[1:])
    return Route(points, total, duration, estimated=True, leg_ends_m=leg_ends)
