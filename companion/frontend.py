"""Pieces every interactive front end shares (`companion chat`/`listen` and the screen):
building the skills from the settings, earcon cues, and comparing a guess with final words."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .schema import DataFileError

if TYPE_CHECKING:  # the skills and speech modules load when used, not at start-up
    from .config import Settings
    from .navigation import Navigator
    from .search import Searcher
    from .tts.speaker import Speaker


def build_skills(settings: Settings, notice: Callable[[str], None]
                 ) -> tuple[Navigator | None, Searcher | None]:
    """Navigation and search from the settings. A bad setting or data file is reported and
    that skill is left out (its requests go to the persona); the conversation goes on."""
    from .navigation import build_navigator
    from .search import build_searcher

    navigator = searcher = None
    try:
        if settings.navigation.enabled:
            navigator = build_navigator(settings)
            threading.Thread(target=navigator.gazetteer.preload, name="gazetteer",
                             daemon=True).start()
    except (ValueError, DataFileError) as exc:
        notice(f"Navigation is off: {exc}")
    try:
        if settings.search.enabled:
            searcher = build_searcher(settings)
    except (ValueError, OSError) as exc:
        notice(f"Search is off: {exc}")
    return navigator, searcher


class Cues:
    """Earcons through the speaker (in order with speech), if speech and earcons are on."""

    def __init__(self, speaker: Speaker | None, enabled: bool) -> None:
        from .tts.earcons import Earcons

        self.speaker = speaker if enabled else None
        self.earcons = Earcons()

    def __call__(self, name: str) -> None:
        if self.speaker is not None:
            audio = self.earcons.get(name)
            if audio is not None:
                self.speaker.cue(audio, name)


def same_words(a: str, b: str) -> bool:
    """Whether two transcripts say the same words (case and punctuation aside)."""

    def norm(text: str) -> list[str]:
        return ["".join(c for c in w if c.isalnum() or c == "'") for w in text.lower().split()]

    return norm(a) == norm(b)
