"""Can the car make it? The energy a route needs against the battery, with a reserve.

A route's energy is its distance at the consumption for its average speed
(`state.wh_per_km`); the answer keeps a reserve (`car.reserve_percent`, 10 % of the pack by
default) for the unexpected: arriving with less than that counts as not making it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .state import PACK_KWH, Car, wh_per_km

DEFAULT_RESERVE_PERCENT = 10.0


@dataclass(frozen=True)
class Reach:
    """One route against the battery. Percentages are of the whole pack."""

    distance_km: float
    need_percent: float  # the charge the route uses
    arrival_percent: float  # what is left on arrival (may be below zero: it would run out)
    reserve_percent: float
    range_km: float  # the car's rated range now
    wh_per_km: float  # the consumption assumed for this route

    @property
    def makes_it(self) -> bool:
        return self.arrival_percent >= self.reserve_percent

    @property
    def short_km(self) -> float:
        """How far before the destination the battery would run empty (0: it wouldn't)."""
        return max(0.0, -self.arrival_percent) / 100 * PACK_KWH * 1000 / self.wh_per_km


def reach(
    car: Car,
    distance_km: float,
    speed_kmh: float | None = None,
    reserve_percent: float = DEFAULT_RESERVE_PERCENT,
) -> Reach:
    """Will `distance_km` at an average `speed_kmh` (None: unknown) leave the reserve?"""
    rate = wh_per_km(speed_kmh)
    need = distance_km * rate / (PACK_KWH * 1000.0) * 100.0
    return Reach(distance_km, need, car.charge * 100.0 - need, reserve_percent, car.range_km, rate)
