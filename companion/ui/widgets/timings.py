"""The timings panel (F10): the last turn's latency waterfall (end of speech → transcript →
routing → first token → first audio → done, bars with milliseconds) and the median/p90 of
the last 20 turns, so a slow part is seen at a glance."""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from ...timeline import Timeline, TurnTiming, summary_line, waterfall


class TimingsPanel(Static):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.last: TurnTiming | None = None
        self.timeline: Timeline | None = None

    def on_mount(self) -> None:
        self.display = False
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def show_turn(self, turn: TurnTiming, timeline: Timeline) -> None:
        self.last, self.timeline = turn, timeline
        self._draw()

    def _draw(self) -> None:
        width = max(40, (self.content_region.width or self.app.size.width) - 1)
        if self.last is None or self.timeline is None:
            self.update("[b]TIMINGS[/b] · no turn yet: say or type something (F10 hides this)")
            return
        kind = "spoken" if self.last.spoken else "typed"
        lines = [
            f"[b]TIMINGS[/b] · {kind}: “{escape(self.last.text[: width - 30])}”",
            *(escape(line) for line in waterfall(self.last, width)),
            escape(summary_line(self.timeline)),
        ]
        self.update("\n".join(lines))
