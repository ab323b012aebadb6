"""Keeping the driver's preferences between drives: `Keeper` restores them when the
assistant starts (the last persona, volume, climate setpoint, listen mode, and kids mode if
it was on) and writes each change as it happens, from the core's own events.

Safety keeps its rules: kids mode that was on at the end of a drive is on at the start of
the next (turning it off still needs the PIN on the screen, or `safety.kids_mode = false`
written in the settings); the mature opt-in is never kept, it comes from the settings
alone. A preference set by a flag or the
environment for this run wins over the kept one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..events import (
    AnyEvent,
    DriveUpdate,
    Notice,
    PersonaSwitched,
    SafetyChanged,
    Status,
    VolumeChanged,
)
from ..tts.output import clamp_volume
from . import DriverStore, StoreError, open_store

if TYPE_CHECKING:
    from ..config import Settings
    from ..drive import SimulatedDrive
    from ..personas.session import PersonaSession
    from ..tts.output import SpeechOutput

log = logging.getLogger(__name__)


def _for_this_run(source: str | None) -> bool:
    """A setting given for this run (a flag, an environment variable) wins over a kept one."""
    return source == "flag" or str(source).startswith("env ")


class Keeper:
    """The driver's store for the assistant (None inside when driver.save is off or the file
    can't be used), and the preferences it keeps."""

    def __init__(self, store: DriverStore | None, owned: bool = True) -> None:
        self.store = store
        self._owned = owned  # opened here from the settings: closed here too
        self._climate: float | None = None
        self.news: list[AnyEvent] = []  # for the front end, once it listens

    @classmethod
    def open(cls, settings: Settings, given: DriverStore | None) -> Keeper:
        """The store handed in (a test's, a dialogue's), else the one the settings name. A
        database that can't be used costs one line on the screen (`news`), never the drive."""
        if given is not None:
            return cls(given, owned=False)
        try:
            store = open_store(settings)
        except StoreError as exc:
            keeper = cls(None)
            keeper.news.append(Status("memory", "problem", f"Nothing is kept: {exc}"))
            return keeper
        keeper = cls(store)
        if store is not None and store.db.notice:
            keeper.news.append(Notice(store.db.notice))
        return keeper

    def restore(
        self,
        settings: Settings,
        session: PersonaSession,
        output: SpeechOutput,
        drive: SimulatedDrive,
    ) -> None:
        """Before the first turn: what the driver had at the end of the last drive."""
        if self.store is None:
            return
        from ..stt.base import LISTEN_MODES

        self._climate = drive.car.climate_c  # a change from here on is kept
        kept = self.store.prefs.all()
        sources = settings.sources
        # Kids mode on stays on, unless the owner's settings say off in so many words (the
        # config file, a flag): changing kids mode is a setting, never something said.
        explicit = sources.get("safety.kids_mode", "default") != "default"
        if kept.get("kids_mode") and not session.kids_mode and not explicit:
            session.set_safety(kids_mode=True)
        persona = session.cast.get(str(kept.get("persona", "")))
        if (
            persona is not None
            and not _for_this_run(sources.get("persona.default"))
            and session.allowed(persona) is None
        ):
            session.active = persona
        mode = kept.get("listen_mode")
        if mode in LISTEN_MODES and not _for_this_run(sources.get("speech.listen_mode")):
            settings.speech.listen_mode = mode
        if isinstance(kept.get("volume"), (int, float)):
            output.volume = clamp_volume(float(kept["volume"]))
        if isinstance(kept.get("climate_c"), (int, float)):
            self._climate = drive.set_climate(float(kept["climate_c"]))

    def observe(self, event: AnyEvent) -> None:
        """Every event the core posts: a change worth keeping is written at once."""
        if self.store is None:
            return
        match event:
            case PersonaSwitched():
                self.keep("persona", event.persona_id)
            case VolumeChanged():
                self.keep("volume", event.volume)
            case SafetyChanged():
                self.keep("kids_mode", event.kids_mode)
            case DriveUpdate() if event.climate_c != self._climate:
                self._climate = event.climate_c
                self.keep("climate_c", event.climate_c)

    def keep(self, key: str, value: Any) -> None:
        if self.store is None:
            return
        try:
            self.store.prefs.set(key, value)
        except Exception:  # a full disk or a locked file must not cost the turn
            log.warning("could not keep %s", key, exc_info=True)

    def close(self) -> None:
        if self.store is not None and self._owned:
            self.store.close()
