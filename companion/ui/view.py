"""What the screen shows for each event the assistant core reports: one handler per event
type, looked up in a table. Handlers only update widgets and the screen's own state (busy,
listening, microphone ready); they never decide anything about a turn.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from ..events import (
    ActionTaken,
    DriveUpdate,
    FinalTranscript,
    InputLevel,
    ListenerState,
    NothingHeard,
    Notice,
    PartialTranscript,
    PersonaSwitched,
    ReplyDelta,
    ReplyDone,
    SafetyChanged,
    Source,
    Status,
    TimingMark,
    TurnError,
    TurnStarted,
    VolumeChanged,
    WakePhraseHeard,
)
from ..redaction import redact
from ..timeline import Timeline
from .widgets.assistant_panel import AssistantPanel, StateLine
from .widgets.banner import Banner
from .widgets.car_panel import CarPanel
from .widgets.dock import Dock
from .widgets.nav_card import NavCard
from .widgets.timings import TimingsPanel


class Screen(Protocol):
    """What the view needs of the app (`companion.ui.app.CompanionApp`)."""

    state: str
    turn_running: bool
    mic_ready: bool
    session: Any
    assistant: Any

    def clock(self) -> datetime: ...
    def set_state(self, state: str) -> None: ...
    def show_mic(self) -> None: ...
    def mode_hint(self) -> str: ...
    def query_one(self, kind: Any) -> Any: ...
    def action_saved_places(self) -> None: ...


class ScreenView:
    """Renders the core's events on the screen's widgets."""

    def __init__(self, app: Screen) -> None:
        self.app = app
        self.timeline = Timeline()
        self.handlers: dict[type, Callable[[Any], None]] = {
            TurnStarted: self.turn_started,
            ActionTaken: self.action_taken,
            PersonaSwitched: self.persona_switched,
            ReplyDelta: self.reply_delta,
            ReplyDone: self.reply_done,
            TurnError: self.turn_error,
            TimingMark: self.timing_mark,
            InputLevel: self.input_level,
            PartialTranscript: self.partial,
            FinalTranscript: self.final,
            NothingHeard: self.nothing_heard,
            WakePhraseHeard: lambda e: self.app.set_state("listening"),
            ListenerState: self.listener_state,
            Status: self.status,
            DriveUpdate: self.drive_update,
            Notice: lambda e: self.panel.notice(e.text),
            SafetyChanged: self.safety_changed,
            VolumeChanged: lambda e: self._one(Dock).show_volume(e.volume, e.muted),
        }

    def show(self, event: object) -> None:
        done = self.timeline.feed(event)  # type: ignore[arg-type]
        if done is not None:
            self._one(TimingsPanel).show_turn(done, self.timeline)
        handler = self.handlers.get(type(event))
        if handler is not None:
            handler(event)

    @property
    def panel(self) -> AssistantPanel:
        panel: AssistantPanel = self.app.query_one(AssistantPanel)
        return panel

    def _one(self, kind: type) -> Any:
        return self.app.query_one(kind)

    # --- turns ----------------------------------------------------------------------------

    def turn_started(self, event: TurnStarted) -> None:
        self.app.turn_running = True
        self._one(NavCard).show_choices([])
        if event.text:
            voice = event.source in (Source.SPOKEN, Source.GUESS)
            self.panel.you(event.text, voice=voice)
        self.app.set_state("thinking")

    def action_taken(self, event: ActionTaken) -> None:
        panel = self.panel
        if event.skill == "search":
            found = event.data.get("results")
            panel.action(event.summary.split(" · ")[0] if found else event.summary)
            panel.results(event.data.get("results", []))
        elif event.skill == "places" and event.action == "places_listed":
            panel.action(event.summary)
            self.app.action_saved_places()  # "show my saved places"
        elif event.action == "choices":
            panel.action("Which one? (numbered on the left)")
            self._one(NavCard).show_choices(event.data.get("choices", []))
        else:
            panel.action(event.summary)

    def persona_switched(self, event: PersonaSwitched) -> None:
        persona = self.app.session.cast.get(event.persona_id)
        self._one(Dock).show_persona(event.name, persona.glyph if persona else "")

    def reply_delta(self, event: ReplyDelta) -> None:
        persona = self.app.session.active
        self.panel.reply_delta(persona.name, persona.glyph, event.text)
        if self.app.state != "speaking":
            self.app.set_state("speaking")

    def reply_done(self, event: ReplyDone) -> None:
        app = self.app
        app.turn_running = False
        self.panel.end_reply(event.interrupted)
        if not app.assistant.speaking and app.state not in ("listening", "error"):
            app.set_state("idle")

    def turn_error(self, event: TurnError) -> None:
        self.app.turn_running = False
        self.panel.error(event.spoken, event.detail)
        self._one(Banner).set_problem("llm", redact(event.detail))  # only the LLM fails
        self.app.set_state("error")

    def timing_mark(self, event: TimingMark) -> None:
        if event.stage == "llm_first_token":
            self._one(Banner).set_problem("llm", None)  # it answers again

    # --- listening --------------------------------------------------------------------------

    def input_level(self, event: InputLevel) -> None:
        self._one(StateLine).level_db = event.db

    def partial(self, event: PartialTranscript) -> None:
        self.panel.partial(event.text)

    def final(self, event: FinalTranscript) -> None:
        self.panel.partial("")

    def nothing_heard(self, event: NothingHeard) -> None:
        self.panel.partial("")
        self.panel.notice("Didn't catch that.")
        if self.app.state in ("listening", "transcribing"):
            self.app.set_state("idle")

    def listener_state(self, event: ListenerState) -> None:
        app, state = self.app, event.state
        if state in ("listening", "transcribing"):
            app.set_state(state)
        elif state in ("waiting", "paused") and app.state in (
            "listening",
            "transcribing",
            "loading",
        ):
            app.set_state("thinking" if app.turn_running else "idle")
        elif state == "off":
            app.mic_ready = False
            if app.state in ("listening", "transcribing", "loading"):
                app.set_state("idle")
            app.show_mic()

    # --- the assistant's parts, the car, safety -------------------------------------------

    def status(self, status: Status) -> None:
        app = self.app
        if status.part == "speech_in":
            app.mic_ready = status.state == "ready"
            if status.state == "ready":
                self._one(StateLine).mode_hint = app.mode_hint()
                if app.state == "loading":
                    app.set_state("idle")
            elif status.state == "problem":
                self._one(StateLine).mode_hint = "no microphone · type below"
                if app.state in ("loading", "listening", "transcribing"):
                    app.set_state("idle")
            app.show_mic()
        banner = self._one(Banner)
        # Muted speech is a choice, not a problem: every other part that is off is shown.
        if status.state == "problem" or (status.state == "off" and status.part != "speech_out"):
            banner.set_problem(status.part, redact(status.message))
        elif status.state == "ready":
            banner.set_problem(status.part, None)

    def drive_update(self, event: DriveUpdate) -> None:
        now = self.app.clock()
        car = self._one(CarPanel)
        car.now = now
        car.update_data = event
        self._one(NavCard).show(event.trip, now)
        unit = self.app.assistant.drive_sim.temperature
        self._one(Dock).show_climate(event.climate_c, event.climate_on, unit)

    def safety_changed(self, event: SafetyChanged) -> None:
        self._one(Dock).show_safety(event.kids_mode, event.mature_content)
        what = "Kids mode is on" if event.kids_mode else "Kids mode is off"
        self.panel.notice(
            what
            + (" · mature content allowed" if event.mature_content and not event.kids_mode else "")
        )
