"""The navigation card: destination, stops, distance, ETA, next manoeuvre, a progress line,
the numbered choices when the navigator asks "Which one?", and the route map below."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Static

from .. import format as fmt

ORDINAL_WORDS = ("one", "two", "three", "four")


class NavCard(Vertical):
    """Shows Navigator.snapshot(); a choice button posts `Chosen` with its number."""

    class Chosen(Message):
        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    def __init__(self, units: str = "mi", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.units = units
        self.trip: dict[str, Any] | None = None
        self.now: datetime | None = None
        self.choices: list[str] = []
        self.enabled = True

    def compose(self) -> ComposeResult:
        yield Static("NAVIGATION", classes="card-title")
        yield Static(id="nav-body")
        yield Vertical(id="nav-choices")

    def on_resize(self) -> None:
        self.refresh_body()

    def show(self, trip: dict[str, Any] | None, now: datetime | None) -> None:
        self.trip, self.now = trip, now
        self.refresh_body()
        data = trip.get("map") if trip and trip.get("active") else None
        maps = self.query("#route-map")
        if maps:
            maps.first().show(data)  # type: ignore[attr-defined]
        elif data:
            # Mounted with the first route: plotext's import (~0.2 s) stays out of start-up.
            from .route_map import RouteMap

            route_map = RouteMap(id="route-map")
            self.mount(route_map)
            self.call_after_refresh(route_map.show, data)

    def refresh_body(self) -> None:
        self.query_one("#nav-body", Static).update(self.body_text())

    def body_text(self) -> str:
        trip = self.trip
        if trip is None:
            return "Navigation is loading…" if self.enabled else "Navigation is off."
        if not trip.get("active"):
            return "No route.\nSay or type “take me to …”."
        est = " (estimated)" if trip.get("estimated") else ""
        lines = [f"[b]▶ {trip['destination']}[/b]"]
        if trip.get("stops"):
            lines.append("via " + ", ".join(trip["stops"]))
        remaining = fmt.distance(trip["remaining_m"], self.units)
        lines.append(f"{remaining} · {fmt.duration(trip['remaining_s'])}{est}")
        if self.now:
            lines.append(f"Arrive {fmt.arrival(self.now, trip['remaining_s'])}")
        nxt = trip.get("next")
        lines.append(f"Next: {nxt}" if nxt else "Next: follow the road")
        width = self.content_region.width or 28
        lines.append(
            fmt.route_line(trip.get("progress", 0.0), trip.get("stop_marks", []), max(8, width))
        )
        return "\n".join(lines)

    def show_choices(self, choices: list[str]) -> None:
        """Numbered, clickable; "the second one" said or typed works the same."""
        self.choices = list(choices)
        box = self.query_one("#nav-choices", Vertical)
        box.remove_children()
        if choices:
            box.mount(Static("Which one? Say the number or click:", classes="choice-prompt"))
            box.mount_all(
                Button(f"{i}. {label}", id=f"choice-{i}", classes="choice", compact=True)
                for i, label in enumerate(choices[: len(ORDINAL_WORDS)], 1)
            )
        for button in box.query(Button):
            button.can_focus = False  # Space stays push-to-talk; say or type the number
        box.display = bool(choices)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("choice-"):
            event.stop()
            self.post_message(self.Chosen(int(event.button.id.removeprefix("choice-"))))
