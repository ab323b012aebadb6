"""Wyoming services as our engines: `--stt wyoming://HOST:PORT`, `--tts wyoming://HOST:PORT`,
and `speech.wake_word = wyoming://HOST:PORT[/MODEL]`.

Wyoming is JSON-line headers with binary payloads over TCP. The `wyoming` package reads and
writes its events; we speak it synchronously on a plain socket, because our recogniser
streams and synthesisers are called from worker threads, not an event loop.

Speech to text: one connection per utterance (that is how Wyoming's ASR servers work):
`transcribe`, `audio-start`, the audio as `audio-chunk`s while the driver speaks, `audio-stop`,
then read until `transcript`. Partial results (`transcript-chunk`, from services that
advertise `supports_transcript_streaming`) are picked up without waiting. Text to speech:
`synthesize`, then `audio-start`, `audio-chunk`s, `audio-stop`, resampled to what we play if
needed; a service that advertises `supports_synthesize_streaming` gets a text stream instead
(`synthesize-start`, `-chunk`, `synthesize` for compatibility, `-stop`) and answers with audio
per sentence until `synthesize-stopped`. Wake word: one connection
for the whole drive: `detect`, `audio-start`, then every 20 ms frame as an `audio-chunk`;
`detection`s are picked up without waiting, and their timestamp says how far back in the audio
the wake word ended.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import select
import socket
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from ..audio.wakeword import phrase_of
from ..personas import Voice
from ..stt.base import SAMPLE_RATE, SttError, Transcript
from ..tts.synth import Audio, SynthesisError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3.0
ANSWER_TIMEOUT_S = 15.0
RECONNECT_S = 10.0  # a wake-word service may be gone this long (a restart) before we give up


class WyomingError(Exception):
    """A Wyoming service could not be reached or answered badly; the message says which."""


def parse_uri(uri: str) -> tuple[str, int]:
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        host = port = None
    if not uri.startswith("wyoming://") or not host or not port:
        raise WyomingError(f'"{uri}" is not a Wyoming address; write it as wyoming://HOST:PORT')
    return host, port


MAX_EVENT_BYTES = 16 * 1024 * 1024  # one event from a service (header, data and payload)


class Connection:
    """One TCP connection speaking Wyoming events.

    Bytes are read from the socket into a buffer of our own and events cut from it, so
    `ready()` knows about an event already received: with a buffered file over the socket,
    two events arriving in one packet left the second in the file's buffer, where a look at
    the socket could not see it, until more bytes came."""

    def __init__(
        self,
        uri: str,
        timeout: float = ANSWER_TIMEOUT_S,
        connect_timeout: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.uri = uri
        host, port = parse_uri(uri)
        try:
            self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        except OSError as exc:
            raise WyomingError(
                f"No Wyoming service answers at {uri} ({exc.strerror or exc}). Start it, or "
                "check the address."
            ) from None
        self.sock.settimeout(timeout)
        self._buffer = bytearray()
        self._closed = False  # the service closed its end (what is buffered still counts)

    def send(self, event: Any) -> None:
        from wyoming.event import write_event

        out = io.BytesIO()
        write_event(event.event() if hasattr(event, "event") else event, out)
        try:
            self.sock.sendall(out.getvalue())
        except OSError as exc:
            raise WyomingError(f"The Wyoming service at {self.uri} went away ({exc}).") from None

    def receive(self) -> Any:
        """The next event, waiting for it (up to the answer timeout)."""
        while (size := self._complete()) is None:
            if self._closed:
                raise WyomingError(f"The Wyoming service at {self.uri} closed the connection.")
            self._fill()
        return self._take(size)

    def ready(self) -> bool:
        """Is an event here right now (without waiting)? Also true when the service closed
        the connection: `receive` then says so."""
        while self._complete() is None and not self._closed:
            if not select.select([self.sock], [], [], 0)[0]:
                return False
            self._fill()
        return True

    def _fill(self) -> None:
        try:
            data = self.sock.recv(65536)
        except OSError as exc:
            raise WyomingError(
                f"The Wyoming service at {self.uri} did not answer ({exc or 'timed out'})."
            ) from None
        if not data:
            self._closed = True
        self._buffer += data

    def _complete(self) -> int | None:
        """The size of the event at the front of the buffer if it is all here, else None."""
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > MAX_EVENT_BYTES:
                raise self._bad("an event header that never ends")
            return None
        try:
            header = json.loads(self._buffer[:end])
            size = end + 1 + int(header.get("data_length") or 0)
            size += int(header.get("payload_length") or 0)
        except (ValueError, TypeError, AttributeError):
            raise self._bad("not a Wyoming event") from None
        if size > MAX_EVENT_BYTES:
            raise self._bad(f"an event of {size} bytes")
        return size if len(self._buffer) >= size else None

    def _take(self, size: int) -> Any:
        from wyoming.error import Error
        from wyoming.event import read_event

        raw, self._buffer = bytes(self._buffer[:size]), self._buffer[size:]
        try:
            event = read_event(io.BytesIO(raw))
        except (ValueError, KeyError) as exc:
            raise self._bad(str(exc)) from None
        if event is None:
            raise self._bad("an empty event")
        if Error.is_type(event.type):
            raise WyomingError(
                f"The Wyoming service at {self.uri} failed: {Error.from_event(event).text}"
            )
        return event

    def _bad(self, what: str) -> WyomingError:
        return WyomingError(f"The Wyoming service at {self.uri} did not answer properly ({what}).")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


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
        # A service that streams sends transcript chunks as the words firm up: they are the
        # partial results the listener shows and guesses from (read without waiting).
        self.streams = any(p.supports_transcript_streaming for p in info.asr if p.installed)
        streaming = ", streams words" if self.streams else ""
        self.description = f"Wyoming speech to text ({programs[0]}{streaming}) at {uri}"

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
        self.streams: bool | None = None  # the service takes text streams (known once asked)

    def warm_up(self) -> None:
        try:
            info = describe(self.uri)
        except WyomingError as exc:
            raise SynthesisError(str(exc)) from None
        if not any(p.installed for p in info.tts):
            raise SynthesisError(f"The Wyoming service at {self.uri} offers no text to speech.")
        self.streams = any(p.supports_synthesize_streaming for p in info.tts if p.installed)

    def synthesize(self, text: str, voice: Voice | None = None) -> Audio:
        from wyoming.audio import AudioChunk, AudioStart, AudioStop
        from wyoming.tts import (
            Synthesize,
            SynthesizeChunk,
            SynthesizeStart,
            SynthesizeStop,
            SynthesizeStopped,
            SynthesizeVoice,
        )

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
                wanted = SynthesizeVoice(name=name) if name else None
                if self.streams:  # a text stream: the service speaks each sentence as it ends
                    conn.send(SynthesizeStart(voice=wanted))
                    conn.send(SynthesizeChunk(text=text))
                    conn.send(Synthesize(text=text, voice=wanted))  # what others would read
                    conn.send(SynthesizeStop())
                else:
                    conn.send(Synthesize(text=text, voice=wanted))
                while True:
                    event = conn.receive()
                    if AudioStart.is_type(event.type):
                        start = AudioStart.from_event(event)
                        rate, width, channels = start.rate, start.width, start.channels
                    elif AudioChunk.is_type(event.type):
                        chunk = AudioChunk.from_event(event)
                        rate, width, channels = chunk.rate, chunk.width, chunk.channels
                        chunks.append(chunk.audio)
                    elif SynthesizeStopped.is_type(event.type):
                        break  # the end of a text stream (audio-stop ends each sentence)
                    elif AudioStop.is_type(event.type) and not self.streams:
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


# -- wake word -----------------------------------------------------------------------------


class WyomingWakeWord:
    """Any Wyoming wake-word service (wyoming-openwakeword, `companion serve wyoming`) as our
    wake word: `speech.wake_word = wyoming://HOST:PORT/MODEL` (or without /MODEL: the first
    model it offers). The interface of `audio.wakeword.WakeWordDetector`: feed 16 kHz int16
    audio; `push()` is True once per wake word, when its detection arrives. The detection comes
    back a little after the audio that held it; `behind_s` then says how much audio has been
    pushed since the wake word ended (the listener hands that audio to the request)."""

    def __init__(self, uri: str, refractory_s: float = 2.0) -> None:
        host, port = parse_uri(uri)
        self.uri = f"wyoming://{host}:{port}"
        wanted = urlsplit(uri).path.strip("/")
        try:
            info = describe(self.uri)
        except WyomingError as exc:
            raise SttError(f"The wake word: {exc}") from None
        models = [m for p in info.wake if p.installed for m in p.models if m.installed]
        if not models:
            raise SttError(
                f"The Wyoming service at {self.uri} offers no wake word (it answered with no "
                "wake programs). Check the port, or set speech.wake_word to a local model."
            )
        if wanted:
            chosen = next((m for m in models if phrase_of(m.name) == phrase_of(wanted)), None)
            if chosen is None:
                offered = ", ".join(m.name for m in models)
                raise SttError(
                    f'The Wyoming service at {self.uri} has no wake word "{wanted}"; it offers '
                    f"{offered}. Write speech.wake_word as {self.uri}/NAME with one of those."
                )
        else:
            chosen = models[0]
        self.name = chosen.name
        self.phrase = phrase_of(chosen.phrase or chosen.name)
        # Asked for by the name the service lists (wyoming-openwakeword 1.8 loads a model
        # again for every connection that spells it differently, e.g. without "_v0.1").
        self._names = [chosen.name] if wanted else None
        self._refractory_ms = int(refractory_s * 1000)
        self._sent_ms = 0.0  # audio pushed so far, in ms (the chunks' timestamps)
        self._fired_ms = -1e9
        self.behind_s = 0.0
        self._lost_at_ms = self._tried_at_ms = 0.0
        self._lost_because = ""
        self._conn: Connection | None = self._connect()

    def _connect(self, connect_timeout: float = CONNECT_TIMEOUT_S) -> Connection:
        from wyoming.audio import AudioStart
        from wyoming.wake import Detect

        try:
            conn = Connection(self.uri, CONNECT_TIMEOUT_S, connect_timeout)
        except WyomingError as exc:
            raise SttError(f"The wake word: {exc}") from None
        try:
            conn.send(Detect(names=self._names))
            start = AudioStart(rate=SAMPLE_RATE, width=2, channels=1, timestamp=int(self._sent_ms))
            conn.send(start)
        except WyomingError as exc:
            conn.close()
            raise SttError(f"The wake word: {exc}") from None
        return conn

    def push(self, samples: np.ndarray) -> bool:
        from wyoming.audio import AudioChunk
        from wyoming.wake import Detection

        pcm = samples.astype("<i2").tobytes()
        chunk = AudioChunk(
            rate=SAMPLE_RATE, width=2, channels=1, audio=pcm, timestamp=int(self._sent_ms)
        )
        self._sent_ms += 1000 * len(samples) / SAMPLE_RATE
        if self._conn is None and not self._reconnect():
            return False
        assert self._conn is not None
        fired = False
        try:
            self._conn.send(chunk)
            while self._conn.ready():
                event = self._conn.receive()
                if not Detection.is_type(event.type):
                    continue
                stamp = Detection.from_event(event).timestamp
                # The detection names the chunk it fired on (its start): the word ended at
                # that chunk's end. Without a usable stamp, assume it ended just now.
                at = self._sent_ms
                if stamp is not None and 0 <= stamp <= self._sent_ms:
                    at = min(self._sent_ms, stamp + 1000 * len(samples) / SAMPLE_RATE)
                if at - self._fired_ms >= self._refractory_ms:
                    fired, self._fired_ms = True, at
                    self.behind_s = (self._sent_ms - at) / 1000
        except WyomingError as exc:
            # The service went away (restarted, the network dropped): deaf until it is back.
            self._conn.close()
            self._conn = None
            self._lost_at_ms, self._lost_because = self._sent_ms, str(exc)
            self._tried_at_ms = self._sent_ms
            log.warning("wake word: %s; reconnecting", exc)
        return fired

    def _reconnect(self) -> bool:
        """Try again once a second (of audio); give up, with what to do, after RECONNECT_S."""
        if self._sent_ms - self._tried_at_ms < 1000:
            return False
        self._tried_at_ms = self._sent_ms
        try:
            # Briefly: this is the listener's thread, and the microphone does not wait.
            self._conn = self._connect(connect_timeout=0.3)
        except SttError:
            if self._sent_ms - self._lost_at_ms < RECONNECT_S * 1000:
                return False
            raise SttError(
                f"The wake word: {self._lost_because} It did not come back within "
                f"{RECONNECT_S:.0f} s. Start it again (or set speech.wake_word to a local "
                "model), then turn voice input back on."
            ) from None
        log.info("wake word: reconnected to %s", self.uri)
        return True

    def close(self) -> None:
        from wyoming.audio import AudioStop

        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(WyomingError):
                conn.send(AudioStop())
            conn.close()
