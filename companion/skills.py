"""The skills that answer a turn once the router has decided what the driver wants.

Each skill says which intents it handles (an exact name, "persona.switch", or a whole family,
"navigation") and answers a `Turn`. The pipeline looks the router's intent up in a
`SkillTable` and hands the turn over; nothing else decides who answers. A skill that changes
state (a route, the persona, the volume) says so with `changes_state`: a speculative turn
started on the recogniser's guess waits for the final words before such a skill acts.

Adding a skill: write a class with `name`, `handles`, `changes_state` and `answer()`, and add
it in `SkillTable.build`. Its answers are short and spoken; `turn.say()` speaks a local
answer, `turn.converse()` hands the words to the persona's language model (and may come back
as a `ToolUse`: the model chose a tool, which the pipeline carries out like a routed intent).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from .events import ActionTaken, PersonaSwitched, ReplyDone, RequestRefused
from .router.tools import TOOLS
from .tts.output import VOICE_STEP
from .turns.turn import Answer, ToolUse, Turn

if TYPE_CHECKING:
    from .car.skill import CarControls
    from .llm.client import Message
    from .mcp.hub import ToolHub
    from .navigation.navigator import Navigator
    from .search import Searcher
    from .store import DriverStore

SEARCH_MAX_SENTENCES = 3  # a search summary is read while driving

SAFETY_SETTING_REFUSAL = (
    "Kids mode and mature content can only be changed in settings, not by voice."
)
# What the car can't do (the router's out_of_scope.* intents), said plainly in one line: never
# a route, never a switch, never a pretend action.
CANT_DO = {
    "media": "I can't play music, radio or podcasts from here yet; your phone or the car's "
    "media app can.",
    "alarm": "I can't set alarms, timers or reminders yet.",
    "smart_home": "I can't control lights or devices at home from the car.",
    "messages": "I can't send or read messages, email or calls yet.",
    "calendar": "I can't see your calendar from the car.",
    "lists": "I can't keep lists yet.",
    "orders": "I can't order food or shopping, but I can find a place nearby if you like.",
    "transport": "I can't book rides or tickets or check live traffic, but I can navigate "
    "you there.",
}
CANT_DO_OTHER = "That's something I can't do from the car yet."
DIDNT_CATCH = "Sorry, I didn't catch that."
NO_STORE = "I can't keep saved places: driver.save is off in the settings."


class Skill(Protocol):
    name: str
    handles: frozenset[str]  # intent names ("persona.switch") or families ("navigation")
    changes_state: bool

    async def answer(self, turn: Turn) -> Answer | ToolUse: ...


class NavigationSkill:
    """Routes, stops, arrival times: decided locally, answered in a sentence or two."""

    name = "navigation"
    handles = frozenset({"navigation"})
    changes_state = True  # even "how far" may answer the navigator's open question

    def __init__(self, navigator: Navigator) -> None:
        self.navigator = navigator

    async def answer(self, turn: Turn) -> Answer:
        navigator = self.navigator
        result = await navigator.handle(turn.intent.name, turn.slots, turn.text)
        turn.emit(
            ActionTaken(
                turn.id, "navigation", result.action, navigator.summary(result), result.data
            )
        )
        turn.remember(result.text)
        return await turn.say(result.text)


class SearchSkill:
    """Search, then the persona summarises the results in its own voice. The results travel as
    quoted JSON data in the driver's message, never as instructions; without a working model
    the best result is read out as it is."""

    name = "search"
    handles = frozenset({"search"})
    changes_state = False

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher

    async def answer(self, turn: Turn) -> Answer | ToolUse:
        from .search import summary_request

        query = str(turn.slots.get("query") or turn.text)
        kind = turn.intent.name.partition(".")[2]
        outcome = await self.searcher.search(query, kind)
        turn.emit(ActionTaken(turn.id, "search", outcome.origin, outcome.summary(), outcome.data()))
        session = turn.session
        if not outcome.results:
            turn.remember(outcome.spoken)
            return await turn.say(outcome.spoken)
        rules, content = summary_request(turn.text, outcome.results)
        extra = "\n\n".join(p for p in (session.extra_instructions(), rules) if p)
        messages: list[Message] = session.memory.messages(session.active, content, extra)
        return await turn.converse(
            messages=messages, max_sentences=SEARCH_MAX_SENTENCES, without_llm=outcome.spoken
        )


class ControlSkill:
    """Stop, repeat, louder, quieter, cancel: answered locally."""

    name = "control"
    handles = frozenset({"control"})
    changes_state = True

    async def answer(self, turn: Turn) -> Answer:
        action = turn.intent.name.partition(".")[2]
        speaker = turn.speaker
        if action == "stop":  # silence, and no reply to speak
            if speaker is not None:
                speaker.stop()
            done = ReplyDone(turn.id, "")
            turn.emit(done)
            return done
        if action == "repeat":
            past = turn.session.memory.exchanges
            said = past[-1].assistant if past else "I haven't said anything yet."
            return await turn.say(said.removesuffix("…"))
        if action in ("louder", "quieter"):
            louder = action == "louder"
            if speaker is None:
                return await turn.say(
                    f"Speech is off, so there's nothing to turn {'up' if louder else 'down'}."
                )
            before = turn.output.volume
            if turn.output.step(VOICE_STEP if louder else -VOICE_STEP) == before:
                return await turn.say(f"That's {'as loud' if louder else 'as quiet'} as I go.")
            return await turn.say("Louder." if louder else "Quieter.")
        return await turn.say("Okay.")  # cancel: nothing more to do


class PersonaSkill:
    """A persona switch through the session's safety gates (the new persona's greeting, or a
    refusal in the current voice); a request to change a safety setting is refused."""

    name = "persona"
    handles = frozenset({"persona.switch", "safety.change_request"})
    changes_state = True

    async def answer(self, turn: Turn) -> Answer:
        session = turn.session
        if turn.intent.name == "safety.change_request":
            turn.emit(RequestRefused(turn.id, "safety_setting", SAFETY_SETTING_REFUSAL))
            return await turn.say(SAFETY_SETTING_REFUSAL)
        slots = turn.slots
        outcome = session.switch(slots["persona"], slots["heard"], turn.speed_kmh)
        if outcome.switched:
            persona = outcome.persona
            turn.emit(PersonaSwitched(turn.id, persona.id, persona.name, persona.greeting))
        else:
            turn.emit(
                RequestRefused(
                    turn.id,
                    outcome.refused or "",
                    outcome.spoken,
                    slots["persona"] or slots["heard"],
                )
            )
        return await turn.say(outcome.spoken, outcome.voice_of)


class PlacesSkill:
    """Saved places (`places.*`): save, list, forget, rename, from the driver's database
    (`navigation/saved.py`). Without a database (driver.save off) it says so."""

    name = "places"
    handles = frozenset({"places"})
    changes_state = True

    def __init__(self, navigator: Navigator) -> None:
        self.navigator = navigator

    async def answer(self, turn: Turn) -> Answer:
        navigator = self.navigator
        data: dict[str, Any] = {}
        if navigator.book is None:
            text, action = NO_STORE, "unavailable"
        else:
            text, action, data = await navigator.book.answer(
                navigator, turn.intent.name, turn.slots
            )
            if action in ("place_saved", "place_renamed"):
                navigator.known.update([data["name"]])  # the router reads it as a place now
        turn.emit(ActionTaken(turn.id, "places", action, text, data))
        turn.remember(text)
        return await turn.say(text)


class MemorySkill:
    """The persona's opt-in memory of the driver (`memory.*`): remember a fact, say what it
    remembers, forget one, forget everything (after a yes). Off unless driver.remember is on;
    kids mode keeps nothing unless driver.remember_in_kids_mode. Forgetting always works."""

    name = "memory"
    handles = frozenset({"memory"})
    changes_state = True

    def __init__(self, store: DriverStore | None) -> None:
        self.store = store
        self.pending: str | None = None  # "forget_all": waiting for a yes

    def followup(self, text: str) -> tuple[str, dict[str, Any]] | None:
        """The driver's answer to "Forget everything?"."""
        from .store.recall import confirmation

        return None if self.pending is None else confirmation(text, "memory.forget_all")

    def forget_question(self) -> None:
        self.pending = None

    async def answer(self, turn: Turn) -> Answer:
        from .store.recall import memory_answer

        action = turn.intent.name.partition(".")[2]
        text, done, data = memory_answer(self.store, action, turn.slots, turn.session.kids_mode)
        self.pending = "forget_all" if done == "confirm_forget_all" else None
        turn.emit(ActionTaken(turn.id, "memory", done, text, data))
        return await turn.say(text)


class CantDoSkill:
    """What the car can't do (out_of_scope.*) and input with nothing to read (unclear). With
    the driver's own tools ready (MCP), what the car can't do goes to the persona's model with
    them instead: the calendar or the lights may be just what those tools are for."""

    name = "cant_do"
    handles = frozenset({"out_of_scope", "unclear"})
    changes_state = False

    def __init__(self, conversation: ConversationSkill | None = None) -> None:
        self.conversation = conversation

    async def answer(self, turn: Turn) -> Answer | ToolUse:
        if turn.intent.name == "unclear":
            return await turn.say(DIDNT_CATCH)
        conversation = self.conversation
        if conversation is not None and await conversation.remote_ready(turn.session.kids_mode):
            return await conversation.answer(turn)
        said = CANT_DO.get(turn.intent.name.partition(".")[2], CANT_DO_OTHER)
        turn.remember(said)
        return await turn.say(said)


class ConversationSkill:
    """Everything else: the active persona's language model, with the navigation and search
    tools offered when `tools` is set (a call to one is carried out like its intent), and the
    driver's own MCP tools when `hub` has any ready (kids mode: the read-only ones)."""

    name = "conversation"
    handles = frozenset({"conversation"})
    changes_state = False

    def __init__(
        self, tools: list[dict[str, Any]] | None = None, hub: ToolHub | None = None
    ) -> None:
        self.tools, self.hub = tools, hub

    def offered(self, kids_mode: bool) -> list[dict[str, Any]] | None:
        remote = self.hub.offered(kids_mode) if self.hub is not None else []
        return [*(self.tools or ()), *remote] or None

    async def remote_ready(self, kids_mode: bool) -> bool:
        """Does this turn have any of the driver's own tools? Servers still starting up are
        waited for (each within its startup_timeout): their tools are wanted."""
        if self.hub is None:
            return False
        self.hub.start()
        await self.hub.settled()
        return bool(self.hub.offered(kids_mode))

    async def answer(self, turn: Turn) -> Answer | ToolUse:
        await self.remote_ready(turn.session.kids_mode)
        return await turn.converse(tools=self.offered(turn.session.kids_mode))


class SkillTable:
    """Which skill answers which intent: an exact name first, then its family (the part
    before the dot); anything unclaimed goes to conversation."""

    def __init__(self, skills: Iterable[Skill]) -> None:
        self._by_handle: dict[str, Skill] = {}
        for skill in skills:
            for handle in skill.handles:
                self._by_handle[handle] = skill
        self.conversation = self._by_handle.setdefault("conversation", ConversationSkill())

    @classmethod
    def build(
        cls,
        navigator: Navigator | None = None,
        searcher: Searcher | None = None,
        offer_tools: bool = False,
        car: CarControls | None = None,
        store: DriverStore | None = None,
        hub: ToolHub | None = None,
    ) -> SkillTable:
        """The standard skills; navigation, search and the car only where they are set up
        (without them their requests go to the persona)."""
        tools = TOOLS if offer_tools and (navigator or searcher) else None
        conversation = ConversationSkill(tools, hub if offer_tools else None)
        skills: list[Skill] = [
            PersonaSkill(),
            ControlSkill(),
            CantDoSkill(conversation),
            conversation,
            MemorySkill(store),
        ]
        if conversation.hub is not None:
            from .mcp.skill import ToolsSkill

            skills.append(ToolsSkill(conversation.hub, conversation.offered))
        if navigator is not None:
            skills += [NavigationSkill(navigator), PlacesSkill(navigator)]
        if searcher is not None:
            skills.append(SearchSkill(searcher))
        if car is not None:
            from .car.skill import CarSkill

            skills.append(CarSkill(car, navigator))
        return cls(skills)

    @property
    def memory(self) -> MemorySkill | None:
        found = self._by_handle.get("memory")
        return found if isinstance(found, MemorySkill) else None

    @property
    def askers(self) -> list[Any]:
        """The skills that may ask the driver a question (`pending`, `followup`)."""
        found = {id(s): s for s in self._by_handle.values() if hasattr(s, "followup")}
        return list(found.values())

    def for_intent(self, name: str) -> Skill:
        found = self._by_handle.get(name) or self._by_handle.get(name.partition(".")[0])
        return found or self.conversation

    def claims(self, name: str) -> bool:
        """A skill other than conversation answers this intent."""
        return self.for_intent(name) is not self.conversation
