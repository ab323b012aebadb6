"""One turn through the stages: utterance -> persona + LLM (streamed) -> sentence chunker -> speech.

Data flows one way and every step is reported as an event (`companion.events`). Cancelling the
task running `run_turn()` is the barge-in / Ctrl+C path: the LLM stream is closed (which drops
the HTTP connection), speech stops, and the half-finished reply is kept in memory marked as
interrupted. Every failure a user can cause ends the turn with a spoken `TurnError`; the
pipeline itself stays ready for the next turn.

The router (navigation, search, persona switching) will sit between the utterance and the
persona; until it lands every utterance is conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from .events import (
    Event,
    EventSink,
    ReplyDelta,
    ReplyDone,
    SentenceReady,
    SentenceSpoken,
    TimingMark,
    TurnError,
    TurnStarted,
)
from .llm.client import ChatClient
from .llm.errors import LLMError
from .memory import ConversationMemory
from .personas import Persona
from .tts.chunker import SentenceChunker
from .tts.speaker import Speaker

log = logging.getLogger(__name__)


class TurnPipeline:
    """Runs turns for one persona. `speaker=None` means muted (text only)."""

    def __init__(
        self,
        persona: Persona,
        client: ChatClient,
        memory: ConversationMemory,
        speaker: Speaker | None,
        on_event: EventSink,
    ) -> None:
        self.persona = persona
        self.client = client
        self.memory = memory
        self.speaker = speaker
        self.on_event = on_event
        self.turn_id = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    def _emit(self, event: Event) -> None:
        try:
            self.on_event(event)
        except Exception:  # a broken consumer must not break the turn
            log.exception("event consumer failed on %s", type(event).__name__)

    def _spoken_from_thread(self, text: str, stopped: bool) -> None:
        """Speaker callback (runs on the playback thread): re-emit on the event loop."""
        loop, turn_id = self._loop, self.turn_id
        if loop is not None and not loop.is_closed():
            event = SentenceSpoken(turn_id, text, stopped)
            loop.call_soon_threadsafe(self._emit, event)

    async def run_turn(self, text: str) -> ReplyDone | TurnError:
        """Answer one utterance. Returns the final event; raises CancelledError if cancelled."""
        self._loop = asyncio.get_running_loop()
        if self.speaker is not None:
            self.speaker.on_spoken = self._spoken_from_thread
        self.turn_id += 1
        turn = self.turn_id
        persona = self.persona
        self._emit(TurnStarted(turn, text, persona.id))

        chunker = SentenceChunker()
        parts: list[str] = []
        sentences = 0

        def speak(sentence: str) -> None:
            nonlocal sentences
            if sentences == 0:
                self._emit(TimingMark(turn, "first_sentence"))
            self._emit(SentenceReady(turn, sentence, sentences))
            sentences += 1
            if self.speaker is not None:
                self.speaker.say(sentence, persona.voice)

        try:
            messages = self.memory.messages(persona, text)
            self._emit(TimingMark(turn, "llm_request"))
            stream = self.client.stream_chat(
                messages, temperature=persona.temperature, max_tokens=persona.max_tokens
            )
            async with contextlib.aclosing(stream):
                async for piece in stream:
                    if not parts:
                        self._emit(TimingMark(turn, "llm_first_token"))
                    parts.append(piece)
                    self._emit(ReplyDelta(turn, piece))
                    for sentence in chunker.feed(piece):
                        speak(sentence)
            self._emit(TimingMark(turn, "llm_done"))
            for sentence in chunker.flush():
                speak(sentence)
            await self._finish_speaking()
        except asyncio.CancelledError:
            self._stop_speaking()
            reply = "".join(parts).strip()
            if reply:
                self.memory.add(text, reply, interrupted=True)
            self._emit(ReplyDone(turn, reply, interrupted=True))
            raise
        except LLMError as exc:
            log.info("turn %d: %s: %s", turn, exc.kind, exc.detail)
            self._stop_speaking()
            error = TurnError(turn, exc.kind, exc.spoken, exc.detail)
            self._emit(error)
            if self.speaker is not None:
                self.speaker.say(exc.spoken, persona.voice)
                await self._finish_speaking()
            return error

        reply = "".join(parts).strip()
        self.memory.add(text, reply)
        done = ReplyDone(turn, reply)
        self._emit(done)
        return done

    async def _finish_speaking(self) -> None:
        if self.speaker is not None:
            await asyncio.to_thread(self.speaker.wait_until_done)

    def _stop_speaking(self) -> None:
        if self.speaker is not None:
            self.speaker.stop()
