"""Taking turns: when a turn starts and when it stops.

`TurnTaker` runs one turn at a time (a new one cancels, and waits out, the one before it),
starts a reply on the recogniser's guess at a pause (kept silent until the final words
confirm it, dropped without a trace otherwise), turns the listener's events into turns,
decides barge-in on the thread that notices it (the speaker stops on that thread, the turn
is cancelled on the loop), and pauses hands-free listening while we answer when the driver
can't interrupt by voice (the microphone must not hear the assistant as the driver).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..events import (
    AnyEvent,
    BargeIn,
    EndOfSpeechLikely,
    FinalTranscript,
    InputProblem,
    ListenerEvent,
    ListenerState,
    NothingHeard,
    Source,
    SpeechStarted,
    Status,
    WakePhraseHeard,
)
from ..text import same_words

if TYPE_CHECKING:
    from ..config import SpeechSettings
    from ..personas import Persona
    from ..router import Intent
    from ..tts.output import SpeakerLike, SpeechOutput
    from .pipeline import TurnPipeline

log = logging.getLogger(__name__)


class ListenerLike(Protocol):
    """What turn taking needs of the listener (`companion.stt.listener.Listener`)."""

    finished: threading.Event

    def start(self) -> None: ...
    def stop(self, timeout: float = 3.0) -> None: ...
    def press(self) -> None: ...
    def release(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def expect_answer(self, seconds: float) -> None: ...


SPECULATION_TIMEOUT_S = 5.0  # a guess whose final transcript never came is dropped
READY_TIMEOUT_S = 30.0  # a request made while the core loads waits this long for it
Spawn = Callable[[Coroutine[Any, Any, Any]], None]


@dataclass
class _Guess:
    """A turn started on the recogniser's guess, waiting for the final words."""

    text: str
    confirmed: asyncio.Event
    started: float
    task: asyncio.Task[None] | None = None
    dropped: bool = False


class TurnTaker:
    """Lives on the assistant's loop; `barge_in`, `press`, `release`, `stop` and
    `on_listener_event` may be called from any thread."""

    def __init__(
        self,
        speech: SpeechSettings,
        post: Callable[[AnyEvent], None],
        output: SpeechOutput,
        *,
        clock: Callable[[], float],
        spawn: Spawn | None = None,
        before_turn: Callable[[], None] | None = None,
    ) -> None:
        self.speech = speech
        self.post = post
        self.output = output
        self.clock = clock
        self.pipeline: TurnPipeline | None = None
        self.listener: ListenerLike | None = None
        self.cues: Callable[[str], None] = lambda name: None  # earcons, once speech is on
        self.ready: asyncio.Event | None = None  # set once navigation and search are loaded
        self.loop: asyncio.AbstractEventLoop | None = None
        self._spawn = spawn
        self._before_turn = before_turn  # e.g. re-read the persona files
        self._turn: asyncio.Task[None] | None = None
        self._guess: _Guess | None = None
        self._paused: ListenerLike | None = None  # the listener paused while we speak

    def start(self) -> None:
        """On the loop."""
        self.loop = asyncio.get_running_loop()
        self.ready = asyncio.Event()

    # --- what is going on -------------------------------------------------------------------

    @property
    def speaker(self) -> SpeakerLike | None:
        return self.output.speaker

    @property
    def speaking(self) -> bool:
        speaker = self.speaker
        return speaker is not None and speaker.busy

    @property
    def running(self) -> bool:
        return self._turn is not None and not self._turn.done()

    @property
    def guessing(self) -> bool:
        """A turn started on the recogniser's guess is waiting for the final words."""
        return self._guess is not None

    def listening_done(self) -> bool:
        """No listener, or it has finished (a recording played to its end)."""
        return self.listener is None or self.listener.finished.is_set()

    def busy(self) -> bool:
        """A reply is being generated or spoken."""
        return self.running or self.speaking

    # --- turns from the front end -----------------------------------------------------------

    def say(self, text: str) -> None:
        """On the loop: typed words (or a tapped choice) are a new turn, interrupting any
        reply."""
        text = text.strip()
        if text:
            self._start(self._typed(text))

    async def ask(self, text: str, alternatives: tuple[str, ...] = ()) -> Any:
        """Typed words as a turn, awaited: returns its answer (ReplyDone or TurnError), None
        if it was interrupted or there was nothing to say. `alternatives`: other readings of
        a recording's words (a dialogue test's audio turn)."""
        text = text.strip()
        if not text:
            return None
        with contextlib.suppress(asyncio.CancelledError):
            return await self._typed(text, alternatives)
        return None

    def _typed(self, text: str, alternatives: tuple[str, ...] = ()) -> Coroutine[Any, Any, Any]:
        self.barge_in("typed")
        self.drop_guess()
        return self._run(
            lambda: self._pipeline.run_turn(text, source=Source.TYPED, alternatives=alternatives),
            None,
        )

    async def act(self, intent: Intent, heard: str) -> Any:
        """An intent an agent asked for (`companion serve mcp`), awaited: a turn of its own,
        through the same skills and gates as a request the driver makes."""
        with contextlib.suppress(asyncio.CancelledError):
            return await self._run(lambda: self._pipeline.act(intent, heard), None)
        return None

    def pick_persona(self, persona_id: str) -> None:
        self.barge_in("picker")
        self._start(self._run(lambda: self._pipeline.pick_persona(persona_id), None))

    def announce(self, text: str, switched_to: Persona | None) -> None:
        self.barge_in("safety")
        self._start(self._run(lambda: self._pipeline.announce(text, switched_to), None))

    async def tell(self, text: str) -> Any:
        """The assistant's own news as a turn of its own, awaited (a low-range warning): it
        waits for the turn before it rather than cutting it off."""
        with contextlib.suppress(asyncio.CancelledError):
            return await self._run(lambda: self._pipeline.announce(text), None)
        return None

    def news_when_idle(self, news: Callable[[], str | None]) -> None:
        """From a timer on the loop: while nothing is being said, what `news()` has to say
        (None: nothing) as a turn of its own."""
        if not self.busy():
            text = news()
            if text is not None:
                self._start(self.tell(text))

    def press(self) -> None:
        """Push-to-talk pressed (key or mic button): interrupts a reply, then opens (or, when
        toggling, closes) the microphone."""
        self.barge_in("push_to_talk")
        if self.listener is not None:
            self.listener.press()

    def release(self) -> None:
        if self.listener is not None:
            self.listener.release()

    def barge_in(self, why: str) -> None:
        """From any thread: stop the reply at once (speaker now, turn on its loop)."""
        if not self.busy():
            return
        guess = self._guess
        if guess is not None and guess.task is self._turn and not guess.confirmed.is_set():
            return  # an unconfirmed guess is silent: nothing to interrupt
        at = self.clock()
        speaker = self.speaker
        if speaker is not None:
            speaker.stop()
        task = self._turn
        if task is not None and not task.done():
            self.on_loop(task.cancel)
        log.info("barge-in (%s)", why)
        self.post(BargeIn(why, t=at))

    # --- the microphone ---------------------------------------------------------------------

    @property
    def barge_in_by_voice(self) -> bool:
        return self.speech.barge_in and self.speech.listen_mode != "push_to_talk"

    def on_listener_event(self, event: ListenerEvent) -> None:
        """On the listener's thread: barge-in here, turns on the loop, everything shown (first,
        so the front end knows the words before a turn on them starts)."""
        self.post(event)
        mode = self.speech.listen_mode
        match event:
            case SpeechStarted():
                if self.barge_in_by_voice and mode == "hands_free":
                    self.barge_in("voice")
            case EndOfSpeechLikely():
                self.on_loop(self._speculate, event.text)
            case FinalTranscript():
                self.cues("got_it")
                self.on_loop(self._heard, event.text, event.alternatives)
            case WakePhraseHeard():
                self.barge_in("wake_phrase")
                self.cues("listening")
            case ListenerState(state="listening") if mode == "push_to_talk":
                self.cues("listening")
            case NothingHeard():
                self.on_loop(self.drop_guess)
            case InputProblem():
                self.on_loop(self.drop_guess)
                self.cues("error")
                self.post(Status("speech_in", "problem", event.message))

    def _speculate(self, text: str) -> None:
        """Start the reply on the recogniser's guess; it stays silent until confirmed."""
        if not text.strip() or self.pipeline is None:
            return
        guess = self._guess
        if self.running and (guess is None or guess.task is not self._turn):
            return  # a real turn is running
        if not self.running and self.speaking:
            return  # still speaking: this is a barge-in, not a pause
        if guess is not None:
            if same_words(guess.text, text):
                return
            self.drop_guess()  # the driver said more: guess again
        confirmed = asyncio.Event()
        guess = self._guess = _Guess(text, confirmed, self.clock())
        pipeline = self.pipeline
        self._start(self._run(lambda: pipeline.run_turn(text, confirmed, Source.GUESS), guess))

    def _heard(self, text: str, alternatives: tuple[str, ...] = ()) -> None:
        """The final transcript: confirm the guess if it had these words (and none of the
        recogniser's other readings is the request instead), else a new turn."""
        guess, self._guess = self._guess, None
        if (
            guess is not None
            and not guess.dropped
            and same_words(guess.text, text)
            and not self._alternative_wins(text, alternatives)
        ):
            self._pause_listening()
            guess.confirmed.set()
            return
        if guess is not None:
            self._cancel_guess(guess)
        if text.strip():
            words = text.strip()
            self._start(
                self._run(
                    lambda: self._pipeline.run_turn(
                        words, source=Source.SPOKEN, alternatives=alternatives
                    ),
                    None,
                )
            )

    def _alternative_wins(self, text: str, alternatives: tuple[str, ...]) -> bool:
        if not alternatives or self.pipeline is None:
            return False
        return self._pipeline.understand(text, alternatives)[1] != text

    def drop_guess(self) -> None:
        guess, self._guess = self._guess, None
        if guess is not None:
            self._cancel_guess(guess)

    def drop_stale_guess(self) -> None:
        """A guess that never got its final words is dropped (called once a second)."""
        guess = self._guess
        if guess is not None and self.clock() - guess.started > SPECULATION_TIMEOUT_S:
            self.drop_guess()

    def _cancel_guess(self, guess: _Guess) -> None:
        guess.dropped = True
        if guess.task is not None and not guess.task.done() and not guess.confirmed.is_set():
            guess.task.cancel()  # leaves no trace (see TurnPipeline.run_turn)

    # --- one turn at a time -----------------------------------------------------------------

    @property
    def _pipeline(self) -> TurnPipeline:
        assert self.pipeline is not None  # _run returns early without one
        return self.pipeline

    def _start(self, coro: Coroutine[Any, Any, Any]) -> None:
        if self._spawn is not None:
            self._spawn(coro)
        else:
            asyncio.ensure_future(coro)

    def on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` on the loop, from any thread (nothing once the loop is closed)."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(fn, *args)

    async def _run(self, make: Callable[[], Awaitable[Any]], guess: _Guess | None) -> Any:
        """One turn at a time: a new one cancels (and waits out) the one before it."""
        me = asyncio.current_task()
        previous, self._turn = self._turn, me
        if guess is not None:
            guess.task = me
        if previous is not None and not previous.done():
            previous.cancel()
            await asyncio.wait({previous})
        if self.ready is not None and not self.ready.is_set():
            # The first request can come before the core is loaded and the data files are
            # read (about a second; more on a busy machine): it waits for them rather than
            # being lost or going to the persona.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), READY_TIMEOUT_S)
        if (guess is not None and guess.dropped) or self.pipeline is None:
            return None
        answer = None
        try:
            if guess is None:
                self._pause_listening()
                if self._before_turn is not None:
                    self._before_turn()
            answer = await make()
            return answer
        finally:
            if self._turn is me:
                self._turn = None
                await self._resume_listening()
                if self._pipeline.asked(answer):
                    self._start(self._take_the_answer())

    async def _take_the_answer(self) -> None:
        """The turn asked the driver something ("Which one?"): once it is said, the answer
        is heard without the wake phrase or a press, for a few seconds (every listen mode)."""
        listener, speaker, seconds = self.listener, self.speaker, self.speech.answer_window_s
        if listener is None or seconds <= 0:
            return
        if speaker is not None:
            await asyncio.to_thread(speaker.wait_until_done, 120)
        if not self.running and self.listener is listener:
            listener.expect_answer(seconds)

    def _pause_listening(self) -> None:
        """Without barge-in by voice, hands-free listening pauses while we answer."""
        listener = self.listener
        if (
            listener is None
            or self.speech.barge_in
            or self.speech.listen_mode == "push_to_talk"
            or self._paused is listener
        ):
            return
        listener.pause()
        self._paused = listener

    async def _resume_listening(self) -> None:
        listener = self._paused
        if listener is None:
            return
        speaker = self.speaker
        if speaker is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.to_thread(speaker.wait_until_done, 120)
        if self._paused is listener and not self.running:
            self._paused = None
            listener.resume()

    async def aclose(self) -> None:
        """Cancel and await the running turn."""
        self.drop_guess()
        task = self._turn
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        if self.pipeline is not None:
            await self.pipeline.aclose()
