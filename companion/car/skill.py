"""The `car.*` skill: the car's readings, its climate and "can I make it?", answered from the
car and the navigator, never from the language model, and with no network.

- `car.status`: one reading (battery, range, outside, cabin, speed, gear, odometer) or all;
- `car.climate`: set, warmer/cooler, on/off, or what it is set to; the setpoint the dock
  shows changes (the drive posts a `DriveUpdate`), clamped to the car's limits, and the
  change is shown as an action like a route;
- `car.range`: the destination resolved as navigation does (or the current trip), its
  energy against the battery with a reserve, yes or no with the numbers; on a no, the
  navigator asks "Shall I add a charger on the way?" and a "yes" adds one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..events import ActionTaken
from ..navigation.charging import plan
from . import answers
from .answers import CarAnswer
from .energy import reach
from .state import Car

if TYPE_CHECKING:
    from ..navigation.navigator import Navigator
    from ..turns.turn import Answer, Turn


class CarControls(Protocol):
    """What the skill needs of the car's owner (`drive.SimulatedDrive`)."""

    car: Car
    units: str  # mi | km
    temperature: str  # C | F
    reserve_percent: float
    warned_for: str | None  # the destination the driver was told would need a charge

    def set_climate(self, celsius: float) -> float: ...

    def set_climate_on(self, on: bool) -> None: ...


NO_DESTINATION = "Where to? {range_said}"
NO_PLACE = "I couldn't find {place}, so I can't say whether the battery reaches it."
NO_FEATURE = (
    "I can set the cabin temperature and turn the climate on or off, but not the {feature} yet."
)
NO_NAVIGATION = "Navigation is off, so I can't work out that trip. {range_said}"


class CarSkill:
    name = "car"
    handles = frozenset({"car"})
    changes_state = True  # the climate, and the charger question

    def __init__(self, controls: CarControls, navigator: Navigator | None = None) -> None:
        self.controls = controls
        self.navigator = navigator

    async def answer(self, turn: Turn) -> Answer:
        kind = turn.intent.name.partition(".")[2]
        if kind == "climate":
            said = self.climate(turn.intent.slots)
        elif kind == "range":
            said = await self.range(turn.intent.slots)
        else:
            c = self.controls
            topic = str(turn.intent.slots.get("topic") or "overview")
            said = answers.status(c.car, topic, c.units, c.temperature)
        summary = _summary(said, self.controls.units, self.controls.temperature)
        turn.emit(ActionTaken(turn.id, "car", said.action, summary, said.data))
        turn.remember(said.text)
        return await turn.say(said.text)

    def climate(self, slots: dict[str, object]) -> CarAnswer:
        c = self.controls
        action = str(slots.get("action") or "query")
        if action == "unsupported":
            return CarAnswer(NO_FEATURE.format(feature=slots.get("feature")), "unsupported")
        if action in ("on", "off"):
            c.set_climate_on(action == "on")
            return answers.climate_said(c.car, None, action, c.temperature)
        asked = answers.climate_target(c.car, dict(slots), c.temperature)
        if asked is not None:
            c.set_climate(asked)
        return answers.climate_said(c.car, asked, action, c.temperature)

    async def range(self, slots: dict[str, object]) -> CarAnswer:
        c, navigator = self.controls, self.navigator
        range_said = answers.status(c.car, "range", c.units, c.temperature).text
        place, category = str(slots.get("place") or ""), slots.get("category")
        if navigator is None:
            return CarAnswer(NO_NAVIGATION.format(range_said=range_said), "no_navigation")
        trip = navigator.trip
        if place:
            planned = await plan(navigator, place, str(category) if category else None)
            if planned is None:
                said = place.title() if place.islower() else place
                return CarAnswer(NO_PLACE.format(place=said), "no_match", {"query": place})
            goal, route = planned
            km, speed = route.distance_m / 1000, route.speed_mps * 3.6
        elif trip.active:
            goal, km, speed = trip.goal, trip.remaining_m / 1000, trip.speed_kmh
        else:
            return CarAnswer(NO_DESTINATION.format(range_said=range_said), "no_destination")
        if slots.get("round_trip"):
            km *= 2
        r = reach(c.car, km, speed or None, c.reserve_percent)
        asks = str(slots.get("asks") or "make_it")
        where = f"{goal.label} and back" if slots.get("round_trip") else goal.label
        text = answers.reach_said(where, r, asks, c.units)
        if not r.makes_it:
            navigator.offer_charger(goal)
            c.warned_for = goal.label  # told already: no unprompted warning for it
        data = {
            "destination": goal.label,
            "makes_it": r.makes_it,
            "distance_km": round(r.distance_km, 1),
            "range_km": round(r.range_km, 1),
            "arrival_percent": round(r.arrival_percent),
            "reserve_percent": r.reserve_percent,
        }
        return CarAnswer(text, "range_yes" if r.makes_it else "range_no", data)


def _summary(said: CarAnswer, units: str, unit: str) -> str:
    """One line for the screen, like a route's: "Climate on · cabin 23.0 °C"."""
    data = said.data
    if said.action.startswith("climate"):
        state = "on" if data.get("climate_on") else "off"
        setpoint = answers.to_unit(float(data.get("climate_c", 0.0)), unit)
        return f"Climate {state} · cabin {setpoint:.1f} °{unit}"
    if said.action.startswith("range_"):
        verdict = "reachable" if data["makes_it"] else "needs a charge"
        distance = answers.per_unit(data["distance_km"], units)
        return (
            f"{data['destination']} · {distance:.0f} {units} · {verdict}, "
            f"arriving with {max(0, data['arrival_percent'])} %"
        )
    return said.text
