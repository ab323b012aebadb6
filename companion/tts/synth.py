"""pyttsx3 speech synthesis, isolated in its own process.

pyttsx3 must be created and driven from one thread, prints to stdout, and in some versions
wedges after an utterance. So it lives in a child process that owns the engine, with its output
sent to /dev/null: we ask it to render one sentence to a WAV file and read the samples back.
If it does not answer in time it is killed and started again. We play the samples ourselves
(`companion.audio.playback`), which is what lets playback stop mid-word.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    def scaled(self, volume: float) -> Audio:
        """The same audio at `volume` (0..1) of its level."""
        if volume >= 1.0:
            return self
        samples = (self.samples.astype(np.float32) * max(0.0, volume)).astype(np.int16)
        return Audio(samples, self.rate)

    def trimmed(self, keep_s: float = 0.02, threshold: int = 200) -> Audio:
        """Without the engine's leading and trailing silence (but `keep_s` of each): the first
        sound comes sooner, and the pause between sentences is ours to set."""
        loud = np.flatnonzero(np.abs(self.samples.astype(np.int32)) > threshold)
        if not len(loud):
            return Audio(self.samples[:0], self.rate)
        keep = int(keep_s * self.rate)
        start, end = max(0, loud[0] - keep), min(len(self.samples), loud[-1] + 1 + keep)
        return Audio(self.samples[start:end], self.rate)

    def padded(self, seconds: float) -> Audio:
        """With `seconds` of silence appended."""
        pad = np.zeros(int(seconds * self.rate), np.int16)
        return Audio(np.concatenate([self.samples, pad]), self.rate)

    def peak(self) -> int:
        return int(np.abs(self.samples.astype(np.int32)).max()) if len(self.samples) else 0


def _worker_main() -> None:
    """Child process: own one pyttsx3 engine; render JSON-line requests to WAV files."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # pyttsx3 prints "Audio saved to ..." on stdout

    def answer(status: str, detail: str = "") -> None:
        protocol.write(json.dumps({"status": status, "detail": detail}) + "\n")

    try:
        render = _espeak_renderer() if sys.platform.startswith("linux") else _engine_renderer()
    except Exception as exc:  # report why the engine is unusable, then stop
        answer("error", f"{type(exc).__name__}: {exc}")
        return
    answer("ready")
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if render(request):
                answer("ok")
            else:
                answer("error", "the engine finished without writing any audio")
        except Exception as exc:
            answer("error", f"{type(exc).__name__}: {exc}")


def _espeak_renderer() -> Callable[[dict[str, Any]], bool]:
    """pyttsx3's espeak-ng binding in synchronous mode (Linux).

    pyttsx3 2.99's espeak *engine* runs espeak asynchronously and races with it: measured on
    this machine, 9 of 12 alternating requests came out with the previous request's rate, and
    forcing the settings through left some renders empty (a stale end-of-message event closes
    the next file). In synchronous mode `Synth` returns only when every sample has been handed
    to our callback, in order, so settings and audio can't cross.
    """
    import ctypes

    from pyttsx3.drivers import _espeak

    rate = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 200)
    if rate <= 0:
        raise RuntimeError("espeak-ng could not initialise (is espeak-ng-data installed?)")
    chunks: list[bytes] = []

    def on_synth(wav: Any, count: int, events: Any) -> int:
        if count > 0:
            chunks.append(ctypes.string_at(wav, count * 2))
        return 0  # go on

    _espeak.SetSynthCallback(on_synth)
    default_voice = ""
    current = _espeak.GetCurrentVoice()
    if current and current.contents.identifier:
        default_voice = current.contents.identifier.decode("utf-8")

    def render(request: dict[str, Any]) -> bool:
        voice = request["voice"] or default_voice
        if voice and _espeak.SetVoiceByName(voice.encode("utf-8")) != _espeak.EE_OK:
            raise ValueError(f"espeak-ng has no voice {voice!r} (see `espeak-ng --voices`)")
        _espeak.SetParameter(_espeak.RATE, int(request["rate"]), 0)
        _espeak.SetParameter(_espeak.PITCH, int(request["pitch"]), 0)
        _espeak.SetParameter(_espeak.VOLUME, 100, 0)
        chunks.clear()
        status = _espeak.Synth(request["text"], flags=_espeak.CHARS_UTF8)
        if status != _espeak.EE_OK:
            raise RuntimeError(f"espeak_Synth returned {status}")
        write_wav(Path(request["path"]), Audio(np.frombuffer(b"".join(chunks), "<i2"), rate))
        return bool(chunks)

    return render


def _engine_renderer() -> Callable[[dict[str, Any]], bool]:
    """pyttsx3's own engine (other platforms' drivers): render with save_to_file."""
    import pyttsx3

    engine = pyttsx3.init()
    finished = threading.Event()
    engine.connect("finished-utterance", lambda name=None, completed=True: finished.set())

    def render(request: dict[str, Any]) -> bool:
        if request["voice"]:
            engine.setProperty("voice", request["voice"])
        engine.setProperty("rate", request["rate"])
        with contextlib.suppress(Exception):  # not every driver has pitch
            engine.setProperty("pitch", request["pitch"])
        finished.clear()
        engine.save_to_file(request["text"], request["path"])
        engine.runAndWait()
        done = finished.wait(30)
        deadline = time.monotonic() + 2  # the driver may report the end before it is idle
        while engine.isBusy() and time.monotonic() < deadline:
            time.sleep(0.005)
        return done and os.path.exists(request["path"])

    return render


class Pyttsx3Synthesizer:
    """Render text to audio with pyttsx3 in a child process. Thread-safe; one request at a time."""

    def __init__(self, start_timeout: float = 15.0, timeout: float = 4.0) -> None:
        self.start_timeout = start_timeout
        self.timeout = timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="companion-tts-"))
        self._count = 0

    def _start(self) -> subprocess.Popen[str]:
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "companion.tts.synth"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                # Its own session: Ctrl+C in the terminal is for us to handle, not the engine.
                start_new_session=True,
            )
        except OSError as exc:
            raise SynthesisError(f"the speech engine process could not start ({exc})") from None
        self._process = process
        status, detail = self._receive(self.start_timeout, "start")
        if status != "ready":
            self._kill()
            raise SynthesisError(
                f"the pyttsx3 speech engine could not start ({detail}). On Debian/Ubuntu: "
                "sudo apt-get install espeak-ng"
            )
        return process

    def _receive(self, timeout: float, what: str) -> tuple[str, str]:
        process = self._process
        assert process is not None and process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        if not ready:
            log.warning("pyttsx3 did not %s within %.0f s; restarting it", what, timeout)
            self._kill()
            raise SynthesisError("the speech engine stopped responding and was restarted")
        line = process.stdout.readline()
        if not line:
            self._kill()
            raise SynthesisError("the speech engine process exited; it will be restarted")
        reply = json.loads(line)
        return reply["status"], reply["detail"]

    def warm_up(self) -> None:
        """Start the engine process now, so the first sentence does not wait for it."""
        with self._lock:
            if self._process is None:
                self._start()

    def synthesize(self, text: str, voice: Voice | None = None) -> Audio:
        voice = voice or Voice()
        with self._lock:
            process = self._process or self._start()
            self._count += 1
            path = self._dir / f"s{self._count}.wav"
            request = {
                "text": text,
                "voice": voice.id,
                "rate": voice.rate,
                "pitch": voice.pitch,
                "volume": voice.volume,
                "path": str(path),
            }
            try:
                assert process.stdin is not None
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
            except OSError:
                self._kill()
                raise SynthesisError(
                    "the speech engine process died; it will be restarted"
                ) from None
            # A generous budget that grows with the text: espeak renders far faster than this.
            status, detail = self._receive(self.timeout + len(text) / 100, "answer")
            if status != "ok":
                raise SynthesisError(f"the speech engine failed: {detail}")
            try:
                audio = read_wav(path)
            finally:
                path.unlink(missing_ok=True)
        return audio.trimmed().scaled(voice.volume)

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                try:
                    self._process.stdin.close()  # type: ignore[union-attr]
                    self._process.wait(timeout=2)
                except (OSError, subprocess.TimeoutExpired):
                    pass
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


if __name__ == "__main__":
    _worker_main()
