"""Trip state: where the car is, where it is going, and a simulated drive along the route.

The simulation moves the car along the route at the route's average speed (the router's, or
the offline estimate's), so "how long until we get there", the car panel and the navigation
card change over time. `advance()` is the only thing that moves it; the front end calls it
from a timer, tests call it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .geo import LatLon
from .places import Place
from .routing import Route


@dataclass
class TripEvent:
    kind: str  # reached_stop | arrived
    place: Place

    def describe(self) -> str:
        """The line a front end shows: "Arrived at X." / "Reached the stop at X."."""
        verb = "Arrived at" if self.kind == "arrived" else "Reached the stop at"
        return f"{verb} {self.place.label}."


@dataclass
class Trip:
    position: LatLon
    destination: Place | None = None
    stops: list[Place] = field(default_factory=list)  # in driving order, not yet reached
    route: Route | None = None
    travelled_m: float = 0.0  # along the current route
    preferences: tuple[str, ...] = ()  # what the driver asked of the route: avoid_traffic ...

    @property
    def active(self) -> bool:
        return self.destination is not None and self.route is not None

    @property
    def goal(self) -> Place:
        """The destination of the active trip (ask only while `active`)."""
        if self.destination is None:
            raise RuntimeError("no trip is active")
        return self.destination

    @property
    def path(self) -> Route:
        """The route of the active trip (ask only while `active`)."""
        if self.route is None:
            raise RuntimeError("no trip is active")
        return self.route

    @property
    def estimated(self) -> bool:
        return self.route is None or self.route.estimated

    @property
    def remaining_m(self) -> float:
        if not self.active:
            return 0.0
        return max(0.0, self.path.distance_m - self.travelled_m)

    @property
    def remaining_s(self) -> float:
        if not self.active or self.path.speed_mps <= 0:
            return 0.0
        return self.remaining_m / self.path.speed_mps

    @property
    def speed_kmh(self) -> float:
        """The simulated car's speed: the route's average while a trip is on, else parked."""
        return self.path.speed_mps * 3.6 if self.active else 0.0

    def next_instruction(self) -> str | None:
        if not self.active:
            return None
        step = self.path.next_step(self.travelled_m)
        return step.instruction if step else None

    def set_route(self, destination: Place, stops: list[Place], route: Route) -> None:
        self.destination, self.stops, self.route = destination, list(stops), route
        self.travelled_m = 0.0

    def cancel(self) -> Place | None:
        was = self.destination
        self.destination, self.stops, self.route, self.travelled_m = None, [], None, 0.0
        self.preferences = ()
        return was

    def advance(self, seconds: float) -> list[TripEvent]:
        """Drive on for `seconds` of simulated time; report stops reached and arrival."""
        if not self.active or seconds <= 0:
            return []
        route = self.path
        before = self.travelled_m
        self.travelled_m = min(route.distance_m, before + route.speed_mps * seconds)
        self.position = route.position_at(self.travelled_m)
        events = []
        # leg_ends_m: one per leg; the last is the destination itself.
        passed = [end for end in route.leg_ends_m[:-1] if before < end <= self.travelled_m]
        for _ in passed:
            if self.stops:
                events.append(TripEvent("reached_stop", self.stops.pop(0)))
        if self.travelled_m >= route.distance_m:
            events.append(TripEvent("arrived", self.goal))
            self.destination, self.stops, self.route, self.travelled_m = None, [], None, 0.0
        return events
