"""The simulated car: speed, gear, battery, range, temperatures, climate, odometer.

Plain state and arithmetic, no I/O. The simulated drive (`companion.drive`) feeds it the
trip's speed once a second; it integrates distance and energy. The numbers are plausible for
a mid-size EV, not measured from one: this is a demo car.

Energy: consumption grows with speed (air drag goes with the square of it), from about
120 Wh/km in town to about 200 Wh/km at 110 km/h; the *rated* range the panel shows uses the
average figure, `WH_PER_KM`, as a car's range display does.
"""

from __future__ import annotations

from dataclasses import dataclass

PACK_KWH = 75.0  # usable battery capacity
WH_PER_KM = 165.0  # rated average consumption: what the range on the panel assumes
CLIMATE_MIN_C, CLIMATE_MAX_C = 16.0, 28.0
CLIMATE_STEP_C = 0.5  # the setpoint's resolution
TEMPERATURE_UNITS = ("C", "F")  # how temperatures are said and shown (car.temperature)


def wh_per_km(speed_kmh: float | None) -> float:
    """Consumption at a steady average speed; unknown speed: the rated average."""
    if speed_kmh is None or speed_kmh <= 0:
        return WH_PER_KM
    return 110.0 + 0.0075 * speed_kmh**2  # 50 km/h: 129, 90: 171, 120: 218 Wh/km


@dataclass
class Car:
    charge: float = 0.78  # state of charge, 0..1
    outside_c: float = 18.0
    climate_c: float = 21.0  # the cabin's setpoint
    climate_on: bool = True
    speed_kmh: float = 0.0
    odometer_km: float = 18_240.0

    @property
    def gear(self) -> str:
        return "D" if self.speed_kmh > 0 else "P"

    @property
    def battery_percent(self) -> int:
        return round(self.charge * 100)

    @property
    def range_km(self) -> float:
        """The rated range: what the panel shows and the driver is told."""
        return self.charge * PACK_KWH * 1000.0 / WH_PER_KM

    @property
    def cabin_c(self) -> float:
        """The cabin's temperature: the setpoint while the climate runs (the demo car holds
        it), the outside temperature when it is off."""
        return self.climate_c if self.climate_on else self.outside_c

    def drive(self, seconds: float, speed_kmh: float) -> None:
        """`seconds` of (simulated) driving at `speed_kmh`; 0 km/h is parked."""
        self.speed_kmh = max(0.0, speed_kmh)
        km = self.speed_kmh * seconds / 3600.0
        self.odometer_km += km
        used = km * wh_per_km(self.speed_kmh) / (PACK_KWH * 1000.0)
        self.charge = max(0.0, self.charge - used)

    def set_climate(self, celsius: float) -> float:
        """Clamp to what the car allows, in half degrees; returns the new setpoint. Setting a
        temperature turns the climate on."""
        value = round(min(CLIMATE_MAX_C, max(CLIMATE_MIN_C, celsius)) / CLIMATE_STEP_C)
        self.climate_c = value * CLIMATE_STEP_C
        self.climate_on = True
        return self.climate_c
