"""Acoustic echo cancellation: subtract the assistant's own voice from the microphone signal.

The canceller is WebRTC's audio processing module (AEC3, with its noise suppressor and
high-pass filter), through LiveKit's prebuilt binding (`livekit.rtc.AudioProcessingModule`,
Apache-2.0; `pip install 'companion[cabin]'`). It was picked by measurement over
`aec-audio-processing` (the same WebRTC code, but an sdist that takes ~3 minutes to compile)
and speexdsp (needs a system library and a C build): see docs/PERFORMANCE.md, "The cabin".

What it needs is the far-end reference: exactly the samples we play, on the same clock as the
microphone. The player hands every block it outputs to `far_end()` with the time the block
will be heard; `process()` takes each 10 ms microphone frame with the time it was captured and
feeds the APM the reference samples that were audible over those same 10 ms, then the frame.
The room's own delay (speaker to microphone, 1-10 ms in a car) and what remains of the
device latencies are found by AEC3's delay estimator.

Frames are 10 ms (the APM's size); a block that is not a whole number of frames keeps its tail
for the next call, so the cleaned audio lags the microphone by under 10 ms.
"""

from __future__ import annotations

import importlib.util
import threading

import numpy as np

RATE = 16000
FRAME = RATE // 100  # 10 ms: the APM's frame
KEEP_S = 2.0  # reference kept for late microphone frames
JITTER_S = 0.02  # device callback times wobble; smaller gaps in the reference are not gaps


def available() -> bool:
    """Is a canceller installed (the cabin extra)?"""
    return importlib.util.find_spec("livekit") is not None


class EchoCanceller:
    """Fed by the player (`far_end`), used by the listener (`process`). Thread-safe."""

    def __init__(self, noise_suppression: bool = True) -> None:
        from livekit import rtc

        self._rtc = rtc
        self._apm = rtc.AudioProcessingModule(
            echo_cancellation=True,
            noise_suppression=noise_suppression,
            high_pass_filter=True,
            auto_gain_control=False,
        )
        self._lock = threading.Lock()
        self._ref = np.zeros(0, np.int16)  # the reference timeline at 16 kHz
        self._ref_t0 = 0.0  # when its first sample is heard
        self._resamplers: dict[int, object] = {}
        self._pending = np.zeros(0, np.int16)  # microphone samples short of a frame
        self._pending_t = 0.0  # capture time of the last pending sample
        self.frames = 0  # microphone frames processed
        self.active_frames = 0  # ... of which had the assistant's voice in the reference

    # -- the player's side ---------------------------------------------------------------

    def far_end(self, samples: np.ndarray, rate: int, t: float) -> None:
        """The player put `samples` (mono int16 at `rate`) out; the first is heard at `t`."""
        block = self._to_16k(samples.reshape(-1), rate)
        with self._lock:
            end = self._ref_t0 + len(self._ref) / RATE
            if not len(self._ref) or abs(t - end) > JITTER_S:
                if len(self._ref) and 0 < t - end < KEEP_S:  # a pause: silence in between
                    gap = np.zeros(int((t - end) * RATE), np.int16)
                    self._ref = np.concatenate([self._ref, gap, block])
                else:  # first block, or the clock jumped: start the timeline again
                    self._ref, self._ref_t0 = block, t
            else:
                self._ref = np.concatenate([self._ref, block])
            extra = len(self._ref) - int(KEEP_S * RATE)
            if extra > 0:
                self._ref = self._ref[extra:]
                self._ref_t0 += extra / RATE

    def _to_16k(self, samples: np.ndarray, rate: int) -> np.ndarray:
        if rate == RATE:
            return samples.astype(np.int16, copy=False)
        import soxr

        stream = self._resamplers.get(rate)
        if stream is None:
            stream = self._resamplers[rate] = soxr.ResampleStream(rate, RATE, 1, dtype="int16")
        return np.asarray(stream.resample_chunk(samples.astype(np.int16)), np.int16)  # type: ignore[attr-defined]

    def _reference(self, t_end: float) -> np.ndarray:
        """The reference samples heard during the 10 ms that end at `t_end`."""
        with self._lock:
            start = int(round((t_end - FRAME / RATE - self._ref_t0) * RATE))
            out = np.zeros(FRAME, np.int16)
            lo, hi = max(0, start), min(len(self._ref), start + FRAME)
            if hi > lo:
                out[lo - start : hi - start] = self._ref[lo:hi]
        return out

    # -- the listener's side -------------------------------------------------------------

    def process(self, samples: np.ndarray, t: float) -> np.ndarray:
        """Microphone samples (16 kHz int16) whose last one was captured at `t`, cleaned of
        our own voice. Returns the whole 10 ms frames available (the rest waits)."""
        pending = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        whole = len(pending) - len(pending) % FRAME
        out = np.empty(whole, np.int16)
        for i in range(0, whole, FRAME):
            frame_end = t - (len(pending) - i - FRAME) / RATE
            out[i : i + FRAME] = self._frame(pending[i : i + FRAME], frame_end)
        self._pending = pending[whole:].copy()
        return out

    def _frame(self, mic: np.ndarray, t_end: float) -> np.ndarray:
        rtc = self._rtc
        ref = self._reference(t_end)
        self.frames += 1
        if ref.any():
            self.active_frames += 1
        self._apm.process_reverse_stream(rtc.AudioFrame(ref.tobytes(), RATE, 1, FRAME))
        frame = rtc.AudioFrame(mic.astype(np.int16).tobytes(), RATE, 1, FRAME)
        self._apm.process_stream(frame)
        return np.frombuffer(bytes(frame.data), np.int16)
