"""Where the driver's voice comes from: a live microphone (sounddevice) or a file standing in
for one. Both hand out 16 kHz mono int16 blocks stamped with the monotonic time they were
captured, through a bounded queue that the audio callback never blocks on.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .clock import SampleClock
from .devices import AudioDeviceError, open_with_rescan, parse_device, sounddevice_module
from .files import Resampler, iter_blocks

log = logging.getLogger(__name__)

RATE = 16000
BLOCK_SECONDS = 0.02


class AudioInputError(AudioDeviceError):
    """The microphone is missing, busy or went away; the message says what to do."""


class InputEnded(Exception):
    """A file source has nothing more to give."""


@dataclass(frozen=True, slots=True)
class Block:
    samples: np.ndarray  # int16 mono at 16 kHz
    t: float  # time.monotonic() when the last sample of the block was captured


class AudioSource(Protocol):
    name: str

    def start(self) -> None: ...

    def read(self, timeout: float) -> Block | None:
        """The next block, or None if none arrived within `timeout` seconds. Raises
        AudioInputError when the device is lost, InputEnded when a file is done."""

    def close(self) -> None: ...


class MicrophoneSource:
    """A sounddevice input stream. The callback only copies and enqueues; when the queue is
    full (the recogniser fell behind) the oldest block is dropped and counted."""

    def __init__(self, device: str = "", queue_seconds: float = 5.0) -> None:
        self.device = parse_device(device)
        self.name = f"microphone {self.device!r}" if self.device is not None else "microphone"
        self._queue: queue.Queue[Block] = queue.Queue(maxsize=int(queue_seconds / BLOCK_SECONDS))
        self._stream: Any = None
        self._resample: Resampler | None = None
        self.dropped_blocks = 0
        self.overflows = 0
        self._last_callback = 0.0
        self._clock = SampleClock(RATE)  # the stream's (set when it opens)

    @property
    def anchors(self) -> int:
        """How often the stream's clock anchored (clock.py): more than once, and where the
        microphone's samples sit against the player's moved (the echo gate must relearn)."""
        return self._clock.anchors

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        now = time.monotonic()
        self._last_callback = now
        broken = bool(status and status.input_overflow)
        if broken:
            self.overflows += 1
        samples = np.frombuffer(bytes(indata), dtype=np.int16)
        if self._resample is not None:
            samples = self._resample(samples)
        # When its last sample was captured: counted in samples from the stream's start
        # (clock.py), so a callback woken late does not move the echo canceller's timeline.
        rate = self._clock.rate
        start = self._clock.stamp(frames, now - frames / rate, broken)
        block = Block(samples.copy(), start + frames / rate)
        try:
            self._queue.put_nowait(block)
        except queue.Full:
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()
            self.dropped_blocks += 1
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(block)

    def start(self) -> None:
        try:
            sd = sounddevice_module()
        except AudioDeviceError as exc:
            raise AudioInputError(str(exc)) from None
        from .priority import prefer_voice

        prefer_voice()  # before the stream's own thread starts: it inherits the priority
        try:
            self._stream = open_with_rescan(sd, lambda: self._open(sd))
        except (sd.PortAudioError, ValueError) as exc:
            where = f"input device {self.device!r}" if self.device is not None else "microphone"
            raise AudioInputError(
                f"No usable {where} ({exc}). Type instead, or pick a device with "
                "--input-device (see `companion devices`)."
            ) from None
        self._last_callback = time.monotonic()

    def _open(self, sd: Any) -> Any:
        rate = RATE
        try:
            sd.check_input_settings(device=self.device, channels=1, dtype="int16", samplerate=RATE)
            self._resample = None
        except (sd.PortAudioError, ValueError):
            # The device cannot do 16 kHz itself: record at its own rate and resample.
            info = sd.query_devices(self.device, "input")
            rate = int(info["default_samplerate"])
            self._resample = Resampler(rate, RATE)
        self._clock = SampleClock(rate, name="microphone")
        stream = sd.RawInputStream(
            samplerate=rate,
            channels=1,
            dtype="int16",
            device=self.device,
            blocksize=int(rate * BLOCK_SECONDS),
            latency="low",
            callback=self._callback,
        )
        stream.start()
        return stream

    def read(self, timeout: float) -> Block | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            pass
        stream = self._stream
        silent_for = time.monotonic() - self._last_callback
        if stream is None or not stream.active or silent_for > 2.0:
            raise AudioInputError(
                f"The {self.name} stopped delivering audio (unplugged?). Type instead, or "
                "reconnect it and turn the microphone back on."
            )
        return None

    CLOSE_WITHIN_S = 2.0

    def close(self) -> None:
        """Close the stream; never waits more than CLOSE_WITHIN_S. A device whose sound server
        died under it (unplugged) can hang in PortAudio's abort: the listener must still end,
        or the conversation would wait for it forever."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        if self.overflows or self.dropped_blocks:  # holes in what the recogniser heard (the log)
            log.info(
                "the microphone lost audio: %d input overflows, %d blocks dropped (the "
                "recogniser fell behind)",
                self.overflows,
                self.dropped_blocks,
            )

        def close() -> None:
            try:
                stream.abort()
                stream.close()
            except Exception:
                log.debug("closing the input stream failed", exc_info=True)

        closing = threading.Thread(target=close, name="microphone-close", daemon=True)
        closing.start()
        closing.join(self.CLOSE_WITHIN_S)
        if closing.is_alive():
            log.warning("the microphone's stream did not close within %.0f s", self.CLOSE_WITHIN_S)


class FileSource:
    """A recording standing in for the microphone. `realtime` paces blocks like a live
    microphone (for demos and latency measurement); otherwise as fast as they decode. A
    stretch of silence is appended so end-of-speech detection can close the last utterance.
    With `plays_on_press` a push-to-talk listener starts it at the first press: the driver on
    the recording speaks when the button is pressed, however long start-up took (the demo's
    `--audio-in`); without, it plays from the start, like a microphone that is always on."""

    def __init__(
        self,
        path: Path | str,
        realtime: bool = True,
        tail_silence: float = 1.0,
        plays_on_press: bool = False,
    ):
        self.path = Path(path)
        self.plays_on_press = plays_on_press
        self.name = f"file {self.path.name}"
        self.realtime = realtime
        self.tail_silence = tail_silence
        self._blocks: Any = None
        self._clock = 0.0
        self._started: float | None = None
        self._stopped = threading.Event()

    def start(self) -> None:
        from .files import probe

        probe(self.path)  # fail now, with the file's name, if it is not audio
        self._blocks = self._generate()
        self._started = None  # the pace is kept from the first read
        self._clock = 0.0

    def _generate(self) -> Any:
        size = int(RATE * BLOCK_SECONDS)
        for block in iter_blocks(self.path, RATE, BLOCK_SECONDS):
            for i in range(0, len(block), size):
                yield block[i : i + size]
        for _ in range(int(self.tail_silence / BLOCK_SECONDS)):
            yield np.zeros(size, np.int16)

    @property
    def position(self) -> float:
        """Seconds of the file (plus tail) handed out so far."""
        return self._clock

    def read(self, timeout: float) -> Block | None:
        if self._blocks is None or self._stopped.is_set():
            raise InputEnded(self.name)
        try:
            samples = next(self._blocks)
        except StopIteration:
            self._blocks = None
            raise InputEnded(self.name) from None
        if self._started is None:
            self._started = time.monotonic()
        self._clock += len(samples) / RATE
        due = self._started + self._clock
        if self.realtime:
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            return Block(samples, due)  # when these samples were "spoken"
        return Block(samples, time.monotonic())

    def close(self) -> None:
        self._stopped.set()
