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

    def __init__(self, units: str = "mi", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.units = units

    def render(self) -> str:
        d = self.update_data
        now = fmt.clock(self.now) if self.now else "--:--"
        if d is None:
            return f" {now}  · car data loading…"
        speed = fmt.speed(d.speed_kmh, self.units)
        battery = f"{d.battery_percent}%"
        range_ = fmt.range_text(d.range_km, self.units)
        if self.size.height <= 1:
            return (
                f"{now} │ {d.gear} {speed} │ Battery {battery} · {range_} │ "
                f"Out {d.outside_c:.0f}°C │ Cabin {d.climate_c:.1f}°C"
            )
        if self.size.height <= 3:
            return (
                f"[b]{now}[/b]  {d.gear}  [b]{speed}[/b]  {d.outside_c:.0f}°C out\n"
                f"{battery} · {range_} · cabin {d.climate_c:.1f}°"
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
                f"Outside {d.outside_c:.0f}°C",
                f"Cabin {d.climate_c:.1f}°C",
            ]
        )
