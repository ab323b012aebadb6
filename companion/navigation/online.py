"""Online maps over httpx: a Nominatim-compatible geocoder and an OSRM-compatible router.

Both speak the real public APIs (nominatim.org `/search?format=jsonv2`, OSRM `/route/v1`);
anything unexpected in a response is a `ServiceError("malformed")`, and the navigator falls
back to the offline data. Nominatim's usage policy asks for a real User-Agent and at most one
request a second: we send one request per spoken request.
"""

from __future__ import annotations

import logging
from typing import Any

from ..webapi import JSONService, ServiceError, number
from .geo import LatLon
from .places import Place
from .routing import Route, Step

log = logging.getLogger(__name__)

# What to ask Nominatim for each place category ("charging station near ...").
CATEGORY_QUERY = {
    "charger": "charging station",
    "gas_station": "fuel",
    "coffee": "cafe",
    "restaurant": "restaurant",
    "grocery": "supermarket",
    "parking": "parking",
    "hotel": "hotel",
    "hospital": "hospital",
    "pharmacy": "pharmacy",
    "shopping": "mall",
    "rest_stop": "rest area",
    "bank": "bank",
    "airport": "airport",
}


class NominatimGeocoder(JSONService):
    name = "geocoder"

    async def search(
        self, query: str, near: LatLon, *, radius_m: float | None = None, limit: int = 5
    ) -> list[Place]:
        params: dict[str, Any] = {
            "q": query,
            "format": "jsonv2",
            "limit": limit,
            "addressdetails": 1,
        }
        span = (radius_m or 50_000) / 111_000
        params["viewbox"] = (
            f"{near.lon - span:.5f},{near.lat + span:.5f},"
            f"{near.lon + span:.5f},{near.lat - span:.5f}"
        )
        if radius_m is not None:
            params["bounded"] = 1
        data = await self.get_json("/search", params)
        if not isinstance(data, list):
            raise ServiceError(self.name, "malformed", "expected a list of places")
        places = []
        for item in data:
            try:
                pos = LatLon(number(item["lat"]), number(item["lon"]))
                display = str(item.get("display_name") or "")
                name = str(item.get("name") or display.split(",")[0]).strip()
            except (KeyError, TypeError, ValueError):
                log.info("geocoder: skipped a malformed result: %.200r", item)
                continue
            if not name:
                continue
            details = item.get("address")
            road = details.get("road") if isinstance(details, dict) else None
            address = str(road) if isinstance(road, str) else ""
            places.append(
                Place(
                    name,
                    pos,
                    str(item.get("type") or ""),
                    address,
                    source="online",
                    score=float(item.get("importance") or 0.5)
                    if isinstance(item.get("importance"), int | float)
                    else 0.5,
                )
            )
        if data and not places:
            raise ServiceError(self.name, "malformed", "no usable place in the answer")
        return places


_MODIFIERS = {
    "uturn": "Make a U-turn",
    "sharp left": "Turn sharp left",
    "sharp right": "Turn sharp right",
    "slight left": "Bear left",
    "slight right": "Bear right",
    "left": "Turn left",
    "right": "Turn right",
    "straight": "Continue straight",
}


def instruction(maneuver: dict[str, Any], road: str) -> str:
    kind = str(maneuver.get("type") or "")
    modifier = str(maneuver.get("modifier") or "")
    onto = f" onto {road}" if road else ""
    if kind == "depart":
        return f"Head out{' on ' + road if road else ''}"
    if kind == "arrive":
        return "Arrive at your destination"
    if kind in ("roundabout", "rotary"):
        exit_no = maneuver.get("exit")
        nth = f"take exit {exit_no}" if isinstance(exit_no, int) else "take the exit"
        return f"At the roundabout, {nth}{onto}"
    if kind in ("on ramp", "off ramp"):
        return f"Take the ramp{' ' + modifier if modifier else ''}{onto}"
    if kind == "merge":
        return f"Merge{onto}"
    if kind == "fork":
        side = modifier.replace("slight ", "") if modifier else ""
        return f"Keep {side or 'ahead'} at the fork{onto}"
    return f"{_MODIFIERS.get(modifier, 'Continue')}{onto}"


class OSRMRouter(JSONService):
    name = "router"

    async def route(self, waypoints: list[LatLon]) -> Route:
        coords = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in waypoints)
        data = await self.get_json(
            f"/route/v1/driving/{coords}",
            {"overview": "full", "geometries": "geojson", "steps": "true"},
        )
        if not isinstance(data, dict):
            raise ServiceError(self.name, "malformed", "expected a JSON object")
        code = data.get("code")
        if code in ("NoRoute", "NoSegment"):
            raise ServiceError(self.name, "not_found", "no road route between these places")
        if code != "Ok":
            raise ServiceError(self.name, "malformed", f"code {str(code)[:40]!r}")
        try:
            best = data["routes"][0]
            distance = number(best["distance"])
            duration = number(best["duration"])
            points = [
                LatLon(number(lat), number(lon)) for lon, lat in best["geometry"]["coordinates"]
            ]
            leg_ends: list[float] = []
            steps: list[Step] = []
            along = 0.0
            for leg in best.get("legs") or []:
                for step in leg.get("steps") or []:
                    maneuver = step.get("maneuver") or {}
                    text = instruction(maneuver, str(step.get("name") or ""))
                    steps.append(Step(along, text))
                    along += number(step.get("distance", 0))
                leg_ends.append(
                    sum(number(leg["distance"]) for leg in best["legs"][: len(leg_ends) + 1])
                )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ServiceError(
                self.name,
                "malformed",
                f"route is missing or has a bad field ({type(exc).__name__})",
            ) from None
        if len(points) < 2 or distance < 0 or duration < 0:
            raise ServiceError(self.name, "malformed", "route has no usable geometry")
        return Route(
            points,
            distance,
            duration,
            estimated=False,
            leg_ends_m=leg_ends,
            steps=steps,
            source="online",
        )
