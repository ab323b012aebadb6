"""The assistant panel: a state line (idle / listening with a level meter / thinking /
speaking / error, always in words), past turns scrolling above, the live transcript while the
driver speaks, the reply streaming in, action summaries and search result cards."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from .. import format as fmt

STATES = {
    # state: (symbol, words shown, hint)
    "idle": ("■", "IDLE", "Space or Talk to speak · type below"),
    "loading": ("…", "STARTING", "loading speech in the background; typing works"),
    "listening": ("●", "LISTENING", "speak now"),
    "transcribing": ("◐", "HEARING", "finishing your words"),
    "thinking": ("◌", "THINKING", "Esc to cancel"),
    "speaking": ("▶", "SPEAKING", "Space or Esc to interrupt"),
    "error": ("⚠", "ERROR", "see the banner above"),
}


class StateLine(Widget):
    """One line: the state as a symbol and a word (never colour alone), the persona, and the
    microphone level while listening."""

    state: reactive[str] = reactive("idle")
    level_db: reactive[float | None] = reactive(None)
    persona: reactive[str] = reactive("")
    mode_hint: reactive[str] = reactive("")
    banner_shown: reactive[bool] = reactive(False)

    def render(self) -> str:
        symbol, words, hint = STATES.get(self.state, STATES["idle"])
        if self.state == "idle" and self.mode_hint:
            hint = self.mode_hint
        if self.state == "error" and not self.banner_shown:
            hint = "what to do is in the last message below"
        meter = (
            f"  {fmt.level_meter(self.level_db)}"
            if self.state in ("listening", "transcribing")
            else ""
        )
        return f"{symbol} [b]{words}[/b]{meter}  · {escape(hint)}"

    def watch_state(self, state: str) -> None:
        for name in STATES:
            self.set_class(name == state, f"-{name}")


class Transcript(VerticalScroll):
    """Past turns; the newest at the bottom, scrolled into view."""

    def add(self, widget: Widget) -> Widget:
        self.mount(widget)
        while len(self.children) > 200:  # a long drive: keep the screen light
            self.children[0].remove()
        self.scroll_end(animate=False)
        return widget


class AssistantPanel(Vertical):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._reply: Static | None = None
        self._reply_text = ""
        self._reply_name = ""

    def compose(self) -> ComposeResult:
        yield StateLine(id="state")
        yield Transcript(id="transcript")
        yield Static("", id="partial")

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    # --- entries -----------------------------------------------------------------------------

    def you(self, text: str, voice: bool = False) -> None:
        who = "You (voice)" if voice else "You"
        self.transcript.add(Static(f"[b]{who}:[/b] {escape(text)}", classes="you"))
        self.partial("")

    def action(self, summary: str) -> None:
        self.transcript.add(Static(f"→ {escape(summary)}", classes="action"))

    def results(self, results: list[dict[str, Any]]) -> None:
        cards = [
            Static(
                f"[b]{escape(r['title'])}[/b]  [dim]{escape(r['source'])}[/dim]\n"
                f"{escape(r['snippet'])}",
                classes="result-card",
            )
            for r in results[:3]
        ]
        if cards:
            self.transcript.add(Vertical(*cards, classes="results"))

    def notice(self, text: str, kind: str = "notice") -> None:
        """A line in brackets; the same notice twice in a row is shown once (seven presses
        of Talk without a microphone are one hint, not seven)."""
        line = f"({escape(text)})"
        children = self.transcript.children
        if (
            children
            and isinstance(children[-1], Static)
            and children[-1].has_class(kind)
            and getattr(children[-1], "_companion_text", None) == line
        ):
            return
        widget = Static(line, classes=kind)
        widget._companion_text = line  # type: ignore[attr-defined]
        self.transcript.add(widget)

    def error(self, spoken: str, detail: str) -> None:
        self.end_reply()
        self.transcript.add(
            Static(f"⚠ [b]{escape(spoken)}[/b]\n  {escape(detail)}", classes="error")
        )

    def reply_delta(self, name: str, glyph: str, text: str) -> None:
        if self._reply is None:
            self._reply_name = f"{glyph} {name}".strip()
            self._reply_text = ""
            self._reply = Static("", classes="reply")
            self.transcript.add(self._reply)
        self._reply_text += text
        self._reply.update(f"[b]{escape(self._reply_name)}:[/b] {escape(self._reply_text)}")
        self.transcript.scroll_end(animate=False)

    def end_reply(self, interrupted: bool = False) -> None:
        if self._reply is not None and interrupted:
            self._reply.update(
                f"[b]{escape(self._reply_name)}:[/b] {escape(self._reply_text)} [b]\\[stopped][/b]"
            )
        self._reply = None

    def partial(self, text: str) -> None:
        """The live transcript: the recogniser's current guess, updated in place."""
        widget = self.query_one("#partial", Static)
        widget.update(f"… {escape(text)}" if text else "")
        widget.display = bool(text)
