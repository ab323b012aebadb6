"""Turn taking: decides when an utterance starts and ends, and runs the recogniser on it.

One worker thread owns the audio source, the end-of-speech segmenter and the recogniser
streams (the native recognisers must be created and used in one thread). Control calls
(`press`, `release`, `pause`, `resume`, `stop`) are thread-safe and only set flags the worker
reads between frames. Everything the listener notices is reported as a `ListenerEvent` through
`on_event`, called on the worker thread: consumers hand it on to their own loop.

Modes
- push_to_talk: an utterance opens on `press()` and closes on `release()` (hold) or a second
  `press()` (toggle), or when the driver stops speaking, whichever comes first.
- hands_free: voice opens an utterance, trailing silence closes it.
- wake_phrase: hands-free, but only speech that begins with the wake phrase becomes a turn
  ("hey companion, take me home"); the phrase alone arms the listener for the next sentence.
"""

from __future__ import annotations

import difflib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..audio.aec import NOMINAL_SPEECH_DBFS, SUPPRESS_BELOW_SNR_DB
from ..audio.capture import AudioInputError, AudioSource, InputEnded
from ..audio.echo import EchoGate
from ..audio.files import AudioFileError
from ..audio.vad import EndpointSettings, Framer, Segmenter

if TYPE_CHECKING:
    from ..audio.wakeword import WakeWord
from ..events import (
    EndOfSpeechLikely,
    FinalTranscript,
    InputLevel,
    InputProblem,
    ListenerEvent,
    ListenerState,
    NothingHeard,
    PartialTranscript,
    SpeechStarted,
    WakePhraseHeard,
)
from .base import (
    LISTEN_MODES,
    PUSH_STYLES,
    RecognizerStream,
    SpeechEngine,
    SttError,
    Transcript,
    Word,
)

log = logging.getLogger(__name__)

MODES = LISTEN_MODES
FRAME_S = 0.02
RECENT_S = 3.0  # audio kept for a wake word reported late (see _wake_word_heard)
# The final pass holds the GIL for 20-300 ms (PocketSphinx does not release it), so it waits
# this long (wall-clock) after the guess was reported: the reply's request on that guess is on
# its way first. Frames that queued up meanwhile are not a reason to hurry.
EARLY_FINAL_AFTER_GUESS_S = 0.04


@dataclass(frozen=True)
class ListenerSettings:
    mode: str = "push_to_talk"
    push_to_talk: str = "toggle"  # toggle | hold
    wake_phrase: str = "hey companion"
    wake_word: str = ""  # an openWakeWord model (audio/wakeword.py) instead of spotting the phrase
    grammar: tuple[str, ...] = ()  # non-empty: recognise only these phrases (cheap, exact)
    wake_timeout_s: float = 6.0  # after the phrase alone, how long to wait for the request
    no_speech_timeout_s: float = 6.0  # push-to-talk pressed but nothing said
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    partial_every_s: float = 0.1
    level_every_s: float = 0.1
    speculate_after_ms: int = 150  # 0: never report EndOfSpeechLikely

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(
                f"speech.listen_mode must be one of {', '.join(MODES)}, not {self.mode!r}"
            )
        if self.push_to_talk not in PUSH_STYLES:
            raise ValueError(
                f"speech.push_to_talk must be toggle or hold, not {self.push_to_talk!r}"
            )
        if self.mode == "wake_phrase" and not self.wake_phrase.split():
            raise ValueError("speech.wake_phrase is empty; set a phrase such as 'hey companion'")


def open_wake_word(spec: str) -> WakeWord:
    """`speech.wake_word`: a model that ships, a .tflite file, or a Wyoming service. Raises
    ValueError (a local model) or SttError (a service) with what to do."""
    if spec.startswith("wyoming://"):
        from ..wyoming.client import WyomingWakeWord

        return WyomingWakeWord(spec)
    from ..audio.wakeword import WakeWordDetector

    return WakeWordDetector(spec)


def strip_wake_phrase(text: str, phrase: str) -> tuple[bool, str]:
    """(found, rest): whether `text` begins with (something close to) `phrase`, and what
    follows it. Tolerates the recogniser's small slips ("hey companions", "a companion")."""
    words, target = text.split(), phrase.lower().split()
    best, best_k = 0.0, 0
    for k in range(max(1, len(target) - 1), min(len(words), len(target) + 1) + 1):
        ratio = difflib.SequenceMatcher(None, " ".join(words[:k]).lower(), " ".join(target))
        if ratio.ratio() > best:
            best, best_k = ratio.ratio(), k
    if best >= 0.75:
        return True, " ".join(words[best_k:])
    return False, text


class Listener:
    def __init__(
        self,
        engine: SpeechEngine,
        source: AudioSource,
        settings: ListenerSettings | None = None,
        on_event: Callable[[ListenerEvent], None] | None = None,
    ) -> None:
        self.engine = engine
        self.source = source
        self.settings = settings or ListenerSettings()
        self._sink = on_event or (lambda event: None)
        self._lock = threading.Lock()
        self._presses = 0
        self._releases = 0
        self._paused = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = "off"
        # While the assistant speaks: frames its own voice explains are not speech (barge-in
        # by voice without answering itself). Set by the front end; None: no playback known.
        self.echo_gate: EchoGate | None = None
        self.finished = threading.Event()  # set when the worker has ended (stop, file end, error)
        self._detector: WakeWord | None = None  # wake_phrase mode with speech.wake_word
        # With a canceller: the open (or last) utterance is recognised from the noise-suppressed
        # version of the microphone (a loud road), not the linear one.
        self.suppressing = False

    # -- control, from any thread -----------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="listener", daemon=True)
        self._thread.start()

    def press(self) -> None:
        """Push-to-talk pressed (or the mic button tapped)."""
        with self._lock:
            self._presses += 1

    def release(self) -> None:
        """Push-to-talk released (hold style; ignored when toggling)."""
        with self._lock:
            self._releases += 1

    def pause(self) -> None:
        """Stop hearing (while the assistant itself speaks, without echo cancellation)."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- the worker --------------------------------------------------------------------------

    def _emit(self, event: ListenerEvent) -> None:
        try:
            self._sink(event)
        except Exception:
            log.exception("a listener event handler failed")

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self._emit(ListenerState(state, self.settings.mode))

    def _run(self) -> None:
        try:
            self._work()
        except (AudioInputError, AudioFileError) as exc:
            kind = "file" if isinstance(exc, AudioFileError) else "no_device"
            self._emit(InputProblem(kind, str(exc)))
        except SttError as exc:
            self._emit(InputProblem("engine", str(exc)))
        except Exception as exc:
            log.exception("the listener stopped")
            self._emit(
                InputProblem(
                    "engine",
                    f"Listening stopped after an error ({exc}). "
                    "Type instead; details are in the log.",
                )
            )
        finally:
            try:
                self.source.close()
                if self._detector is not None:
                    self._detector.close()
            finally:
                self._set_state("off")
                self.finished.set()

    def _work(self) -> None:
        s = self.settings
        self._seg = Segmenter(s.endpoint)
        self._seg.auto_start = s.mode != "push_to_talk"
        self._stream: RecognizerStream = self.engine.stream(s.grammar or None)
        # The spotter only knows the wake phrase (and the command grammar, if any, as
        # distractors: models without an [unk] word would otherwise hear it in everything).
        self._detector = None
        if s.mode == "wake_phrase" and s.wake_word:
            self._detector = open_wake_word(s.wake_word)
            self._seg.auto_start = False  # the detector opens utterances
        # The last seconds heard: a wake word served over the network is reported a little
        # after it ended, and what the driver said since belongs to the request.
        self._recent: deque[np.ndarray] = deque(maxlen=round(RECENT_S / FRAME_S))
        self._wake: RecognizerStream | None = (
            self.engine.stream([s.wake_phrase, *s.grammar])
            if s.mode == "wake_phrase" and self._detector is None
            else None
        )
        self._via_wake = False  # the open utterance must begin with the wake phrase
        self._framer = Framer()
        # With a canceller: the versions VAD and the quick barge-in judge, and the recogniser's
        # version for loud road noise (aec.Cleaned).
        self._judge_framer = Framer()
        self._fast_framer = Framer()
        self._suppressed_framer = Framer()
        self._driver_levels: deque[float] = deque(maxlen=5)  # of the last utterances (dBFS)
        self._voiced_power = 0.0  # ... of the open one, so far
        self._voiced_frames = 0
        self._open = False  # an utterance is being recognised
        self._candidate: list[np.ndarray] | None = None  # wake mode: a segment being checked
        self._armed_until = 0.0  # wake mode: the phrase was said alone; take the next one
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
        self.source.start()  # a bad recording or a missing device is reported at once
        self._set_state("waiting")
        if s.mode == "push_to_talk" and getattr(self.source, "plays_on_press", False):
            while not self._presses:  # a recording is "spoken" from the first press
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
            if self._paused:
                self._seg.reset()
                if not self._open:
                    self._set_state("paused")
                continue
            canceller = self.echo_gate.canceller if self.echo_gate is not None else None
            if canceller is None:
                for frame in self._framer.push(block.samples):
                    self._frame(frame, block.t)
                continue
            # Our own voice subtracted: a version to listen with; the linear one for the quick
            # barge-in and the recogniser; a noise-suppressed one for a loud road.
            cleaned = canceller.process(block.samples, block.t)
            for judge, linear, suppressed in zip(
                self._judge_framer.push(cleaned.listen),
                self._fast_framer.push(cleaned.linear),
                self._suppressed_framer.push(cleaned.suppressed),
                strict=True,
            ):
                if not self._open:  # an utterance is recognised from one version throughout
                    self.suppressing = self._road_is_loud()
                self._frame(suppressed if self.suppressing else linear, block.t, judge, linear)
        self._close_open("stopped")

    def _road_is_loud(self) -> bool:
        """Is the road's noise floor within SUPPRESS_BELOW_SNR_DB of the driver's voice (as
        heard in their last utterances)? Then noise suppression helps the recogniser."""
        assert self.echo_gate is not None
        levels = self._driver_levels
        driver = float(np.median(levels)) if levels else NOMINAL_SPEECH_DBFS
        return driver - self.echo_gate.noise_floor_db < SUPPRESS_BELOW_SNR_DB

    def _controls(self) -> None:
        with self._lock:
            presses, releases = self._presses, self._releases
        new_presses = presses - self._seen_presses
        new_releases = releases - self._seen_releases
        self._seen_presses, self._seen_releases = presses, releases
        if self.state == "paused" and not self._paused:
            self._set_state("waiting")
        for _ in range(new_presses):
            if self._open and self.settings.push_to_talk == "toggle":
                self._finish("released")
            elif not self._open:
                self._paused = False
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
        gate = self.echo_gate
        echo = None if gate is None or self._open else (lambda level: gate.is_echo(level, t))
        # Over a cancelled echo the driver's first syllable is clear: barge in on it.
        quick = None
        if gate is not None and gate.canceller is not None and not self._open:
            margin = gate.canceller.onset_margin_db
            quick = lambda level: gate.clear_of_echo(level, t, margin)  # noqa: E731
        events = self._seg.push(frame, echo, quick=quick, judge=judge, fast=fast)
        if self._open and fast is not None and self._seg.frames_since_speech == 0:
            self._voiced_power += float(np.mean(fast.astype(np.float64) ** 2))
            self._voiced_frames += 1
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
                self._on_start(event[1], t)
            elif kind == "speech":
                self._on_speech(event[1], t)
            elif kind == "end":
                self._on_end(event[1])
        if (
            self.settings.mode == "wake_phrase"
            and self._armed_until
            and not self._open
            and t > self._armed_until
        ):
            self._armed_until = 0.0
            self._set_state("waiting")

    def _on_start(self, preroll: list[np.ndarray], t: float) -> None:
        if self.settings.mode == "wake_phrase" and not self._armed_until:
            self._candidate = list(preroll)
            assert self._wake is not None
            for f in preroll:
                self._wake.accept(f.tobytes())
            return
        self._armed_until = 0.0
        self._begin(preroll, t)

    def _begin(self, preroll: list[np.ndarray], t: float, via_wake: bool = False) -> None:
        self._open = True
        self._via_wake = via_wake
        self._opened_at = t
        self._last_partial = ""
        self._speculated = False
        self._guess = ""
        self._guessed_at = 0.0
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
        if self._candidate is not None:
            self._candidate.append(frame)
            assert self._wake is not None
            self._wake.accept(frame.tobytes())
            if len(self._candidate) % 5 == 0:
                found, _ = strip_wake_phrase(self._wake.partial(), self.settings.wake_phrase)
                if found:
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
        """What the driver said, as far as the mode is concerned (the wake phrase removed)."""
        if self.settings.mode == "wake_phrase":
            found, rest = strip_wake_phrase(text, self.settings.wake_phrase)
            if found:
                return rest
            if self._via_wake:
                return ""  # not confirmed yet: show nothing rather than a stranger's words
        return text

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
        candidate, self._candidate = self._candidate or [], None
        assert self._wake is not None
        self._wake.finish()
        self._emit(WakePhraseHeard(self.settings.wake_phrase))
        self._begin(candidate, time.monotonic(), via_wake=True)

    def _on_end(self, reason: str) -> None:
        if self._candidate is not None:
            assert self._wake is not None
            phrase = self.settings.wake_phrase
            found, _ = strip_wake_phrase(self._wake.partial(), phrase)
            heard = self._wake.finish().text
            found = found or strip_wake_phrase(heard, phrase)[0]
            if not found:
                self._candidate = None
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
        if self._voiced_frames >= 10:  # the driver's level at the microphone, for _road_is_loud
            rms = (self._voiced_power / self._voiced_frames) ** 0.5
            self._driver_levels.append(20 * np.log10(max(rms, 1.0) / 32768))
        self._voiced_power, self._voiced_frames = 0.0, 0
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
            found, rest = strip_wake_phrase(text, self.settings.wake_phrase)
            if found:
                words = words[len(text.split()) - len(rest.split()) :]
                text = rest
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
                )
            )
        else:
            self._emit(NothingHeard(reason))
        self._set_state("waiting")
