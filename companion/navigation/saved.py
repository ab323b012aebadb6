"""The navigator's saved places and trip history (`PlaceBook`): "save this place as
grandma's house", "set my home to 418 Larchmont Avenue", "what places have you saved",
"forget the gym", "rename the gym to the pool", "take me back to where we went yesterday",
"the last charger we used". The rows live in the driver's database (`store/places.py`);
this module turns them into `Place`s the navigator can drive to, and answers the
`places.*` intents in one short sentence each.
"""

from __future__ import annotations

import datetime
import time
from typing import TYPE_CHECKING, Any

from ..store import SavedPlace, SavedPlaces, place_key
from .geo import LatLon

if TYPE_CHECKING:
    from .charging import Wayfinder
    from .places import Place

MAX_LISTED = 6  # saved places read out at once
Said = tuple[str, str, dict[str, Any]]  # spoken text, action, data


def as_place(saved: SavedPlace, source: str = "saved") -> Place:
    from .places import Place

    name = saved.name if source == "saved" else saved.label
    return Place(
        name,
        LatLon(saved.lat, saved.lon),
        saved.category,
        saved.label if source == "saved" else saved.address,
        source=source,
    )


def as_saved(place: Place, name: str = "") -> SavedPlace:
    label = place.address if place.source == "saved" and place.address else place.label
    return SavedPlace(
        name or place.name,
        label,
        place.pos.lat,
        place.pos.lon,
        place.address,
        place.category,
        source=place.source,
    )


def _window(when: str | None, now: float) -> tuple[float | None, float | None]:
    """(after, before) for "yesterday", "this morning", "last week"...; (None, None): any."""
    if not when:
        return None, None
    today = datetime.datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    midnight = today.timestamp()
    day = 86400.0
    return {
        "yesterday": (midnight - day, midnight),
        "last night": (midnight - day + 17 * 3600, midnight + 6 * 3600),
        "this morning": (midnight, midnight + 12 * 3600),
        "this afternoon": (midnight + 12 * 3600, midnight + 18 * 3600),
        "earlier today": (midnight, now),
        "today": (midnight, now),
        "last week": (midnight - 14 * day, midnight - day),
    }.get(when, (None, None))


class PlaceBook:
    """Saved places and recent destinations for the navigator (one driver profile)."""

    def __init__(self, places: SavedPlaces, clock: Any = time.time) -> None:
        self.places = places
        self.clock = clock

    # --- what the navigator asks ---------------------------------------------------------------

    def find(self, query: str) -> list[Place]:
        """A saved place by its name ("grandma's house", "work"), or nothing."""
        found = self.places.get(query)
        return [as_place(found)] if found is not None else []

    def names(self) -> list[str]:
        return self.places.names()

    def went_to(self, place: Place) -> None:
        """A trip to (or a stop at) `place` started: the history."""
        if place.source != "coordinates":
            pos = place.pos
            self.places.visited(
                SavedPlace(
                    place.label,
                    place.label,
                    pos.lat,
                    pos.lon,
                    place.address,
                    place.category,
                    self.clock(),
                    place.source,
                )
            )

    def recent(self, slots: dict[str, Any]) -> tuple[Place | None, str]:
        """The place from the history the words point at, or None and why not (spoken)."""
        category = slots.get("category")
        after, before = _window(slots.get("when"), self.clock())
        found = [
            v
            for v in self.places.recent(category, before=before, limit=50)
            if after is None or v.at >= after
        ]
        if not found:
            what = f"{category.replace('_', ' ')} " if category else ""
            when = f" {slots['when']}" if slots.get("when") else ""
            return None, f"I don't have a {what}trip{when} in the history yet."
        return as_place(found[0], "history"), ""

    # --- the places.* intents ------------------------------------------------------------------

    async def answer(self, navigator: Wayfinder, intent: str, slots: dict[str, Any]) -> Said:
        """(spoken text, action, data) for a places.* intent."""
        action = intent.partition(".")[2]
        if action == "save":
            return await self._save(navigator, slots)
        if action == "forget":
            return self._forget(slots)
        if action == "rename":
            return self._rename(slots)
        return self._list()

    async def _save(self, navigator: Wayfinder, slots: dict[str, Any]) -> Said:
        said = str(slots.get("place") or "").strip()
        if said in ("here", "where we are", "where we are now", "the current location"):
            from .places import Place

            here = navigator.trip.position
            place: Place | None = Place("the spot", here, source="coordinates")
        elif said:
            found = [p for p in await navigator.resolve(said) if p.source != "saved"]
            if not found:
                return (
                    f"I couldn't find {said}, so I didn't save it.",
                    "no_match",
                    {"query": said},
                )
            place = found[0]
        else:
            trip = navigator.trip
            place = trip.goal if trip.active else navigator.discussed.place
        if place is None:
            return (
                "Save which place? Start a route or find a place first, or tell me the address.",
                "nothing_to_save",
                {},
            )
        name = str(slots.get("name") or "").strip() or place.name
        if not place_key(name):
            return ("What should I call it?", "nothing_to_save", {})
        saved = as_saved(place, name)
        before = self.places.save(name, saved)
        label = saved.label
        text = f"Saved {label} as {name}."
        if place.source == "coordinates":
            text = f"Saved this spot as {name}."
        if before is not None and before.label != label:
            text += f" It was {before.label}."
        return text, "place_saved", {"name": name, "place": label}

    def _forget(self, slots: dict[str, Any]) -> Said:
        name = str(slots.get("name") or "").strip()
        if slots.get("all"):
            return (
                "To clear every saved place, use the saved places view or `companion places wipe`.",
                "forget_all_refused",
                {},
            )
        if not name:
            return "Forget which place?", "no_match", {}
        saved = self.places.get(name)
        if saved is None or not self.places.forget(name):
            return self._unknown(name)
        return f"Forgot {saved.name}.", "place_forgotten", {"name": saved.name}

    def _rename(self, slots: dict[str, Any]) -> Said:
        old, new = str(slots.get("name") or ""), str(slots.get("new_name") or "")
        saved = self.places.get(old)
        if saved is None:
            return self._unknown(old)
        if not self.places.rename(old, new):
            return "What should I call it?", "no_match", {}
        return f"Renamed {saved.name} to {new}.", "place_renamed", {"name": new, "was": saved.name}

    def _unknown(self, name: str) -> Said:
        names = self.names()
        known = f" I have {_listed(names)}." if names else " I have no saved places yet."
        return f"I don't have a place saved as {name}.{known}", "no_match", {"query": name}

    def _list(self) -> Said:
        names = self.names()
        recent = [v.label for v in self.places.recent(limit=3)]
        data: dict[str, Any] = {"saved": names, "recent": recent}
        if not names:
            text = 'You have no saved places yet. Say "save this place as" and a name.'
        else:
            more = len(names) - MAX_LISTED
            text = f"Your saved places: {_listed(names[:MAX_LISTED])}"
            text += f", and {more} more." if more > 0 else "."
        if recent:
            text += f" Last trip: {recent[0]}."
        return text, "places_listed", data


def _listed(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
