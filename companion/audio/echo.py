"""Telling the driver's voice from the assistant's own voice coming back through the microphone.

There is no acoustic echo canceller here (that needs the exact speaker signal subtracted with
an adaptive filter, which the car's audio system usually does for us). What we do instead is
the classic level test used for double-talk detection: the player reports how loud it is
playing, block by block, and a microphone frame counts as the driver only if it is clearly
louder than the assistant's own voice would be after the trip from speaker to microphone.

How much quieter that trip makes the voice (the coupling, in dB) depends on the car, volume and
microphone, so it is learned while the assistant speaks: it falls quickly when the microphone is
quieter than predicted and rises slowly when it is louder, so the driver talking for a moment
does not teach the gate that loud is normal. It starts high (assume the echo is loud), which
means the assistant cannot interrupt itself while the gate is still learning.

Limit: over a loud echo the driver must be `margin_db` louder at the microphone than the echo
to interrupt by voice. Push-to-talk always interrupts.
"""

from __future__ import annotations

import math
import threading
from collections import deque

import numpy as np

SILENT_DB = -96.0


def block_db(samples: np.ndarray) -> float:
    if samples.size == 0:
        return SILENT_DB
    rms = math.sqrt(float(np.mean(samples.astype(np.float64) ** 2)))
    return 20 * math.log10(rms / 32768.0) if rms > 0 else SILENT_DB


class EchoGate:
    """Fed by the player (`played`), asked by the listener (`is_echo`). Thread-safe."""

    def __init__(
        self,
        margin_db: float = 6.0,
        initial_coupling_db: float = 6.0,
        tail_s: float = 0.35,
        active_db: float = -50.0,
    ) -> None:
        self.margin_db = margin_db
        self.coupling_db = initial_coupling_db
        self.tail_s = tail_s  # how long after a sound its echo may still arrive
        self.active_db = active_db  # quieter than this the player counts as silent
        self._played: deque[tuple[float, float]] = deque(maxlen=2000)
        self._lock = threading.Lock()

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

    def speaking(self, t: float) -> bool:
        return self.reference_db(t) > self.active_db

    def is_echo(self, mic_db: float, t: float) -> bool:
        """Is a microphone frame of `mic_db`, captured at `t`, explained by our own output?"""
        reference = self.reference_db(t)
        if reference <= self.active_db:
            return False  # nothing was playing: whatever the microphone hears is not us
        observed = mic_db - reference
        expected = self.coupling_db
        echo = observed < expected + self.margin_db
        # Learn: fast down, slow up (slower still when it may be the driver talking).
        rate = 0.2 if observed < expected else (0.02 if echo else 0.01)
        self.coupling_db = max(-60.0, min(20.0, expected + rate * (observed - expected)))
        return echo
