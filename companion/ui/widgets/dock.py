"""The dock along the bottom: persona chip, microphone, volume, climate, kids mode, mature
content, settings. The buttons' presses are handled by the app (by id); the dock only shows
state, in words as well as colour."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button

from .. import format as fmt

CHIP_NAME_MAX = 16  # the name part of the chip: "Kids Storyteller" whole, longer ones cut


class Dock(Horizontal):
    def compose(self) -> ComposeResult:
        yield Button(
            "Assistant ▾", id="persona-chip", compact=True, tooltip="Choose a persona (F2)"
        )
        yield Button("● Talk", id="mic", compact=True, tooltip="Push to talk (Space)")
        yield Button("−", id="vol-down", compact=True, tooltip="Quieter (-)")
        yield Button("Vol 100%", id="volume", compact=True, tooltip="Mute / unmute (m)")
        yield Button("+", id="vol-up", compact=True, tooltip="Louder (+)")
        yield Button("−", id="temp-down", compact=True, tooltip="Cooler ([)")
        yield Button("21.0°", id="climate", compact=True, tooltip="Cabin temperature")
        yield Button("+", id="temp-up", compact=True, tooltip="Warmer (])")
        yield Button("Kids off", id="kids", compact=True, tooltip="Kids mode (F3)")
        yield Button("Mature off", id="mature", compact=True, tooltip="Mature content (F4)")
        yield Button("⚙", id="settings", compact=True, tooltip="Settings (F9)")

    def on_mount(self) -> None:
        # Mouse (touch) targets: the keyboard has F-keys and the palette for each, and Space
        # must stay push-to-talk after a click instead of pressing the last button again.
        for button in self.query(Button):
            button.can_focus = False

    def _set(self, widget_id: str, label: str, on: bool | None = None) -> None:
        button = self.query_one(f"#{widget_id}", Button)
        button.label = label
        if on is not None:
            button.set_class(on, "-on")

    def show_persona(self, name: str, glyph: str) -> None:
        # The name gives way, never the ▾ that says this opens the picker.
        if len(name) > CHIP_NAME_MAX:
            name = name[: CHIP_NAME_MAX - 1].rstrip() + "…"
        self._set("persona-chip", f"{glyph} {name} ▾" if glyph else f"{name} ▾")

    def show_mic(self, listening: bool, available: bool) -> None:
        label = "■ Stop" if listening else ("● Talk" if available else "○ Talk")
        self._set("mic", label, listening)

    def show_volume(self, volume: float, muted: bool) -> None:
        self._set("volume", "Muted" if muted else f"Vol {round(volume * 100)}%", muted)

    def show_climate(self, celsius: float, on: bool = True, unit: str = "C") -> None:
        shown = fmt.temperature(celsius, unit)[:-1] if on else "Off"  # "21.0°", "70°"
        self._set("climate", shown)

    def show_safety(self, kids: bool, mature: bool) -> None:
        self._set("kids", "Kids ON" if kids else "Kids off", kids)
        self._set(
            "mature", "Mature ON" if mature and not kids else "Mature off", mature and not kids
        )
