"""Pure text formatting for the screen: units, times, meters and the route drawing."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..car.answers import to_unit

METRES_PER_MILE = 1609.344
KM_PER_MILE = 1.609344


def speed(kmh: float, units: str) -> str:
    return f"{round(kmh / KM_PER_MILE)} mph" if units == "mi" else f"{round(kmh)} km/h"


def distance(metres: float, units: str) -> str:
    value = metres / (METRES_PER_MILE if units == "mi" else 1000.0)
    return f"{value:.1f} {units}" if value < 100 else f"{round(value)} {units}"


def range_text(km: float, units: str) -> str:
    return f"{round(km / KM_PER_MILE)} mi" if units == "mi" else f"{round(km)} km"


def temperature(celsius: float, unit: str, decimals: int = 1) -> str:
    """'21.0°C', '70°F' (Fahrenheit in whole degrees)."""
    if unit == "F":
        return f"{to_unit(celsius, unit):.0f}°F"
    return f"{celsius:.{decimals}f}°C"


def duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def clock(now: datetime) -> str:
    return now.strftime("%H:%M")


def arrival(now: datetime, seconds: float) -> str:
    return clock(now + timedelta(seconds=seconds))


def bar(fraction: float, width: int, full: str = "▮", empty: str = "▯") -> str:
    """A fixed-width meter: `fraction` (0..1) of `width` cells filled."""
    width = max(0, width)
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return full * filled + empty * (width - filled)


def level_meter(db: float | None, width: int = 10) -> str:
    """Microphone level as a meter over -60..0 dBFS, with the number (visible without
    colour)."""
    if db is None:
        return bar(0.0, width) + "   -- dB"
    fraction = (max(-60.0, min(0.0, db)) + 60.0) / 60.0
    return f"{bar(fraction, width)} {db:5.0f} dB"


def route_line(progress: float, stop_marks: list[float], width: int) -> str:
    """The route as one line: driven ━, to go ─, stops ◆, the car ▶, the destination ■."""
    width = max(4, width)
    inner = width - 2  # the ends: start ● and destination ⚑
    cells = ["━" if (i + 0.5) / inner <= progress else "─" for i in range(inner)]
    for mark in stop_marks:
        cells[min(inner - 1, max(0, int(mark * inner)))] = "◆"
    cells[min(inner - 1, max(0, int(progress * inner)))] = "▶"
    return "●" + "".join(cells) + "■"
