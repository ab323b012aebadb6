"""Which speech engine speaks, from the settings (`speech.tts`, `speech.voice`).

auto: Piper when piper-tts and a voice are installed (natural speech), else pyttsx3/eSpeak
(the zero-download fallback); piper / pyttsx3 by name; wyoming://HOST:PORT: any Wyoming
text-to-speech service (wyoming-piper, Home Assistant add-ons, `companion serve wyoming`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from ..personas import Voice
from .synth import Audio

if TYPE_CHECKING:
    from ..config import SpeechSettings

log = logging.getLogger(__name__)


class Synthesizer(Protocol):
    """What the Speaker needs of an engine."""

    def warm_up(self) -> None: ...

    def synthesize(self, text: str, voice: Voice | None = None) -> Audio: ...

    def close(self) -> None: ...


def engine_name(speech: SpeechSettings) -> str:
    """ "piper", "pyttsx3" or the wyoming:// address that `speech.tts` resolves to."""
    choice = speech.tts
    if choice != "auto":
        return choice
    from .piper_engine import piper_available
    from .voices import find

    if piper_available() and find(speech.voice) is not None:
        return "piper"
    return "pyttsx3"


def create_synthesizer(speech: SpeechSettings) -> Synthesizer:
    """The engine `speech.tts` names. Raises SynthesisError when it cannot run (the Speaker
    reports that once; pyttsx3's failures are reported the same way)."""
    name = engine_name(speech)
    if name.startswith("wyoming://"):
        from ..wyoming.client import WyomingSynthesizer

        return WyomingSynthesizer(name, speech.voice)
    if name == "piper":
        from .piper_engine import PiperSynthesizer

        return PiperSynthesizer(speech.voice)
    from .synth import Pyttsx3Synthesizer

    return Pyttsx3Synthesizer()
