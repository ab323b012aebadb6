"""Waking: the wake phrase spotted in what the recogniser hears, or a neural wake word
(openWakeWord, locally or from a Wyoming service)."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..audio.wakeword import WakeWord
    from .base import RecognizerStream


def open_wake_word(spec: str) -> WakeWord:
    """`speech.wake_word`: a model that ships, a .tflite file, or a Wyoming service. Raises
    ValueError (a local model) or SttError (a service) with what to do."""
    if spec.startswith("wyoming://"):
        from ..wyoming.client import WyomingWakeWord

        return WyomingWakeWord(spec)
    from ..audio.wakeword import WakeWordDetector

    return WakeWordDetector(spec)


def strip_wake_phrase(text: str, phrase: str) -> tuple[bool, str]:
    """(found, rest): whether `text` begins with (something close to) `phrase`, and what
    follows it. Tolerates the recogniser's small slips ("hey companions", "a companion")."""
    words, target = text.split(), phrase.lower().split()
    best, best_k = 0.0, 0
    for k in range(max(1, len(target) - 1), min(len(words), len(target) + 1) + 1):
        ratio = difflib.SequenceMatcher(None, " ".join(words[:k]).lower(), " ".join(target))
        if ratio.ratio() > best:
            best, best_k = ratio.ratio(), k
    if best >= 0.75:
        return True, " ".join(words[best_k:])
    return False, text


def after_wake_phrase(
    text: str, words: tuple[Any, ...], phrase: str
) -> tuple[bool, str, tuple[Any, ...]]:
    """(found, what follows the phrase, its words) of a final transcript."""
    found, rest = strip_wake_phrase(text, phrase)
    if not found:
        return False, text, words
    return True, rest, words[len(text.split()) - len(rest.split()) :]


def shown(text: str, settings: Any, via_wake: bool) -> str:
    """What the driver said, as far as the listening mode is concerned (the wake phrase
    removed; nothing yet when the phrase that opened the utterance is not confirmed)."""
    if settings.mode == "wake_phrase":
        found, rest = strip_wake_phrase(text, settings.wake_phrase)
        if found:
            return rest
        if via_wake:
            return ""  # not confirmed yet: show nothing rather than a stranger's words
    return text


class PhraseSpotter:
    """Wake-phrase mode without a neural wake word: each segment of speech is a candidate,
    heard by a recogniser that only knows the phrase, until the phrase is found in it (the
    segment then becomes the utterance) or the segment ends without it."""

    def __init__(self, stream: RecognizerStream, phrase: str) -> None:
        self.stream, self.phrase = stream, phrase
        self.candidate: list[np.ndarray] | None = None

    @property
    def checking(self) -> bool:
        return self.candidate is not None

    def check(self, frames: list[np.ndarray]) -> None:
        """A segment began with these frames."""
        self.candidate = []
        for frame in frames:
            self._accept(frame)

    def feed(self, frame: np.ndarray) -> bool:
        """One more frame of the segment; True once the phrase is heard in it."""
        self._accept(frame)
        assert self.candidate is not None
        return (
            len(self.candidate) % 5 == 0
            and strip_wake_phrase(self.stream.partial(), self.phrase)[0]
        )

    def end(self) -> bool:
        """The segment ended: was the phrase in it? (If not, it is forgotten.)"""
        found = strip_wake_phrase(self.stream.partial(), self.phrase)[0]
        heard = self.stream.finish().text
        if found or strip_wake_phrase(heard, self.phrase)[0]:
            return True
        self.candidate = None
        return False

    def take(self) -> list[np.ndarray]:
        """The phrase was heard: the segment's frames, to recognise as the utterance."""
        frames, self.candidate = self.candidate or [], None
        self.stream.finish()
        return frames

    def _accept(self, frame: np.ndarray) -> None:
        assert self.candidate is not None
        self.candidate.append(frame)
        self.stream.accept(frame.tobytes())
