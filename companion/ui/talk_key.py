"""The talk key (Space, F5, the mic button): push-to-talk, toggled or held.

A terminal reports no key-up, so holding is told from the key's repeats: a key held repeats,
and the release is when the repeats stop. A tap with no repeat leaves the microphone open,
as toggling does.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

HOLD_REPEAT_GAP_S = 0.25  # hold-to-talk: key repeats stopped this long = released
HOLD_FIRST_REPEAT_S = 0.7  # no repeat by then: it was a tap (stays open, like toggle)


class Screen(Protocol):
    settings: Any
    assistant: Any

    def set_interval(self, interval: float, callback: Any) -> Any: ...


class TalkKey:
    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.held = False  # held down now (hold style)
        self._pressed_at = self._last_key = 0.0
        self._timer: Any = None

    def pressed(self) -> None:
        assistant = self.screen.assistant
        if self.screen.settings.speech.push_to_talk != "hold":
            assistant.press()
            return
        now = time.monotonic()
        if self._timer is not None and self.held:
            self._last_key = now  # a key repeat while held
            return
        self._pressed_at = self._last_key = now
        self.held = True
        assistant.press()
        self._timer = self.screen.set_interval(0.05, self._check)

    def _check(self) -> None:
        now = time.monotonic()
        repeated = self._last_key > self._pressed_at
        if (repeated and now - self._last_key > HOLD_REPEAT_GAP_S) or (
            not repeated and now - self._pressed_at > HOLD_FIRST_REPEAT_S
        ):
            if repeated:
                self.screen.assistant.release()
            self._timer.stop()
            self._timer = None
            self.held = False
