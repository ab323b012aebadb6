"""Acoustic echo cancellation: subtract the assistant's own voice from the microphone signal.

Two maintained cancellers, arranged by measurement on the virtual cabin (docs/PERFORMANCE.md,
"The cabin"):

1. speexdsp's MDF filter (the system's libspeexdsp, through ctypes: Debian's libspeexdsp1,
   which PulseAudio already pulls in) takes out the echo *linearly*: the driver's voice is
   left as it was, even while both talk. The recogniser and the quick barge-in use this.
2. WebRTC's audio processing module (AEC3 with its noise suppressor and high-pass filter),
   through LiveKit's prebuilt binding (`livekit.rtc.AudioProcessingModule`, Apache-2.0;
   `pip install 'companion[cabin]'`): on the raw microphone for the VAD (its echo model
   never lets the assistant pass for the driver), and after the linear filter for the
   recogniser in loud road noise. Its suppressor eats the start of a driver's words said
   over the echo (WER +9 points alone, +5 after the linear stage) and its noise suppressor
   costs a quiet cabin 3-4 points, so the recogniser gets it only when the road is loud.

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
from typing import Any, NamedTuple

import numpy as np
import soxr

log = logging.getLogger(__name__)

RATE = 16000
FRAME = RATE // 100  # 10 ms: the APM's frame
KEEP_S = 2.0  # reference kept for late microphone frames
JITTER_S = 0.02  # device callback times wobble; smaller gaps in the reference are not gaps


TAIL_S = 0.25  # the linear filter's length: room delay plus reverberation
# The quick barge-in (echo.EchoGate.clear_of_echo): how far above what the linear signal holds
# without the driver a frame must be. Measured on the virtual cabin (docs/PERFORMANCE.md,
# "The cabin"): on the linear filter's output the assistant alone never came within 6 dB of
# that level in 12 minutes at 20, 10 and 0 dB SNR, while nine driver onsets in ten passed
# 14 dB within 60 ms. AEC3's output holds the driver's first syllable back, so without the
# linear stage the quick barge-in judges AEC3's output and wants more.
MARGIN_LINEAR_DB = 12.0
MARGIN_AEC3_DB = 24.0


# Noise suppression helps the recogniser only in loud road noise. Measured on the virtual
# cabin (docs/PERFORMANCE.md, "The cabin", (c)), WER from the linear output vs with AEC3's
# suppression after it: quiet 13.3% vs 17.7%, 10 dB SNR 15.8 vs 23.4, 5 dB 17.1 vs 22.2, 0 dB
# 25.3 vs 19.6. So the recogniser gets suppression when the road, as the linear output holds
# it (`EchoGate.noise_floor_db`), comes within this much of the driver's voice: measured so, a
# road at 5 dB SNR reads 10.5-13 dB and one at 0 dB 6-8 dB, and the line falls between (a
# reading taken from only a few frames, at start-up, is the noisiest, and it runs low). The
# driver's level is learned from their last utterances; until then it is ITU-T P.56's
# nominal active speech level.
SUPPRESS_BELOW_SNR_DB = 10.0
NOMINAL_SPEECH_DBFS = -26.0


class Cleaned(NamedTuple):
    """The microphone, three ways, for the listener, and as it came (16 kHz int16, the same
    length)."""

    listen: np.ndarray  # AEC3 (with noise suppression) on the raw microphone: VAD
    linear: np.ndarray  # the linear filter alone: the quick barge-in, and the recogniser
    suppressed: np.ndarray  # the linear filter, then AEC3: the recogniser in loud road noise
    raw: np.ndarray  # the microphone itself: how much of our voice reaches it at all


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


class _Run:
    """The player's blocks that follow each other without a break, at one rate: where each
    16 kHz reference sample of them belongs in time."""

    def __init__(self, rate: int, t: float) -> None:
        self.rate, self.t0 = rate, t
        self.taken = 0  # samples in, at `rate`
        self.placed = 0  # samples out, at 16 kHz
        self._resampler: Any = (
            # Low quality is plenty for a reference, and its output lags the input by at
            # most ~22 ms (HQ: 40 ms): it must be there by the time its echo is captured.
            None
            if rate == RATE
            else soxr.ResampleStream(rate, RATE, 1, dtype="int16", quality="LQ")
        )

    @property
    def input_end(self) -> float:
        """When the sample after the last one given is heard."""
        return self.t0 + self.taken / self.rate

    @property
    def output_time(self) -> float:
        """When the next 16 kHz sample out is heard."""
        return self.t0 + self.placed / RATE

    def push(self, samples: np.ndarray) -> np.ndarray:
        self.taken += len(samples)
        if self._resampler is None:
            return samples.astype(np.int16, copy=False)
        return np.asarray(self._resampler.resample_chunk(samples.astype(np.int16)), np.int16)

    def flush(self) -> np.ndarray:
        if self._resampler is None:
            return np.zeros(0, np.int16)
        return np.asarray(
            self._resampler.resample_chunk(np.zeros(0, np.int16), last=True), np.int16
        )


class _Timeline:
    """The last KEEP_S of what the speakers played (16 kHz), by when it is heard. Written
    from the audio callback many times a second, so it writes in place: a buffer twice as
    long as it keeps, shifted down only when it fills (no copy of the whole per block)."""

    def __init__(self) -> None:
        self._keep = int(KEEP_S * RATE)
        self._buf = np.zeros(2 * self._keep, np.int16)
        self._n = 0  # samples held
        self._t0 = 0.0  # when buf[0] is heard

    def write(self, t: float, block: np.ndarray) -> None:
        """`block` is heard from `t` on. A pause since the last write is silence; an overlap
        is overwritten; a time far from what is held starts the timeline again."""
        end = self._t0 + self._n / RATE
        if self._n and self._t0 <= t <= end + KEEP_S:
            at = int(round((t - self._t0) * RATE))
        else:
            self._t0, self._n, at = t, 0, 0
        block = block[-self._keep :]
        if at + len(block) > len(self._buf):  # full: drop the oldest, keep the last KEEP_S
            drop = at + len(block) - self._keep
            kept = max(0, min(self._n, at) - drop)
            self._buf[:kept] = self._buf[drop : drop + kept]
            self._n = min(self._n, kept)
            self._t0 += drop / RATE
            at -= drop
        if at > self._n:
            self._buf[self._n : at] = 0
        self._buf[at : at + len(block)] = block
        self._n = at + len(block)

    def read(self, t: float, count: int) -> np.ndarray:
        """`count` samples heard from `t` on (silence where nothing was played)."""
        start = int(round((t - self._t0) * RATE))
        out = np.zeros(count, np.int16)
        lo, hi = max(0, start), min(self._n, start + count)
        if hi > lo:
            out[lo - start : hi - start] = self._buf[lo:hi]
        return out


class EchoCanceller:
    """Fed by the player (`far_end`), used by the listener (`process`). Thread-safe.

    It gives three versions of the microphone signal (`Cleaned`). *For listening* (is the
    driver speaking?) AEC3 works on the raw microphone: its echo model holds, so its own voice
    never passes for the driver's (the linear filter's output started utterances on the
    assistant's own voice several times a minute while it converged). The *linear* filter's
    output leaves the driver's voice as it was: the quick barge-in judges it (AEC3's
    suppressor holds back the first 30-50 ms of a voice said over a loud echo: barge-in 80 ->
    40 ms median in the bench), against a level learned on that same signal
    (`echo.EchoGate.clear_of_echo`, margin `onset_margin_db`), and the recogniser hears it
    (WER over the echo within ~1 point of no echo; AEC3's noise suppressor costs a quiet
    cabin 3-4 points). In loud road noise the recogniser gets the linear output cleaned up
    by a second AEC3 with noise suppression instead (`suppressed`; the listener chooses,
    see SUPPRESS_BELOW_SNR_DB).
    """

    def __init__(
        self, noise_suppression: bool = True, linear: bool = True, gain_control: bool = False
    ) -> None:
        """`gain_control`: AEC3's automatic gain control on the recogniser's suppressed signal
        (off: measured in docs/PERFORMANCE.md, "The cabin", but not on the linear signal the
        recogniser usually hears)."""
        from livekit import rtc

        self._rtc = rtc
        self.linear: LinearCanceller | None = None
        if linear:
            lib = _speexdsp()
            if lib is None:
                log.info("libspeexdsp not found: echo cancellation by WebRTC's AEC3 alone")
            else:
                self.linear = LinearCanceller(lib)

        def apm(agc: bool = False) -> Any:
            return rtc.AudioProcessingModule(
                echo_cancellation=True,
                noise_suppression=noise_suppression,
                high_pass_filter=True,
                auto_gain_control=agc,
            )

        self._apm = apm()  # for listening
        # LiveKit shuts its native side down at exit; a listener thread still running then
        # must stop calling it first (atexit runs last-registered first).
        atexit.register(self._stop_at_exit)
        self._apm_words = apm(gain_control) if self.linear is not None else None  # after it
        self._lock = threading.Lock()
        self._timeline = _Timeline()  # what the speakers played, at 16 kHz, by time
        self._far: _Run | None = None  # the player's current run of blocks
        self._pending = np.zeros(0, np.int16)  # microphone samples short of a frame
        self.frames = 0  # microphone frames processed
        self.active_frames = 0  # ... of which had the assistant's voice in the reference
        self.failed = False  # the native canceller failed: frames pass through as they are

    @property
    def onset_margin_db(self) -> float:
        """The quick barge-in's margin on `Cleaned.linear` (see MARGIN_LINEAR_DB)."""
        return MARGIN_LINEAR_DB if self.linear is not None else MARGIN_AEC3_DB

    # -- the player's side ---------------------------------------------------------------

    def far_end(self, samples: np.ndarray, rate: int, t: float) -> None:
        """The player put `samples` (mono int16 at `rate`) out; the first is heard at `t`.

        Blocks that follow on from the last (within JITTER_S) continue one *run*: the run's
        samples are placed at its start time plus their count, so the reference is as smooth
        as the sound itself, whatever the callbacks' timing. A streaming resampler (other
        rates) gives its output in bursts, late: its k-th output sample still belongs at the
        run's start plus k / 16 kHz, so that is where it goes. A jump in time starts a run.
        """
        samples = samples.reshape(-1)
        with self._lock:
            run = self._far
            if run is None or run.rate != rate or abs(t - run.input_end) > JITTER_S:
                if run is not None:
                    self._place(run, run.flush())
                run = self._far = _Run(rate, t)
            self._place(run, run.push(samples))

    def _place(self, run: _Run, block: np.ndarray) -> None:
        """Put a run's next 16 kHz samples on the reference timeline (lock held)."""
        if len(block):
            self._timeline.write(run.output_time, block)
            run.placed += len(block)

    def _reference(self, t_end: float) -> np.ndarray:
        """The reference samples heard during the 10 ms that end at `t_end`."""
        with self._lock:
            return self._timeline.read(t_end - FRAME / RATE, FRAME)

    # -- the listener's side -------------------------------------------------------------

    def process(self, samples: np.ndarray, t: float) -> Cleaned:
        """Microphone samples (16 kHz int16) whose last one was captured at `t`, cleaned of
        our own voice, each version the whole 10 ms frames available (the rest waits for the
        next call)."""
        pending = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        whole = len(pending) - len(pending) % FRAME
        out = Cleaned(*(np.empty(whole, np.int16) for _ in Cleaned._fields))
        for i in range(0, whole, FRAME):
            frame_end = t - (len(pending) - i - FRAME) / RATE
            cleaned = self._frame(pending[i : i + FRAME], frame_end)
            for signal, frame in zip(out, cleaned, strict=True):
                signal[i : i + FRAME] = frame
        self._pending = pending[whole:].copy()
        return out

    def _run(self, apm: Any, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        rtc = self._rtc
        apm.process_reverse_stream(rtc.AudioFrame(ref.tobytes(), RATE, 1, FRAME))
        frame = rtc.AudioFrame(mic.astype(np.int16).tobytes(), RATE, 1, FRAME)
        apm.process_stream(frame)
        return np.frombuffer(bytes(frame.data), np.int16)

    def _stop_at_exit(self) -> None:
        self.failed = True

    def _frame(self, mic: np.ndarray, t_end: float) -> Cleaned:
        ref = self._reference(t_end)
        self.frames += 1
        if ref.any():
            self.active_frames += 1
        if self.failed:
            return Cleaned(mic, mic, mic, mic)
        try:
            listen = self._run(self._apm, mic, ref)
            if self.linear is None or self._apm_words is None:
                return Cleaned(listen, listen, listen, mic)
            linear = self.linear.frame(mic, ref)
            return Cleaned(listen, linear, self._run(self._apm_words, linear, ref), mic)
        except Exception:
            # LiveKit's native side went away (it is shut down at interpreter exit, while the
            # listener may still run) or failed: listen on, uncancelled (the gate still works).
            log.info("echo cancellation stopped; listening without it", exc_info=True)
            self.failed = True
            return Cleaned(mic, mic, mic, mic)
