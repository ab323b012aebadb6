"""The simulated car behind the car panel: speed, gear, battery, range, temperatures.

Plain state and arithmetic, no I/O. The front end's drive timer feeds it the trip's speed once
a second; it integrates distance and energy. The numbers are plausible for a mid-size EV, not
measured from one: this is a demo car.
"""

from __future__ import annotations

from dataclasses import dataclass

PACK_KWH = 75.0  # usable battery capacity
WH_PER_KM = 165.0  # average consumption at cruising speed
CLIMATE_MIN_C, CLIMATE_MAX_C = 16.0, 28.0
CLIMATE_STEP_C = 0.5


@dataclass
class Car:
    charge: float = 0.78  # state of charge, 0..1
    outside_c: float = 18.0
    climate_c: float = 21.0
    speed_kmh: float = 0.0
    odometer_km: float = 0.0

    @property
    def gear(self) -> str:
        return "D" if self.speed_kmh > 0 else "P"

    @property
    def battery_percent(self) -> int:
        return round(self.charge * 100)

    @property
    def range_km(self) -> float:
        return self.charge * PACK_KWH * 1000.0 / WH_PER_KM

    def drive(self, seconds: float, speed_kmh: float) -> None:
        """`seconds` of (simulated) driving at `speed_kmh`; 0 km/h is parked."""
        self.speed_kmh = max(0.0, speed_kmh)
        km = self.speed_kmh * seconds / 3600.0
        self.odometer_km += km
        self.charge = max(0.0, self.charge - km * WH_PER_KM / (PACK_KWH * 1000.0))

    def set_climate(self, celsius: float) -> float:
        """Clamp to what the car allows, in half degrees; returns the new setpoint."""
        value = round(min(CLIMATE_MAX_C, max(CLIMATE_MIN_C, celsius)) / CLIMATE_STEP_C)
        self.climate_c = value * CLIMATE_STEP_C
        return self.climate_c
