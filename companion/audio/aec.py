"""Acoustic echo cancellation: subtract the assistant's own voice from the microphone signal.

Two maintained cancellers in a row, an arrangement picked by measurement on the virtual cabin
(docs/PERFORMANCE.md, "The cabin"):

1. speexdsp's MDF filter (the system's libspeexdsp, through ctypes: Debian's libspeexdsp1,
   which PulseAudio already pulls in) takes out the echo *linearly*: the driver's voice is
   left as it was, even while both talk.
2. WebRTC's audio processing module (AEC3 with its noise suppressor and high-pass filter),
   through LiveKit's prebuilt binding (`livekit.rtc.AudioProcessingModule`, Apache-2.0;
   `pip install 'companion[cabin]'`), removes what the linear filter left. Alone, AEC3's
   suppressor has the whole echo to fight and eats the start of a driver's words said over
   it (WER +9 points in the bench); after the linear stage it has ~20 dB less to do (+3).

Without libspeexdsp, AEC3 works alone (said once in the log). `aec-audio-processing` (the same
WebRTC code) was measured too: identical results, but an sdist that took ~3 minutes to compile.

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

import atexit
import ctypes
import ctypes.util
import importlib.util
import logging
import threading
from typing import Any

import numpy as np
import soxr

log = logging.getLogger(__name__)

RATE = 16000
FRAME = RATE // 100  # 10 ms: the APM's frame
KEEP_S = 2.0  # reference kept for late microphone frames
JITTER_S = 0.02  # device callback times wobble; smaller gaps in the reference are not gaps


TAIL_S = 0.25  # the linear filter's length: room delay plus reverberation
_SPEEX_SET_SAMPLING_RATE = 24  # speex_echo.h


def available() -> bool:
    """Is a canceller installed (the cabin extra)?"""
    return importlib.util.find_spec("livekit") is not None


def _speexdsp() -> Any:
    """The system's libspeexdsp, or None."""
    name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p] * 4
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
    return lib


class LinearCanceller:
    """speexdsp's MDF adaptive filter: 10 ms frames of microphone and reference in, the
    microphone with the echo's linear part taken out."""

    def __init__(self, lib: Any, tail_s: float = TAIL_S) -> None:
        self._lib = lib
        self._state = lib.speex_echo_state_init(FRAME, int(tail_s * RATE))
        rate = ctypes.c_int(RATE)
        lib.speex_echo_ctl(self._state, _SPEEX_SET_SAMPLING_RATE, ctypes.byref(rate))
        self._out = np.empty(FRAME, np.int16)

    def frame(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        mic = np.ascontiguousarray(mic, np.int16)
        ref = np.ascontiguousarray(ref, np.int16)
        out = self._out
        self._lib.speex_echo_cancellation(
            self._state, mic.ctypes.data, ref.ctypes.data, out.ctypes.data
        )
        return out.copy()

    def __del__(self) -> None:
        state, self._state = getattr(self, "_state", None), None
        if state:
            self._lib.speex_echo_state_destroy(state)


class EchoCanceller:
    """Fed by the player (`far_end`), used by the listener (`process`). Thread-safe.

    It gives two versions of the microphone signal. *For listening* (is the driver speaking?
    barge-in?) AEC3 works on the raw microphone: its echo model holds, so its own voice never
    passes for the driver's (0 false barge-ins in the bench, where the two-stage signal had
    several in a minute while the linear filter converged). *For the recogniser* the
    linear filter goes first and a second AEC3 cleans up after it: the driver's first words
    over the echo survive far better (WER within a few points of no echo at all).
    """

    def __init__(self, noise_suppression: bool = True, linear: bool = True) -> None:
        from livekit import rtc

        self._rtc = rtc
        self.linear: LinearCanceller | None = None
        if linear:
            lib = _speexdsp()
            if lib is None:
                log.info("libspeexdsp not found: echo cancellation by WebRTC's AEC3 alone")
            else:
                self.linear = LinearCanceller(lib)

        def apm(ns: bool = noise_suppression) -> Any:
            return rtc.AudioProcessingModule(
                echo_cancellation=True,
                noise_suppression=ns,
                high_pass_filter=True,
                auto_gain_control=False,
            )

        self._apm = apm()  # for listening
        # LiveKit shuts its native side down at exit; a listener thread still running then
        # must stop calling it first (atexit runs last-registered first).
        atexit.register(self._stop_at_exit)
        self._apm_words = apm() if self.linear is not None else None  # for the recogniser
        self._lock = threading.Lock()
        self._ref = np.zeros(0, np.int16)  # the reference timeline at 16 kHz
        self._ref_t0 = 0.0  # when its first sample is heard
        self._resamplers: dict[int, object] = {}
        self._pending = np.zeros(0, np.int16)  # microphone samples short of a frame
        self.frames = 0  # microphone frames processed
        self.active_frames = 0  # ... of which had the assistant's voice in the reference
        self.failed = False  # the native canceller failed: frames pass through as they are

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

    def process(self, samples: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Microphone samples (16 kHz int16) whose last one was captured at `t`, cleaned of
        our own voice: (for listening, for the recogniser), each the whole 10 ms frames
        available (the rest waits for the next call)."""
        pending = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        whole = len(pending) - len(pending) % FRAME
        listen = np.empty(whole, np.int16)
        words = np.empty(whole, np.int16)
        for i in range(0, whole, FRAME):
            frame_end = t - (len(pending) - i - FRAME) / RATE
            listen[i : i + FRAME], words[i : i + FRAME] = self._frame(
                pending[i : i + FRAME], frame_end
            )
        self._pending = pending[whole:].copy()
        return listen, words

    def _run(self, apm: Any, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        rtc = self._rtc
        apm.process_reverse_stream(rtc.AudioFrame(ref.tobytes(), RATE, 1, FRAME))
        frame = rtc.AudioFrame(mic.astype(np.int16).tobytes(), RATE, 1, FRAME)
        apm.process_stream(frame)
        return np.frombuffer(bytes(frame.data), np.int16)

    def _stop_at_exit(self) -> None:
        self.failed = True

    def _frame(self, mic: np.ndarray, t_end: float) -> tuple[np.ndarray, np.ndarray]:
        ref = self._reference(t_end)
        self.frames += 1
        if ref.any():
            self.active_frames += 1
        if self.failed:
            return mic, mic
        try:
            listen = self._run(self._apm, mic, ref)
            if self.linear is None or self._apm_words is None:
                return listen, listen
            return listen, self._run(self._apm_words, self.linear.frame(mic, ref), ref)
        except Exception:
            # LiveKit's native side went away (it is shut down at interpreter exit, while the
            # listener may still run) or failed: listen on, uncancelled (the gate still works).
            log.info("echo cancellation stopped; listening without it", exc_info=True)
            self.failed = True
            return mic, mic
