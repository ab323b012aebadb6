"""Geometry on the Earth's surface, and how distances and times are said aloud.

Plain functions on (latitude, longitude) pairs in degrees; distances in metres, times in
seconds. Accurate enough for a car (spherical Earth, errors well under 0.5 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_MILE = 1609.344
UNITS = ("mi", "km")


@dataclass(frozen=True, slots=True)
class LatLon:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"not a position on Earth: {self.lat}, {self.lon}")

    def __str__(self) -> str:
        return f"{self.lat:.5f},{self.lon:.5f}"


def parse_latlon(text: str) -> LatLon | None:
    """`"37.4419, -122.1430"` -> LatLon; None when the text is not two numbers."""
    parts = text.replace(";", ",").split(",")
    if len(parts) != 2:
        return None
    try:
        return LatLon(float(parts[0]), float(parts[1]))
    except ValueError:
        return None


def distance_m(a: LatLon, b: LatLon) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bearing_deg(a: LatLon, b: LatLon) -> float:
    """Initial compass bearing from a to b, 0 = north, clockwise."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dl = math.radians(b.lon - a.lon)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(x, y)) + 360.0) % 360.0


def compass(bearing: float) -> str:
    names = ("north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest")
    return names[round(bearing / 45.0) % 8]


def offset(origin: LatLon, east_m: float, north_m: float) -> LatLon:
    """The point `east_m` east and `north_m` north of `origin` (small offsets)."""
    lat = origin.lat + math.degrees(north_m / EARTH_RADIUS_M)
    lon = origin.lon + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(origin.lat))))
    return LatLon(max(-90.0, min(90.0, lat)), (lon + 540.0) % 360.0 - 180.0)


def interpolate(a: LatLon, b: LatLon, fraction: float) -> LatLon:
    """A point `fraction` of the way from a to b (linear in degrees; fine for road segments)."""
    fraction = max(0.0, min(1.0, fraction))
    dlon = ((b.lon - a.lon + 540.0) % 360.0) - 180.0
    lon = ((a.lon + dlon * fraction + 540.0) % 360.0) - 180.0
    return LatLon(a.lat + (b.lat - a.lat) * fraction, lon)


def great_circle_points(a: LatLon, b: LatLon, step_m: float = 20_000.0) -> list[LatLon]:
    """a, b and points in between no more than `step_m` apart (for long straight estimates)."""
    total = distance_m(a, b)
    n = max(1, math.ceil(total / step_m))
    if n == 1:
        return [a, b]
    p1, l1 = math.radians(a.lat), math.radians(a.lon)
    p2, l2 = math.radians(b.lat), math.radians(b.lon)
    d = total / EARTH_RADIUS_M
    points = [a]
    for i in range(1, n):
        f = i / n
        s1, s2 = math.sin((1 - f) * d) / math.sin(d), math.sin(f * d) / math.sin(d)
        x = s1 * math.cos(p1) * math.cos(l1) + s2 * math.cos(p2) * math.cos(l2)
        y = s1 * math.cos(p1) * math.sin(l1) + s2 * math.cos(p2) * math.sin(l2)
        z = s1 * math.sin(p1) + s2 * math.sin(p2)
        points.append(
            LatLon(math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x)))
        )
    points.append(b)
    return points


# --- Said aloud ------------------------------------------------------------------------------


def say_distance(metres: float, units: str = "mi") -> str:
    """'0.4 miles', '12 miles', '300 metres'... rounded the way a person would say it."""
    if units == "km":
        if metres < 950:
            return f"{max(50, round(metres / 50) * 50)} metres"
        km = metres / 1000
        return f"{km:.1f} kilometres" if km < 10 else f"{round(km)} kilometres"
    miles = metres / METRES_PER_MILE
    if miles < 0.1:
        feet = max(100, round(metres * 3.28084 / 100) * 100)
        return f"{feet} feet"
    if miles < 10:
        text = f"{miles:.1f}"
        return "1 mile" if text == "1.0" else f"{text} miles"
    return f"{round(miles)} miles"


def say_duration(seconds: float) -> str:
    """'under a minute', '7 minutes', '1 hour 5 minutes', '3 hours'."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    hours, minutes = divmod(minutes, 60)
    hour_text = "1 hour" if hours == 1 else f"{hours} hours"
    if minutes == 0 or hours >= 5:
        return hour_text
    return f"{hour_text} {minutes} minute{'s' if minutes != 1 else ''}"
