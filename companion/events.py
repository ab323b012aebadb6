"""The typed events of a turn.

Every stage of the pipeline reports what it did as one of these events. The terminal chat, the
screen, transcript logs, dialogue tests and benchmarks all consume the same stream, so no
consumer ever reaches into a stage. Every event carries `t`, a `time.monotonic()` timestamp.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


def _now() -> float:
    return time.monotonic()


@dataclass(frozen=True, slots=True)
class Event:
    """Base class: something that happened during a turn."""

    turn_id: int
    t: float = field(default_factory=_now, kw_only=True)


class Source(StrEnum):
    """Where a turn's words came from."""

    TYPED = "typed"  # typed, or a choice tapped on the screen
    SPOKEN = "spoken"  # the recogniser's final transcript
    GUESS = "guess"  # the recogniser's guess at a pause (speculation), confirmed later
    PICKED = "picked"  # a persona chosen on the screen (picker, command palette)
    ANNOUNCED = "announced"  # the assistant's own news (a safety toggle's takeover)


class Stage(StrEnum):
    """The moments of a turn that `TimingMark` reports, in the order they usually come."""

    LLM_REQUEST = "llm_request"  # the persona's model was asked
    LLM_FIRST_TOKEN = "llm_first_token"  # its first word arrived
    FIRST_SENTENCE = "first_sentence"  # the first sentence was handed to speech
    LLM_DONE = "llm_done"  # the model's stream ended (or was closed)
    TTS_FIRST_AUDIO = "tts_first_audio"  # the first sentence was synthesised
    PLAYBACK_STARTED = "playback_started"  # ... and began to play


@dataclass(frozen=True, slots=True)
class TurnStarted(Event):
    """A new turn began: `text` is what the driver said or typed, `source` how."""

    text: str
    persona_id: str
    source: Source = Source.TYPED


@dataclass(frozen=True, slots=True)
class IntentRecognized(Event):
    """What the router decided the driver wants (`conversation` for the persona)."""

    intent: str
    slots: dict[str, Any]
    confidence: float


@dataclass(frozen=True, slots=True)
class PersonaSwitched(Event):
    """A different persona is active now; its greeting follows as the reply."""

    persona_id: str
    name: str
    greeting: str


@dataclass(frozen=True, slots=True)
class RequestRefused(Event):
    """A safety gate (or an unknown name) refused the request; `spoken` says why."""

    reason: str  # kids_mode | mature | speed | unknown | already | safety_setting
    spoken: str
    requested: str | None = None


@dataclass(frozen=True, slots=True)
class ActionTaken(Event):
    """A skill acted on the request. `skill`: navigation | search. `action`: what it did
    (route_started, stop_added, choices, confirm_replace, cancelled, eta, no_match, ... for
    navigation; kb, web, none, unavailable for search). `summary` is one line for the screen
    ("Navigating to Bluebird Coffee · 0.9 mi · 3 min (est.)"); `data` has the details (the
    trip, the choices offered, the search results' titles and sources, a provider fallback)."""

    skill: str
    action: str
    summary: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReplyDelta(Event):
    """A piece of the reply text as it streamed in from the language model."""

    text: str


@dataclass(frozen=True, slots=True)
class SentenceReady(Event):
    """A complete, speakable sentence was handed to text-to-speech."""

    text: str
    index: int


@dataclass(frozen=True, slots=True)
class SentenceSpoken(Event):
    """Playback of a sentence finished (or `stopped` early by a cancel)."""

    text: str
    stopped: bool = False


@dataclass(frozen=True, slots=True)
class ReplyDone(Event):
    """The reply is complete. `interrupted` when the driver cut it off."""

    text: str
    interrupted: bool = False


@dataclass(frozen=True, slots=True)
class TurnError(Event):
    """A stage failed in a way the driver should hear about.

    `spoken` is the short sentence said aloud; `detail` is the longer, actionable hint shown on
    screen and written to the log. Neither ever contains a secret.
    """

    kind: str
    spoken: str
    detail: str


@dataclass(frozen=True, slots=True)
class TimingMark(Event):
    """A stage of the turn was reached (`Stage`)."""

    stage: Stage


@dataclass(frozen=True, slots=True)
class TurnEnded(Event):
    """The last event of every turn, whatever happened: `outcome` is `answered`, `failed`
    (a TurnError was said) or `interrupted`; `latency_ms` holds, for each stage reached and
    for `reply_done` (now), the milliseconds since the turn started. A guess that was never
    confirmed leaves no trace, so it has none."""

    outcome: str
    latency_ms: dict[str, float]


EventSink = Callable[["AnyEvent"], None]


# --- Listening: what the microphone side reports before (and between) turns ---------------


@dataclass(frozen=True, slots=True)
class ListenerEvent:
    """Base class: something the listener (capture → VAD → recogniser) noticed."""

    t: float = field(default_factory=_now, kw_only=True)


@dataclass(frozen=True, slots=True)
class ListenerState(ListenerEvent):
    """`waiting` (for speech or the wake phrase), `listening` (an utterance is open),
    `transcribing` (finishing one), `paused` (while the assistant speaks), `off`."""

    state: str
    mode: str


@dataclass(frozen=True, slots=True)
class InputLevel(ListenerEvent):
    """Microphone level in dBFS, about ten times a second, for a level meter."""

    db: float


@dataclass(frozen=True, slots=True)
class SpeechStarted(ListenerEvent):
    """An utterance opened (voice detected, push-to-talk pressed, or after the wake phrase)."""


@dataclass(frozen=True, slots=True)
class WakePhraseHeard(ListenerEvent):
    phrase: str


@dataclass(frozen=True, slots=True)
class PartialTranscript(ListenerEvent):
    """The recogniser's current guess while the driver is still speaking."""

    text: str


@dataclass(frozen=True, slots=True)
class EndOfSpeechLikely(ListenerEvent):
    """A short pause (`speech.speculate_after_ms`) before the utterance is known to be over:
    `text` is the recogniser's current guess. A front end may start the turn now and keep its
    output back until the FinalTranscript confirms the same words."""

    text: str


@dataclass(frozen=True, slots=True)
class FinalTranscript(ListenerEvent):
    """The utterance is over. `speech_end` is when the last voiced audio was captured
    (monotonic), so `t - speech_end` is the end-of-speech latency. `audio_end` and
    `closed_at` are the same moments in seconds of audio since listening began."""

    text: str
    engine: str
    words: tuple[Any, ...] = ()
    speech_end: float = 0.0
    audio_end: float = 0.0
    closed_at: float = 0.0
    reason: str = "silence"  # silence | released | max_length | input_ended
    endpoint_at: float = 0.0  # monotonic: when the end of the utterance was decided
    alternatives: tuple[str, ...] = ()  # the recogniser's next-best readings, best first


@dataclass(frozen=True, slots=True)
class NothingHeard(ListenerEvent):
    """An utterance closed without any words (noise, a cough, push-to-talk with silence)."""

    reason: str


@dataclass(frozen=True, slots=True)
class InputProblem(ListenerEvent):
    """Listening stopped or degraded; `message` says what happened and what to do."""

    kind: str  # no_device | device_lost | engine | file
    message: str


# --- The assistant: what the core reports beside turns and listening ----------------------


@dataclass(frozen=True, slots=True)
class CoreEvent:
    """Base class: the assistant's own news, outside any turn."""

    t: float = field(default_factory=_now, kw_only=True)


@dataclass(frozen=True, slots=True)
class Status(CoreEvent):
    """A part of the assistant is `loading`, `ready`, `off` or has a `problem`; `message`
    says what (and, for a problem, what to do)."""

    part: str  # llm | speech_in | speech_out | navigation | search | tools:NAME
    state: str
    message: str


@dataclass(frozen=True, slots=True)
class DriveUpdate(CoreEvent):
    """Once a second of the simulated drive (and after every navigation action)."""

    speed_kmh: float
    gear: str
    battery_percent: int
    range_km: float
    outside_c: float
    climate_c: float  # the cabin's setpoint
    trip: dict[str, Any] | None  # Navigator.snapshot(), None without navigation
    climate_on: bool = True


@dataclass(frozen=True, slots=True)
class Notice(CoreEvent):
    """Something to show in the transcript that is not a reply ("Arrived at ...")."""

    text: str


@dataclass(frozen=True, slots=True)
class SafetyChanged(CoreEvent):
    """Kids mode or the mature opt-in changed (on the screen, never by voice)."""

    kids_mode: bool
    mature_content: bool


@dataclass(frozen=True, slots=True)
class VolumeChanged(CoreEvent):
    """The speech volume (0.1 .. 1) or mute changed, by a key, a button or by voice."""

    volume: float
    muted: bool


@dataclass(frozen=True, slots=True)
class BargeIn(CoreEvent):
    """The driver interrupted a reply. `why`: voice | push_to_talk | wake_phrase | typed |
    picker | stop | safety | scripted."""

    why: str


AnyEvent = Event | ListenerEvent | CoreEvent


def event_record(event: AnyEvent) -> dict[str, Any]:
    """An event as a JSON-ready dict: {"event": "FinalTranscript", "t": ..., fields...}."""
    from dataclasses import asdict

    return {"event": type(event).__name__, **asdict(event)}
