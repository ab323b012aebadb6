"""One turn, as an object that owns it from its first event to its last.

A `Turn` holds everything about one answer: its id and where its words came from (`Source`),
what the router made of them, the output held back while it is only a guess, the sentences
it gave the speaker and what the driver actually heard of them, the stages it reached, and
its end. It is the only way a turn's events and sentences leave the core:

- `emit()` reports an event; `speak()` hands a sentence to the speaker. While the turn is a
  guess (started on the recogniser's words at a pause), both are held back in order until
  the final transcript confirms it, and dropped with it otherwise.
- Each sentence carries the turn as its `SentenceReports`, so the speaker's news about it
  (played, cut off, started) reaches this turn, never a later one.
- `end()` sends the one final `TurnEnded`, whatever happened (answered, failed,
  interrupted), with the milliseconds to each stage: the waterfall, the dialogue runner and
  the benchmarks read those instead of recomputing them.

Skills see a turn too: `say()` speaks a local answer, `converse()` asks the persona's model;
both go through the reply path the pipeline lends the turn (`companion.turns.reply`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..events import (
    AnyEvent,
    EventSink,
    ReplyDone,
    SentenceSpoken,
    Source,
    Stage,
    TimingMark,
    TurnEnded,
    TurnError,
    TurnStarted,
)
from ..router import Intent
from ..tts.output import SpeakerLike, SpeechOutput

if TYPE_CHECKING:
    from ..llm.client import Message
    from ..personas import Persona, Voice
    from ..personas.session import PersonaSession

log = logging.getLogger(__name__)

Answer = ReplyDone | TurnError


class ToolUse:
    """What a reply path returns when the model chose a tool instead of words: the intent
    the tool stands for. The pipeline carries it out like a routed request."""

    def __init__(self, intent: Intent) -> None:
        self.intent = intent


class ReplyPath(Protocol):
    """How a turn is answered in words (implemented by `companion.turns.pipeline`)."""

    async def say(self, turn: Turn, text: str, voice_of: Persona) -> ReplyDone: ...
    async def converse(
        self,
        turn: Turn,
        *,
        messages: list[Message] | None = None,
        max_sentences: int | None = None,
        without_llm: str | None = None,
        tools: list[dict[str, Any]] | None = None,
    ) -> Answer | ToolUse: ...


_PROGRESS = {"synthesized": Stage.TTS_FIRST_AUDIO, "playing": Stage.PLAYBACK_STARTED}


class Turn:
    """Create it on the event loop; `begin()` announces it, `end()` closes it."""

    def __init__(
        self,
        turn_id: int,
        text: str,
        source: Source,
        *,
        session: PersonaSession,
        post: EventSink,
        replies: ReplyPath,
        output: SpeechOutput | None = None,
        speed_kmh: float | None = None,
        confirmed: asyncio.Event | None = None,
    ) -> None:
        self.id, self.text, self.source = turn_id, text, source
        self.alternatives: tuple[str, ...] = ()  # the recogniser's other readings of `text`
        self.collected: list[str] | None = None  # several parts: said together at the end
        self.model_messages: list[Message] = []  # what the model was last sent (tool calls)
        self.session = session
        self.output = output or SpeechOutput()
        self.speaker: SpeakerLike | None = self.output.active  # None: muted, text only
        self.speed_kmh = speed_kmh  # the car's speed when the turn began (None: unknown)
        self.intent = Intent("conversation")
        self.said: set[str] = set()  # the sentences given to the speaker
        self.heard: list[str] = []  # what the driver heard of them (cut where interrupted)
        self.stages: dict[str, float] = {}  # stage -> monotonic time it was first reached
        self.started = time.monotonic()
        self.ended: TurnEnded | None = None
        self._post, self._replies = post, replies
        self._loop = asyncio.get_running_loop()
        self._held: list[AnyEvent | tuple[str, Voice]] = []
        self._holding = confirmed is not None and not confirmed.is_set()
        self._release: asyncio.Future[None] | None = (
            asyncio.ensure_future(self._release_when(confirmed)) if confirmed else None
        )

    # --- as a skill sees it -------------------------------------------------------------------

    @property
    def slots(self) -> dict[str, Any]:
        return self.intent.slots

    @property
    def guessing(self) -> bool:
        """Started on a guess and not confirmed yet: nothing has left the turn."""
        return self._holding

    async def say(self, text: str, voice_of: Persona | None = None) -> ReplyDone:
        """A reply decided here, spoken whole (in `voice_of`'s voice; the active persona's).
        While the parts of a request are answered (`collected`), it is kept to be said with
        the others, in one answer."""
        if self.collected is not None:
            self.collected.append(text)
            return ReplyDone(self.id, text)
        return await self._replies.say(self, text, voice_of or self.session.active)

    async def converse(self, **options: Any) -> Answer | ToolUse:
        """The persona's language model answers (streamed, spoken sentence by sentence)."""
        return await self._replies.converse(self, **options)

    def remember(self, answer: str, *, interrupted: bool = False) -> None:
        """Keep this exchange in the persona's conversation memory."""
        self.session.memory.add(self.text, answer, interrupted=interrupted)

    # --- events and sentences -----------------------------------------------------------------

    def begin(self) -> None:
        self.emit(TurnStarted(self.id, self.text, self.session.active.id, self.source))

    def emit(self, event: AnyEvent) -> None:
        """Report an event of this turn (held back while it is a guess)."""
        if self._holding:
            self._held.append(event)
            return
        try:
            self._post(event)
        except Exception:  # a broken consumer must not break the turn
            log.exception("event consumer failed on %s", type(event).__name__)

    def mark(self, stage: Stage) -> None:
        """A stage was reached (the first time counts)."""
        if stage not in self.stages:
            self.stages[stage] = time.monotonic()
            self.emit(TimingMark(self.id, stage))

    def speak(self, sentence: str, voice: Voice) -> None:
        """The one way a sentence reaches the speaker (held back while a guess)."""
        if self.speaker is None:
            return
        if self._holding:
            self._held.append((sentence, voice))
            return
        self.said.add(sentence)
        self.speaker.say(sentence, voice, self)

    async def confirmed(self) -> None:
        """Wait, if this turn is a guess, until the final transcript confirms it."""
        if self._release is not None:
            await self._release

    async def finish_speaking(self) -> None:
        if self.speaker is not None:
            await asyncio.to_thread(self.speaker.wait_until_done)

    def stop_speaking(self) -> None:
        if self.speaker is not None and not self._holding:
            self.speaker.stop()

    async def _release_when(self, confirmed: asyncio.Event) -> None:
        await confirmed.wait()
        self._holding = False
        held, self._held = self._held, []
        for item in held:
            if isinstance(item, tuple):
                self.speak(*item)
            else:
                self.emit(item)

    # --- the speaker's reports (SentenceReports), on its threads --------------------------------

    def spoken(self, text: str, stopped: bool, played: float) -> None:
        if not stopped:
            self.heard.append(text)
        elif played > 0:
            words = text.split()
            cut = round(len(words) * played)
            if cut:
                self.heard.append(" ".join(words[:cut]) + "…")
        self._on_loop(self.emit, SentenceSpoken(self.id, text, stopped))

    def progress(self, stage: str, text: str) -> None:
        mark = _PROGRESS.get(stage)
        if mark is not None:
            self._on_loop(self.mark, mark)

    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn, *args)

    # --- the end ------------------------------------------------------------------------------

    async def run(self, answer: Callable[[], Awaitable[Answer]]) -> Answer:
        """Run `answer` as this turn's body: it always ends with `TurnEnded` (unless it was a
        guess never confirmed: that leaves no trace). Cancelling it is the barge-in path."""
        try:
            result = await answer()
        except asyncio.CancelledError:
            if not self._holding:
                self.end("interrupted")
            self._drop_held()
            raise
        except Exception as exc:  # a bug in a stage: one error, and the turn still ends
            log.exception("turn %d failed", self.id)
            self._drop_held()
            error = TurnError(
                self.id, "internal", "Sorry, something went wrong.", f"internal error: {exc}"
            )
            self.emit(error)
            self.end("failed")
            return error
        self._drop_held()
        interrupted = isinstance(result, ReplyDone) and result.interrupted
        self.end("failed" if isinstance(result, TurnError) else "answered", interrupted)
        return result

    def end(self, outcome: str, interrupted: bool = False) -> None:
        if self.ended is not None:
            return
        now = time.monotonic()
        latency = {stage: (t - self.started) * 1000 for stage, t in self.stages.items()}
        latency["reply_done"] = (now - self.started) * 1000
        self.ended = TurnEnded(self.id, "interrupted" if interrupted else outcome, latency)
        self.emit(self.ended)

    def _drop_held(self) -> None:
        if self._release is not None and not self._release.done():
            self._release.cancel()
        self._held = []
