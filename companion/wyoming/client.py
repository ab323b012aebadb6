"""Wyoming services as our engines: `--stt wyoming://HOST:PORT`, `--tts wyoming://HOST:PORT`.

Wyoming is JSON-line headers with binary payloads over TCP. The `wyoming` package reads and
writes its events; we speak it synchronously on a plain socket, because our recogniser
streams and synthesisers are called from worker threads, not an event loop.

Speech to text: one connection per utterance (that is how Wyoming's ASR servers work):
`transcribe`, `audio-start`, the audio as `audio-chunk`s while the driver speaks, `audio-stop`,
then read until `transcript`. Partial results (`transcript-chunk`, for services that stream
them) are picked up without waiting. Text to speech: `synthesize`, then `audio-start`,
`audio-chunk`s, `audio-stop`, resampled to what we play if needed.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections.abc import Sequence
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import numpy as np

from ..personas import Voice
from ..stt.base import SAMPLE_RATE, SttError, Transcript
from ..tts.synth import Audio, SynthesisError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3.0
ANSWER_TIMEOUT_S = 15.0


class WyomingError(Exception):
    """A Wyoming service could not be reached or answered badly; the message says which."""


def parse_uri(uri: str) -> tuple[str, int]:
    parts = urlsplit(uri)
    if parts.scheme != "wyoming" or not parts.hostname or not parts.port:
        raise WyomingError(f'"{uri}" is not a Wyoming address; write it as wyoming://HOST:PORT')
    return parts.hostname, parts.port


class Connection:
    """One TCP connection speaking Wyoming events."""

    def __init__(self, uri: str, timeout: float = ANSWER_TIMEOUT_S) -> None:
        self.uri = uri
        host, port = parse_uri(uri)
        try:
            self.sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
        except OSError as exc:
            raise WyomingError(
                f"No Wyoming service answers at {uri} ({exc.strerror or exc}). Start it, or "
                "check the address."
            ) from None
        self.sock.settimeout(timeout)
        self.file: BinaryIO = self.sock.makefile("rwb")  # type: ignore[assignment]

    def send(self, event: Any) -> None:
        from wyoming.event import write_event

        try:
            write_event(event.event() if hasattr(event, "event") else event, self.file)
            self.file.flush()
        except OSError as exc:
            raise WyomingError(f"The Wyoming service at {self.uri} went away ({exc}).") from None

    def receive(self) -> Any:
        from wyoming.event import read_event

        try:
            event = read_event(self.file)
        except (OSError, ValueError) as exc:
            raise WyomingError(
                f"The Wyoming service at {self.uri} did not answer properly ({exc})."
            ) from None
        if event is None:
            raise WyomingError(f"The Wyoming service at {self.uri} closed the connection.")
        from wyoming.error import Error

        if Error.is_type(event.type):
            raise WyomingError(
                f"The Wyoming service at {self.uri} failed: {Error.from_event(event).text}"
            )
        return event

    def ready(self) -> bool:
        """Is there something to read right now (without waiting)?"""
        return bool(select.select([self.sock], [], [], 0)[0])

    def close(self) -> None:
        for thing in (self.file, self.sock):
            with contextlib.suppress(OSError):
                thing.close()


def describe(uri: str) -> Any:
    """The service's `info` (what it offers)."""
    from wyoming.info import Describe, Info

    conn = Connection(uri)
    try:
        conn.send(Describe())
        while True:
            event = conn.receive()
            if Info.is_type(event.type):
                return Info.from_event(event)
    finally:
        conn.close()


# -- speech to text ------------------------------------------------------------------------


class WyomingRecognizerStream:
    """One recogniser stream; a connection is opened at the first audio of each utterance."""

    def __init__(self, engine: WyomingEngine, phrases: Sequence[str] | None) -> None:
        self.engine = engine
        self.phrases = list(phrases or [])
        self._conn: Connection | None = None
        self._partial = ""

    def _open(self) -> Connection:
        from wyoming.asr import Transcribe
        from wyoming.audio import AudioStart

        try:
            conn = Connection(self.engine.uri)
        except WyomingError as exc:
            raise SttError(str(exc)) from None
        conn.send(Transcribe(language=self.engine.language.split("-")[0] or None))
        conn.send(AudioStart(rate=SAMPLE_RATE, width=2, channels=1))
        self._conn, self._partial = conn, ""
        return conn

    def accept(self, pcm: bytes) -> None:
        from wyoming.audio import AudioChunk

        conn = self._conn or self._open()
        try:
            conn.send(AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=pcm))
            self._read_partials(conn)
        except WyomingError as exc:
            self._drop()
            raise SttError(str(exc)) from None

    def _read_partials(self, conn: Connection) -> None:
        from wyoming.asr import TranscriptChunk

        while conn.ready():
            event = conn.receive()
            if TranscriptChunk.is_type(event.type):
                self._partial += TranscriptChunk.from_event(event).text

    def partial(self) -> str:
        return self._partial.strip()

    def finish(self) -> Transcript:
        from wyoming.asr import Transcript as WyTranscript
        from wyoming.audio import AudioStop

        conn, self._conn = self._conn, None
        if conn is None:
            return Transcript("", engine=self.engine.name)
        try:
            conn.send(AudioStop())
            while True:
                event = conn.receive()
                if WyTranscript.is_type(event.type):
                    text = WyTranscript.from_event(event).text or ""
                    break
        except WyomingError as exc:
            raise SttError(str(exc)) from None
        finally:
            conn.close()
        text = " ".join(text.split())
        if self.phrases:  # spotting: only the phrases count
            lowered = text.lower()
            text = next((p for p in self.phrases if p.lower() in lowered), "")
        return Transcript(text, engine=self.engine.name)

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class WyomingEngine:
    """Any Wyoming speech-to-text service as our recogniser."""

    def __init__(self, uri: str, language: str = "en-us") -> None:
        self.uri = uri
        self.name = "wyoming"
        self.language = language
        try:
            info = describe(uri)
        except WyomingError as exc:
            raise SttError(str(exc)) from None
        programs = [p.name for p in info.asr if p.installed]
        if not programs:
            raise SttError(
                f"The Wyoming service at {uri} offers no speech-to-text (it answered with "
                "no asr programs). Check the port."
            )
        self.description = f"Wyoming speech to text ({programs[0]}) at {uri}"

    def stream(self, phrases: Sequence[str] | None = None) -> WyomingRecognizerStream:
        return WyomingRecognizerStream(self, phrases)


# -- text to speech ------------------------------------------------------------------------


class WyomingSynthesizer:
    """Any Wyoming text-to-speech service as our speech engine. Thread-safe."""

    def __init__(self, uri: str, voice: str = "") -> None:
        parse_uri(uri)  # a bad address is an error now, not at the first sentence
        self.uri = uri
        self.voice = voice
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        try:
            info = describe(self.uri)
        except WyomingError as exc:
            raise SynthesisError(str(exc)) from None
        if not any(p.installed for p in info.tts):
            raise SynthesisError(f"The Wyoming service at {self.uri} offers no text to speech.")

    def synthesize(self, text: str, voice: Voice | None = None) -> Audio:
        from wyoming.audio import AudioChunk, AudioStart, AudioStop
        from wyoming.tts import Synthesize, SynthesizeVoice

        name = (voice.piper if voice is not None else "") or self.voice
        volume = voice.volume if voice is not None else 1.0
        chunks: list[bytes] = []
        rate, width, channels = 22050, 2, 1
        with self._lock:
            try:
                conn = Connection(self.uri)
            except WyomingError as exc:
                raise SynthesisError(str(exc)) from None
            try:
                conn.send(Synthesize(text=text, voice=SynthesizeVoice(name=name) if name else None))
                while True:
                    event = conn.receive()
                    if AudioStart.is_type(event.type):
                        start = AudioStart.from_event(event)
                        rate, width, channels = start.rate, start.width, start.channels
                    elif AudioChunk.is_type(event.type):
                        chunk = AudioChunk.from_event(event)
                        rate, width, channels = chunk.rate, chunk.width, chunk.channels
                        chunks.append(chunk.audio)
                    elif AudioStop.is_type(event.type):
                        break
            except WyomingError as exc:
                raise SynthesisError(str(exc)) from None
            finally:
                conn.close()
        if width != 2:
            raise SynthesisError(f"The Wyoming service at {self.uri} sent {8 * width}-bit audio")
        samples = np.frombuffer(b"".join(chunks), "<i2")
        if channels > 1:
            samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
        return Audio(samples.copy(), rate).trimmed().scaled(volume)

    def close(self) -> None:
        pass
