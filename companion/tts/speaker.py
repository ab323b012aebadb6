"""The speaking stage: sentences in, sound out, with synthesis ahead of playback.

Two worker threads joined by queues: the synthesiser renders the next sentences (up to
`LOOKAHEAD` ready) while the player plays one, so there is no gap between sentences, even
when a busy machine stalls the synthesiser during a short sentence. The engine's own leading
and trailing silence is trimmed and a fixed `pause_s` put between sentences instead.
`stop()` (barge-in, Ctrl+C) empties both queues and silences the player from its next device
callback. Earcons go through the same queue (`cue()`), so they never talk over a sentence. A
failing engine or a missing output device is reported once through `on_problem` and never
stops the conversation.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..audio.playback import BLOCK_SECONDS, AudioOutputError, AudioPlayer, Playback
from ..personas import Voice
from .factory import Synthesizer
from .synth import Audio, Pyttsx3Synthesizer

log = logging.getLogger(__name__)

DEFAULT_VOICE = Voice()
SpokenCallback = Callable[[str, bool, float], None]  # (sentence, stopped early, part played)
ProgressCallback = Callable[[str, str], None]  # ("synthesized" | "playing", sentence)
ProblemCallback = Callable[[str], None]
LOOKAHEAD = 2  # sentences synthesised and waiting while one plays (a cancel drops them)


class SentenceReports(Protocol):
    """Who hears how a sentence went: given with `say()`, so a sentence's reports reach the
    turn that said it (`companion.turns.Turn`), however late they come. Called on the
    speaker's threads."""

    def spoken(self, text: str, stopped: bool, played: float) -> None: ...
    def progress(self, stage: str, text: str) -> None: ...


@dataclass
class _Item:
    generation: int
    text: str
    voice: Voice
    audio: Audio | None = None
    cue: str = ""  # an earcon: no text, audio given
    seq: int = 0
    reports: SentenceReports | None = None
    playback: Playback | None = None  # once queued in the player


@dataclass
class _Playing:
    item: _Item
    playback: Playback


class Speaker:
    """Speak sentences in order. `say()` never blocks; `stop()` silences everything queued."""

    def __init__(
        self,
        synthesizer: Synthesizer | None = None,
        player: AudioPlayer | None = None,
        *,
        on_spoken: SpokenCallback | None = None,
        on_problem: ProblemCallback | None = None,
        on_progress: ProgressCallback | None = None,
        pause_s: float = 0.1,
    ) -> None:
        self.synthesizer: Synthesizer = synthesizer or Pyttsx3Synthesizer()
        self.player = player or AudioPlayer()
        self.on_spoken = on_spoken
        self.on_problem = on_problem
        self.on_progress = on_progress
        self.pause_s = pause_s
        self._generation = 0
        self._said = 0  # sequence numbers of say() calls
        self._skip_through = 0  # synthesis failed: skip what was queued by then
        self._pending = 0
        self._idle = threading.Condition()
        self._texts: queue.Queue[_Item | None] = queue.Queue()
        self._audio: queue.Queue[_Item | None] = queue.Queue(maxsize=LOOKAHEAD)
        self._reported: set[str] = set()
        self.enabled = True
        self.volume = 1.0  # master volume (0.1 .. 1), on top of each persona's voice volume
        self._threads = [
            threading.Thread(target=self._synth_loop, name="tts-synth", daemon=True),
            threading.Thread(target=self._play_loop, name="tts-play", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def say(
        self, text: str, voice: Voice = DEFAULT_VOICE, reports: SentenceReports | None = None
    ) -> None:
        """Queue a sentence. Its reports go to `reports`, else to `on_spoken`/`on_progress`."""
        with self._idle:
            self._pending += 1
            self._said += 1
            generation, seq = self._generation, self._said
        self._texts.put(_Item(generation, text, voice, seq=seq, reports=reports))

    def cue(self, audio: Audio, name: str = "earcon") -> None:
        """Play a ready-made sound (an earcon) after whatever is queued before it."""
        if not self.enabled:
            return
        with self._idle:
            self._pending += 1
            generation = self._generation
        self._texts.put(_Item(generation, "", DEFAULT_VOICE, audio.scaled(self.volume), cue=name))

    def stop(self) -> None:
        """Drop everything queued and cut the current sentence off. From any thread."""
        with self._idle:
            self._generation += 1
        self.player.stop()
        for q in (self._texts, self._audio):
            while True:
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    self._finished(item, stopped=True)

    def wait_until_done(self, timeout: float | None = None) -> bool:
        """Block until everything said so far has been spoken (or dropped)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def close(self) -> None:
        self.stop()
        self._texts.put(None)
        for thread in self._threads:
            thread.join(timeout=3)
        self.player.close()
        self.synthesizer.close()

    def _stale(self, item: _Item) -> bool:
        return item.generation != self._generation

    def _finished(self, item: _Item, stopped: bool, played: float = 0.0) -> None:
        report = item.reports.spoken if item.reports is not None else self.on_spoken
        if report is not None and not item.cue:
            try:
                report(item.text, stopped, 1.0 if not stopped else played)
            except Exception:
                log.exception("on_spoken callback failed")
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def _problem(self, message: str) -> None:
        log.info("speech: %s", message)
        if message not in self._reported:
            self._reported.add(message)
            if self.on_problem is not None:
                self.on_problem(message)

    def _synth_loop(self) -> None:
        try:
            self.synthesizer.warm_up()
        except Exception as exc:  # SynthesisError, or anything odd from the engine
            self.enabled = False
            self._problem(f"Speech is off: {exc}")
        while True:
            item = self._texts.get()
            if item is None:
                self._audio.put(None)
                return
            if self._stale(item) or not self.enabled or 0 < item.seq <= self._skip_through:
                self._finished(item, stopped=True)
                continue
            if not item.cue:
                try:
                    audio = self.synthesizer.synthesize(item.text, item.voice)
                except Exception as exc:  # SynthesisError, or anything odd from the engine
                    self._problem(f"Speech is unavailable: {exc}")
                    # One failure (and one wait) per reply: skip what is queued; the engine
                    # is restarted for the next one.
                    with self._idle:
                        self._skip_through = self._said
                    self._finished(item, stopped=True)
                    continue
                item.audio = audio.scaled(self.volume).padded(self.pause_s)
                self._progress(item, "synthesized")
            # Bounded queue: synthesis runs at most LOOKAHEAD sentences ahead of playback.
            self._audio.put(item)

    def _play_loop(self) -> None:
        """Hand sentences to the player one ahead: while one is heard, the next is already
        queued behind it in the player, so it follows in the same device callback (a busy
        machine that wakes this thread late adds no gap). Reports go out as each ends."""
        current: _Playing | None = None  # being heard
        ahead: _Item | None = None  # taken from the queue, next to be heard
        closing = False
        while True:
            if current is None:
                if ahead is None:
                    if closing:
                        return
                    ahead = self._audio.get()
                    if ahead is None:
                        return
                item, ahead = ahead, None
                current = self._hand_over(item)
                if current is not None and not item.cue:
                    self._progress(item, "playing")
                continue
            try:
                while not current.playback.done.wait(BLOCK_SECONDS):
                    if self._stale(current.item) or not self.enabled:
                        self.player.stop()
                        break
                    self.player.check(current.playback)
                    if ahead is None and not closing:
                        try:
                            ahead = self._audio.get_nowait()
                        except queue.Empty:
                            continue
                        if ahead is None:
                            closing = True
                            continue
                    if ahead is not None and ahead.playback is None:
                        self._queue_behind(ahead)
            except AudioOutputError as exc:
                self.enabled = False
                self._problem(str(exc))
            done, current = current, None
            self._finished(
                done.item, stopped=not done.playback.completed, played=done.playback.fraction
            )
            if ahead is not None and ahead.playback is not None:
                # Already queued in the player: it is being heard now (or was dropped).
                current, ahead = _Playing(ahead, ahead.playback), None
                if not current.item.cue and not self._stale(current.item):
                    self._progress(current.item, "playing")

    def _hand_over(self, item: _Item) -> _Playing | None:
        """Queue an item in the player now (nothing is playing); None when it is not to be
        played (stale, failed synthesis, speech off), reported as stopped."""
        if self._stale(item) or item.audio is None or not self.enabled:
            self._finished(item, stopped=True)
            return None
        try:
            item.playback = self.player.queue(item.audio.samples, item.audio.rate)
        except AudioOutputError as exc:
            self.enabled = False
            self._problem(str(exc))
            self._finished(item, stopped=True)
            return None
        return _Playing(item, item.playback)

    def _queue_behind(self, item: _Item) -> None:
        """Queue the next item behind the one playing, if it can follow it without a gap
        (same rate, still wanted); otherwise it waits to be handed over on its own."""
        if self._stale(item) or item.audio is None or not self.enabled:
            return
        if self.player.accepts(item.audio.rate):
            item.playback = self.player.queue(item.audio.samples, item.audio.rate)

    def _progress(self, item: _Item, stage: str) -> None:
        report = item.reports.progress if item.reports is not None else self.on_progress
        if report is not None:
            try:
                report(stage, item.text)
            except Exception:
                log.exception("on_progress callback failed")
