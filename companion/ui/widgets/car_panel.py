"""The car panel: speed, gear, battery and range, outside temperature, cabin setpoint, clock."""

from __future__ import annotations

from datetime import datetime

from textual.reactive import reactive
from textual.widget import Widget

from ...events import DriveUpdate
from .. import format as fmt


class CarPanel(Widget):
    """Values from the simulated drive. One line when short, a column when there is room."""

    update_data: reactive[DriveUpdate | None] = reactive(None, layout=False)
    now: reactive[datetime | None] = reactive(None)

    def __init__(self, units: str = "mi", temperature: str = "C", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.units = units
        self.temperature = temperature

    def render(self) -> str:
        d = self.update_data
        now = fmt.clock(self.now) if self.now else "--:--"
        if d is None:
            return f" {now}  · car data loading…"
        speed = fmt.speed(d.speed_kmh, self.units)
        battery = f"{d.battery_percent}%"
        range_ = fmt.range_text(d.range_km, self.units)
        out = fmt.temperature(d.outside_c, self.temperature, 0)
        cabin = fmt.temperature(d.climate_c, self.temperature) if d.climate_on else "off"
        if self.size.height <= 1:
            return (
                f"{now} │ {d.gear} {speed} │ Battery {battery} · {range_} │ "
                f"Out {out} │ Cabin {cabin}"
            )
        if self.size.height <= 3:
            return (
                f"[b]{now}[/b]  {d.gear}  [b]{speed}[/b]  {out} out\n"
                f"{battery} · {range_} · cabin {cabin.removesuffix('C').removesuffix('F')}"
            )
        meter = fmt.bar(d.battery_percent / 100, 10)
        return "\n".join(
            [
                f"[b]{now}[/b]",
                "",
                f"[b]{speed}[/b]   gear {d.gear}",
                f"Battery {battery}",
                f"{meter}",
                f"Range {range_}",
                f"Outside {out}",
                f"Cabin {cabin}",
            ]
        )
