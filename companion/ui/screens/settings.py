"""Settings for this session: how to talk (push-to-talk, hands-free, wake phrase), the
push-to-talk style, day/night theme, the simulated drive's speed, and the safety switches
(kids mode, mature content: each opens the same confirmation as F3/F4). Changes last until
quit; the config file (`companion config path`) keeps them for good."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, RadioButton, RadioSet, Static

LISTEN_MODES = (
    ("push_to_talk", "Push to talk"),
    ("hands_free", "Hands-free"),
    ("wake_phrase", "Wake phrase"),
)
PTT_STYLES = (
    ("toggle", "Press to start, press to stop"),
    ("hold", "Hold (key repeat; release = stop)"),
)
THEMES = (("night", "Night"), ("day", "Day"))
SPEEDUPS = ((1.0, "Real time"), (10.0, "10× faster"), (60.0, "60× faster"))


@dataclass(frozen=True)
class Choices:
    listen_mode: str
    push_to_talk: str
    theme: str
    sim_speedup: float
    then: str = ""  # "kids" or "mature": toggle that safety switch next (with its confirm)


class SettingsScreen(ModalScreen[Choices | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        current: Choices,
        config_file: str,
        kids_mode: bool = False,
        mature_content: bool = False,
    ) -> None:
        super().__init__()
        self.current = current
        self.config_file = config_file
        self.kids_mode, self.mature_content = kids_mode, mature_content

    def _radios(self, set_id: str, options: tuple[Any, ...], value: object) -> RadioSet:
        return RadioSet(
            *(
                RadioButton(label, value=key == value, id=f"{set_id}-{i}")
                for i, (key, label) in enumerate(options)
            ),
            id=set_id,
        )

    def compose(self) -> ComposeResult:
        c = self.current
        with Vertical(id="settings-box"):
            yield Static("Settings (this session)  ·  Esc to cancel", classes="title")
            with Horizontal(classes="settings-row"):
                with Vertical():
                    yield Static("How to talk")
                    yield self._radios("listen-mode", LISTEN_MODES, c.listen_mode)
                    yield Static("Push-to-talk key")
                    yield self._radios("ptt-style", PTT_STYLES, c.push_to_talk)
                with Vertical():
                    yield Static("Theme")
                    yield self._radios("theme", THEMES, c.theme)
                    yield Static("Simulated drive")
                    yield self._radios("speedup", SPEEDUPS, c.sim_speedup)
            yield Static("Safety")
            with Horizontal(classes="settings-row"):
                kids = "ON · turn off…" if self.kids_mode else "off · turn on"
                yield Button(f"Kids mode: {kids}", id="kids-toggle")
                mature = "ON · turn off" if self.mature_content else "off · turn on…"
                yield Button(
                    f"Mature content: {mature}", id="mature-toggle", disabled=self.kids_mode
                )
            yield Static(f"To keep settings, put them in {self.config_file}.", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Apply", id="apply", variant="primary")

    def _picked(self, set_id: str, options: tuple[Any, ...]) -> object:
        index = self.query_one(f"#{set_id}", RadioSet).pressed_index
        return options[index][0] if index >= 0 else None

    def on_mount(self) -> None:
        self.query_one("#listen-mode", RadioSet).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        then = {"kids-toggle": "kids", "mature-toggle": "mature"}.get(event.button.id or "", "")
        if event.button.id != "apply" and not then:
            self.dismiss(None)
            return
        c = self.current
        self.dismiss(
            Choices(
                listen_mode=str(self._picked("listen-mode", LISTEN_MODES) or c.listen_mode),
                push_to_talk=str(self._picked("ptt-style", PTT_STYLES) or c.push_to_talk),
                theme=str(self._picked("theme", THEMES) or c.theme),
                sim_speedup=float(self._picked("speedup", SPEEDUPS) or c.sim_speedup),  # type: ignore[arg-type]
                then=then,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


def open_settings(app: Any) -> None:
    """F9: the settings dialog, and what applying it changes (theme, drive speed, listening
    mode: the listener restarts in a worker thread). `app` is the car screen."""
    speech, nav = app.settings.speech, app.settings.navigation
    current = Choices(speech.listen_mode, speech.push_to_talk, app.theme_name, nav.sim_speedup)

    def applied(choices: Choices | None) -> None:
        if choices is None:
            return
        if choices.theme != app.theme_name:
            app.action_toggle_theme()
        nav.sim_speedup = choices.sim_speedup
        speech.push_to_talk = choices.push_to_talk
        if app.voice and (
            choices.listen_mode != speech.listen_mode
            or choices.push_to_talk != current.push_to_talk
        ):
            app.mic_ready = False
            app.run_worker(
                lambda: app.assistant.set_listen_mode(choices.listen_mode),
                thread=True,
                exit_on_error=False,
                name="restart listener",
                group="load",
            )
            app.state_line.mode_hint = app.mode_hint()
        else:
            speech.listen_mode = choices.listen_mode
        if choices.then == "kids":
            app.action_toggle_kids()
        elif choices.then == "mature":
            app.action_toggle_mature()

    app.push_screen(
        SettingsScreen(
            current,
            str(app.settings.config_file),
            app.session.kids_mode,
            app.session.mature_content,
        ),
        applied,
    )
