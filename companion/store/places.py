"""Saved places ("home", "work", "grandma's house") and recent destinations, per driver
profile, in the driver's database."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from ..text import fold
from .db import Database

RECENT_KEPT = 200  # destinations remembered per profile; older ones are dropped
MAX_NAME = 60  # characters in a saved place's name


def _said(name: str) -> str:
    """A name as it is kept: one space between words, at most MAX_NAME characters."""
    return " ".join(name.split())[:MAX_NAME]


def place_key(name: str) -> str:
    """How a saved name is compared: "My Grandma's House" and "grandmas house" are one."""
    return re.sub(r"^(?:my|our|the) ", "", fold(name)).strip()


@dataclass(frozen=True)
class SavedPlace:
    name: str  # as the driver said it: "grandma's house"
    label: str  # what it is: "Bluebird Coffee on Elm Street", "Portland, Oregon"
    lat: float
    lon: float
    address: str = ""
    category: str = ""
    at: float = 0.0  # when it was saved, or visited (seconds since the epoch)
    source: str = ""  # visits: where the place came from (sample, online, city, saved...)


class SavedPlaces:
    """The named places and the trip history of one profile."""

    def __init__(self, db: Database, profile: str) -> None:
        self.db, self.profile = db, profile

    # --- named places ------------------------------------------------------------------------

    def save(self, name: str, place: SavedPlace) -> SavedPlace | None:
        """Save (or move) `name`; returns what the name meant before, if anything."""
        name = _said(name)
        key = place_key(name)
        if not key:
            raise ValueError("a saved place needs a name")
        before = self.get(name)
        with self.db.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO places (profile, key, name, label, lat, lon, address, "
                "category, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.profile,
                    key,
                    name,
                    place.label,
                    place.lat,
                    place.lon,
                    place.address,
                    place.category,
                    time.time(),
                ),
            )
        return before

    def get(self, name: str) -> SavedPlace | None:
        rows = self.db.read(
            "SELECT name, label, lat, lon, address, category, saved_at FROM places "
            "WHERE profile = ? AND key = ?",
            (self.profile, place_key(name)),
        )
        return _place(rows[0]) if rows else None

    def all(self) -> list[SavedPlace]:
        rows = self.db.read(
            "SELECT name, label, lat, lon, address, category, saved_at FROM places "
            "WHERE profile = ? ORDER BY saved_at",
            (self.profile,),
        )
        return [_place(row) for row in rows]

    def names(self) -> list[str]:
        return [p.name for p in self.all()]

    def forget(self, name: str) -> bool:
        with self.db.write() as db:
            gone = db.execute(
                "DELETE FROM places WHERE profile = ? AND key = ?", (self.profile, place_key(name))
            ).rowcount
        return gone > 0

    def rename(self, old: str, new: str) -> bool:
        place = self.get(old)
        new = _said(new)
        if place is None or not place_key(new):
            return False
        with self.db.write() as db:
            db.execute(
                "UPDATE places SET key = ?, name = ? WHERE profile = ? AND key = ?",
                (place_key(new), new, self.profile, place_key(old)),
            )
        return True

    def wipe(self) -> int:
        with self.db.write() as db:
            gone = db.execute("DELETE FROM places WHERE profile = ?", (self.profile,)).rowcount
            gone += db.execute("DELETE FROM visits WHERE profile = ?", (self.profile,)).rowcount
        return int(gone)

    # --- recent destinations -----------------------------------------------------------------

    def visited(self, place: SavedPlace) -> None:
        """A trip to `place` started: remembered as a recent destination."""
        with self.db.write() as db:
            db.execute(
                "INSERT INTO visits (profile, label, lat, lon, address, category, source, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.profile,
                    place.label,
                    place.lat,
                    place.lon,
                    place.address,
                    place.category,
                    place.source,
                    place.at or time.time(),
                ),
            )
            db.execute(
                "DELETE FROM visits WHERE profile = ? AND id NOT IN (SELECT id FROM visits "
                "WHERE profile = ? ORDER BY at DESC, id DESC LIMIT ?)",
                (self.profile, self.profile, RECENT_KEPT),
            )

    def recent(
        self, category: str | None = None, before: float | None = None, limit: int = 10
    ) -> list[SavedPlace]:
        """Recent destinations, newest first: of one category, and/or before a time."""
        sql = (
            "SELECT label, label, lat, lon, address, category, at, source FROM visits "
            "WHERE profile = ?"
        )
        args: list[object] = [self.profile]
        if category:
            sql += " AND category = ?"
            args.append(category)
        if before is not None:
            sql += " AND at < ?"
            args.append(before)
        rows = self.db.read(sql + " ORDER BY at DESC, id DESC LIMIT ?", (*args, limit))
        return [_place(row) for row in rows]


def _place(row: Any) -> SavedPlace:
    name, label, lat, lon, address, category, at, *source = row
    return SavedPlace(
        str(name),
        str(label),
        float(lat),
        float(lon),
        str(address),
        str(category),
        float(at),
        str(source[0]) if source else "saved",
    )
