"""The speaking stage: sentences in, sound out, with synthesis one sentence ahead of playback.

Two worker threads joined by queues: the synthesiser renders sentence N+1 while the player plays
sentence N, so there is no gap between sentences. `stop()` (barge-in, Ctrl+C) empties both
queues and silences the player within one 20 ms block. A failing engine or a missing output
device is reported once through `on_problem` and never stops the conversation.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from ..audio.playback import AudioOutputError, AudioPlayer
from ..personas import Voice
from .synth import Audio, Pyttsx3Synthesizer

log = logging.getLogger(__name__)

DEFAULT_VOICE = Voice()
SpokenCallback = Callable[[str, bool], None]  # (sentence, stopped early)
ProblemCallback = Callable[[str], None]


@dataclass
class _Item:
    generation: int
    text: str
    voice: Voice
    audio: Audio | None = None


class Speaker:
    """Speak sentences in order. `say()` never blocks; `stop()` silences everything queued."""

    def __init__(
        self,
        synthesizer: Pyttsx3Synthesizer | None = None,
        player: AudioPlayer | None = None,
        *,
        on_spoken: SpokenCallback | None = None,
        on_problem: ProblemCallback | None = None,
    ) -> None:
        self.synthesizer = synthesizer or Pyttsx3Synthesizer()
        self.player = player or AudioPlayer()
        self.on_spoken = on_spoken
        self.on_problem = on_problem
        self._generation = 0
        self._pending = 0
        self._idle = threading.Condition()
        self._texts: queue.Queue[_Item | None] = queue.Queue()
        self._audio: queue.Queue[_Item | None] = queue.Queue(maxsize=1)
        self._reported: set[str] = set()
        self.enabled = True
        self._threads = [
            threading.Thread(target=self._synth_loop, name="tts-synth", daemon=True),
            threading.Thread(target=self._play_loop, name="tts-play", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def say(self, text: str, voice: Voice = DEFAULT_VOICE) -> None:
        with self._idle:
            self._pending += 1
            generation = self._generation
        self._texts.put(_Item(generation, text, voice))

    def stop(self) -> None:
        """Drop everything queued and cut the current sentence off."""
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

    def _finished(self, item: _Item, stopped: bool) -> None:
        if self.on_spoken is not None:
            try:
                self.on_spoken(item.text, stopped)
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
            if self._stale(item) or not self.enabled:
                self._finished(item, stopped=True)
                continue
            try:
                item.audio = self.synthesizer.synthesize(item.text, item.voice)
            except Exception as exc:  # SynthesisError, or anything odd from the engine
                self._problem(f"Speech synthesis failed: {exc}")
                self._finished(item, stopped=True)
                continue
            # Bounded queue: synthesis runs at most one sentence ahead of playback.
            self._audio.put(item)

    def _play_loop(self) -> None:
        while True:
            item = self._audio.get()
            if item is None:
                return
            if self._stale(item) or item.audio is None or not self.enabled:
                self._finished(item, stopped=True)
                continue
            try:
                completed = self.player.play(
                    item.audio.samples, item.audio.rate, cancelled=partial(self._stale, item)
                )
            except AudioOutputError as exc:
                self.enabled = False
                self._problem(str(exc))
                completed = False
            self._finished(item, stopped=not completed)
