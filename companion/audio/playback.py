"""Playing audio through sounddevice, in small blocks so that `stop()` takes effect at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

BLOCK_SECONDS = 0.02


class AudioOutputError(Exception):
    """No usable output device (or no PortAudio); the message says what to do."""


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # the Python package is there but libportaudio is not
        raise AudioOutputError(
            f"PortAudio is not installed ({exc}). On Debian/Ubuntu: "
            "sudo apt-get install libportaudio2"
        ) from None
    return sounddevice


def parse_device(spec: str) -> int | str | None:
    """A device setting: '' is the default, digits an index, anything else a name substring."""
    spec = spec.strip()
    if not spec:
        return None
    return int(spec) if spec.isdigit() else spec


class AudioPlayer:
    """Plays mono int16 buffers on one output device; thread-safe `stop()` from anywhere."""

    def __init__(self, device: str = "") -> None:
        self.device = parse_device(device)
        self._stop = threading.Event()
        self._stream: Any = None
        self._stream_rate = 0

    def _open(self, rate: int) -> Any:
        if self._stream is not None and self._stream_rate == rate:
            return self._stream
        self.close()
        sd = _sounddevice()
        try:
            stream = sd.OutputStream(
                samplerate=rate, channels=1, dtype="int16", device=self.device, latency="low"
            )
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            where = f"output device {self.device!r}" if self.device is not None else "audio output"
            raise AudioOutputError(
                f"No usable {where} ({exc}). Speech is shown as text only; pick a device "
                "with --output-device (see `python -m sounddevice`) or use --mute."
            ) from None
        self._stream, self._stream_rate = stream, rate
        return stream

    def play(
        self, samples: np.ndarray, rate: int, cancelled: Callable[[], bool] | None = None
    ) -> bool:
        """Play to the end (True), or until `stop()` is called or `cancelled()` turns true
        (False). Blocks."""
        self._stop.clear()
        stream = self._open(rate)
        block = max(1, int(rate * BLOCK_SECONDS))
        data = samples.astype(np.int16).reshape(-1, 1)
        try:
            for start in range(0, len(data), block):
                if self._stop.is_set() or (cancelled is not None and cancelled()):
                    stream.abort()  # drop what is buffered: silence now, not after the buffer
                    stream.start()
                    return False
                stream.write(data[start : start + block])
        except Exception as exc:  # the device went away mid-sentence
            self.close()
            raise AudioOutputError(f"Audio output failed while speaking ({exc}).") from None
        return not (self._stop.is_set() or (cancelled is not None and cancelled()))

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.abort()
                self._stream.close()
            except Exception:
                pass
            self._stream = None
