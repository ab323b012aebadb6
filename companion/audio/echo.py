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

The coupling is learned afresh for each stretch of playback (a reply, a greeting): when the
assistant starts again after `resume_after_s` of silence, what was learned before is dropped
and the young-estimate rules above apply again. With an echo canceller in front, what the
gate sees is what the canceller leaves, and that changes between replies: AEC3 converged
over the greeting left 40-100 dB less than it let through at the start of the next reply,
and the coupling learned over the greeting let the reply's first words pass for the driver
(the assistant interrupted itself; found on the virtual sound card under load). The volume
the driver set between replies changes the coupling too.

What is learned from is only what the gate takes for the echo (once the first half second
is learned): a driver talking over the reply is not the echo. Learned from as well, the
driver's first syllables filled the top tenth of the history within 0.3 s and raised the
estimate to the driver's own level, and the rest of the request passed for the echo (on the
sound card: a reply at -9 dBFS, AEC3 leaving nothing of it, the learned level went from -84
to -15 dB while the driver spoke). This is the classic double-talk rule: stop adapting while
both talk. Where the echo really grows (the volume turned up), the growth is learned in
steps of up to `margin_db`, and each new stretch of playback is learned afresh anyway.

Limit: over a loud echo the driver must be `margin_db` louder at the microphone than the echo
to interrupt by voice. Push-to-talk always interrupts.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np

from .vad import SILENT_DB

# Our voice reaching the microphone this far under what we play is no echo worth cancelling.
NO_ECHO_DB = -50.0


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
        resume_after_s: float = 1.0,
    ) -> None:
        self.margin_db = margin_db
        self.initial_coupling_db = initial_coupling_db
        self.tail_s = tail_s  # how long after a sound its echo may still arrive
        self.active_db = active_db  # quieter than this the player counts as silent
        self.learn_frames = learn_frames
        self.percentile = percentile
        self.unsure_db = unsure_db  # extra margin for a young estimate (see the module's doc)
        self.resume_after_s = resume_after_s  # silence after which the coupling is relearned
        self._last_audible = float("-inf")
        self._played: deque[tuple[float, float]] = deque(maxlen=2000)
        self._observed: deque[float] = deque(maxlen=history_frames)
        # The same two things for the quick barge-in's signal: its coupling, and its levels
        # (for the noise floor: the last 2 s).
        self._fast_observed: deque[float] = deque(maxlen=history_frames)
        self._fast_levels: deque[float] = deque(maxlen=100)
        # How loud our voice reaches the microphone before any canceller (the last 3 s of
        # playback): whether there is an echo to cancel at all (`echo_present`).
        self._raw_observed: deque[float] = deque(maxlen=history_frames)
        self._lock = threading.Lock()
        self.canceller: Any = None

    def speaking(self, t: float) -> bool:
        """Was the assistant audible in the `tail_s` before `t`?"""
        return self.reference_db(t) > self.active_db

    def played(self, level_db: float, t: float) -> None:
        """The player put a block of `level_db` out, audible at monotonic time `t`."""
        with self._lock:
            if level_db > self.active_db:
                if t - self._last_audible > self.resume_after_s:  # a new stretch: relearn
                    self._observed.clear()
                    self._fast_observed.clear()
                self._last_audible = max(self._last_audible, t)
            self._played.append((t, level_db))

    def timeline_moved(self) -> None:
        """The player's output broke (an underflow) or jumped: our voice reaches the
        microphone at another moment than the cancellers had learned, and they let it through
        until they adapt again. What was learned is dropped, as for a new stretch of
        playback, so the loud echo assumed while learning covers that moment. (On the
        virtual sound card under load, with three test workers on two busy cores, the
        greeting interrupted itself over a loopback echo about one start-up in fifty; the
        player's clock re-anchored several times per start-up there.)"""
        with self._lock:
            self._observed.clear()
            self._fast_observed.clear()

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
        """The quick barge-in's test: `linear_headroom` at least `margin_db`."""
        headroom = self.linear_headroom(mic_db, t)
        return headroom is not None and headroom >= margin_db

    def linear_headroom(self, mic_db: float, t: float) -> float | None:
        """How far (dB) a frame of the canceller's linear output (`aec.Cleaned.linear`) is
        above what that signal holds without the driver: the echo it leaves (playback level
        plus its own learned coupling, with the young-estimate margin) on top of its noise
        floor (`noise_floor_db`). Without the floor, steady road rumble passed for the
        driver whenever the assistant spoke softly. None while nothing plays.

        The quick barge-in wants MARGIN_LINEAR_DB of it (and the listening version to hear a
        voice too: `vad.Segmenter.push`); the usual start rule wants `margin_db` of it as
        well as AEC3's version clear of the echo (`is_echo`): on the sound card each
        canceller now and then let the echo through for a moment, never both at once.

        Call it once for every frame while no utterance is open (it learns from them). Until
        the coupling is learned, the gate assumes a loud echo."""
        reference = self.reference_db(t)
        floor = self.noise_floor_db
        with self._lock:
            if reference <= self.active_db:
                self._fast_levels.append(mic_db)
                return None
            seen = len(self._fast_observed)
            coupling = self._coupling(self._fast_observed)
            unsure = self._unsure(seen, self._fast_observed.maxlen)
            expected = 10 * np.log10(10 ** ((reference + coupling) / 10) + 10 ** (floor / 10))
            headroom = float(mic_db - expected - unsure)
            if seen < self.learn_frames or headroom < self.margin_db:  # (not while both talk)
                self._fast_observed.append(mic_db - reference)
                self._fast_levels.append(mic_db)
        return headroom

    def heard_raw(self, mic_db: float, t: float) -> None:
        """The raw microphone's level for a frame at `t` (before any canceller), while no
        utterance is open: it learns how much of the assistant's voice gets back at all."""
        reference = self.reference_db(t)
        if reference > self.active_db:
            with self._lock:
                self._raw_observed.append(mic_db - reference)

    @property
    def echo_present(self) -> bool:
        """Does the assistant's voice reach the microphone less than NO_ECHO_DB under what it
        plays? Until that is known (half a second of playback), assume it does. With no echo
        to remove, AEC3's suppressor is no judge of who speaks: it held a driver talking
        over the assistant 20-70 dB down (it never learns an echo path it could trust), so
        the listener judges the linear output instead (then the microphone as it is)."""
        with self._lock:
            if len(self._raw_observed) < self.learn_frames:
                return True
            return float(np.percentile(self._raw_observed, self.percentile)) > NO_ECHO_DB

    def _unsure(self, seen: int, most: int | None) -> float:
        """Extra margin for an estimate learned from `seen` frames (none before it is used:
        the loud echo assumed then needs none)."""
        if seen < self.learn_frames:
            return 0.0
        return self.unsure_db * (1.0 - seen / (most or seen))

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
            unsure = self._unsure(seen, self._observed.maxlen)
            echo = observed < coupling + self.margin_db + unsure
            if seen < self.learn_frames or echo:  # (not while both talk: see the module doc)
                self._observed.append(observed)
        return echo
