"""Navigation: places (offline gazetteer + online geocoder), routes (online router or offline
estimate), trip state with a simulated drive, and the navigator skill that answers
`navigation.*` intents. `build_navigator(settings)` wires it from the user's settings."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import Settings
    from .geo import LatLon
    from .navigator import Answer, Navigator
    from .places import Gazetteer, Place
    from .trip import Trip, TripEvent

# Imported on first use: reading the settings (which needs navigation.geo's units) must not
# pull in the navigator, the online providers and httpx before the car screen's first frame.
_LAZY = {
    "Answer": "navigator",
    "Navigator": "navigator",
    "SAMPLE_PLACES": "places",
    "Gazetteer": "places",
    "Place": "places",
    "Trip": "trip",
    "TripEvent": "trip",
    "LatLon": "geo",
    "parse_latlon": "geo",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Answer",
    "Gazetteer",
    "LatLon",
    "Navigator",
    "Place",
    "Trip",
    "TripEvent",
    "build_navigator",
]


def start_position(text: str) -> LatLon:
    """`navigation.start` as a position: "lat,lon", or a city name looked up offline."""
    from .geo import LatLon, parse_latlon
    from .places import Gazetteer

    at = parse_latlon(text)
    if at is not None:
        return at
    probe = Gazetteer(LatLon(0.0, 0.0), sample_file=None)
    found = probe.find(text, LatLon(0.0, 0.0), 1)
    if not found:
        raise ValueError(
            f'navigation.start "{text}" is neither "lat,lon" nor a city I know. '
            'Use coordinates like "37.4419,-122.1430".'
        )
    return found[0].pos


def build_navigator(settings: Settings) -> Navigator:
    """Raises ValueError / DataFileError with a message naming the setting or file."""
    from pathlib import Path

    from .navigator import Navigator
    from .online import NominatimGeocoder, OSRMRouter
    from .places import SAMPLE_PLACES, Gazetteer

    nav = settings.navigation
    start = start_position(nav.start)
    places = Path(nav.places_file).expanduser() if nav.places_file else SAMPLE_PLACES
    cache = Path(nav.places_cache).expanduser() if nav.places_cache else None
    gazetteer = Gazetteer(start, places, home=nav.home, cache=cache)
    geocoder = NominatimGeocoder(nav.geocoder_url) if nav.online and nav.geocoder_url else None
    router = OSRMRouter(nav.router_url) if nav.online and nav.router_url else None
    return Navigator(gazetteer, units=nav.units, geocoder=geocoder, router=router)
