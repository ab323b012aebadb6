"""The simulated drive: the car (`companion.car.Car`) moving along the navigator's route.

Once a second (`tick_s`) the drive moves on by `navigation.sim_speedup` seconds: the
navigator advances the trip (an arrival becomes a `Notice`), the car integrates distance and
energy at the trip's speed, and a `DriveUpdate` goes to the front ends. It is the one owner
of the car's state and of the speed the personas' limits see: a dialogue test may fix that
speed (`set_speed`); everyone else reads `speed_kmh`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from .car import Car
from .car.answers import range_warning
from .car.energy import DEFAULT_RESERVE_PERCENT, reach
from .events import AnyEvent, DriveUpdate, Notice

if TYPE_CHECKING:
    from .config import CarSettings, NavigationSettings
    from .navigation.navigator import Navigator

log = logging.getLogger(__name__)


class SimulatedDrive:
    def __init__(
        self,
        settings: NavigationSettings,
        post: Callable[[AnyEvent], None],
        car: CarSettings | None = None,
    ) -> None:
        self.settings = settings
        self.post = post
        self.car = Car()
        self.units = settings.units
        self.temperature = car.temperature if car is not None else "C"
        self.reserve_percent = car.reserve_percent if car is not None else DEFAULT_RESERVE_PERCENT
        self.navigator: Navigator | None = None  # set once navigation is loaded
        self._fixed: tuple[float | None] | None = None  # set_speed(): not simulated
        self.warned_for: str | None = None  # the destination the driver was told about
        self._task: asyncio.Task[None] | None = None

    def start(self, tick_s: float, tick: Callable[[float], None]) -> None:
        """On the loop: call `tick(tick_s)` every `tick_s` seconds (0: never)."""
        if tick_s > 0:
            self._task = asyncio.ensure_future(self._loop(tick_s, tick))

    async def _loop(self, tick_s: float, tick: Callable[[float], None]) -> None:
        while True:
            await asyncio.sleep(tick_s)
            try:
                tick(tick_s)
            except Exception:  # a bug in the drive must not stop the assistant
                log.exception("the simulated drive failed")

    def tick(self, seconds: float) -> None:
        """The drive moves on (if simulated) and the front ends hear where the car is."""
        if self.settings.simulate_drive:
            self.drive(seconds * self.settings.sim_speedup)
        self.post(self.update())

    def drive(self, seconds: float) -> None:
        """`seconds` of simulated driving along the route (arrivals become Notices)."""
        navigator = self.navigator
        if navigator is not None:
            speed = navigator.trip.speed_kmh
            for event in navigator.advance(seconds):
                self.post(Notice(event.describe()))
            self.car.drive(seconds, speed if navigator.trip.active else 0.0)

    @property
    def speed_kmh(self) -> float | None:
        """What the personas' speed limits see: the simulated car's, unless `set_speed`."""
        return self._fixed[0] if self._fixed is not None else self.car.speed_kmh

    def set_speed(self, kmh: float | None) -> None:
        """Fix the speed the personas see (a dialogue test's `speed_kmh`); None: unknown."""
        self._fixed = (kmh,)

    def set_climate(self, celsius: float) -> float:
        """The cabin's setpoint, clamped to the car's limits; the front ends hear it."""
        value = self.car.set_climate(celsius)
        self.post(self.update())
        return value

    def set_climate_on(self, on: bool) -> None:
        self.car.climate_on = on
        self.post(self.update())

    def range_warning(self) -> str | None:
        """Once per destination: the sentence to say when the rest of the route (up to a
        charger stop, if the route has one) needs more than the battery holds with the
        reserve; the navigator then asks whether to add a charger. None: nothing to say."""
        navigator = self.navigator
        if navigator is None or not navigator.trip.active:
            return None
        trip = navigator.trip
        goal = trip.goal
        if self.warned_for == goal.label:
            return None
        metres = trip.remaining_m
        ends = [e for e in trip.path.leg_ends_m[:-1] if e > trip.travelled_m]
        for stop, end in zip(trip.stops, ends, strict=False):
            if stop.category == "charger":  # the car charges there: the leg to it counts
                metres = end - trip.travelled_m
                break
        r = reach(self.car, metres / 1000, trip.speed_kmh or None, self.reserve_percent)
        if r.makes_it:
            return None
        self.warned_for = goal.label
        navigator.offer_charger(goal)
        return range_warning(goal.label, r, self.units)

    def update(self) -> DriveUpdate:
        car = self.car
        trip = self.navigator.snapshot() if self.navigator is not None else None
        return DriveUpdate(
            car.speed_kmh,
            car.gear,
            car.battery_percent,
            car.range_km,
            car.outside_c,
            car.climate_c,
            trip,
            car.climate_on,
        )

    async def aclose(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
