"""The small interface every speech recogniser sits behind, so the listener and the pipeline
never care which engine runs.

An engine is loaded once (models are big) and is safe to share. A *stream* is one recogniser
state: it is created, fed and finished in one worker thread, because the native recognisers
are not thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

SAMPLE_RATE = 16000  # what both engines are fed: 16 kHz mono int16
ENGINES = ("auto", "vosk", "pocketsphinx")
LISTEN_MODES = ("push_to_talk", "hands_free", "wake_phrase")
PUSH_STYLES = ("toggle", "hold")
VADS = ("auto", "webrtc", "silero")  # voice activity detectors (companion/audio/vad.py)


class SttError(Exception):
    """The recogniser cannot run (model missing, corrupt, wrong engine); says what to do."""


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: float  # seconds from the start of the stream
    end: float
    confidence: float


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    words: tuple[Word, ...] = field(default_factory=tuple)
    engine: str = ""
    # The recogniser's next-best readings of the same audio, best first (PocketSphinx's
    # n-best list; empty where the engine gives none). The router may prefer one it is
    # surer of (`router.heard`).
    alternatives: tuple[str, ...] = ()


class RecognizerStream(Protocol):
    def accept(self, pcm: bytes) -> None:
        """Feed 16 kHz mono int16 audio."""

    def partial(self) -> str:
        """The best guess so far for the current utterance ('' before any words)."""

    def finish(self) -> Transcript:
        """Close the utterance and return its final transcript; the stream can be reused."""


class SpeechEngine(Protocol):
    name: str  # "vosk" | "pocketsphinx"
    language: str
    description: str  # one line: which engine and model, for the UI and the log

    def stream(self, phrases: Sequence[str] | None = None) -> RecognizerStream:
        """A new recogniser. With `phrases`, it only spots those (cheap: for a wake phrase);
        its transcript is the phrase heard, or ''."""
