"""Playing audio through sounddevice, in small blocks so that `stop()` takes effect at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from time import monotonic
from typing import Any

import numpy as np

from .devices import AudioDeviceError, open_with_rescan, parse_device, sounddevice_module
from .echo import EchoGate
from .vad import level_db

log = logging.getLogger(__name__)

BLOCK_SECONDS = 0.02


def report_output(echo_gate: EchoGate, samples: np.ndarray, rate: int, t: float) -> None:
    """Tell the echo gate (and its canceller) what the speakers put out at time `t`: the
    block's level, and its exact samples (silence included: the canceller needs it)."""
    echo_gate.played(level_db(samples), t)
    if echo_gate.canceller is not None and rate > 0:
        try:
            echo_gate.canceller.far_end(samples, rate, t)
        except Exception:  # never in the audio callback: that would stop the sound
            log.debug("the echo canceller's reference failed", exc_info=True)


class AudioOutputError(AudioDeviceError):
    """No usable output device (or no PortAudio); the message says what to do."""


def _sounddevice() -> Any:
    try:
        return sounddevice_module()
    except AudioDeviceError as exc:
        raise AudioOutputError(str(exc)) from None


class AudioPlayer:
    """Plays mono int16 buffers on one output device; thread-safe `stop()` from anywhere.

    The stream runs continuously with a callback that pulls from the current buffer and fills
    silence when there is none: no underruns between sentences, and `stop()` takes effect at
    the next callback (a few milliseconds), not after a device buffer drains.
    """

    def __init__(self, device: str = "", echo_gate: EchoGate | None = None) -> None:
        self.device = parse_device(device)
        self.echo_gate = echo_gate  # told how loud each block was, for barge-in
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stream: Any = None
        self._stream_rate = 0
        self._current: np.ndarray | None = None
        self._position = 0
        self._drained = threading.Event()
        self.last_fraction = 0.0  # how much of the last buffer was played (for clipping)

    def _callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        with self._lock:
            current = self._current
            if current is None:
                outdata.fill(0)
            else:
                chunk = current[self._position : self._position + frames]
                outdata[: len(chunk), 0] = chunk
                outdata[len(chunk) :].fill(0)
                self._position += len(chunk)
                if self._position >= len(current):
                    self._current = None
                    self._drained.set()
        if self.echo_gate is not None:
            # When this block will be heard, on the monotonic clock the microphone uses.
            try:
                delay = max(0.0, time.outputBufferDacTime - time.currentTime)
            except AttributeError:
                delay = 0.0
            report_output(self.echo_gate, outdata[:, 0], self._stream_rate, monotonic() + delay)

    def _open(self, rate: int) -> Any:
        if self._stream is not None and self._stream_rate == rate and self._stream.active:
            return self._stream
        self.close()
        sd = _sounddevice()
        try:
            stream = open_with_rescan(sd, lambda: self._start_stream(sd, rate))
        except (sd.PortAudioError, ValueError) as exc:
            where = f"output device {self.device!r}" if self.device is not None else "audio output"
            raise AudioOutputError(
                f"No usable {where} ({exc}). Speech is shown as text only; pick a device "
                "with --output-device (`companion devices` lists them) or use --mute."
            ) from None
        self._stream, self._stream_rate = stream, rate
        return stream

    def _start_stream(self, sd: Any, rate: int) -> Any:
        self._stream_rate = rate  # the callback reads it from its first call on
        stream = sd.OutputStream(
            samplerate=rate,
            channels=1,
            dtype="int16",
            device=self.device,
            latency="low",
            callback=self._callback,
        )
        stream.start()
        return stream

    def play(
        self, samples: np.ndarray, rate: int, cancelled: Callable[[], bool] | None = None
    ) -> bool:
        """Play to the end (True), or until `stop()` is called or `cancelled()` turns true
        (False). Blocks."""
        self._stop.clear()
        stream = self._open(rate)
        with self._lock:
            self._drained.clear()
            self._position = 0
            self._current = samples.astype(np.int16, copy=False).reshape(-1)
        while not self._drained.wait(BLOCK_SECONDS):
            if self._stop.is_set() or (cancelled is not None and cancelled()):
                with self._lock:
                    self._current = None  # silence from the next callback on
                    self.last_fraction = self._position / max(1, len(samples))
                return False
            if not stream.active:  # the device went away mid-sentence
                self.close()
                raise AudioOutputError("Audio output stopped while speaking (device lost?).")
        self.last_fraction = 1.0
        return True

    def stop(self) -> None:
        """Silence from the next device callback on (a few ms), from any thread."""
        self._stop.set()
        with self._lock:
            self._current = None

    def close(self) -> None:
        with self._lock:
            self._current = None
        if self._stream is not None:
            try:
                self._stream.abort()
                self._stream.close()
            except Exception:
                pass
            self._stream = None
