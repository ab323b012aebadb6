"""The route map: the planned route drawn with braille dots (plotext through
textual-plotext, which scales it to any widget size), the start, the stops, the destination
and the car's position, redrawn as the simulated drive moves. North is up; the shape keeps
its proportions (longitude scaled by the latitude, the frame widened to the widget)."""

from __future__ import annotations

import math
from typing import Any

from textual_plotext import PlotextPlot

CAR, START, STOP, GOAL = "◆", "○", "•", "■"


class RouteMap(PlotextPlot):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data: dict[str, Any] | None = None

    def show(self, data: dict[str, Any] | None) -> None:
        self.data = data
        self.display = bool(data and len(data.get("route", [])) >= 2)
        if self.display:
            self.replot()

    def on_resize(self) -> None:
        if self.data:
            self.replot()

    def replot(self) -> None:
        data = self.data
        plt = self.plt
        plt.clear_figure()
        plt.frame(False)
        plt.xaxes(False, False)
        plt.yaxes(False, False)
        plt.xticks([])
        plt.yticks([])
        if not data:
            self.refresh()
            return
        route = data["route"]
        scale = math.cos(math.radians(route[0][0]))  # a degree of longitude is shorter

        def xy(points: list[list[float]]) -> tuple[list[float], list[float]]:
            return [p[1] * scale for p in points], [p[0] for p in points]

        xs, ys = xy(route)
        plt.plot(xs, ys, marker="braille", color="cyan")
        plt.scatter(*xy([route[0]]), marker=START, color="white")
        if data.get("stops"):
            plt.scatter(*xy(data["stops"]), marker=STOP, color="yellow")
        if data.get("destination"):
            plt.scatter(*xy([data["destination"]]), marker=GOAL, color="red")
        plt.scatter(*xy([data["here"]]), marker=CAR, color="green")
        self._fit(xs, ys)
        self.refresh()

    def _fit(self, xs: list[float], ys: list[float]) -> None:
        """Limits that keep the route's proportions in this widget (braille: a cell is two
        dots wide and four high, and a cell is about twice as high as it is wide, so a dot
        is square)."""
        width, height = max(1, self.size.width), max(1, self.size.height)
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        span_x, span_y = max(x1 - x0, 1e-5), max(y1 - y0, 1e-5)
        want = (width * 2) / (height * 4)  # x span per y span that fills the widget
        if span_x / span_y < want:
            span_x = span_y * want
        else:
            span_y = span_x / want
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        margin = 1.08
        self.plt.xlim(cx - span_x * margin / 2, cx + span_x * margin / 2)
        self.plt.ylim(cy - span_y * margin / 2, cy + span_y * margin / 2)
