"""The saved places view: the driver's saved places (name and what it is) with the last
trips under them. Enter drives to the highlighted place, R renames it, Delete forgets it
(after a second press), Esc closes. Opened from the palette and by voice ("show my saved
places"). The rows are the driver database's (`store.places`); this screen only shows them
and asks their owner to change them."""

from __future__ import annotations

from collections.abc import Callable

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...store import SavedPlaces

HINT = "Enter: go there  ·  R: rename  ·  Delete: forget  ·  Esc: close"


class SavedPlacesScreen(ModalScreen[str | None]):
    """Dismissed with the name of the place to drive to, or None."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("r", "rename", "Rename"),
        Binding("delete,d", "forget", "Forget"),
    ]

    def __init__(self, places: SavedPlaces, renamed: Callable[[str], None]) -> None:
        super().__init__()
        self.places = places
        self.renamed = renamed  # the router learns a new name
        self._forgetting: str | None = None  # the name Delete was pressed on once

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static("Saved places", classes="title")
            yield OptionList(id="saved-list")
            yield Input(placeholder="new name, then Enter", id="rename-input")
            yield Static(HINT, id="saved-hint", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#rename-input", Input).display = False
        self.refresh_list()
        self.query_one(OptionList).focus()

    def refresh_list(self) -> None:
        listing = self.query_one(OptionList)
        listing.clear_options()
        saved = self.places.all()
        for place in saved:
            listing.add_option(
                Option(f"[b]{escape(place.name)}[/b]\n     {escape(place.label)}", id=place.name)
            )
        if not saved:
            listing.add_option(
                Option('No saved places yet: say "save this place as" and a name.', disabled=True)
            )
        recent = self.places.recent(limit=3)
        if recent:
            listing.add_option(
                Option("Recent: " + " · ".join(escape(v.label) for v in recent), disabled=True)
            )
        if saved:
            listing.highlighted = 0

    def _current(self) -> str | None:
        listing = self.query_one(OptionList)
        index = listing.highlighted
        if index is None:
            return None
        option = listing.get_option_at_index(index)
        return None if option.disabled else option.id

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id and not event.option.disabled:
            self.dismiss(event.option.id)

    def action_rename(self) -> None:
        name = self._current()
        if name is None:
            return
        box = self.query_one("#rename-input", Input)
        box.value, box.display = name, True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        old, new = self._current(), event.value.strip()
        event.input.display = False
        if old and new and self.places.rename(old, new):
            self.renamed(new)
            self._say(f"Renamed {old} to {new}.")
        self.refresh_list()
        self.query_one(OptionList).focus()

    def action_forget(self) -> None:
        name = self._current()
        if name is None:
            return
        if self._forgetting != name:  # a second press forgets: nothing goes by accident
            self._forgetting = name
            self._say(f"Press Delete again to forget {name}.")
            return
        self._forgetting = None
        self.places.forget(name)
        self._say(f"Forgot {name}.")
        self.refresh_list()

    def _say(self, text: str) -> None:
        self.query_one("#saved-hint", Static).update(f"{escape(text)}  ·  {HINT}")

    def action_close(self) -> None:
        if self.query_one("#rename-input", Input).display:
            self.query_one("#rename-input", Input).display = False
            self.query_one(OptionList).focus()
            return
        self.dismiss(None)
