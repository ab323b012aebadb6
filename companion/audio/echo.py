"""Telling the driver's voice from the assistant's own voice coming back through the microphone.

This is the level test that stands on its own when no echo canceller is installed, and judges
what the canceller leaves when one is (`aec.py`, which subtracts the exact speaker signal with
an adaptive filter). It is the classic test used for double-talk detection: the player
reports how loud it is playing, block by block, and a microphone frame counts as the driver
only if it is clearly louder than the assistant's own voice would be after the trip from
speaker to microphone.

How much quieter that trip makes the voice (the coupling, in dB) depends on the car, volume and
microphone, so it is learned while the assistant speaks: it is a high percentile of "microphone
level minus playback level" over the last few seconds of playback. Echo fills most of those
frames, so the percentile sits at the echo's level; the driver's first words are too few to
move it before they trigger. Until enough playback has been heard (`learn_frames`, 0.5 s) the
gate assumes a loud echo, so the assistant cannot interrupt itself while it is still learning.

A percentile over a few frames is itself unsure: how far a syllable's loudest block stands
over its echo varies (15 dB for one, 5 dB for the next, measured through a loopback on the
virtual sound card), so half a second of one syllable can put the bar 10 dB too low, and the
greeting's second word passed for the driver in about one start-up in seven. So a young
estimate gets up to `unsure_db` more margin, shrinking to none once the history is full (3 s).
Waiting those 3 s before trusting it at all is no answer: a driver who speaks over the start
of the greeting (with no echo at all) would then be learned as the echo and never heard.

Limit: over a loud echo the driver must be `margin_db` louder at the microphone than the echo
to interrupt by voice. Push-to-talk always interrupts.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np

from .vad import SILENT_DB


class EchoGate:
    """Fed by the player (`played`), asked by the listener (`is_echo`). Thread-safe.

    `canceller`, when set (an `aec.EchoCanceller`), also gets every sample the player puts
    out and cleans the microphone signal before the gate looks at it: the gate then only has
    the canceller's residue to judge, and the driver need not outshout the echo.
    """

    def __init__(
        self,
        margin_db: float = 6.0,
        initial_coupling_db: float = 6.0,
        tail_s: float = 0.35,
        active_db: float = -50.0,
        history_frames: int = 150,
        learn_frames: int = 25,
        percentile: float = 90.0,
        unsure_db: float = 10.0,
    ) -> None:
        self.margin_db = margin_db
        self.initial_coupling_db = initial_coupling_db
        self.tail_s = tail_s  # how long after a sound its echo may still arrive
        self.active_db = active_db  # quieter than this the player counts as silent
        self.learn_frames = learn_frames
        self.percentile = percentile
        self.unsure_db = unsure_db  # extra margin for a young estimate (see the module's doc)
        self._played: deque[tuple[float, float]] = deque(maxlen=2000)
        self._observed: deque[float] = deque(maxlen=history_frames)
        # The same two things for the quick barge-in's signal: its coupling, and its levels
        # (for the noise floor: the last 2 s).
        self._fast_observed: deque[float] = deque(maxlen=history_frames)
        self._fast_levels: deque[float] = deque(maxlen=100)
        self._lock = threading.Lock()
        self.canceller: Any = None

    def speaking(self, t: float) -> bool:
        """Was the assistant audible in the `tail_s` before `t`?"""
        return self.reference_db(t) > self.active_db

    def played(self, level_db: float, t: float) -> None:
        """The player put a block of `level_db` out, audible at monotonic time `t`."""
        with self._lock:
            self._played.append((t, level_db))

    def reference_db(self, t: float) -> float:
        """The loudest the assistant played in the `tail_s` before `t`."""
        loudest = SILENT_DB
        with self._lock:
            for when, level in reversed(self._played):
                if when < t - self.tail_s:
                    break
                if when <= t + 0.05 and level > loudest:
                    loudest = level
        return loudest

    @property
    def coupling_db(self) -> float:
        """Echo level relative to playback, as learned so far (dB)."""
        with self._lock:
            return self._coupling(self._observed)

    def _coupling(self, observed: deque[float]) -> float:
        if len(observed) < self.learn_frames:
            return self.initial_coupling_db
        return float(np.percentile(observed, self.percentile))

    @property
    def noise_floor_db(self) -> float:
        """What the quick barge-in's signal holds without the driver, over the last 2 s: the
        median of its frame levels (SILENT_DB before the first). With the echo cancelled,
        that is the road and the room, as the recogniser hears them."""
        with self._lock:
            levels = list(self._fast_levels)
        return float(np.median(levels)) if levels else SILENT_DB

    def clear_of_echo(self, mic_db: float, t: float, margin_db: float) -> bool:
        """The quick barge-in's test, on the canceller's linear output (`aec.Cleaned.linear`):
        is a frame `margin_db` above what that signal holds without the driver, i.e. the echo
        it leaves (playback level plus its own learned coupling) on top of its noise floor
        (`noise_floor_db`)? Without the floor, steady road rumble passed for the driver
        whenever the assistant spoke softly.

        Call it for every frame while no utterance is open (it learns from them); it is False
        while nothing plays (the usual start rule decides then). Until the coupling is
        learned, the gate assumes a loud echo."""
        reference = self.reference_db(t)
        floor = self.noise_floor_db
        with self._lock:
            self._fast_levels.append(mic_db)
            if reference <= self.active_db:
                return False
            coupling = self._coupling(self._fast_observed)
            self._fast_observed.append(mic_db - reference)
        expected = 10 * np.log10(10 ** ((reference + coupling) / 10) + 10 ** (floor / 10))
        return bool(mic_db >= expected + margin_db)

    def is_echo(self, mic_db: float, t: float) -> bool:
        """Is a microphone frame of `mic_db`, captured at `t`, explained by our own output?
        Call it for every frame while listening (silent ones too: the gate learns from them)."""
        reference = self.reference_db(t)
        if reference <= self.active_db:
            return False  # nothing was playing: whatever the microphone hears is not us
        observed = mic_db - reference
        with self._lock:
            seen = len(self._observed)
            coupling = self._coupling(self._observed)
            self._observed.append(observed)
        unsure = 0.0
        if seen >= self.learn_frames:  # (before, the loud echo assumed needs no more margin)
            unsure = self.unsure_db * (1.0 - seen / (self._observed.maxlen or seen))
        return observed < coupling + self.margin_db + unsure
