"""One turn through the stages: utterance -> persona + LLM (streamed) -> sentence chunker -> speech.

Data flows one way and every step is reported as an event (`companion.events`). Cancelling the
task running `run_turn()` is the barge-in / Ctrl+C path: the LLM stream is closed (which drops
the HTTP connection), speech stops, and the half-finished reply is kept in memory marked as
interrupted. Every failure a user can cause ends the turn with a spoken `TurnError`; the
pipeline itself stays ready for the next turn.

Before any LLM call the router (`companion.router`) decides what the driver wants, and the
skill that handles that intent (`companion.skills`) answers: a persona switch through the
session's safety gates, navigation and control locally in a sentence, search summarised by the
persona, everything else by the persona's language model. An open question from the navigator
("Which one?") is offered the driver's words first.

The pipeline is one turn at a time and knows nothing about microphones, screens or barge-in:
`companion.assistant.Assistant` owns it and decides when a turn starts and stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from .events import (
    AnyEvent,
    EventSink,
    IntentRecognized,
    Notice,
    PersonaSwitched,
    ReplyDelta,
    ReplyDone,
    SentenceReady,
    SentenceSpoken,
    TimingMark,
    TurnError,
    TurnStarted,
)
from .limits import EMPTY_REPLY, KIDS_CHANGE_OF_SUBJECT, STILL_THINKING, TurnLimits
from .llm.client import ChatClient, Message, ToolCall
from .llm.errors import LLMError
from .personas import Persona, Voice
from .personas.content import find_adult_content
from .personas.session import PersonaSession
from .router import Intent, route
from .router.model import shipped_model
from .router.tools import intent_for
from .skills import SkillTable, Turn
from .text import normalize
from .tts.chunker import SentenceChunker

if TYPE_CHECKING:
    from .navigation.navigator import Navigator
    from .search import Searcher
    from .tts.speaker import Speaker

log = logging.getLogger(__name__)


class TurnPipeline:
    """Runs turns for a persona session. `speaker=None` means muted (text only).

    `speed_kmh` is the car's speed as the front end knows it (None: unknown); personas with a
    speed limit (meditation) are refused above it, and while it is above zero a persona's
    `max_sentences` cuts its replies off.

    `streaming_speech=False` is the naive pipeline the benchmark compares against: wait for the
    whole reply, synthesise it in one piece, then play it.
    """

    def __init__(
        self,
        session: PersonaSession,
        client: ChatClient,
        speaker: Speaker | None,
        on_event: EventSink,
        *,
        streaming_speech: bool = True,
        navigator: Navigator | None = None,
        searcher: Searcher | None = None,
        offer_tools: bool = False,
    ) -> None:
        self.streaming_speech = streaming_speech
        self.limits = TurnLimits()
        self._offer_tools = offer_tools
        shipped_model()  # load the router's intent model now (~30 ms), not in the first turn
        self.navigator: Navigator | None = None
        self.searcher: Searcher | None = None
        self.skills: SkillTable
        self.set_skills(navigator, searcher)
        self.session = session
        self.client = client
        self.speaker = speaker
        self.on_event = on_event
        self.turn_id = 0
        self.speed_kmh: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._holding = False  # a speculative turn not yet confirmed
        self._held: list[Any] = []  # its events and sentences, in order
        self._release: asyncio.Future[None] | None = None
        self._heard: list[str] = []  # what the driver actually heard of this turn's reply
        self._said: set[str] = set()  # what this turn gave the speaker
        self._progress_seen: set[str] = set()

    def set_skills(self, navigator: Navigator | None, searcher: Searcher | None) -> None:
        """Navigation and search (either may be None: its requests go to the persona)."""
        self.navigator, self.searcher = navigator, searcher
        self.skills = SkillTable.build(navigator, searcher, self.offer_tools)

    @property
    def offer_tools(self) -> bool:
        """Conversation turns offer the model the navigation and search tools."""
        return self._offer_tools

    @offer_tools.setter
    def offer_tools(self, on: bool) -> None:
        self._offer_tools = on
        self.set_skills(self.navigator, self.searcher)

    @property
    def persona(self) -> Persona:
        return self.session.active

    def emit(self, event: AnyEvent) -> None:
        """For skills: report an event of this turn (held back while speculating)."""
        self._emit(event)

    def _emit(self, event: AnyEvent) -> None:
        if self._holding:
            self._held.append(event)
            return
        try:
            self.on_event(event)
        except Exception:  # a broken consumer must not break the turn
            log.exception("event consumer failed on %s", type(event).__name__)

    def _speak(self, sentence: str, voice: Voice) -> None:
        """The one way a sentence reaches the speaker (held back until confirmed)."""
        if self.speaker is None:
            return
        if self._holding:
            self._held.append((sentence, voice))
            return
        self._said.add(sentence)
        self.speaker.say(sentence, voice)

    async def _release_when_confirmed(self, confirmed: asyncio.Event) -> None:
        await confirmed.wait()
        self._holding = False
        held, self._held = self._held, []
        for item in held:
            if isinstance(item, tuple):
                self._speak(*item)
            else:
                self._emit(item)

    async def _confirmed(self) -> None:
        """Wait (a speculative turn) until the final transcript confirms it."""
        if self._release is not None:
            await self._release

    def _spoken_from_thread(self, text: str, stopped: bool, played: float = 1.0) -> None:
        """Speaker callback (runs on the playback thread): re-emit on the event loop."""
        loop, turn_id = self._loop, self.turn_id
        if text not in self._said:
            pass  # a late report from an earlier turn
        elif not stopped:
            self._heard.append(text)
        elif played > 0:
            words = text.split()
            cut = round(len(words) * played)
            if cut:
                self._heard.append(" ".join(words[:cut]) + "…")
        if loop is not None and not loop.is_closed():
            event = SentenceSpoken(turn_id, text, stopped)
            loop.call_soon_threadsafe(self._emit, event)

    def _progress_from_thread(self, stage: str, text: str) -> None:
        """Speaker callback: the first sentence synthesised / starting to play this turn."""
        loop, turn_id = self._loop, self.turn_id
        mark = {"synthesized": "tts_first_audio", "playing": "playback_started"}.get(stage)
        if mark is None or mark in self._progress_seen:
            return
        self._progress_seen.add(mark)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._emit, TimingMark(turn_id, mark))

    async def run_turn(
        self, text: str, confirmed: asyncio.Event | None = None
    ) -> ReplyDone | TurnError:
        """Answer one utterance. Returns the final event; raises CancelledError if cancelled.

        `confirmed` makes it speculative: started on the recogniser's guess before the driver
        has certainly finished. It may call the LLM, but every event and every sentence is
        held back until `confirmed` is set (the final transcript said the same words), and
        nothing that changes state (a persona switch, the history) happens before that. Cancel
        it unconfirmed and it leaves no trace."""
        self._holding = confirmed is not None and not confirmed.is_set()
        self._held = []
        self._release = (
            asyncio.ensure_future(self._release_when_confirmed(confirmed))
            if confirmed is not None
            else None
        )
        try:
            return await self._run_turn(text)
        except asyncio.CancelledError:
            if self._holding:  # never confirmed: the driver never saw or heard any of it
                self._held = []
                self.turn_id -= 1
            raise
        finally:
            if self._release is not None and not self._release.done():
                self._release.cancel()
            self._release = None
            self._holding = False

    def _begin(self, text: str) -> int:
        """Start a turn: wire the speaker's reports to it and announce it."""
        self._loop = asyncio.get_running_loop()
        if self.speaker is not None:
            self.speaker.on_spoken = self._spoken_from_thread
            self.speaker.on_progress = self._progress_from_thread
        self._heard = []
        self._said = set()
        self._progress_seen = set()
        self.turn_id += 1
        self._emit(TurnStarted(self.turn_id, text, self.session.active.id))
        return self.turn_id

    async def pick_persona(self, persona_id: str) -> ReplyDone | TurnError:
        """A persona chosen on the screen (picker, command palette): a turn of its own that
        goes through the same gates as asking by voice, answered with the greeting or the
        refusal."""
        persona = self.session.cast.get(persona_id)
        heard = persona.name if persona else persona_id
        turn = self._begin(f"(picked {heard})")
        intent = Intent(
            "persona.switch", {"persona": persona_id, "heard": heard, "explicit": True}, 1.0
        )
        self._emit(IntentRecognized(turn, intent.name, intent.slots, intent.confidence))
        return await self._answer(turn, "", intent)

    async def announce(self, text: str, switched_to: Persona | None = None) -> ReplyDone:
        """Say something the front end decided as a turn of its own: a safety toggle on the
        screen that made another persona take over (`switched_to`) says so in its voice."""
        turn = self._begin("")
        if switched_to is not None:
            self._emit(
                PersonaSwitched(turn, switched_to.id, switched_to.name, switched_to.greeting)
            )
        return await self.say(turn, text, self.session.active)

    async def _run_turn(self, text: str) -> ReplyDone | TurnError:
        turn = self._begin(text)
        session = self.session
        navigator = self.navigator
        follow = navigator.followup(text) if navigator is not None else None
        intent = Intent(*follow) if follow else route(text, session.cast.values())
        if intent.name == "persona.switch" and not intent.slots["explicit"]:
            # Only a name or alias ("tell me stories"), and it is the active persona's own or
            # a locked one's: the driver wants the thing itself, so the active persona answers.
            target = session.cast.get(intent.slots["persona"] or "")
            if (
                target is None
                or target.id == session.active.id
                or session.allowed(target, self.speed_kmh) is not None
            ):
                intent = Intent("conversation")
        self._emit(IntentRecognized(turn, intent.name, intent.slots, intent.confidence))
        asked = navigator.pending if navigator is not None else None
        result = await self._answer(turn, text, intent)
        if navigator is not None and navigator.pending is asked:
            # The driver moved on (the turn is confirmed by now) without answering; a question
            # the navigator asked in this very turn (through a tool call) stays open.
            navigator.forget_question()
        return result

    async def _answer(self, turn: int, text: str, intent: Intent) -> ReplyDone | TurnError:
        """The skill that handles the intent answers; one that changes state waits until a
        speculative turn is confirmed (a guess must leave no trace)."""
        skill = self.skills.for_intent(intent.name)
        if skill.changes_state:
            await self._confirmed()
        return await skill.answer(Turn(turn, text, intent, self))

    async def say(self, turn: int, text: str, voice_of: Persona) -> ReplyDone:
        """A reply decided locally, spoken whole (in `voice_of`'s voice)."""
        self._emit(ReplyDelta(turn, text))
        chunker = SentenceChunker()
        try:
            for index, sentence in enumerate([*chunker.feed(text), *chunker.flush()]):
                self._emit(SentenceReady(turn, sentence, index))
                self._speak(sentence, voice_of.voice)
            await self._confirmed()
            await self._finish_speaking()
        except asyncio.CancelledError:
            self._stop_speaking()
            self._emit(ReplyDone(turn, text, interrupted=True))
            raise
        done = ReplyDone(turn, text)
        self._emit(done)
        return done

    async def converse(
        self,
        turn: int,
        text: str,
        *,
        messages: list[Message] | None = None,
        max_sentences: int | None = None,
        without_llm: str | None = None,
        tools: list[dict[str, Any]] | None = None,
    ) -> ReplyDone | TurnError:
        """Hand the utterance to the active persona's language model, streaming.

        `messages` replaces the usual history + utterance (search summaries); `max_sentences`
        cuts the reply there (the stream is closed); `without_llm` is said instead of the
        error when the model cannot be reached before it said anything; `tools` are offered
        to the model, and a call to one is carried out like the intent it stands for."""
        session = self.session
        persona, memory = session.active, session.memory
        chunker = SentenceChunker()
        parts: list[str] = []
        spoken: list[str] = []
        calls: list[ToolCall] = []
        sentences = 0

        held: list[str] = []  # the naive pipeline speaks only once the reply is complete
        # Kids mode: each sentence is read before it is shown or said, and one that names
        # adult content ends the reply with a kind change of subject (the output gate).
        gate, blocked = session.kids_mode, False
        # A model stuck in a loop (small local models are prone to it) repeats a sentence:
        # the first repeat ends the reply, parked or driving.
        said: set[str] = set()
        looping = False

        def speak(sentence: str) -> None:
            nonlocal sentences, blocked, looping
            key = normalize(sentence)
            if key and key in said:
                log.info("turn %d: the model repeated a sentence; reply ended there", turn)
                looping = True
                return
            said.add(key)
            if gate:
                if find_adult_content({"reply": sentence}):
                    log.info("turn %d: kids mode stopped a sentence of the reply", turn)
                    blocked, sentence = True, KIDS_CHANGE_OF_SUBJECT
                self._emit(ReplyDelta(turn, sentence + " "))
            if sentences == 0:
                self._emit(TimingMark(turn, "first_sentence"))
            self._emit(SentenceReady(turn, sentence, sentences))
            sentences += 1
            spoken.append(sentence)
            if self.streaming_speech:
                self._speak(sentence, persona.voice)
            else:
                held.append(sentence)

        if max_sentences is None and self.speed_kmh:
            # While the car moves the persona's style limit is a hard cap, not only an
            # instruction: a model that rambles is cut off after its last allowed sentence.
            max_sentences = persona.max_sentences

        def full() -> bool:
            return blocked or looping or (max_sentences is not None and sentences >= max_sentences)

        try:
            if messages is None:
                messages = memory.messages(persona, text, session.extra_instructions())
            self._emit(TimingMark(turn, "llm_request"))
            stream = self.client.stream_chat(
                messages,
                temperature=persona.temperature,
                max_tokens=persona.max_tokens,
                top_p=persona.top_p,
                tools=tools,
            )
            limits, started = self.limits, time.monotonic()
            cue = asyncio.get_running_loop().call_later(
                limits.still_thinking_after_s, self._still_thinking, turn, persona
            )
            async with contextlib.aclosing(stream):
                async for piece in stream:
                    cue.cancel()
                    if isinstance(piece, ToolCall):
                        calls.append(piece)
                        continue
                    if not parts:
                        self._emit(TimingMark(turn, "llm_first_token"))
                    parts.append(piece)
                    if not gate:
                        self._emit(ReplyDelta(turn, piece))
                    for sentence in chunker.feed(piece):
                        if not full():
                            speak(sentence)
                    if full():
                        break  # closing the stream drops the connection
                    capped = limits.exceeded(
                        len(parts), sum(map(len, parts)), time.monotonic() - started
                    )
                    if capped:  # parked or not: no reply goes on for ever
                        log.info("turn %d: reply cut at %s", turn, capped)
                        break
            cue.cancel()
            self._emit(TimingMark(turn, "llm_done"))
            for sentence in chunker.flush():
                if not full():
                    speak(sentence)
            if held:
                self._speak(" ".join(held), persona.voice)
            acted = self._tool_intent(calls)
            if acted is None:
                await self._confirmed()
                await self._finish_speaking()
        except asyncio.CancelledError:
            self._stop_speaking()
            reply = "".join(parts).strip()
            if reply and not self._holding:
                # The history keeps what the driver heard (when speaking), not what the model
                # had written by then: "as I was saying" must refer to spoken words.
                heard = " ".join(self._heard) if self.speaker is not None else reply
                memory.add(text, heard, interrupted=True)
            self._emit(ReplyDone(turn, reply, interrupted=True))
            raise
        except LLMError as exc:
            log.info("turn %d: %s: %s", turn, exc.kind, exc.detail)
            if without_llm is not None and not parts:
                memory.add(text, without_llm)
                return await self.say(turn, without_llm, persona)
            self._stop_speaking()
            error = TurnError(turn, exc.kind, exc.spoken, exc.detail)
            self._emit(error)
            self._speak(exc.spoken, persona.voice)
            await self._confirmed()
            await self._finish_speaking()
            return error

        if acted is not None:  # the model chose a tool: act like the router had found it
            await self._confirmed()
            self._emit(IntentRecognized(turn, acted.name, acted.slots, acted.confidence))
            return await self._answer(turn, text, acted)
        reply = " ".join(spoken) if full() else "".join(parts).strip()
        if not reply:  # the model said nothing: a short answer, and nothing stored
            log.info("turn %d: the model sent an empty reply", turn)
            return await self.say(turn, EMPTY_REPLY, persona)
        memory.add(text, reply)
        done = ReplyDone(turn, reply)
        self._emit(done)
        return done

    def _still_thinking(self, turn: int, persona: Persona) -> None:
        """No first word after a few seconds: say so, once (not while speculating)."""
        if not self._holding and turn == self.turn_id:
            self._emit(Notice(STILL_THINKING))
            self._speak(STILL_THINKING, persona.voice)

    def _tool_intent(self, calls: list[ToolCall]) -> Intent | None:
        """The first tool call we can carry out (a skill for it is set up), as an intent."""
        for call in calls:
            intent = intent_for(call.name, call.arguments)
            if intent is not None and self.skills.claims(intent.name):
                return intent
            log.info("ignored a tool call: %s %.200r", call.name, call.arguments)
        return None

    async def _finish_speaking(self) -> None:
        if self.speaker is not None:
            await asyncio.to_thread(self.speaker.wait_until_done)

    def _stop_speaking(self) -> None:
        if self.speaker is not None and not self._holding:
            self.speaker.stop()
