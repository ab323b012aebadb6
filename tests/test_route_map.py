"""The route map on the navigation card: the route, its ends and the car, redrawn as the
simulated drive moves, at 80x24 and 160x48."""

from __future__ import annotations

import pytest

from companion.ui.widgets.route_map import CAR, GOAL, START, RouteMap
from tests.ui_helpers import make_app, nav_text, type_text, wait_until


def map_text(widget: RouteMap) -> list[str]:
    return ["".join(seg.text for seg in widget.render_line(y)) for y in range(widget.size.height)]


def car_column(lines: list[str]) -> int:
    return next(line.index(CAR) for line in lines if CAR in line)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_map_shows_the_route_and_the_car_moving_along_it(tmp_path, size):
    app = make_app(tmp_path, None, tick_s=0.2, navigation__sim_speedup=15.0)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: "No route" in nav_text(app), what="maps loaded")
        assert not app.query(RouteMap)  # no route, no map (and no plotext import yet)
        await type_text(pilot, "take me to bluebird coffee")
        await wait_until(pilot, lambda: "Bluebird" in nav_text(app), what="the route")
        await pilot.pause(0.3)
        route_map = app.query_one(RouteMap)
        assert route_map.display and route_map.size.height >= 5
        first = map_text(route_map)
        drawn = "".join(first)
        assert GOAL in drawn and CAR in drawn and START in drawn
        assert any("\u2800" < ch <= "\u28ff" for ch in drawn)  # the route in braille

        # As the drive goes on (it runs 15x), the car moves along the route toward the goal.
        def closer() -> bool:
            later = map_text(route_map)
            if later == first or CAR not in "".join(later) or GOAL not in "".join(later):
                return False
            goal = next(line.index(GOAL) for line in later if GOAL in line)
            return abs(car_column(later) - goal) < abs(car_column(first) - goal)

        await wait_until(pilot, closer, timeout=30, what="the car moving toward the goal")
        # Cancelling the route hides the map again.
        await type_text(pilot, "cancel the route")
        await wait_until(pilot, lambda: not route_map.display, what="the map hidden")
