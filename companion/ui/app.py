"""The infotainment screen: `companion` with no arguments.

Layout: the car panel and the navigation card on the left, the assistant panel (state line,
transcript, live partials, streaming reply) on the right, the typed prompt line and the dock
along the bottom, an error banner on top when something is wrong. Everything it shows arrives
as one message type, `CoreUpdate`, carrying a typed event from the assistant core
(`companion.assistant`), posted from whichever thread noticed it, and `view.ScreenView` draws
it: data flows one way, stages → assistant → here. Keys and buttons call the core's methods.
Blocking start-up work (speech engine, recogniser model, data files) runs in thread workers
with `exit_on_error=False`; turns run as async workers. Nothing a user can cause ends the app.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.message import Message
from textual.widgets import Button, Input

from ..assistant import Assistant
from ..config import Settings
from ..events import Notice
from ..personas.session import PersonaSession
from ..tts.output import KEY_STEP
from .commands import CarPalette, CompanionCommands
from .safety import toggle_kids_mode, toggle_mature_content
from .screens.persona_picker import PersonaPicker
from .screens.settings import open_settings
from .talk_key import TalkKey
from .themes import THEMES, theme_for
from .view import ScreenView
from .widgets.assistant_panel import AssistantPanel, StateLine
from .widgets.banner import Banner
from .widgets.car_panel import CarPanel
from .widgets.dock import Dock
from .widgets.nav_card import ORDINAL_WORDS, NavCard
from .widgets.timings import TimingsPanel

log = logging.getLogger(__name__)


class CoreUpdate(Message):
    """Something the assistant reports (any thread may post it)."""

    def __init__(self, payload: object) -> None:
        super().__init__()
        self.payload = payload


class CompanionApp(App[int]):
    CSS_PATH = "companion.tcss"
    TITLE = "companion"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    AUTO_FOCUS = None  # Space is push-to-talk until the driver starts typing
    # Ours only: a set of providers is searched in no fixed order, so with Textual's system
    # provider beside ours the first entry (what Enter runs) changed from run to run.
    COMMANDS = {CompanionCommands}
    BINDINGS = [
        Binding("space", "space", "Talk"),
        Binding("f5", "talk", "Talk", show=False),
        Binding("escape", "stop", "Stop"),
        Binding("f2", "pick_persona", "Persona"),
        Binding("f3", "toggle_kids", "Kids mode"),
        Binding("f4", "toggle_mature", "Mature"),
        Binding("f6", "mute", "Mute"),
        Binding("f7", f"volume({-KEY_STEP})", "Quieter", show=False),
        Binding("f8", f"volume({KEY_STEP})", "Louder", show=False),
        Binding("f9", "settings", "Settings"),
        Binding("f10", "timings", "Timings"),
        Binding("ctrl+t", "toggle_theme", "Day/night", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        settings: Settings,
        session: PersonaSession,
        *,
        voice: bool = True,
        audio_in: Path | None = None,
        reload_cast: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = datetime.now,
        tick_s: float = 1.0,
        record: Path | None = None,
        replay: Any = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.session = session
        self.voice = voice or audio_in is not None
        self.clock = clock
        self.tick_s = tick_s
        self.units = settings.navigation.units
        self.assistant = Assistant(
            settings,
            session,
            self._post_core,
            audio_in=audio_in,
            reload_cast=reload_cast,
            spawn=self._spawn_turn,
            tick_s=tick_s,
            record=record,
        )
        self.replay = replay  # a recording.Recording shown instead of a live session
        self.view = ScreenView(self)
        for theme in THEMES.values():
            self.register_theme(theme)
        self.theme_name = theme_for(settings.ui.theme, clock())
        self.theme = THEMES[self.theme_name].name
        self.state = "idle"
        self.turn_running = False
        self.mic_ready = False
        self.talk_key = TalkKey(self)

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Banner(id="banner")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield CarPanel(self.units, self.settings.car.temperature, id="car")
                yield NavCard(self.units, id="nav")
            yield AssistantPanel(id="assistant")
        yield TimingsPanel(id="timings")
        yield Input(
            placeholder="Type here and press Enter · Space talks · Ctrl+P commands",
            id="prompt",
            compact=True,
            select_on_focus=False,
        )
        yield Dock(id="dock")

    def on_mount(self) -> None:
        self.assistant.start()
        persona = self.session.active
        dock = self.query_one(Dock)
        dock.show_persona(persona.name, persona.glyph)
        dock.show_safety(self.session.kids_mode, self.session.mature_content)
        dock.show_volume(self.assistant.output.volume, self.assistant.output.muted)
        if self.session.start_notice:
            self.panel.notice(self.session.start_notice)
        self.panel.reply_delta(persona.name, persona.glyph, persona.greeting)
        self.panel.end_reply()
        self.query_one(CarPanel).now = self.clock()
        nav = self.query_one(NavCard)
        nav.enabled = self.settings.navigation.enabled
        nav.show(None, self.clock())
        self.set_state("loading" if self.voice else "idle")
        self.state_line.mode_hint = self.mode_hint()
        self.set_interval(0.1, self._poll_speaking)
        self.call_after_refresh(self._first_frame)

    def _first_frame(self) -> None:
        """The first frame is on screen and keys work: the start-up benchmark's end point
        (`COMPANION_UI_READY_FILE`: write the wall-clock time there)."""
        ready_file = os.environ.get("COMPANION_UI_READY_FILE")
        if ready_file:
            Path(ready_file).write_text(f"{time.time():.6f}\n", encoding="utf-8")
        if self.replay is not None:
            self.run_worker(self._play_back(), name="replay", exit_on_error=False)
            return
        self._start_loading()

    async def _play_back(self) -> None:
        """`companion replay`: the recording's events shown at their own pace."""
        import asyncio

        self.set_state("idle")
        self.state_line.mode_hint = f"replaying {self.replay.path.name}"
        started = time.monotonic()
        for dt, event in self.replay.events:
            delay = dt - (time.monotonic() - started)
            if delay > 0:
                await asyncio.sleep(delay)
            self._post_core(event)
        # Through the same queue as the events: shown after the last of them, not before the
        # ones still waiting to be handled (the replay test read a reply cut short so).
        self._post_core(Notice(f"End of the recording {self.replay.path.name}. Ctrl+Q quits."))

    def _start_loading(self) -> None:
        """After the first frame: the slow parts load in thread workers, their progress shown
        on the state line and problems in the banner."""
        self.run_worker(
            self.assistant.load_core,
            thread=True,
            exit_on_error=False,
            name="load core",
            group="load",
        )
        if self.voice:
            self.run_worker(
                self.assistant.load_speech_in,
                thread=True,
                exit_on_error=False,
                name="load speech in",
                group="load",
            )

    @property
    def panel(self) -> AssistantPanel:
        return self.query_one(AssistantPanel)

    @property
    def state_line(self) -> StateLine:
        return self.query_one(StateLine)

    # --- plumbing from the assistant ---------------------------------------------------------

    def _post_core(self, payload: object) -> None:
        self.post_message(CoreUpdate(payload))

    def _spawn_turn(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.run_worker(coro, name="turn", group="turn", exit_on_error=False)

    def set_state(self, state: str) -> None:
        self.state = state
        self.state_line.state = state
        self.show_mic()

    def show_mic(self) -> None:
        self.query_one(Dock).show_mic(self.state in ("listening", "transcribing"), self.mic_ready)

    def _poll_speaking(self) -> None:
        if self.state == "speaking" and not self.turn_running and not self.assistant.speaking:
            self.set_state("idle")

    def mode_hint(self) -> str:
        speech = self.settings.speech
        if not self.voice:
            return "voice input is off · type below"
        if speech.listen_mode == "hands_free":
            return "hands-free: just speak · or type below"
        if speech.listen_mode == "wake_phrase":
            return f'say "{speech.said_to_wake}" · or type below'
        return "Space or Talk to speak · or type below"

    def on_banner_changed(self, message: Banner.Changed) -> None:
        self.state_line.banner_shown = message.shown

    def on_core_update(self, message: CoreUpdate) -> None:
        try:
            self.view.show(message.payload)
        except Exception:  # a display bug must not end the drive
            log.exception("showing %s failed", type(message.payload).__name__)

    # --- input -------------------------------------------------------------------------------

    def submit(self, text: str) -> None:
        """Typed words, a tapped choice or a palette command: a turn, as if spoken."""
        if text.strip():
            self.assistant.say(text)

    def dismiss_banner(self) -> None:
        self.query_one(Banner).dismiss()

    def pick(self, persona_id: str) -> None:
        self.assistant.pick_persona(persona_id)

    @on(Input.Submitted, "#prompt")
    def _prompt_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        if text:
            self.submit(text)
        else:
            self.action_talk()  # Enter on an empty line talks, as in `companion chat`

    def on_key(self, event: Key) -> None:
        """Typing anywhere goes to the prompt line. Focus moves at once (not after the next
        refresh): keys typed fast, or pasted, arrive before a deferred focus would, and their
        spaces would each open the microphone. A printable key that gets here did not go
        through the prompt (it keeps what it types), even if the prompt has focus by now:
        it was sent on before focus moved."""
        prompt = self.query_one("#prompt", Input)
        if (
            self.screen is self.screen_stack[0]
            and event.is_printable
            and event.character
            and (event.character != " " or prompt.value)
        ):
            self.set_focus(prompt)
            prompt.insert_text_at_cursor(event.character)
            event.stop()
            event.prevent_default()

    def action_space(self) -> None:
        """Space outside the prompt line: push-to-talk, unless words are waiting in the
        prompt (typed before Esc, or faster than focus moved): then it is a space between
        words. F5 and the Talk button always talk."""
        prompt = self.query_one("#prompt", Input)
        if prompt.value:
            self.set_focus(prompt)
            prompt.insert_text_at_cursor(" ")
            return
        self.action_talk()

    def action_talk(self) -> None:
        """Push-to-talk (Space, F5, the mic button, Enter on an empty prompt)."""
        if not self.mic_ready:
            self.assistant.stop()
            self.panel.notice("No microphone is listening; type your request instead.")
            return
        self.talk_key.pressed()

    def action_stop(self) -> None:
        """Escape: leave the prompt line, and stop the assistant talking."""
        if self.focused is self.query_one("#prompt", Input):
            self.set_focus(None)
        self.assistant.stop()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions: dict[str, Callable[[], None]] = {
            "persona-chip": self.action_pick_persona,
            "mic": self.action_talk,
            "vol-down": lambda: self.action_volume(-KEY_STEP),
            "vol-up": lambda: self.action_volume(KEY_STEP),
            "volume": self.action_mute,
            "temp-down": lambda: self.action_climate(-0.5),
            "temp-up": lambda: self.action_climate(0.5),
            "kids": self.action_toggle_kids,
            "mature": self.action_toggle_mature,
            "settings": self.action_settings,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            action()

    def on_nav_card_chosen(self, event: NavCard.Chosen) -> None:
        self.submit(f"number {ORDINAL_WORDS[event.number - 1]}")

    # --- actions -----------------------------------------------------------------------------

    def action_pick_persona(self) -> None:
        def chosen(persona_id: str | None) -> None:
            if persona_id and persona_id != self.session.active.id:
                self.pick(persona_id)

        self.push_screen(PersonaPicker(self.session), chosen)

    def action_saved_places(self) -> None:
        from .screens.saved_places import SavedPlacesScreen

        navigator, store = self.assistant.navigator, self.assistant.keeper.store
        if store is None or navigator is None or isinstance(self.screen, SavedPlacesScreen):
            return

        def go(name: str | None) -> None:
            if name:
                self.submit(f"take me to {name}")

        learn = navigator.known.update  # the router knows a renamed place by its new name
        self.push_screen(SavedPlacesScreen(store.places, lambda n: learn([n])), go)

    def action_toggle_kids(self) -> None:
        toggle_kids_mode(self)

    def action_toggle_mature(self) -> None:
        toggle_mature_content(self)

    def action_mute(self) -> None:
        muted = not self.assistant.output.muted
        self.assistant.set_muted(muted)
        if not muted and self.assistant.speaker is None:
            self.run_worker(
                self.assistant.load_speech_out,
                thread=True,
                exit_on_error=False,
                name="load speech out",
                group="load",
            )

    def action_volume(self, steps: float) -> None:
        """The dock shows the result when the assistant reports it (VolumeChanged), like a
        spoken "louder"."""
        self.assistant.output.step(steps)

    def action_climate(self, step: float) -> None:
        drive = self.assistant.drive_sim
        drive.set_climate(drive.car.climate_c + step)

    def action_timings(self) -> None:
        panel = self.query_one(TimingsPanel)
        panel.display = not panel.display

    def action_toggle_theme(self) -> None:
        self.theme_name = "day" if self.theme_name == "night" else "night"
        self.theme = THEMES[self.theme_name].name

    def action_settings(self) -> None:
        open_settings(self)

    def action_command_palette(self) -> None:
        if not CarPalette.is_open(self):  # type: ignore[arg-type]  # Textual types it App[object]
            self.push_screen(CarPalette(id="--command-palette"))

    async def action_quit(self) -> None:
        await self.assistant.aclose()
        self.exit(0)


def run_app(
    settings: Settings,
    session: PersonaSession,
    *,
    voice: bool = True,
    audio_in: Path | None = None,
    reload_cast: Callable[[], None] | None = None,
    record: Path | None = None,
    replay: Any = None,
) -> int:
    app = CompanionApp(
        settings,
        session,
        voice=voice and replay is None,
        audio_in=audio_in,
        reload_cast=reload_cast,
        record=record,
        replay=replay,
        tick_s=3600.0 if replay is not None else 1.0,
    )  # replay: its own drive
    if "web_driver" in os.environ.get("TEXTUAL_DRIVER", ""):
        end_with_the_server(app)
    result = app.run()
    if app.assistant.loop is not None and not app.assistant.closed:
        app.assistant.close_blocking()
    return result or 0


def end_with_the_server(app: CompanionApp) -> None:
    """A browser tab's screen under `ui --serve` (textual-serve's web driver talks to it
    over stdin/stdout): when the server is gone (stopped by SIGTERM, killed, crashed) the
    tab's process must go too. Left alone it kept running with its input closed, spinning
    on a CPU. The kernel sends SIGTERM when the parent dies (Linux), and a watcher notices
    the new parent within a quarter of a second either way."""
    import signal
    import threading

    parent = os.getppid()
    with contextlib.suppress(Exception):  # Linux only: PR_SET_PDEATHSIG
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(0.25)
        log.info("the ui --serve server is gone: this tab's screen ends")
        with contextlib.suppress(Exception):
            app.call_from_thread(app.exit)
        threading.Event().wait(1.0)
        os._exit(0)  # the screen did not end in a second: nothing is left to show it to

    threading.Thread(target=watch, name="serve-parent", daemon=True).start()
