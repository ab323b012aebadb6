"""Playing audio through sounddevice: buffers queued back to back without a gap, and a
`stop()` that takes effect within one device block."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

import numpy as np

from .clock import PLAYER_LATE_S, SampleClock
from .devices import AudioDeviceError, open_with_rescan, parse_device, sounddevice_module
from .echo import EchoGate
from .vad import level_db

log = logging.getLogger(__name__)

BLOCK_SECONDS = 0.02
STALL_S = 2.0  # no progress on a playing buffer this long: the stream is restarted


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


@dataclass(eq=False)
class Playback:
    """One buffer handed to the player: where it has got to, and whether it was heard to the
    end. `done` is set when it ends either way (played out, stopped, or the device lost)."""

    samples: np.ndarray
    position: int = 0
    completed: bool = False
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def fraction(self) -> float:
        """How much of it was played (for what the driver heard of a cut-off sentence)."""
        return min(1.0, self.position / max(1, len(self.samples)))


class AudioPlayer:
    """Plays mono int16 buffers on one output device, gaplessly; thread-safe `stop()`.

    The stream runs continuously with a callback that pulls from a queue of buffers and fills
    silence when there is none. A buffer queued (`queue()`) while another plays follows it in
    the same device callback, so consecutive sentences have no gap however late the thread
    that queued it is woken. `stop()` takes effect at the next callback (a few milliseconds),
    not after a device buffer drains.
    """

    def __init__(self, device: str = "", echo_gate: EchoGate | None = None) -> None:
        self.device = parse_device(device)
        self.echo_gate = echo_gate  # told how loud each block was, for barge-in
        self._lock = threading.Lock()
        self._stream: Any = None
        self._stream_rate = 0
        self._queue: deque[Playback] = deque()
        self._watched: tuple[Playback | None, int, float] = (None, 0, 0.0)  # (what, where, when)
        self._clock = SampleClock(1)  # the stream's (set when it opens)
        self.last_fraction = 0.0  # how much of the last buffer `play()` played (for clipping)

    def _callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                current = self._queue[0]
                chunk = current.samples[current.position : current.position + frames - filled]
                outdata[filled : filled + len(chunk), 0] = chunk
                filled += len(chunk)
                current.position += len(chunk)
                if current.position >= len(current.samples):
                    current.completed = True
                    current.done.set()
                    self._queue.popleft()
        outdata[filled:].fill(0)
        if self.echo_gate is not None:
            # When this block will be heard, on the monotonic clock the microphone uses:
            # counted in samples from the stream's start (clock.py), not read per callback.
            try:
                delay = max(0.0, time.outputBufferDacTime - time.currentTime)
            except AttributeError:
                delay = 0.0
            broken = bool(status and getattr(status, "output_underflow", False))
            anchors = self._clock.anchors
            heard = self._clock.stamp(frames, monotonic() + delay, broken)
            if self._clock.anchors != anchors and anchors:
                # The samples and the clock parted (an underflow: the device played silence
                # we did not send): where our voice is in the microphone moved, and the echo
                # learned so far no longer holds.
                self.echo_gate.timeline_moved()
            report_output(self.echo_gate, outdata[:, 0], self._stream_rate, heard)

    def _open(self, rate: int) -> Any:
        if self._stream is not None and self._stream_rate == rate and self._stream.active:
            return self._stream
        self._close_stream()  # (what is queued stays: a stalled stream's restart)
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
        self._clock = SampleClock(rate, late_s=PLAYER_LATE_S, name="player")
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

    def accepts(self, rate: int) -> bool:
        """Whether a buffer at `rate` can be queued now without cutting what is queued (a
        different rate needs the stream reopened, so it waits until the queue is empty)."""
        with self._lock:
            return not self._queue or rate == self._stream_rate

    def queue(self, samples: np.ndarray, rate: int) -> Playback:
        """Queue a buffer behind whatever is playing; returns at once. Raises
        AudioOutputError when there is no usable output device."""
        if not self.accepts(rate):
            raise ValueError(f"a {rate} Hz buffer queued behind {self._stream_rate} Hz audio")
        self._open(rate)
        playback = Playback(samples.astype(np.int16, copy=False).reshape(-1))
        with self._lock:
            self._queue.append(playback)
        return playback

    def check(self, playback: Playback | None = None) -> None:
        """Raise AudioOutputError if the device went away while something is queued, and
        restart a stream that stalled: active, but `playback` made no progress for
        STALL_S (PortAudio on PulseAudio now and then stops calling back on a busy machine,
        and the sentence waited for ever). What is queued plays on from where it stopped."""
        stream = self._stream
        if stream is not None and not stream.active:
            self.close()
            raise AudioOutputError("Audio output stopped while speaking (device lost?).")
        if playback is None:
            return
        now = monotonic()
        if playback.position != self._watched[1] or playback is not self._watched[0]:
            self._watched = (playback, playback.position, now)
        elif now - self._watched[2] > STALL_S:
            log.info("audio output stalled for %.1f s: restarting the stream", STALL_S)
            self._watched = (playback, playback.position, now)
            self._restart()

    def _restart(self) -> None:
        """A new stream at the same rate; the queue is kept (the old stream's callback has
        stopped before the new one starts)."""
        self._close_stream()
        try:
            self._open(self._stream_rate)
        except AudioOutputError:
            self.stop()
            raise

    def play(
        self, samples: np.ndarray, rate: int, cancelled: Callable[[], bool] | None = None
    ) -> bool:
        """Play to the end (True), or until `stop()` is called or `cancelled()` turns true
        (False). Blocks."""
        playback = self.queue(samples, rate)
        while not playback.done.wait(BLOCK_SECONDS):
            if cancelled is not None and cancelled():
                self.stop()
                break
            self.check(playback)
        self.last_fraction = playback.fraction
        return playback.completed

    def stop(self) -> None:
        """Silence from the next device callback on (a few ms), from any thread; everything
        queued ends, not completed."""
        with self._lock:
            dropped, self._queue = self._queue, deque()
        for playback in dropped:
            playback.done.set()

    def close(self) -> None:
        self.stop()
        self._close_stream()

    def _close_stream(self) -> None:
        if self._stream is not None:
            try:
                self._stream.abort()
                self._stream.close()
            except Exception:
                pass
            self._stream = None
