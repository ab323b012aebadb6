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

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..audio.capture import AudioInputError, AudioSource
from ..audio.echo import EchoGate
from ..audio.files import AudioFileError
from ..audio.vad import EndpointSettings

if TYPE_CHECKING:
    from ..audio.wakeword import WakeWord
from ..events import (
    InputProblem,
    ListenerEvent,
    ListenerState,
)
from .base import LISTEN_MODES, PUSH_STYLES, SpeechEngine, SttError
from .wake import open_wake_word, strip_wake_phrase
from .worker import FRAME_S, Worker

__all__ = ["FRAME_S", "Listener", "ListenerSettings", "open_wake_word", "strip_wake_phrase"]

log = logging.getLogger(__name__)

MODES = LISTEN_MODES


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
        self._answer_window = 0.0  # seconds: expect_answer() asked, the worker not yet seen
        self._releases = 0
        self.paused = False
        self.stop_requested = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = "off"
        # While the assistant speaks: frames its own voice explains are not speech (barge-in
        # by voice without answering itself). Set by the front end; None: no playback known.
        self.echo_gate: EchoGate | None = None
        self.finished = threading.Event()  # set when the worker has ended (stop, file end, error)
        self.detector: WakeWord | None = None  # wake_phrase mode with speech.wake_word
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

    def presses(self) -> tuple[int, int]:
        """(presses, releases) so far."""
        with self._lock:
            return self._presses, self._releases

    def expect_answer(self, seconds: float) -> None:
        """The assistant just asked the driver something: take the next words for `seconds`
        without the wake phrase or a press (any listen mode); silence closes it."""
        with self._lock:
            self._answer_window = seconds

    def take_answer_window(self) -> float:
        """The answer window asked for since the last call (0: none). The worker's."""
        with self._lock:
            seconds, self._answer_window = self._answer_window, 0.0
        return seconds

    def pause(self) -> None:
        """Stop hearing (while the assistant itself speaks, without echo cancellation)."""
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def stop(self, timeout: float = 3.0) -> None:
        self.stop_requested.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- the worker --------------------------------------------------------------------------

    def emit(self, event: ListenerEvent) -> None:
        try:
            self._sink(event)
        except Exception:
            log.exception("a listener event handler failed")

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.emit(ListenerState(state, self.settings.mode))

    def _run(self) -> None:
        try:
            Worker(self).run()
        except (AudioInputError, AudioFileError) as exc:
            kind = "file" if isinstance(exc, AudioFileError) else "no_device"
            self.emit(InputProblem(kind, str(exc)))
        except SttError as exc:
            self.emit(InputProblem("engine", str(exc)))
        except Exception as exc:
            log.exception("the listener stopped")
            self.emit(
                InputProblem(
                    "engine",
                    f"Listening stopped after an error ({exc}). "
                    "Type instead; details are in the log.",
                )
            )
        finally:
            try:
                self.source.close()
                if self.detector is not None:
                    self.detector.close()
            finally:
                self.set_state("off")
                self.finished.set()
