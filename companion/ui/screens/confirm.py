"""A yes/no question, optionally guarded by a PIN (turning kids mode off)."""

from __future__ import annotations

import hmac

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class Confirm(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "no", "Cancel")]

    def __init__(self, question: str, yes: str, no: str, pin: str = "") -> None:
        super().__init__()
        self.question, self.yes, self.no, self.pin = question, yes, no, pin

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question, classes="title")
            if self.pin:
                yield Input(placeholder="PIN", password=True, id="pin")
                yield Static("", id="pin-error")
            with Horizontal(classes="buttons"):
                yield Button(self.no, id="no", variant="primary")
                yield Button(self.yes, id="yes", variant="warning")

    def on_mount(self) -> None:
        # Keyboard first: the PIN box when there is one, else the safe answer, so Enter
        # (or Space) answers and Tab moves to the other button.
        self.query_one("#pin" if self.pin else "#no").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self._try_yes()
        else:
            self.dismiss(False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._try_yes()

    def _try_yes(self) -> None:
        if self.pin:
            given = self.query_one("#pin", Input).value
            if not hmac.compare_digest(given.encode(), self.pin.encode()):
                self.query_one("#pin-error", Static).update("Wrong PIN: kids mode stays on.")
                return
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)
