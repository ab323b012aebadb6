"""pyttsx3 speech synthesis, isolated in its own process.

pyttsx3 must be created and driven from one thread, prints to stdout, and in some versions
wedges after an utterance. So it lives in a child process that owns the engine, with its output
sent to /dev/null: we ask it to render one sentence to a WAV file and read the samples back.
If it does not answer in time it is killed and started again. We play the samples ourselves
(`companion.audio.playback`), which is what lets playback stop mid-word.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import tempfile
import threading
import wave
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from ..personas import Voice

log = logging.getLogger(__name__)


class SynthesisError(Exception):
    """Speech could not be synthesised; the message says why and what to install or change."""


@dataclass(frozen=True)
class Audio:
    """Mono int16 samples at `rate` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0

    def peak(self) -> int:
        return int(np.abs(self.samples.astype(np.int32)).max()) if len(self.samples) else 0


def _worker(conn: Connection) -> None:
    """Child process: own one pyttsx3 engine; render requests to WAV files."""
    # Ctrl+C in a terminal reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # pyttsx3 prints "Audio saved to ..." on stdout
    try:
        import pyttsx3

        engine = pyttsx3.init()
    except Exception as exc:  # report why the engine is unusable, then stop
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    # espeak renders on its own thread: runAndWait() can return before the WAV is written.
    # The driver announces "finished-utterance" only after closing the file, so wait for it.
    finished = threading.Event()
    engine.connect("finished-utterance", lambda name=None, completed=True: finished.set())
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        text, voice_id, rate, pitch, volume, path = request
        try:
            if voice_id:
                engine.setProperty("voice", voice_id)
            engine.setProperty("rate", rate)
            engine.setProperty("volume", volume)
            try:
                engine.setProperty("pitch", pitch)
            except Exception:
                pass  # not every driver has pitch
            finished.clear()
            engine.save_to_file(text, path)
            engine.runAndWait()
            if finished.wait(30) and os.path.exists(path):
                conn.send(("ok", None))
            else:
                conn.send(("error", "the engine finished without writing any audio"))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class Pyttsx3Synthesizer:
    """Render text to audio with pyttsx3 in a child process. Thread-safe; one request at a time."""

    def __init__(self, start_timeout: float = 15.0, timeout: float = 10.0) -> None:
        self.start_timeout = start_timeout
        self.timeout = timeout
        self._lock = threading.Lock()
        self._process: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="companion-tts-"))
        self._count = 0

    def _start(self) -> Connection:
        context = mp.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_worker, args=(child,), name="pyttsx3", daemon=True)
        process.start()
        child.close()
        if not parent.poll(self.start_timeout):
            process.kill()
            raise SynthesisError("the pyttsx3 speech engine did not start in time")
        try:
            status, detail = parent.recv()
        except EOFError:
            status, detail = "error", "the engine process exited"
        if status != "ready":
            process.kill()
            raise SynthesisError(
                f"the pyttsx3 speech engine could not start ({detail}). On Debian/Ubuntu: "
                "sudo apt-get install espeak-ng"
            )
        self._process, self._conn = process, parent
        return parent

    def warm_up(self) -> None:
        """Start the engine process now, so the first sentence does not wait for it."""
        with self._lock:
            if self._conn is None:
                self._start()

    def synthesize(self, text: str, voice: Voice = Voice()) -> Audio:
        with self._lock:
            conn = self._conn or self._start()
            self._count += 1
            path = self._dir / f"s{self._count}.wav"
            conn.send((text, voice.id, voice.rate, voice.pitch, voice.volume, str(path)))
            # A generous budget that grows with the text: espeak renders far faster than this.
            budget = self.timeout + len(text) / 50
            if not conn.poll(budget):
                log.warning("pyttsx3 did not answer in %.0f s; restarting it", budget)
                self._kill()
                raise SynthesisError("the speech engine stopped responding and was restarted")
            try:
                status, detail = conn.recv()
            except EOFError:
                self._kill()
                raise SynthesisError("the speech engine process died and will be restarted")
            if status != "ok":
                raise SynthesisError(f"the speech engine failed: {detail}")
            try:
                return read_wav(path)
            finally:
                path.unlink(missing_ok=True)

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=2)
        self._process = self._conn = None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(None)
                except OSError:
                    pass
            if self._process is not None:
                self._process.join(timeout=2)
            self._kill()
            for leftover in self._dir.glob("*"):
                leftover.unlink(missing_ok=True)
            self._dir.rmdir()


def read_wav(path: Path) -> Audio:
    """Read a PCM WAV file as mono int16 (channels are averaged)."""
    with wave.open(str(path), "rb") as wav:
        width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    if width != 2:
        raise SynthesisError(f"{path}: expected 16-bit PCM, got {8 * width}-bit")
    samples = np.frombuffer(frames, dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return Audio(samples.copy(), rate)


def write_wav(path: Path, audio: Audio) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(audio.rate)
        wav.writeframes(audio.samples.astype("<i2").tobytes())
