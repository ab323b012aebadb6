"""The driver's preferences that outlive a drive (last persona, volume, climate setpoint,
listen mode, kids mode), per driver profile, as JSON values in the driver's database."""

from __future__ import annotations

import json
from typing import Any

from .db import Database

# What is kept, and what type each must be when read back (anything else is ignored: the
# file may have been edited by hand).
KEPT: dict[str, type | tuple[type, ...]] = {
    "persona": str,
    "volume": (int, float),
    "climate_c": (int, float),
    "listen_mode": str,
    "kids_mode": bool,
}


class Preferences:
    def __init__(self, db: Database, profile: str) -> None:
        self.db, self.profile = db, profile

    def get(self, key: str) -> Any:
        rows = self.db.read(
            "SELECT value FROM preferences WHERE profile = ? AND key = ?", (self.profile, key)
        )
        return _checked(key, rows[0][0]) if rows else None

    def set(self, key: str, value: Any) -> None:
        if key not in KEPT:
            raise KeyError(f"not a kept preference: {key}")
        with self.db.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO preferences (profile, key, value) VALUES (?, ?, ?)",
                (self.profile, key, json.dumps(value)),
            )

    def all(self) -> dict[str, Any]:
        rows = self.db.read("SELECT key, value FROM preferences WHERE profile = ?", (self.profile,))
        return {str(k): v for k, raw in rows if (v := _checked(str(k), raw)) is not None}


def _checked(key: str, raw: object) -> Any:
    """A stored value read back: None when it is not JSON or not the type the key keeps."""
    try:
        value = json.loads(str(raw))
    except ValueError:
        return None
    wanted = KEPT.get(key)
    if wanted is not None and (
        not isinstance(value, wanted) or (wanted is not bool and isinstance(value, bool))
    ):
        return None
    return value
