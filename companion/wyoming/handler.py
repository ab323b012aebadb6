"""A Wyoming connection's handler, and what the service says it offers (`describe`).
Imported only when the service starts (the wyoming package is an extra)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
from typing import Any

import numpy as np
from wyoming.asr import (
    Transcribe,
    Transcript,
    TranscriptChunk,
    TranscriptStart,
    TranscriptStop,
)
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    Describe,
    Info,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)
from wyoming.server import AsyncEventHandler
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
)
from wyoming.wake import Detect, Detection, NotDetected

from .. import __version__
from ..audio.wakeword import LICENCE as WAKE_LICENCE
from ..audio.wakeword import WakeWordDetector, phrase_of
from ..personas import Voice
from ..stt.base import SAMPLE_RATE, RecognizerStream, SpeechEngine
from ..tts.chunker import SentenceChunker

SAMPLES_PER_CHUNK = 1024

# What one connection may ask of the service (docs/WYOMING.md and docs/SECURITY.md). Checked
# before anything is read or done, so one client can neither fill the memory nor hold the
# shared synthesiser for minutes.
MAX_HEADER_BYTES = 64 * 1024  # one event's JSON line
MAX_DATA_BYTES = 64 * 1024  # an event's declared data
MAX_PAYLOAD_BYTES = 1024 * 1024  # an event's declared payload (an audio chunk is ~2 KB)
MAX_TEXT_CHARS = 2000  # text per synthesize (or per text stream): about two minutes of speech
SENTENCE_PAUSE_S = 0.15  # of silence between the sentences of one synthesize
PARTIAL_EVERY_S = 0.3  # of audio between two looks at the words so far (transcript chunks)
log = logging.getLogger(__name__)
OURS = Attribution(name="companion", url="https://github.com/companion-car/companion")


def close_all(detectors: list[Any]) -> None:
    for detector in detectors:
        detector.close()


def service_info(
    engine: SpeechEngine | None, synth_name: str, voices: list[str], wake_words: list[str]
) -> Any:
    return Info(
        asr=_asr(engine) if engine is not None else [],
        tts=_tts(synth_name, voices) if synth_name else [],
        wake=_wake(wake_words) if wake_words else [],
    )


def _asr(engine: SpeechEngine) -> list[Any]:
    model = AsrModel(
        name=engine.name,
        attribution=OURS,
        installed=True,
        description=engine.description,
        version=__version__,
        languages=[engine.language.split("-")[0]],
    )
    return [
        AsrProgram(
            name="companion-stt",
            attribution=OURS,
            installed=True,
            description="companion's speech to text",
            version=__version__,
            models=[model],
            supports_transcript_streaming=True,
        )
    ]


def _tts(synth_name: str, voices: list[str]) -> list[Any]:
    return [
        TtsProgram(
            name="companion-tts",
            attribution=OURS,
            installed=True,
            description=f"companion's text to speech ({synth_name})",
            version=__version__,
            voices=[
                TtsVoice(
                    name=v,
                    attribution=OURS,
                    installed=True,
                    description=v,
                    version=None,
                    languages=[v.split("-")[0].replace("_", "-").lower() or "en"],
                )
                for v in voices
            ],
            supports_synthesize_streaming=True,
        )
    ]


def _wake(wake_words: list[str]) -> list[Any]:
    oww = Attribution(name="openWakeWord", url="https://github.com/dscripka/openWakeWord")
    models = [
        WakeModel(
            name=name,
            attribution=oww,
            installed=True,
            description=f"{phrase_of(name)} (openWakeWord model; {WAKE_LICENCE})",
            version=None,
            languages=["en"],
            phrase=phrase_of(name),
        )
        for name in wake_words
    ]
    return [
        WakeProgram(
            name="companion-wake",
            attribution=OURS,
            installed=True,
            description="companion's wake words (openWakeWord)",
            version=__version__,
            models=models,
        )
    ]


class ServiceHandler(AsyncEventHandler):
    """One connection: speech to text, text to speech or wake-word detection."""

    def __init__(self, services: Any, *args: Any) -> None:
        super().__init__(*args)
        self.services = services
        # One thread per connection owns its recogniser stream (or wake-word detectors).
        self._stt = concurrent.futures.ThreadPoolExecutor(1, "wyoming-stt")
        self._stream: RecognizerStream | None = None
        self._convert = AudioChunkConverter(rate=SAMPLE_RATE, width=2, channels=1)
        self._wake_names: list[str] | None = None  # set by `detect`: this is wake audio
        self._detectors: list[WakeWordDetector] = []
        self._detected = False
        self._heard_s = 0.0  # seconds of audio in the utterance being transcribed
        self._words = _FirmWords()  # the words sent as transcript chunks so far
        self._text_stream: _TextStream | None = None  # between synthesize-start and -stop

    async def run(self) -> None:
        """Receive events until the client goes, an event breaks a limit or is malformed
        (one log line, and an `error` event back), or `handle_event` says stop."""
        self._is_running = True
        try:
            while self._is_running:
                try:
                    event = await read_bounded_event(self.reader)
                except WyomingLimitError as exc:
                    log.info("wyoming client %s: %s", self._peer(), exc)
                    await self._refuse(str(exc))
                    break
                if event is None:
                    break
                if not await self.handle_event(event):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away mid-event
        finally:
            await self.disconnect()
            self.writer.close()

    async def _refuse(self, why: str) -> None:
        """Send an `error` and let the client go, making sure it can read the error: a
        socket closed with the client's data still unread is reset, and a reset can drop the
        error on its way. So: send it, stop sending, then read and drop what the client
        still sends (a second at most) before the connection is closed."""
        with contextlib.suppress(Exception):
            await self.write_event(Error(text=why, code="limit").event())
            if self.writer.can_write_eof():
                self.writer.write_eof()
            await self.writer.drain()
        deadline = asyncio.get_running_loop().time() + 1.0
        with contextlib.suppress(Exception):
            while (left := deadline - asyncio.get_running_loop().time()) > 0:
                if not await asyncio.wait_for(self.reader.read(65536), left):
                    break

    def _peer(self) -> str:
        peer = self.writer.get_extra_info("peername")
        return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else "?"

    async def _in_stt(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._stt, fn, *args)

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.services.info.event())
            return True
        if Detect.is_type(event.type):
            return await self._detect(Detect.from_event(event))
        if self._wake_names is not None:
            return await self._wake_audio(event)
        if Transcribe.is_type(event.type) or AudioStart.is_type(event.type):
            if self.services.engine is None:
                await self.write_event(Error(text="no speech to text here").event())
                return False
            if self._stream is None:
                self._stream = await self._in_stt(self.services.engine.stream)
                self._heard_s = 0.0
                self._words = _FirmWords()
            return True
        if AudioChunk.is_type(event.type):
            if self._stream is None:
                return True  # audio outside an utterance: nothing to do
            chunk = self._convert.convert(AudioChunk.from_event(event))
            self._heard_s += len(chunk.audio) / (2 * SAMPLE_RATE)
            most = self.services.max_utterance_s
            if self._heard_s > most:
                stream, self._stream = self._stream, None
                await self._in_stt(stream.finish)
                log.info("wyoming client %s: utterance over %.0f s", self._peer(), most)
                await self._refuse(f"utterance longer than {most:g} s; send audio-stop sooner")
                return False
            await self._in_stt(self._stream.accept, chunk.audio)
            if self._heard_s - self._words.looked_at_s >= PARTIAL_EVERY_S:
                self._words.looked_at_s = self._heard_s
                await self._send_words(await self._in_stt(self._stream.partial), final=False)
            return True
        if AudioStop.is_type(event.type):
            if self._stream is None:
                await self.write_event(Transcript(text="").event())
                return True
            stream, self._stream = self._stream, None
            result = await self._in_stt(stream.finish)
            await self._send_words(result.text, final=True)
            await self.write_event(Transcript(text=result.text).event())
            await self.write_event(TranscriptStop().event())
            return True
        return await self._synthesis_event(event)

    async def _send_words(self, text: str, final: bool) -> None:
        """Transcript streaming: the words that have firmed up since the last chunk (a word
        counts once two looks agree on it, or the utterance is over), as `transcript-chunk`s
        after one `transcript-start`. The final `transcript` stays the whole answer."""
        words = self._words
        new = words.firm(text.split(), final)
        if not words.started:
            words.started = True
            language = self.services.engine.language.split("-")[0] if self.services.engine else None
            await self.write_event(TranscriptStart(language=language).event())
        if new:
            lead = " " if len(words.sent) > len(new) else ""  # after words sent before
            await self.write_event(TranscriptChunk(text=lead + " ".join(new)).event())

    async def _synthesis_event(self, event: Event) -> bool:
        """`synthesize`, or a text stream: `synthesize-start`, `synthesize-chunk`s (each
        sentence is spoken as soon as it is complete: audio-start, chunks, audio-stop),
        `synthesize-stop` (the rest, then `synthesize-stopped`). A `synthesize` inside a
        stream is the same text again, for services that don't stream: ignored."""
        if SynthesizeStart.is_type(event.type):
            self._text_stream = _TextStream(_voice_name(SynthesizeStart.from_event(event)))
            return True
        stream = self._text_stream
        if SynthesizeChunk.is_type(event.type) and stream is not None:
            text = SynthesizeChunk.from_event(event).text
            stream.chars += len(text)
            if stream.chars > MAX_TEXT_CHARS:
                self._text_stream = None
                return await self._too_long(stream.chars)
            for sentence in stream.chunker.feed(text):
                if not (spoken := await self._speak(sentence, stream.voice)):
                    self._text_stream = None
                    return spoken is None
            return True
        if SynthesizeStop.is_type(event.type) and stream is not None:
            self._text_stream = None
            for sentence in stream.chunker.flush():
                if not (spoken := await self._speak(sentence, stream.voice)):
                    return spoken is None
            await self.write_event(SynthesizeStopped().event())
            return True
        if Synthesize.is_type(event.type) and stream is None:
            return await self._synthesize(Synthesize.from_event(event))
        return True

    async def _detect(self, request: Any) -> bool:
        """`detect`: the audio that follows is for the wake words asked for (all we have
        when none are named)."""
        wanted = request.names or self.services.wake_words
        known = {phrase_of(n): n for n in self.services.wake_words}
        unknown = [n for n in wanted if phrase_of(n) not in known]
        if not self.services.wake_words or unknown:
            offered = ", ".join(self.services.wake_words) or "none"
            what = f"no wake word {', '.join(unknown)}" if unknown else "no wake words"
            await self.write_event(Error(text=f"{what} here (offered: {offered})").event())
            return False
        self._wake_names = [known[phrase_of(n)] for n in wanted]
        return True

    async def _wake_audio(self, event: Event) -> bool:
        names = self._wake_names or []
        if AudioStart.is_type(event.type):
            self._detected = False
            self._detectors = await self._in_stt(lambda: [WakeWordDetector(name) for name in names])
        elif AudioChunk.is_type(event.type):
            if not self._detectors:
                return True  # audio before audio-start
            chunk = AudioChunk.from_event(event)
            samples = np.frombuffer(self._convert.convert(chunk).audio, "<i2")
            fired = await self._in_stt(lambda: [d.push(samples) for d in self._detectors])
            for detector, hit in zip(self._detectors, fired, strict=True):
                if hit:
                    self._detected = True
                    found = Detection(name=detector.name, timestamp=chunk.timestamp)
                    await self.write_event(found.event())
        elif AudioStop.is_type(event.type):
            if not self._detected:
                await self.write_event(NotDetected().event())
            detectors, self._detectors = self._detectors, []
            await self._in_stt(close_all, detectors)
        return True

    async def _synthesize(self, request: Any) -> bool:
        name = _voice_name(request)
        if len(request.text) > MAX_TEXT_CHARS:
            return await self._too_long(len(request.text))
        # One audio-start ... audio-stop, but synthesised and sent a sentence at a time: the
        # first sentence plays while the next is made (docs/PERFORMANCE.md, Wyoming streaming).
        chunker = SentenceChunker()
        sentences = [*chunker.feed(request.text), *chunker.flush()] or [request.text]
        for i, sentence in enumerate(sentences):
            spoken = await self._speak(sentence, name, start=i == 0, stop=i == len(sentences) - 1)
            if not spoken:
                return spoken is None  # failed: this request ends; no voice: the connection
        return True

    async def _too_long(self, chars: int) -> bool:
        log.info("wyoming client %s: synthesize of %d characters", self._peer(), chars)
        await self.write_event(
            Error(
                text=f"text too long ({chars} characters; at most {MAX_TEXT_CHARS} per "
                "synthesize or text stream): send it a paragraph at a time",
                code="limit",
            ).event()
        )
        return True

    async def _speak(
        self, text: str, name: str, start: bool = True, stop: bool = True
    ) -> bool | None:
        """One piece of text as audio-start (unless `start` is False: more of the same audio),
        audio-chunks and audio-stop (unless `stop` is False: a short pause instead, more
        follows). False: no voice here (the connection ends); None: this text could not be
        synthesised (an error was sent; the request ends, the connection stays)."""
        if self.services.synth is None:
            await self.write_event(Error(text="no text to speech here").event())
            return False
        loop = asyncio.get_running_loop()
        try:
            audio = await loop.run_in_executor(
                self.services.synth_worker, self.services.synth.synthesize, text, Voice(piper=name)
            )
        except Exception as exc:  # SynthesisError and the engine's own
            await self.write_event(Error(text=f"synthesis failed: {exc}").event())
            return None
        fmt = dict(rate=audio.rate, width=2, channels=1)
        if start:
            await self.write_event(AudioStart(**fmt).event())
        data = audio.samples.astype("<i2").tobytes()
        if not stop:
            data += bytes(2 * int(audio.rate * SENTENCE_PAUSE_S))
        step = SAMPLES_PER_CHUNK * 2
        for i in range(0, len(data), step):
            await self.write_event(AudioChunk(audio=data[i : i + step], **fmt).event())
        if stop:
            await self.write_event(AudioStop().event())
        return True

    async def disconnect(self) -> None:
        detectors, self._detectors = self._detectors, []
        if detectors:
            self._stt.submit(close_all, detectors)
        self._stt.shutdown(wait=False)


class _FirmWords:
    """Which words of an utterance have been sent as transcript chunks."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.last: list[str] = []  # the previous look at the words so far
        self.looked_at_s = 0.0
        self.started = False  # transcript-start sent

    def firm(self, words: list[str], final: bool) -> list[str]:
        """The words to send now: those two looks in a row agree on (all of them when
        `final`), past what was sent, provided what was sent still stands."""
        agreed = words if final else list(os.path.commonprefix([words, self.last]))
        self.last = words
        if agreed[: len(self.sent)] != self.sent:
            return []  # the recogniser changed its mind about sent words: the transcript says
        new = agreed[len(self.sent) :]
        self.sent += new
        return new


def _voice_name(request: Any) -> str:
    """The voice a `synthesize` or `synthesize-start` asks for ("": the default)."""
    return request.voice.name if request.voice is not None and request.voice.name else ""


class _TextStream:
    """A text stream being synthesised (synthesize-start ... synthesize-stop)."""

    def __init__(self, voice: str) -> None:
        self.voice = voice
        self.chunker = SentenceChunker()
        self.chars = 0


class WyomingLimitError(Exception):
    """An event that breaks a limit or is not an event: the message says which."""


async def read_bounded_event(reader: asyncio.StreamReader) -> Event | None:
    """The next event (None at the end of the stream), like the wyoming package's reader but
    checking every declared length against the limits *before* reading it: a client that
    declares a 2 GiB payload is refused, not buffered."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise WyomingLimitError("the connection ended inside an event") from None
        return None
    except asyncio.LimitOverrunError:
        raise WyomingLimitError(f"an event header over {MAX_HEADER_BYTES} bytes") from None
    try:
        header = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise WyomingLimitError("not a Wyoming event (its header is not JSON)") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise WyomingLimitError('not a Wyoming event (no "type")')
    data = header.get("data") or {}
    sizes = {"data_length": MAX_DATA_BYTES, "payload_length": MAX_PAYLOAD_BYTES}
    declared = {}
    for key, most in sizes.items():
        value = header.get(key) or 0
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise WyomingLimitError(f"{key} must be a byte count, not {value!r}")
        if value > most:
            raise WyomingLimitError(f"{key} {value} is over the limit of {most} bytes")
        declared[key] = value
    if not isinstance(data, dict):
        raise WyomingLimitError("an event's data must be an object")
    if declared["data_length"]:
        extra = await reader.readexactly(declared["data_length"])
        try:
            more = json.loads(extra)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise WyomingLimitError("an event's data is not JSON") from None
        if not isinstance(more, dict):
            raise WyomingLimitError("an event's data must be an object")
        data = {**data, **more}
    payload = await reader.readexactly(declared["payload_length"]) or None
    return Event(type=header["type"], data=data, payload=payload)
