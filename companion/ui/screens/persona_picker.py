"""The persona picker: every persona with its rating and description; the ones the safety
settings lock are shown, marked locked, and cannot be chosen. Locked ones can still be
highlighted (so the list scrolls to its very end at any height) and Enter on one says why
it is locked and how to unlock it."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...personas.session import PersonaSession

LOCKS = {"kids_mode": "LOCKED: kids mode", "mature": "LOCKED: needs mature content"}
WHY_LOCKED = {
    "kids_mode": "{name} is locked while kids mode is on (F3, or Settings: F9).",
    "mature": "{name} needs mature content: turn it on with F4 or in Settings (F9).",
}


class PersonaPicker(ModalScreen[str | None]):
    """Dismissed with the chosen persona's id, or None."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close")]

    def __init__(self, session: PersonaSession) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        options = []
        active = self.session.active.id
        people = sorted(self.session.cast.values(), key=lambda p: (p.id != "assistant", p.name))
        for persona in people:
            lock = self.session.allowed(persona)
            lock = lock if lock in LOCKS else None
            mark = "✓ " if persona.id == active else "  "
            state = f"  [b]{LOCKS[lock]}[/b]" if lock else ""
            glyph = persona.glyph or "◆"
            text = (
                f"{mark}{glyph} [b]{escape(persona.name)}[/b]  ·  {persona.rating}{state}\n"
                f"     {escape(persona.description)}"
            )
            options.append(Option(text, id=persona.id))
        with Vertical(id="picker"):
            yield Static("Choose a persona  ·  Enter to pick, Esc to close", classes="title")
            yield OptionList(*options, id="persona-list")
            yield Static("", id="picker-why", classes="hint")

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        listing.focus()
        for index, option in enumerate(listing.options):
            if option.id == self.session.active.id:
                listing.highlighted = index

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        persona = self.session.cast.get(event.option.id or "")
        lock = self.session.allowed(persona) if persona is not None else None
        if persona is not None and lock in LOCKS:
            self.query_one("#picker-why", Static).update(
                WHY_LOCKED[lock].format(name=escape(persona.name))
            )
            return
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
