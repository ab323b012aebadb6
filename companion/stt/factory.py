"""Building a listener from the settings: engine, audio source, turn-taking options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..audio.capture import AudioSource, FileSource, MicrophoneSource
from ..audio.vad import EndpointSettings
from ..events import ListenerEvent
from .listener import Listener, ListenerSettings
from .models import engine_for

if TYPE_CHECKING:
    from ..config import SpeechSettings


def listener_settings(speech: SpeechSettings, **overrides: object) -> ListenerSettings:
    endpoint = EndpointSettings(
        end_silence_ms=speech.end_silence_ms,
        max_utterance_s=speech.max_utterance_s,
        aggressiveness=speech.vad_aggressiveness,
        vad=speech.vad,
    )
    values: dict[str, Any] = dict(
        mode=speech.listen_mode,
        push_to_talk=speech.push_to_talk,
        wake_phrase=speech.said_to_wake,
        wake_word=speech.wake_word,
        endpoint=endpoint,
        speculate_after_ms=speech.speculate_after_ms,
    )
    values.update(overrides)
    return ListenerSettings(**values)


def create_listener(
    speech: SpeechSettings,
    on_event: Callable[[ListenerEvent], None],
    audio_in: Path | None = None,
    realtime: bool = True,
    **overrides: object,
) -> tuple[Listener, str | None]:
    """A listener on the microphone (or `audio_in`), with the engine the settings pick, and
    the one-time notice to show if a fallback engine runs. Raises SttError / ValueError."""
    engine, notice = engine_for(speech)
    settings = listener_settings(speech, **overrides)
    source: AudioSource = (
        FileSource(audio_in, realtime=realtime, plays_on_press=settings.mode == "push_to_talk")
        if audio_in
        else MicrophoneSource(speech.input_device)
    )
    return Listener(engine, source, settings, on_event), notice
