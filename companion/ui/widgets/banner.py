"""A non-blocking error banner: one line per part in trouble, each with its fix; dismissable,
and cleared by itself when the part recovers."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Static

LABELS = {
    "llm": "Language model",
    "speech_in": "Microphone",
    "speech_out": "Speech",
    "navigation": "Navigation",
    "search": "Search",
}


def label(part: str) -> str:
    """How a part is named on the banner ("tools:calendar" is the driver's calendar tools)."""
    kind, _, name = part.partition(":")
    return f"Tools ({name})" if kind == "tools" and name else LABELS.get(part, part)


class Banner(Horizontal):
    class Changed(Message):
        """The banner appeared or went away (the state line points to it only if shown)."""

        def __init__(self, shown: bool) -> None:
            super().__init__()
            self.shown = shown

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.problems: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="banner-text")
        yield Button("✕ Dismiss", id="banner-close", compact=True)

    def on_mount(self) -> None:
        self.display = False
        self.query_one("#banner-close", Button).can_focus = False  # Space stays talk

    def set_problem(self, part: str, message: str | None) -> None:
        if message:
            self.problems[part] = message
        else:
            self.problems.pop(part, None)
        self._render_problems()

    def _render_problems(self) -> None:
        lines = [f"⚠ [b]{escape(label(p))}:[/b] {escape(m)}" for p, m in self.problems.items()]
        self.query_one("#banner-text", Static).update("\n".join(lines))
        if self.display != bool(lines):
            self.post_message(self.Changed(bool(lines)))
        self.display = bool(lines)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "banner-close":
            event.stop()
            self.dismiss()

    def dismiss(self) -> None:
        self.problems.clear()
        self._render_problems()
