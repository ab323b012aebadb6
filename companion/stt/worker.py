"""The listener's worker: frames from the audio source through the echo canceller and the
end-of-speech segmenter to the recogniser, on the listener's one thread (the native
recognisers must be created and used in one thread). `Listener` owns the thread and the
control flags; this owns everything heard."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..audio.aec import NOMINAL_SPEECH_DBFS, SUPPRESS_BELOW_SNR_DB
from ..audio.capture import AudioInputError, InputEnded
from ..audio.echo import EchoGate
from ..audio.vad import Framer, Segmenter, level_db
from ..events import (
    EndOfSpeechLikely,
    FinalTranscript,
    InputLevel,
    InputProblem,
    NothingHeard,
    PartialTranscript,
    SpeechStarted,
    WakePhraseHeard,
)
from .base import RecognizerStream, Transcript, Word
from .wake import PhraseSpotter, after_wake_phrase, open_wake_word, shown

if TYPE_CHECKING:
    from ..audio.capture import AudioSource
    from ..events import ListenerEvent
    from .base import SpeechEngine

FRAME_S = 0.02
RECENT_S = 3.0  # audio kept for a wake word reported late (see _wake_word_heard)
# The final pass holds the GIL for 20-300 ms (PocketSphinx does not release it), so it waits
# this long (wall-clock) after the guess was reported: the reply's request on that guess is on
# its way first. Frames that queued up meanwhile are not a reason to hurry.
EARLY_FINAL_AFTER_GUESS_S = 0.04


class ListenerLike(Protocol):
    """What the worker reads of its `Listener` (companion/stt/listener.py)."""

    settings: Any  # ListenerSettings
    engine: SpeechEngine
    source: AudioSource
    echo_gate: EchoGate | None
    state: str
    paused: bool
    suppressing: bool
    detector: Any
    stop_requested: threading.Event

    def emit(self, event: ListenerEvent) -> None: ...
    def set_state(self, state: str) -> None: ...
    def presses(self) -> tuple[int, int]: ...
    def take_answer_window(self) -> float: ...


class DriverLevel:
    """How loud the driver is at the microphone (the voiced frames of the last utterances),
    to tell whether the road is loud enough that noise suppression helps the recogniser."""

    def __init__(self) -> None:
        self.levels: deque[float] = deque(maxlen=5)  # of the last utterances (dBFS)
        self._power, self._frames = 0.0, 0  # ... of the open one, so far

    def voiced(self, frame: np.ndarray) -> None:
        self._power += float(np.mean(frame.astype(np.float64) ** 2))
        self._frames += 1

    def utterance_ended(self) -> None:
        if self._frames >= 10:
            rms = (self._power / self._frames) ** 0.5
            self.levels.append(20 * np.log10(max(rms, 1.0) / 32768))
        self._power, self._frames = 0.0, 0

    def road_is_loud(self, gate: EchoGate | None) -> bool:
        """Is the road's noise floor within SUPPRESS_BELOW_SNR_DB of the driver's voice?"""
        assert gate is not None
        driver = float(np.median(self.levels)) if self.levels else NOMINAL_SPEECH_DBFS
        return driver - gate.noise_floor_db < SUPPRESS_BELOW_SNR_DB


log = logging.getLogger(__name__)


def follow_timeline(gate: EchoGate | None, source: Any, seen: int) -> int:
    """The microphone's clock anchored again (clock.py) since it was `seen` anchored: where
    our voice sits in the microphone moved, and the gate relearns. Returns the count now."""
    anchors = getattr(source, "anchors", 0)
    if seen and anchors != seen and gate is not None:
        gate.timeline_moved()
    return anchors


def log_voice_over_playback(
    gate: EchoGate | None,
    t: float,
    frame: np.ndarray,
    judge: np.ndarray | None,
    fast: np.ndarray | None,
) -> None:
    """When a voice starts while the assistant speaks (a barge-in follows): log the levels the
    gate judged, to explain a barge-in the driver didn't make."""
    if gate is None or not gate.speaking(t):
        return
    log.info(
        "voice over playback: microphone %.1f dB (cleaned %s, linear %s), playback %.1f dB, "
        "coupling %.1f dB",
        level_db(frame),
        "-" if judge is None else f"{level_db(judge):.1f}",
        "-" if fast is None else f"{level_db(fast):.1f}",
        gate.reference_db(t),
        gate.coupling_db,
    )


def echo_rules(
    gate: EchoGate | None, t: float, fast: np.ndarray | None
) -> tuple[Callable[[float], bool] | None, Callable[[float], bool] | None]:
    """The segmenter's two echo tests for a frame at `t` while no utterance is open: is it
    our own voice (`is_echo`), and, over a cancelled echo, is the driver's first syllable
    clear of it (the quick barge-in)? The usual start rule then wants both cancellers'
    versions clear of the echo (echo.py)."""
    if gate is None:
        return None, None
    echo = lambda level: gate.is_echo(level, t)  # noqa: E731
    if gate.canceller is None or fast is None:
        return echo, None
    margin = gate.canceller.onset_margin_db
    headroom = gate.linear_headroom(level_db(fast), t)
    if headroom is None:
        return echo, None
    # (is_echo first: it learns from every frame.)
    return (
        lambda level: gate.is_echo(level, t) or headroom < gate.margin_db,
        lambda _level: headroom >= margin,
    )


class Worker:
    """One listening run: created and run on the listener's thread."""

    def __init__(self, listener: ListenerLike) -> None:
        self.listener = listener
        self.settings = listener.settings
        self.engine = listener.engine
        self.source = listener.source
        self._anchors = 0  # the microphone clock's, as last seen
        self._stop = listener.stop_requested
        self._emit = listener.emit
        self._set_state = listener.set_state

    @property
    def echo_gate(self) -> EchoGate | None:
        return self.listener.echo_gate

    def _setup(self) -> None:
        s = self.settings
        self._seg = Segmenter(s.endpoint)
        self._stream: RecognizerStream = self.engine.stream(s.grammar or None)
        self._detector, self._spotter = _wake_parts(s, self.engine, self.listener)
        self._seg.auto_start = self._auto_start = s.mode != "push_to_talk" and not self._detector
        # The last seconds heard: a wake word served over the network is reported a little
        # after it ended, and what the driver said since belongs to the request.
        self._recent: deque[np.ndarray] = deque(maxlen=round(RECENT_S / FRAME_S))
        self._via_wake = False  # the open utterance must begin with the wake phrase
        self._framer = Framer()
        # With a canceller: the versions VAD and the quick barge-in judge, and the recogniser's
        # version for loud road noise (aec.Cleaned).
        self._judge_framer, self._fast_framer = Framer(), Framer()
        self._suppressed_framer, self._raw_framer = Framer(), Framer()
        self._driver = DriverLevel()
        self._open = False  # an utterance is being recognised
        # The next words are taken without the wake phrase or a press until then: the phrase
        # was said alone, or the assistant asked the driver something (`expect_answer`).
        self._armed_until = 0.0
        self._frames_in = 0
        self._fed = 0
        self._origin = self._fed_before = 0.0
        # Early final pass (engines whose final result comes from a further pass): at the
        # speculation pause the utterance is finished at once, so the guess is the final
        # words; if the driver goes on, the utterance so far is decoded again from its frames.
        self._early_final = bool(getattr(self.engine, "final_pass", False))
        self._early: Transcript | None = None
        self._utterance: list[np.ndarray] = []  # frames fed in the open utterance
        self._held: list[np.ndarray] = []  # quiet frames after an early final pass
        self._last_partial = ""
        self._last_voiced = 0.0
        self._last_voiced_audio = 0.0
        self._opened_at = 0.0
        self._seen_presses = self._seen_releases = 0

    def run(self) -> None:
        self._setup()
        self.source.start()  # a bad recording or a missing device is reported at once
        self._set_state("waiting")
        if self.settings.mode == "push_to_talk" and getattr(self.source, "plays_on_press", False):
            while not self.listener.presses()[0]:  # a recording is "spoken" from the first press
                if self._stop.wait(0.02):
                    return
        while not self._stop.is_set():
            self._controls()
            try:
                block = self.source.read(0.05)
            except InputEnded:
                self._close_open("input_ended")
                return
            except AudioInputError as exc:
                self._close_open("input_ended")
                self._emit(InputProblem("device_lost", str(exc)))
                return
            if block is None:
                continue
            if self.listener.paused:
                self._seg.reset()
                if not self._open:
                    self._set_state("paused")
                continue
            self._block(block)
        self._close_open("stopped")

    def _block(self, block: Any) -> None:
        """One block of audio from the source, in frames, through the canceller if any."""
        self._anchors = follow_timeline(self.echo_gate, self.source, self._anchors)
        canceller = self.echo_gate.canceller if self.echo_gate is not None else None
        if canceller is None:
            for frame in self._framer.push(block.samples):
                self._frame(frame, block.t)
            return
        # Our own voice subtracted: a version to listen with; the linear one for the quick
        # barge-in and the recogniser; a noise-suppressed one for a loud road.
        cleaned = canceller.process(block.samples, block.t)
        gate = self.echo_gate
        assert gate is not None
        for judge, linear, suppressed, raw in zip(
            self._judge_framer.push(cleaned.listen),
            self._fast_framer.push(cleaned.linear),
            self._suppressed_framer.push(cleaned.suppressed),
            self._raw_framer.push(cleaned.raw),
            strict=True,
        ):
            if not self._open:  # an utterance is recognised from one version throughout
                self.listener.suppressing = self._driver.road_is_loud(gate)
                gate.heard_raw(level_db(raw), block.t)
            heard = suppressed if self.listener.suppressing else linear
            # No echo to remove (headphones, a quiet cabin): AEC3 is no judge (echo.py).
            self._frame(heard, block.t, judge if gate.echo_present else linear, linear)

    def _controls(self) -> None:
        presses, releases = self.listener.presses()
        new_presses = presses - self._seen_presses
        new_releases = releases - self._seen_releases
        self._seen_presses, self._seen_releases = presses, releases
        if self.listener.state == "paused" and not self.listener.paused:
            self._set_state("waiting")
        answer_s = self.listener.take_answer_window()
        if answer_s and not self._open:  # "Which one?": the answer needs no wake phrase
            self._armed_until = time.monotonic() + answer_s
            self._seg.auto_start = True
            self._set_state("listening")
        for _ in range(new_presses):
            if self._open and self.settings.push_to_talk == "toggle":
                self._finish("released")
            elif not self._open:
                self.listener.paused = False
                pre = self._seg.force_start()
                self._begin(pre, time.monotonic())
        if new_releases and self._open and self.settings.push_to_talk == "hold":
            self._finish("released")

    def _frame(
        self,
        frame: np.ndarray,
        t: float,
        judge: np.ndarray | None = None,
        fast: np.ndarray | None = None,
    ) -> None:
        self._frames_in += 1
        echo, quick = echo_rules(self.echo_gate, t, fast) if not self._open else (None, None)
        events = self._seg.push(frame, echo, quick=quick, judge=judge, fast=fast)
        if self._open and fast is not None and self._seg.frames_since_speech == 0:
            self._driver.voiced(fast)
        heard = frame if judge is None else judge
        if self._detector is not None and not self._open:
            self._recent.append(frame)
            if self._detector.push(heard):
                self._wake_word_heard(t)
                return
        if self._frames_in % max(1, round(self.settings.level_every_s / FRAME_S)) == 0:
            self._emit(InputLevel(round(self._seg.last_level, 1)))
        if self._seg.frames_since_speech == 0:
            self._last_voiced = t
            self._last_voiced_audio = self._frames_in * FRAME_S
        for event in events:
            kind = event[0]
            if kind == "start":
                log_voice_over_playback(self.echo_gate, t, frame, judge, fast)
                self._on_start(event[1], t)
            elif kind == "speech":
                self._on_speech(event[1], t)
            elif kind == "end":
                self._on_end(event[1])
        if self._armed_until and not self._open and t > self._armed_until:  # silence: closed
            self._armed_until, self._seg.auto_start = 0.0, self._auto_start
            self._set_state("waiting")

    def _on_start(self, preroll: list[np.ndarray], t: float) -> None:
        if self._spotter is not None and not self._armed_until:
            self._spotter.check(preroll)
            return
        self._armed_until, self._seg.auto_start = 0.0, self._auto_start
        self._begin(preroll, t)

    def _begin(self, preroll: list[np.ndarray], t: float, via_wake: bool = False) -> None:
        self._open = True
        self._via_wake = via_wake
        self._opened_at = t
        self._last_partial = ""
        self._speculated, self._guess, self._guessed_at = False, "", 0.0
        self._early, self._utterance, self._held = None, [], []
        self._recent.clear()  # what comes after this utterance is not continuous with it
        self._set_state("listening")
        self._emit(SpeechStarted())
        # Word times from the recogniser count only the audio it was fed; these two numbers
        # map them back onto the source's clock.
        self._origin = (self._frames_in - len(preroll)) * FRAME_S
        self._fed_before = self._fed * FRAME_S
        for f in preroll:
            self._feed(f)

    def _feed(self, frame: np.ndarray) -> None:
        self._stream.accept(frame.tobytes())
        self._fed += 1
        if self._early_final:  # kept only to decode again if the driver goes on
            self._utterance.append(frame)

    def _resume_after_early_final(self) -> None:
        """The driver spoke again after the early final pass: decode the utterance so far
        again (its audio, the pause included), as one utterance of the recogniser."""
        frames = self._utterance + self._held
        self._early, self._utterance, self._held = None, [], []
        self._fed_before = self._fed * FRAME_S  # word times: the re-fed utterance starts here
        for f in frames:
            self._feed(f)

    def _on_speech(self, frame: np.ndarray, t: float) -> None:
        if self._spotter is not None and self._spotter.checking:
            if self._spotter.feed(frame):
                self._wake_heard()
            return
        if not self._open:
            return
        if self._early is not None:
            if self._seg.frames_since_speech:
                self._held.append(frame)  # the pause goes on: the final words stand
                return
            self._resume_after_early_final()
        self._feed(frame)
        self._maybe_speculate()
        every = max(1, round(self.settings.partial_every_s / FRAME_S))
        if self._frames_in % every == 0:
            text = self._partial_text()
            # A guess that goes blank mid-utterance (the recogniser's stream was just handed
            # to the early final pass) says nothing new: the last words stay on screen.
            if text and text != self._last_partial:
                self._last_partial = text
                self._emit(PartialTranscript(text))
        if (
            (self.settings.mode == "push_to_talk" or self._detector is not None)
            and not self._seg.heard_speech
            and t - self._opened_at > self.settings.no_speech_timeout_s
        ):
            self._finish("no_speech")

    def _maybe_speculate(self) -> None:
        """After a short pause, report the current guess once (again after more speech); with
        an engine that has a final pass, run it a moment later and report its words if they
        differ (the guess is then the final transcript, unless the driver goes on)."""
        after = self.settings.speculate_after_ms
        if not after or self.settings.mode == "push_to_talk" or not self._seg.heard_speech:
            return
        quiet = self._seg.frames_since_speech
        if quiet == 0:
            self._speculated = False
        elif not self._speculated and quiet * FRAME_S * 1000 >= after:
            self._speculated = True
            self._guess = self._partial_text()
            self._guessed_at = time.monotonic()
            if self._guess:
                self._emit(EndOfSpeechLikely(self._guess))
        elif (
            self._speculated
            and self._early_final
            and self._early is None
            and time.monotonic() - self._guessed_at >= EARLY_FINAL_AFTER_GUESS_S
        ):
            self._early = self._stream.finish()
            final = self._shown(self._early.text)
            if final and final != self._guess:  # the final pass changed the words
                self._emit(EndOfSpeechLikely(final))

    def _partial_text(self) -> str:
        return self._shown(self._stream.partial())

    def _shown(self, text: str) -> str:
        return shown(text, self.settings, self._via_wake)

    def _wake_word_heard(self, t: float) -> None:
        """The neural wake word ended: the request follows. The recogniser starts fresh (no
        pre-roll: that is the wake word), and gives up if nothing is said in time."""
        assert self._detector is not None
        self._emit(WakePhraseHeard(self._detector.phrase))
        self._seg.reset()
        since = min(len(self._recent), round(self._detector.behind_s / FRAME_S))
        said_since = list(self._recent)[len(self._recent) - since :] if since else []
        self._begin([*self._seg.force_start(), *said_since], t)

    def _wake_heard(self) -> None:
        """The wake phrase was spotted: recognise the whole segment so far with the full
        recogniser and carry on as an open utterance."""
        assert self._spotter is not None
        candidate = self._spotter.take()
        self._emit(WakePhraseHeard(self.settings.wake_phrase))
        self._begin(candidate, time.monotonic(), via_wake=True)

    def _on_end(self, reason: str) -> None:
        if self._spotter is not None and self._spotter.checking:
            if not self._spotter.end():
                return
            self._wake_heard()
        if self._open:
            self._finish(reason)

    def _close_open(self, reason: str) -> None:
        if self._open:
            self._finish(reason)

    def _finish(self, reason: str) -> None:
        endpoint_at = time.monotonic()
        self._open = False
        self._driver.utterance_ended()
        self._seg.force_end()
        self._set_state("transcribing")
        transcript = self._early if self._early is not None else self._stream.finish()
        self._early, self._utterance, self._held = None, [], []
        text = transcript.text
        shift = self._origin - self._fed_before
        words = tuple(
            Word(w.text, round(w.start + shift, 3), round(w.end + shift, 3), w.confidence)
            for w in transcript.words
        )
        if self.settings.mode == "wake_phrase":
            found, text, words = after_wake_phrase(text, words, self.settings.wake_phrase)
            if found:
                if not text:  # the phrase alone: wait for the request
                    self._armed_until = time.monotonic() + self.settings.wake_timeout_s
                    self._set_state("waiting")
                    return
            elif self._via_wake:
                # The cheap spotter fired but the full recogniser did not hear the phrase.
                self._emit(NothingHeard("no_wake_phrase"))
                self._set_state("waiting")
                return
        if text:
            self._emit(
                FinalTranscript(
                    text,
                    transcript.engine,
                    words,
                    speech_end=self._last_voiced,
                    audio_end=round(self._last_voiced_audio, 3),
                    closed_at=round(self._frames_in * FRAME_S, 3),
                    reason=reason,
                    endpoint_at=endpoint_at,
                    alternatives=_after_wake(transcript.alternatives, self.settings),
                )
            )
        else:
            self._emit(NothingHeard(reason))
        self._set_state("waiting")


def _wake_parts(settings: Any, engine: Any, listener: Any) -> tuple[Any, PhraseSpotter | None]:
    """Wake-phrase mode's (neural wake word detector, phrase spotter): one of them, or
    neither in other modes. The spotter knows the phrase and the command grammar (as
    distractors: models without an [unk] word would otherwise hear the phrase in
    everything)."""
    if settings.mode != "wake_phrase":
        return None, None
    if settings.wake_word:
        listener.detector = open_wake_word(settings.wake_word)
        return listener.detector, None
    phrase = settings.wake_phrase
    return None, PhraseSpotter(engine.stream([phrase, *settings.grammar]), phrase)


def _after_wake(alternatives: tuple[str, ...], settings: Any) -> tuple[str, ...]:
    """In wake-phrase mode, the alternatives' words after the wake phrase (those without it
    are dropped); in other modes, the alternatives."""
    if settings.mode != "wake_phrase":
        return alternatives
    out = []
    for alt in alternatives:
        found, rest, _ = after_wake_phrase(alt, (), settings.wake_phrase)
        if found and rest:
            out.append(rest)
    return tuple(out)
