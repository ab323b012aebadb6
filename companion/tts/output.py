"""The one owner of what the driver hears: the speaker, its volume and mute.

Everything that changes the volume or mute asks this object (a key, the dock's buttons, a
spoken "louder", the settings); everything that shows it (the dock) hears `VolumeChanged`.
So a spoken "louder" is what the dock shows next, and the next key press starts from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..events import VolumeChanged

if TYPE_CHECKING:
    from ..personas import Voice

MIN_VOLUME = 0.1  # never silent by volume: mute is for that
KEY_STEP = 0.1  # a key or a button
VOICE_STEP = 0.2  # "louder" / "quieter": enough to hear the difference


def clamp_volume(volume: float) -> float:
    """A volume as the speaker takes it: MIN_VOLUME .. 1, in hundredths."""
    return min(1.0, max(MIN_VOLUME, round(volume, 2)))


class SpeakerLike(Protocol):
    """What the core needs of the speaking stage (`companion.tts.speaker.Speaker`)."""

    volume: float

    @property
    def busy(self) -> bool: ...
    def say(self, text: str, voice: Voice, reports: Any = None) -> None: ...
    def cue(self, audio: Any, name: str = "earcon") -> None: ...
    def stop(self) -> None: ...
    def wait_until_done(self, timeout: float | None = None) -> bool: ...
    def close(self) -> None: ...


class SpeechOutput:
    """`speaker` is the speaking stage (None until loaded, or when there is no voice);
    `active` is the speaker replies go to (None while muted)."""

    def __init__(
        self, post: Callable[[VolumeChanged], None] | None = None, *, muted: bool = False
    ) -> None:
        self._post = post
        self._speaker: SpeakerLike | None = None
        self.volume = 1.0
        self.muted = muted

    @property
    def speaker(self) -> SpeakerLike | None:
        return self._speaker

    @speaker.setter
    def speaker(self, speaker: SpeakerLike | None) -> None:
        self._speaker = speaker
        if speaker is not None:
            speaker.volume = self.volume

    @property
    def active(self) -> SpeakerLike | None:
        return None if self.muted else self._speaker

    def set_volume(self, volume: float) -> float:
        """Set the volume (kept within MIN_VOLUME .. 1); returns what it is now."""
        self.volume = clamp_volume(volume)
        if self._speaker is not None:
            self._speaker.volume = self.volume
        self._changed()
        return self.volume

    def step(self, steps: float) -> float:
        """Louder (positive) or quieter (negative) by `steps` of volume."""
        return self.set_volume(self.volume + steps)

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        if muted and self._speaker is not None:
            self._speaker.stop()
        self._changed()

    def _changed(self) -> None:
        if self._post is not None:
            self._post(VolumeChanged(self.volume, self.muted))
