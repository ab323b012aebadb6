"""Running a dialogue file through the real pipeline and checking what happened.

The assistant is the same core every front end drives (`companion.assistant.Assistant`:
persona session with the file's safety settings, router, skills, the LLM client over real
HTTP), with the navigator on the file's places and the searcher on the knowledge base, and
text-only: what would be spoken is what the
chunker handed to speech (`SentenceReady`). The language model is the scripted server on
loopback, replying what each turn's `model = "..."` says, or (`llm = "real"`) the backend
the user has configured, in which case only the model-independent expectations are checked.
Audio turns go through the real recogniser and end-of-speech detection (`stt/`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..assistant import Assistant, Parts
from ..config import Settings, SpeechSettings, load_settings
from ..events import (
    ActionTaken,
    AnyEvent,
    IntentRecognized,
    PersonaSwitched,
    ReplyDone,
    RequestRefused,
    SentenceReady,
    Stage,
    TimingMark,
    TurnEnded,
    TurnError,
)
from ..llm.client import LLMEndpoint
from ..llm.local import make_client
from ..llm.resolve import resolve_endpoint
from ..llm.scripted_server import ScriptedLLMServer, ScriptedReply
from ..navigation import Gazetteer, Navigator
from ..navigation import start_position as parse_start
from ..navigation.places import SAMPLE_PLACES
from ..personas.loader import load_personas
from ..personas.session import PersonaSession
from ..redaction import Secret
from ..resources import BUNDLED_PERSONAS
from ..schema import DataFileError
from ..search import KnowledgeBase, Searcher, SearxngClient
from ..search.kb import BUNDLED_KNOWLEDGE
from ..store import Database, DriverStore
from ..text import words as _words
from .scripted_web import ScriptedSearchServer
from .spec import MODEL_INDEPENDENT, Dialogue, Turn

log = logging.getLogger(__name__)


@dataclass
class Failure:
    line: int
    what: str  # "turn 2 expect.persona"
    expected: str
    got: str


@dataclass
class TurnRecord:
    turn: Turn
    heard: str = ""
    intent: str = ""
    slots: dict[str, Any] = field(default_factory=dict)
    reply: str = ""
    sentences: list[str] = field(default_factory=list)
    persona: str = ""
    persona_name: str = ""
    actions: list[str] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    model_asked: bool = False
    error: str = ""
    notes: list[str] = field(default_factory=list)  # reported, not failures
    audio_problem: str = ""  # the turn's recording could not be read
    warning: str = ""  # said unprompted during the turn's drive (a low-range warning)
    climate_c: float = 0.0  # the car's climate after the turn
    climate_on: bool = True


@dataclass
class DialogueResult:
    dialogue: Dialogue
    llm: str
    turns: list[TurnRecord] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    problem: str = ""  # the dialogue could not run at all (bad persona file, no model, ...)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures and not self.problem


_ENGINES: dict[str, Any] = {}
ANSWER_WINDOW_S = SpeechSettings().answer_window_s
_ENGINE_LOCK = threading.Lock()


def transcribe(
    audio: Path, mode: str = "hands_free", answer_window_s: float = 0.0
) -> tuple[list[tuple[str, tuple[str, ...]]], str]:
    """(The utterances the recogniser hears in a recording, in the dialogue's listen mode
    (hands-free, or the wake phrase with the answer window open when the assistant just
    asked), each with its alternative readings; what went wrong reading it, or ""): the
    path `companion transcribe` takes."""
    from ..audio.files import AudioFileError
    from ..stt.base import SttError
    from ..stt.models import load_engine
    from ..stt.transcribe import transcribe_file

    with _ENGINE_LOCK:
        if "auto" not in _ENGINES:
            _ENGINES["auto"] = load_engine("auto", "en-us")[0]
        engine = _ENGINES["auto"]
    speech = SpeechSettings(listen_mode=mode, speculate_after_ms=0)
    try:
        result = transcribe_file(engine, audio, speech, mode=mode, answer_window_s=answer_window_s)
    except (AudioFileError, SttError) as exc:
        return [], str(exc)
    return [
        (u["text"].strip(), tuple(u.get("alternatives", ())))
        for u in result["utterances"]
        if u["text"].strip()
    ], ""


class _Session:
    """One dialogue's assistant and the servers standing in for the world."""

    def __init__(self, dialogue: Dialogue, llm: str, personas: Path | None) -> None:
        self.dialogue = dialogue
        self.events: list[AnyEvent] = []
        folders = [BUNDLED_PERSONAS] + [p for p in (dialogue.personas, personas) if p]
        cast, problems = load_personas(*folders)
        if problems:
            raise problems[0]  # a PersonaError: file:line: key: message
        self.session = PersonaSession(
            cast,
            dialogue.persona,
            kids_mode=dialogue.kids_mode,
            mature_content=dialogue.mature_content,
        )
        if self.session.active.id != dialogue.persona:
            raise ValueError(
                f"[setup] persona {dialogue.persona}: "
                f"{self.session.start_notice or 'not available'}"
            )
        self.scripted: ScriptedLLMServer | None = None
        if llm == "scripted":
            self.scripted = ScriptedLLMServer(ttft=0.0, tokens_per_second=5000).start()
            endpoint = LLMEndpoint(
                provider="custom",
                label="scripted model",
                base_url=self.scripted.base_url,
                model="scripted",
                api_key=Secret(""),
                key_env=None,
                setup_hint='give the turn a model = "..." reply',
                read_timeout=5.0,
            )
        else:
            endpoint = resolve_endpoint(load_settings())
        self.web: ScriptedSearchServer | None = None
        if dialogue.web_search:
            self.web = ScriptedSearchServer().start()
        start = parse_start(dialogue.start)
        gazetteer = Gazetteer(start, dialogue.places or SAMPLE_PLACES)
        self.navigator = Navigator(gazetteer, units=dialogue.units)
        folders = [BUNDLED_KNOWLEDGE] + ([dialogue.knowledge] if dialogue.knowledge else [])
        self.searcher = Searcher(
            KnowledgeBase(folders), SearxngClient(self.web.url) if self.web else None
        )
        self._interrupt_after: int | None = None  # the driver barges in after N sentences
        self._asked = False  # the last turn asked the driver something
        # Every dialogue starts with an empty database of its own (saved places, memory).
        self._store_dir = tempfile.TemporaryDirectory(prefix="companion-dialogue-")
        self.store = DriverStore(
            Database(Path(self._store_dir.name) / "driver.sqlite3"),
            "dialogue",
            remember=dialogue.remember,
        )
        settings = Settings()
        settings.llm.tools = True
        settings.speech.mute = True
        settings.speech.barge_in = False
        settings.navigation.units = dialogue.units
        settings.car.temperature = dialogue.temperature
        self.assistant = Assistant(
            settings,
            self.session,
            self._on_event,
            tick_s=0,
            greet=False,
            parts=Parts(
                client=make_client(endpoint),
                skills=(self.navigator, self.searcher),
                store=self.store,
            ),
        )

    async def start(self) -> None:
        self.assistant.start()
        await asyncio.to_thread(self.assistant.load_core)
        await asyncio.sleep(0)  # what the loader handed the loop
        self.assistant.drive_sim.set_speed(self.dialogue.speed_kmh)
        car, setup = self.assistant.drive_sim.car, self.dialogue.car
        if "battery_percent" in setup:
            car.charge = setup["battery_percent"] / 100
        car.outside_c = setup.get("outside_c", car.outside_c)
        car.climate_c = setup.get("climate_c", car.climate_c)

    async def close(self) -> None:
        await self.assistant.aclose()
        self.store.close()
        self._store_dir.cleanup()
        if self.scripted is not None:
            self.scripted.stop()
        if self.web is not None:
            self.web.stop()

    async def run_turn(self, turn: Turn) -> TurnRecord:
        record = TurnRecord(turn)
        if turn.advance_minutes:
            drive, first = self.assistant.drive_sim, len(self.events)
            drive.drive(turn.advance_minutes * 60)
            if self.dialogue.speed_kmh is None:
                drive.set_speed(self.navigator.trip.speed_kmh)
            warning = drive.range_warning()  # said unprompted, as the drive's tick would
            if warning is not None:
                await self.assistant.turns.tell(warning)
            record.warning = " ".join(
                e.text for e in self.events[first:] if isinstance(e, ReplyDone)
            )
        if turn.speed_kmh is not None:
            self.assistant.drive_sim.set_speed(turn.speed_kmh)
        if self.web is not None:
            self.web.results = turn.web_results
        if self.scripted is not None:
            self.scripted.clear()
            if turn.model is not None or turn.model_fault or turn.model_tool:
                slow = 200.0 if turn.interrupt_after else None  # time to interrupt it
                self.scripted.add(
                    ScriptedReply(
                        text=turn.model or "",
                        fault=turn.model_fault,
                        tokens_per_second=slow,
                        tool_call=turn.model_tool,
                    )
                )
        heard: list[tuple[str, tuple[str, ...]]] = [(turn.say, ())]
        if turn.audio is not None:
            window = ANSWER_WINDOW_S if self._asked else 0.0
            heard, record.audio_problem = await asyncio.to_thread(
                transcribe, turn.audio, self.dialogue.listen_mode, window
            )
        record.heard = " ".join(text for text, _ in heard)
        first = len(self.events)
        for text, alternatives in heard:  # expectations are about the last utterance's turn
            first = len(self.events)
            await self._one(text, turn, alternatives)
        self._fill(record, self.events[first:])
        return record

    def _on_event(self, event: AnyEvent) -> None:
        self.events.append(event)
        after = self._interrupt_after
        if after is not None and isinstance(event, SentenceReady) and event.index + 1 >= after:
            self._interrupt_after = None  # the driver barges in after this sentence
            self.assistant.barge_in("scripted")

    async def _one(self, text: str, turn: Turn, alternatives: tuple[str, ...] = ()) -> None:
        self._interrupt_after = turn.interrupt_after or None
        answer = await self.assistant.ask(text, alternatives)
        pipeline = self.assistant.turns.pipeline
        self._asked = pipeline is not None and pipeline.asked(answer)  # the next: an answer
        self._interrupt_after = None

    def _fill(self, record: TurnRecord, events: list[AnyEvent]) -> None:
        for event in events:
            if isinstance(event, IntentRecognized):
                record.intent, record.slots = event.intent, dict(event.slots)
            elif isinstance(event, SentenceReady):
                record.sentences.append(event.text)
            elif isinstance(event, ReplyDone):
                record.reply = event.text
                record.actions.append("interrupted" if event.interrupted else "done")
            elif isinstance(event, TurnError):
                record.error = event.kind
                record.reply = event.spoken
            elif isinstance(event, TimingMark) and event.stage == Stage.LLM_REQUEST:
                record.model_asked = True
            elif isinstance(event, TurnEnded):  # the turn's own measure of its stages
                record.latency_ms = dict(event.latency_ms)
            elif isinstance(event, PersonaSwitched):
                record.actions.append(f"switched:{event.persona_id}")
            elif isinstance(event, RequestRefused):
                record.actions.append(f"refused:{event.reason}")
            elif isinstance(event, ActionTaken):
                record.actions.append(f"{event.skill}:{event.action}")
        record.persona = self.session.active.id
        record.persona_name = self.session.active.name
        car = self.assistant.drive_sim.car
        record.climate_c, record.climate_on = car.climate_c, car.climate_on


def _fmt(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def check(
    record: TurnRecord, navigator: Navigator, llm: str, enforce_latency: bool
) -> list[Failure]:
    """Compare one turn's record with its expectations."""
    turn = record.turn
    expectations = _Expectations(record, navigator, enforce_latency)
    local = not record.model_asked  # answered without the model: its words are ours
    for key, want in turn.expect.values.items():
        if (
            llm == "real"
            and key not in MODEL_INDEPENDENT
            and not local
            and key not in ("model_asked", "error", "interrupted")
        ):
            continue
        expectations.check(key, want)
    failures = expectations.failures
    nothing = turn.expect.values.get("heard") == ""  # the recording must not be taken
    if turn.audio is not None and (record.audio_problem or not (record.heard or nothing)):
        failures.append(
            Failure(
                turn.expect.lines.get("audio", turn.line),
                f"turn {turn.number} audio",
                f"speech in {turn.audio}",
                record.audio_problem or "no words heard in it",
            )
        )
    if record.error and "error" not in turn.expect.values:
        # A turn that failed is a failure unless the file says it should (with --llm real:
        # a model that answers 401 to everything fails the run instead of passing it).
        failures.append(
            Failure(
                turn.line,
                f"turn {turn.number}",
                "an answer",
                f"{record.error} error: {record.reply}",
            )
        )
    unscripted = turn.model is None and turn.model_fault is None and turn.model_tool is None
    if llm == "scripted" and record.model_asked and unscripted:
        failures.append(
            Failure(
                turn.line,
                f"turn {turn.number}",
                'a model = "..." reply for this turn (the language model was asked)',
                "no scripted reply",
            )
        )
    return failures


class _Expectations:
    """One method per `expect` key of a dialogue turn (companion/dialogue/spec.py); each adds
    a Failure when the turn's record does not meet it."""

    def __init__(self, record: TurnRecord, navigator: Navigator, enforce_latency: bool) -> None:
        self.record, self.trip, self.enforce = record, navigator.trip, enforce_latency
        self.failures: list[Failure] = []
        self._key = ""

    def check(self, key: str, want: Any) -> None:
        self._key = key
        getattr(self, f"_{key}")(want)

    def _fail(self, expected: Any, got: Any, described: bool = False) -> None:
        """`described`: `expected` is a description ("a reply containing ..."), not a value."""
        turn = self.record.turn
        self.failures.append(
            Failure(
                turn.expect.lines.get(self._key, turn.line),
                f"turn {turn.number} expect.{self._key}",
                expected if described else _fmt(expected),
                got if described else _fmt(got),
            )
        )

    def _happened(self, want: str, what: str) -> None:
        if want not in self.record.actions:
            self._fail(what, _what_happened(self.record.actions), True)

    def _intent(self, want: str) -> None:
        if self.record.intent != want:
            self._fail(want, self.record.intent)

    def _slots(self, want: dict[str, Any]) -> None:
        slots = self.record.slots
        for slot, value in want.items():
            if slots.get(slot) != value:
                got = f"{slot} = {_fmt(slots.get(slot))} (all slots: {slots})"
                self._fail(f"{slot} = {_fmt(value)}", got, True)

    def _persona(self, want: str) -> None:
        if self.record.persona != want:
            self._fail(want, self.record.persona)

    def _heard(self, want: str) -> None:
        if _words(self.record.heard) != _words(want):
            self._fail(want, self.record.heard)

    def _reply(self, want: str) -> None:
        if self.record.reply.strip() != want.strip():
            self._fail(want, self.record.reply)

    def _reply_contains(self, want: list[str]) -> None:
        reply = self.record.reply
        for part in want:
            if part.lower() not in reply.lower():
                self._fail(f'a reply containing "{part}"', _fmt(reply), True)

    def _reply_not_contains(self, want: list[str]) -> None:
        reply = self.record.reply
        for part in want:
            if part.lower() in reply.lower():
                self._fail(f'a reply without "{part}"', _fmt(reply), True)

    def _reply_matches(self, want: str) -> None:
        if not re.search(want, self.record.reply, re.IGNORECASE):
            self._fail(f"a reply matching /{want}/", _fmt(self.record.reply), True)

    def _max_sentences(self, want: int) -> None:
        sentences = self.record.sentences
        if len(sentences) > want:
            self._fail(f"at most {want} sentences", f"{len(sentences)}: {sentences}", True)

    def _spoken(self, want: list[str]) -> None:
        if self.record.sentences != want:
            self._fail(want, self.record.sentences)

    def _switched_to(self, want: str) -> None:
        self._happened(f"switched:{want}", f"a switch to {want}")

    def _refused(self, want: str) -> None:
        self._happened(f"refused:{want}", f"a refusal for {want}")

    def _search(self, want: str) -> None:
        self._happened(f"search:{want}", f"search answered from {want}")

    def _destination(self, want: str) -> None:
        got = self.trip.destination.label if self.trip.destination else None
        if got is None or want.lower() not in got.lower():
            self._fail(want, got)

    def _stops(self, want: list[str]) -> None:
        labels = [s.label for s in self.trip.stops]
        if len(labels) != len(want) or any(
            w.lower() not in g.lower() for w, g in zip(want, labels, strict=False)
        ):
            self._fail(want, labels)

    def _no_route(self, want: bool) -> None:
        trip = self.trip
        if want == trip.active:
            got = trip.destination.label if trip.destination else "no route"
            self._fail("no route" if want else "a route", got, True)

    def _action(self, want: str) -> None:
        if not any(a.endswith(f":{want}") for a in self.record.actions):
            self._fail(want, _what_happened(self.record.actions))

    def _climate_c(self, want: float) -> None:
        if abs(self.record.climate_c - float(want)) > 0.01:
            self._fail(want, self.record.climate_c)

    def _climate_on(self, want: bool) -> None:
        if self.record.climate_on != want:
            self._fail(want, self.record.climate_on)

    def _warning(self, want: str | bool) -> None:
        said = self.record.warning
        if want is False and said:
            self._fail("no warning", _fmt(said), True)
        elif want is True and not said:
            self._fail("a warning during the drive", "none", True)
        elif isinstance(want, str) and want.lower() not in said.lower():
            self._fail(f"a warning containing {want!r}", _fmt(said) if said else "none", True)

    def _model_asked(self, want: bool) -> None:
        if self.record.model_asked != want:
            self._fail(want, self.record.model_asked)

    def _error(self, want: str) -> None:
        if self.record.error != want:
            self._fail(want, self.record.error or "no error")

    def _interrupted(self, want: bool) -> None:
        interrupted = "interrupted" in self.record.actions
        if interrupted != want:
            self._fail(want, interrupted)

    def _latency_ms(self, want: dict[str, float]) -> None:
        record = self.record
        turn = record.turn
        for stage, budget in want.items():
            took = record.latency_ms.get(stage)
            if took is not None and took <= budget:
                continue
            shown = "never reached" if took is None else f"{took:.0f} ms"
            if self.enforce:
                self._fail(f"{stage} within {budget} ms", shown, True)
            else:
                record.notes.append(
                    f"{turn.expect.lines.get('latency_ms', turn.line)}: turn {turn.number} "
                    f"{stage} {shown} over its {budget} ms budget "
                    "(not enforced; --enforce-latency fails it)"
                )


def _what_happened(actions: list[str]) -> str:
    shown = [a for a in actions if a not in ("done",)]
    return ", ".join(shown) if shown else "nothing"


async def run_dialogue_async(
    dialogue: Dialogue,
    *,
    llm: str | None = None,
    personas: Path | None = None,
    enforce_latency: bool = False,
) -> DialogueResult:
    mode = llm or dialogue.llm
    result = DialogueResult(dialogue, mode)
    started = time.perf_counter()
    try:
        world = _Session(dialogue, mode, personas)
    except (DataFileError, ValueError) as exc:
        result.problem = str(exc)
        return result
    try:
        await world.start()
        for turn in dialogue.turns:
            record = await world.run_turn(turn)
            result.turns.append(record)
            result.failures += check(record, world.navigator, mode, enforce_latency)
    finally:
        await world.close()
        result.seconds = time.perf_counter() - started
    return result


def run_dialogue(dialogue: Dialogue, **kwargs: Any) -> DialogueResult:
    return asyncio.run(run_dialogue_async(dialogue, **kwargs))
