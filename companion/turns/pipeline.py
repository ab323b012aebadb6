"""One turn through the stages: utterance -> router -> skill -> (persona's model) -> speech.

`TurnPipeline` makes a `Turn` for each utterance and answers it: the navigator's open
question ("Which one?") is offered the words first, else the router (`companion.router`)
decides what the driver wants, and the skill that handles that intent
(`companion.skills`) answers, a local sentence or the persona's model through the reply
path (`companion.turns.reply`). A tool the model chose comes back here as a `ToolUse` and
goes to its skill like a routed request, on the same path, a bounded number of times.

Cancelling the task running `run_turn()` is the barge-in / Ctrl+C path: the model's stream
is closed (which drops the HTTP connection), speech stops, and the half-finished reply is
kept in memory marked as interrupted. Every failure a user can cause ends the turn with a
spoken `TurnError`; the pipeline itself stays ready for the next turn.

The pipeline is one turn at a time and knows nothing about microphones, screens or barge-in:
`companion.turns.taking.TurnTaker` decides when a turn starts and stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..events import EventSink, IntentRecognized, PersonaSwitched, ReplyDone, Source, Status
from ..limits import TurnLimits
from ..llm.client import ChatClient
from ..personas import Persona
from ..personas.session import PersonaSession
from ..router import Intent, route
from ..router.heard import route_heard
from ..router.model import shipped_model
from ..skills import SkillTable
from ..tts.output import SpeakerLike, SpeechOutput
from .reply import Replies
from .several import answer_parts
from .turn import Answer, ToolUse, Turn

if TYPE_CHECKING:
    from ..car.skill import CarControls
    from ..mcp.hub import ToolHub
    from ..navigation.navigator import Navigator
    from ..search import Searcher
    from ..store import DriverStore

log = logging.getLogger(__name__)

MAX_TOOL_STEPS = 3  # tool calls carried out in one turn; then the turn ends with a sentence
TOO_MANY_TOOLS = "Sorry, I got stuck on that one. Could you ask me again?"


class TurnPipeline:
    """Runs turns for a persona session. `speaker=None` means no voice (text only); `output`
    owns the speaker, its volume and mute when a front end shares them.

    `speed` tells the car's speed (None: unknown); personas with a speed limit (meditation)
    are refused above it, and while it is above zero a persona's `max_sentences` cuts its
    replies off."""

    def __init__(
        self,
        session: PersonaSession,
        client: ChatClient,
        speaker: SpeakerLike | None,
        on_event: EventSink,
        *,
        streaming_speech: bool = True,
        navigator: Navigator | None = None,
        searcher: Searcher | None = None,
        offer_tools: bool = False,
        speed: Callable[[], float | None] = lambda: None,
        output: SpeechOutput | None = None,
        car: CarControls | None = None,
        tool_hub: ToolHub | None = None,
    ) -> None:
        self.replies = Replies(client, streaming_speech=streaming_speech)
        self.replies.can_act = lambda name: self.skills.claims(name)
        self._offer_tools = offer_tools
        self.tool_hub = tool_hub
        if tool_hub is not None:  # each server is shown like any part (a problem, or ready)
            tool_hub.on_status = lambda name, state, text: on_event(
                Status(f"tools:{name}", state, text)
            )
        shipped_model()  # load the router's intent model now (~30 ms), not in the first turn
        self.navigator: Navigator | None = None
        self.searcher: Searcher | None = None
        self.car: CarControls | None = None
        self.store: DriverStore | None = None
        self.skills: SkillTable
        self.set_skills(navigator, searcher, car)
        self.session = session
        self.client = client
        self.output = output or SpeechOutput()
        if speaker is not None:
            self.output.speaker = speaker
        self.on_event = on_event
        self.speed = speed
        self.turn_id = 0
        self.current: Turn | None = None

    @property
    def speaker(self) -> SpeakerLike | None:
        """The speaker replies go to (None: muted, or no voice). `SpeechOutput` owns it."""
        speaker: SpeakerLike | None = self.output.active
        return speaker

    @speaker.setter
    def speaker(self, speaker: SpeakerLike | None) -> None:
        self.output.speaker = speaker

    @property
    def limits(self) -> TurnLimits:
        return self.replies.limits

    def set_skills(
        self,
        navigator: Navigator | None,
        searcher: Searcher | None,
        car: CarControls | None = None,
        store: DriverStore | None = None,
    ) -> None:
        """Navigation, search, the car and the driver's database (any may be None: their
        requests go to the persona); the persona's model is told about the car when there
        is one, and what it may remember of the driver."""
        self.navigator, self.searcher = navigator, searcher
        self.car = car or self.car
        self.store = store or self.store
        self.replies.context = self._context
        self.skills = SkillTable.build(
            navigator, searcher, self.offer_tools, self.car, self.store, self.tool_hub
        )
        if self.tool_hub is not None:
            self.tool_hub.start()  # on the loop (a no-op off it: the first turn starts it)

    def _context(self) -> str:
        """What the persona's model is told besides the conversation: the car and the trip,
        and the facts the driver asked it to remember (when memory is on for this mode)."""
        store, kids_mode = self.store, self.session.kids_mode
        facts = store.memory.context() if store and store.may_remember(kids_mode) else ""
        return "\n\n".join(part for part in (self._car_context(), facts) if part)

    def _car_context(self) -> str:
        """What the persona's model is told about the car and the trip."""
        from ..car.answers import context_block
        from ..navigation.geo import say_distance, say_duration

        car = self.car
        if car is None:
            return ""
        trip = None
        navigator = self.navigator
        if navigator is not None and navigator.trip.active:
            t = navigator.trip
            trip = {
                "destination": t.goal.label,
                "to_go": say_distance(t.remaining_m, car.units),
                "time_left": say_duration(t.remaining_s),
                "stops": ", ".join(s.label for s in t.stops),
            }
        return context_block(car.car, car.units, car.temperature, trip)

    async def aclose(self) -> None:
        """Close what the pipeline holds open: the connections to the driver's tools."""
        if self.tool_hub is not None:
            await self.tool_hub.aclose()

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

    def _new_turn(self, text: str, source: Source, confirmed: asyncio.Event | None = None) -> Turn:
        self.turn_id += 1
        turn = self.current = Turn(
            self.turn_id,
            text,
            source,
            session=self.session,
            post=self.on_event,
            replies=self.replies,
            output=self.output,
            speed_kmh=self.speed(),
            confirmed=confirmed,
        )
        turn.begin()
        return turn

    async def run_turn(
        self,
        text: str,
        confirmed: asyncio.Event | None = None,
        source: Source | None = None,
        alternatives: tuple[str, ...] = (),
    ) -> Answer:
        """Answer one utterance. Returns the final answer; raises CancelledError if cancelled.

        `confirmed` makes it a guess: started on the recogniser's words before the driver has
        certainly finished. It may call the model, but every event and every sentence is
        held back until `confirmed` is set (the final transcript said the same words), and
        nothing that changes state (a persona switch, the history) happens before that.
        Cancel it unconfirmed and it leaves no trace."""
        if source is None:
            source = Source.GUESS if confirmed is not None else Source.TYPED
        turn = self._new_turn(text, source, confirmed)
        turn.alternatives = alternatives
        try:
            return await turn.run(lambda: self._route_and_answer(turn))
        except asyncio.CancelledError:
            if turn.guessing:  # never confirmed: the driver never saw or heard any of it
                self.turn_id -= 1
            raise

    async def _route_and_answer(self, turn: Turn) -> Answer:
        session, text = self.session, turn.text
        askers = self._askers()  # who asked the driver something: the answer is theirs
        follow = next((found for a in askers if (found := a.followup(text))), None)
        if follow:
            intent = Intent(*follow)
        else:
            intent, turn.text = self.understand(text, turn.alternatives)
        if intent.name == "persona.switch" and not intent.slots["explicit"]:
            # Only a name or alias ("tell me stories"), and it is the active persona's own or
            # a locked one's: the driver wants the thing itself, so the active persona answers.
            target = session.cast.get(intent.slots["persona"] or "")
            if (
                target is None
                or target.id == session.active.id
                or session.allowed(target, turn.speed_kmh) is not None
            ):
                intent = Intent("conversation")
        asked = [a.pending for a in askers]
        if intent.parts and not follow:  # several requests in one breath
            result = await answer_parts(
                turn, intent.parts, intent.part_texts, self.skills, self.navigator, self._answer
            )
        else:
            result = await self._answer(turn, intent)
        for asker, question in zip(askers, asked, strict=True):
            if asker.pending is question:
                # The driver moved on (the turn is confirmed by now) without answering; a
                # question asked in this very turn (through a tool call) stays open.
                asker.forget_question()
        return result

    def asked(self, answer: object) -> bool:
        """Did the turn that ended with `answer` ask the driver something (a question of the
        navigator's or the memory's still open, or a reply that ends in a question)?"""
        if any(a.pending is not None for a in self._askers()):
            return True
        return isinstance(answer, ReplyDone) and answer.text.rstrip().endswith("?")

    def _askers(self) -> list[Any]:
        """The parts that may ask the driver a question: the navigator, and the skills that
        ask (memory: "forget everything?", the driver's tools: "shall I ...?")."""
        return [a for a in (self.navigator, *self.skills.askers) if a is not None]

    def understand(self, text: str, alternatives: tuple[str, ...] = ()) -> tuple[Intent, str]:
        """The intent of what the driver said (with the recogniser's other readings, when
        it gave them: `router.heard`) and the words it was read from."""
        cast = self.session.cast.values()
        places = self.navigator.known if self.navigator is not None else None
        if alternatives:
            return route_heard((text, *alternatives), cast, places=places)
        return route(text, cast, places=places), text

    async def _answer(self, turn: Turn, intent: Intent) -> Answer:
        """The skill that handles the intent answers; one that changes state waits until a
        guess is confirmed (a guess must leave no trace). A tool the model chose is carried
        out the same way."""
        for _ in range(MAX_TOOL_STEPS + 1):
            turn.intent = intent
            turn.emit(IntentRecognized(turn.id, intent.name, intent.slots, intent.confidence))
            skill = self.skills.for_intent(intent.name)
            if skill.changes_state:
                await turn.confirmed()
            result = await skill.answer(turn)
            if not isinstance(result, ToolUse):
                return result
            intent = result.intent
        log.info("turn %d: the model kept calling tools; the turn ends here", turn.id)
        return await turn.say(TOO_MANY_TOOLS)

    async def act(self, intent: Intent, heard: str) -> Answer:
        """An intent decided outside the router (an agent's tool call over MCP): a turn of its
        own, answered by the skill that handles it, like a routed request."""
        turn = self._new_turn(heard, Source.TYPED)
        return await turn.run(lambda: self._answer(turn, intent))

    async def pick_persona(self, persona_id: str) -> Answer:
        """A persona chosen on the screen (picker, command palette): a turn of its own that
        goes through the same gates as asking by voice, answered with the greeting or the
        refusal."""
        persona = self.session.cast.get(persona_id)
        heard = persona.name if persona else persona_id
        turn = self._new_turn(f"(picked {heard})", Source.PICKED)
        intent = Intent(
            "persona.switch", {"persona": persona_id, "heard": heard, "explicit": True}, 1.0
        )
        return await turn.run(lambda: self._answer(turn, intent))

    async def announce(self, text: str, switched_to: Persona | None = None) -> Answer:
        """Say something the front end decided as a turn of its own: a safety toggle on the
        screen that made another persona take over (`switched_to`) says so in its voice."""
        turn = self._new_turn("", Source.ANNOUNCED)

        async def body() -> Answer:
            if switched_to is not None:
                turn.emit(
                    PersonaSwitched(turn.id, switched_to.id, switched_to.name, switched_to.greeting)
                )
            return await turn.say(text)

        return await turn.run(body)
