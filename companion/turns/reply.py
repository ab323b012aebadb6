"""How a turn is answered in words: a local answer said whole (`say`), or the persona's
language model streamed sentence by sentence through the reply chain (`converse`).

`converse` hands the model's pieces to the chunker, each sentence through the
`ReplyChain` (repeat stop, kids-mode gate, driving cap), keeps the stream inside the turn
limits and says "one moment" when the first word is slow. When the model chooses a tool
instead of words it returns a `ToolUse`: the pipeline carries that out, like a routed
request, on the one path every intent takes.

`streaming_speech=False` is the naive pipeline the benchmark compares against: wait for the
whole reply, synthesise it in one piece, then play it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..events import Notice, ReplyDelta, ReplyDone, SentenceReady, Stage, TurnError
from ..limits import EMPTY_REPLY, KIDS_CHANGE_OF_SUBJECT, STILL_THINKING, TurnLimits
from ..llm.client import ChatClient, Message, ToolCall
from ..llm.errors import LLMError
from ..personas.content import unfit_for_children
from ..router import Intent
from ..router.tools import intent_for
from ..tts.chunker import SentenceChunker
from .chain import ReplyChain, StillThinking
from .turn import Answer, ToolUse, Turn

if TYPE_CHECKING:
    from ..personas import Persona

log = logging.getLogger(__name__)


class _Stream:
    """One model reply as it streams: pieces in, sentences out through the chain."""

    def __init__(self, turn: Turn, persona: Persona, chain: ReplyChain, streaming: bool):
        self.turn, self.persona, self.chain, self.streaming = turn, persona, chain, streaming
        self.chunker = SentenceChunker()
        self.pieces: list[str] = []
        self.spoken: list[str] = []
        self.calls: list[ToolCall] = []
        self.held: list[str] = []  # the naive pipeline speaks only once the reply is complete
        self.gated = turn.session.kids_mode  # sentences are shown only once read

    def piece(self, piece: str) -> None:
        turn = self.turn
        if not self.pieces:
            turn.mark(Stage.LLM_FIRST_TOKEN)
        self.pieces.append(piece)
        if not self.gated:
            turn.emit(ReplyDelta(turn.id, piece))
        for sentence in self.chunker.feed(piece):
            self.sentence(sentence)

    def flush(self) -> None:
        for sentence in self.chunker.flush():
            self.sentence(sentence)
        if self.held:
            self.turn.speak(" ".join(self.held), self.persona.voice)

    def sentence(self, sentence: str) -> None:
        text = self.chain.push(sentence)
        if text is None:
            return
        turn = self.turn
        if self.gated:
            turn.emit(ReplyDelta(turn.id, text + " "))
        turn.mark(Stage.FIRST_SENTENCE)
        turn.emit(SentenceReady(turn.id, text, len(self.spoken)))
        self.spoken.append(text)
        if self.streaming:
            turn.speak(text, self.persona.voice)
        else:
            self.held.append(text)

    @property
    def text(self) -> str:
        """The reply as it stands: what was said if the chain cut it, else the model's."""
        return " ".join(self.spoken) if self.chain.ended else "".join(self.pieces).strip()


class Replies:
    """The reply path a pipeline lends its turns (`companion.turns.turn.ReplyPath`)."""

    def __init__(self, client: ChatClient, *, streaming_speech: bool = True) -> None:
        self.client = client
        self.streaming_speech = streaming_speech
        self.limits = TurnLimits()
        # Whether a skill carries out this intent (the pipeline's skill table says).
        self.can_act: Callable[[str], bool] = lambda name: False
        # What the persona's model is told about the car and the trip (empty: nothing).
        self.context: Callable[[], str] = lambda: ""

    async def say(self, turn: Turn, text: str, voice_of: Persona) -> ReplyDone:
        """A reply decided locally, spoken whole (in `voice_of`'s voice). In kids mode it is
        read like a model's reply first: a local answer can carry a tool's or a place file's
        words ("I couldn't find a place called ...")."""
        if turn.session.kids_mode and unfit_for_children(text):
            log.info("kids mode stopped a local answer")
            text = KIDS_CHANGE_OF_SUBJECT
        turn.emit(ReplyDelta(turn.id, text))
        chunker = SentenceChunker()
        try:
            for index, sentence in enumerate([*chunker.feed(text), *chunker.flush()]):
                turn.mark(Stage.FIRST_SENTENCE)
                turn.emit(SentenceReady(turn.id, sentence, index))
                turn.speak(sentence, voice_of.voice)
            await turn.confirmed()
            await turn.finish_speaking()
        except asyncio.CancelledError:
            turn.stop_speaking()
            turn.emit(ReplyDone(turn.id, text, interrupted=True))
            raise
        done = ReplyDone(turn.id, text)
        turn.emit(done)
        return done

    async def converse(
        self,
        turn: Turn,
        *,
        messages: list[Message] | None = None,
        max_sentences: int | None = None,
        without_llm: str | None = None,
        tools: list[dict[str, Any]] | None = None,
    ) -> Answer | ToolUse:
        """Hand the utterance to the active persona's language model, streaming.

        `messages` replaces the usual history + utterance (search summaries); `max_sentences`
        cuts the reply there (the stream is closed); `without_llm` is said instead of the
        error when the model cannot be reached before it said anything; `tools` are offered
        to the model, and a call to one comes back as a `ToolUse`."""
        session = turn.session
        persona = session.active
        if max_sentences is None and turn.speed_kmh:
            max_sentences = persona.max_sentences
        chain = ReplyChain.for_reply(kids_mode=session.kids_mode, max_sentences=max_sentences)
        reply = _Stream(turn, persona, chain, self.streaming_speech)
        try:
            if messages is None:
                extra = "\n\n".join(p for p in (session.extra_instructions(), self.context()) if p)
                messages = session.memory.messages(persona, turn.text, extra)
            turn.model_messages = messages
            await self._stream(turn, persona, messages, tools, reply)
            acted = self._tool_intent(reply.calls, tools)
            if acted is not None:
                await turn.confirmed()
                return ToolUse(acted)
            await turn.confirmed()
            await turn.finish_speaking()
        except asyncio.CancelledError:
            turn.stop_speaking()
            text = "".join(reply.pieces).strip()
            if text and not turn.guessing:
                # The history keeps what the driver heard (when speaking), not what the model
                # had written by then: "as I was saying" must refer to spoken words.
                turn.remember(" ".join(turn.heard) if turn.speaker else text, interrupted=True)
            turn.emit(ReplyDone(turn.id, text, interrupted=True))
            raise
        except LLMError as exc:
            return await self._failed(turn, persona, exc, reply, without_llm)
        text = reply.text
        if not text:  # the model said nothing: a short answer, and nothing stored
            log.info("turn %d: the model sent an empty reply", turn.id)
            return await self.say(turn, EMPTY_REPLY, persona)
        turn.remember(text)
        done = ReplyDone(turn.id, text)
        turn.emit(done)
        return done

    async def _stream(
        self,
        turn: Turn,
        persona: Persona,
        messages: list[Message],
        tools: list[dict[str, Any]] | None,
        reply: _Stream,
    ) -> None:
        """The model's stream through `reply`, inside the turn limits."""
        turn.mark(Stage.LLM_REQUEST)
        stream = self.client.stream_chat(
            messages,
            temperature=persona.temperature,
            max_tokens=persona.max_tokens,
            top_p=persona.top_p,
            tools=tools,
        )
        limits, started = self.limits, time.monotonic()
        cue = StillThinking(limits.still_thinking_after_s, lambda: _still_thinking(turn, persona))
        try:
            async with contextlib.aclosing(stream):
                async for piece in stream:
                    cue.cancel()
                    if isinstance(piece, ToolCall):
                        reply.calls.append(piece)
                        continue
                    reply.piece(piece)
                    if reply.chain.ended:
                        break  # closing the stream drops the connection
                    pieces = reply.pieces
                    capped = limits.exceeded(
                        len(pieces), sum(map(len, pieces)), time.monotonic() - started
                    )
                    if capped:  # parked or not: no reply goes on for ever
                        log.info("turn %d: reply cut at %s", turn.id, capped)
                        break
        finally:
            cue.cancel()
        turn.mark(Stage.LLM_DONE)
        reply.flush()

    async def _failed(
        self,
        turn: Turn,
        persona: Persona,
        exc: LLMError,
        reply: _Stream,
        without_llm: str | None,
    ) -> Answer:
        log.info("turn %d: %s: %s", turn.id, exc.kind, exc.detail)
        if without_llm is not None and not reply.pieces:
            turn.remember(without_llm)
            return await self.say(turn, without_llm, persona)
        turn.stop_speaking()
        error = TurnError(turn.id, exc.kind, exc.spoken, exc.detail)
        turn.emit(error)
        turn.speak(exc.spoken, persona.voice)
        await turn.confirmed()
        await turn.finish_speaking()
        return error

    def _tool_intent(
        self, calls: list[ToolCall], offered: list[dict[str, Any]] | None
    ) -> Intent | None:
        """The first tool call we can carry out, as an intent: only a tool this very request
        offered (a search summary offers none, so an instruction inside a web result can't
        start a route, whatever the model makes of it), and one a skill is set up for."""
        names = {tool.get("function", {}).get("name") for tool in offered or ()}
        for call in calls:
            if call.name not in names:
                log.info("ignored a tool call nobody offered: %.80r", call.name)
                continue
            intent = intent_for(call.name, call.arguments, call.id)
            if intent is not None and self.can_act(intent.name):
                return intent
            log.info("ignored a tool call: %s %.200r", call.name, call.arguments)
        return None


def _still_thinking(turn: Turn, persona: Persona) -> None:
    """No first word after a few seconds: say so, once (not while guessing)."""
    if not turn.guessing and turn.ended is None:
        turn.emit(Notice(STILL_THINKING))
        turn.speak(STILL_THINKING, persona.voice)
