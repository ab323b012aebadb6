"""What the car remembers between drives, in one local SQLite file (`db.py`): saved places
and recent destinations (`places.py`), preferences (`prefs.py`) and the persona's opt-in
memory of the driver (`facts.py`), each kept per driver profile (`driver.profile`).

`open_store(settings)` gives the profile's `DriverStore`, or None when `driver.save` is off;
a database that can't be used is reported (`StoreError`), never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .db import Database, StoreError, default_path
from .facts import DriverMemory
from .places import SavedPlace, SavedPlaces, place_key
from .prefs import Preferences

if TYPE_CHECKING:
    from ..config import Settings

__all__ = [
    "Database",
    "DriverMemory",
    "DriverStore",
    "Preferences",
    "SavedPlace",
    "SavedPlaces",
    "StoreError",
    "database_path",
    "open_store",
    "place_key",
]


@dataclass
class DriverStore:
    """One driver profile's view of the database. `remember`: the opt-in memory is on;
    `remember_in_kids_mode`: it may also keep and recall facts while kids mode is on."""

    db: Database
    profile: str
    remember: bool = False
    remember_in_kids_mode: bool = False

    def __post_init__(self) -> None:
        self.places = SavedPlaces(self.db, self.profile)
        self.prefs = Preferences(self.db, self.profile)
        self.memory = DriverMemory(self.db, self.profile)

    def may_remember(self, kids_mode: bool) -> bool:
        return self.remember and (self.remember_in_kids_mode or not kids_mode)

    def close(self) -> None:
        self.db.close()


def database_path(settings: Settings) -> str:
    return settings.driver.database or str(default_path())


def open_store(settings: Settings) -> DriverStore | None:
    """The driver's store from the settings (None: `driver.save` is off). Raises
    `StoreError` with one line to show when the file can't be used."""
    driver = settings.driver
    if not driver.save:
        return None
    return DriverStore(
        Database(database_path(settings)),
        driver.profile,
        remember=driver.remember,
        remember_in_kids_mode=driver.remember_in_kids_mode,
    )
