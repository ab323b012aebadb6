"""The details of a request about the car, read out of the words once the intent model has said
it is one (`car.status`, `car.climate`, `car.range`).

- `status_topic`: which reading the driver asks for (battery, range, outside, cabin, speed,
  gear, odometer, or an overview);
- `climate_request`: set to a value, warmer/cooler (by a step or by a number), on, off, or
  a question about the setting; the value's unit as said (°C or °F), if said;
- `range_request`: what is asked (can I make it / must I charge / charge on arrival) and
  the destination, as navigation reads one.

Word lists, not sentences: they name the things a driver can ask about, in any phrasing.
"""

from __future__ import annotations

import re
from typing import Any

from ..text import Utterance, normal_of
from .slots import category_of, place_slots

# --- numbers, as digits or words ("twenty two and a half") -------------------------------------

_UNITS_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS_WORDS = {
    w: 10 * i
    for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split())
    if w != "_"
}
_WORD = "|".join(sorted([*_UNITS_WORDS, *_TENS_WORDS], key=len, reverse=True))
NUMBER = (
    r"((?:\d+(?:\.\d+)?|(?:" + _WORD + r")(?:[ -](?:" + _WORD + r"))?)"
    r"(?:\s+(?:and a half|point five))?)"
)
_NUMBER_RE = re.compile(r"\b" + NUMBER)


def number_value(said: str) -> float | None:
    """'23' -> 23.0, 'twenty two' -> 22.0, 'seventy and a half' -> 70.5; None if not a number."""
    said = said.strip()
    half = 0.5 if re.search(r"(?:and a half|point five)$", said) else 0.0
    said = re.sub(r"\s+(?:and a half|point five)$", "", said)
    try:
        return float(said) + half
    except ValueError:
        pass
    total = 0
    for word in re.split(r"[ -]", said):
        if word in _TENS_WORDS:
            total += _TENS_WORDS[word]
        elif word in _UNITS_WORDS:
            total += _UNITS_WORDS[word]
        else:
            return None
    return total + half


# --- car.status ----------------------------------------------------------------------------------

_TOPICS = (  # first match wins: "range" before "battery" ("battery range" asks the range)
    ("odometer", r"odometer|mileage on the car|miles on the car|total (?:miles|kilometers)"),
    (
        "range",
        r"range|how far (?:can|could|will) (?:we|i|it|the car)|miles left|"
        r"kilometers left|kilometres left|miles (?:do|can|will)|distance left on",
    ),
    ("battery", r"battery|charge|charged|state of charge|soc|juice|percent|kwh"),
    ("outside", r"outside|outdoors|out there|ambient|exterior"),
    (
        "cabin",
        r"cabin|inside|in here|in the car|climate|thermostat|ac\b|a c\b|heat(?:ing|er)?|"
        r"temperature set|set to|setting|fan|air conditioning",
    ),
    ("speed", r"speed|how fast|going fast|mph|km ?h|kilometers per hour|miles per hour"),
    ("gear", r"gear|in park|in drive|parked|reverse|neutral"),
)
_TOPIC_RES = [(name, re.compile(r"\b(?:" + words + r")")) for name, words in _TOPICS]
_TEMPERATURE = re.compile(r"\b(?:temperature|temp|degrees|hot|cold|warm|chilly)\b")


def status_topic(text: str | Utterance) -> str:
    """What a `car.status` request asks about; "overview" when it names nothing in
    particular ("how's the car doing")."""
    t = normal_of(text)
    for name, pattern in _TOPIC_RES:
        if pattern.search(t):
            return name
    if _TEMPERATURE.search(t):  # "what's the temperature": in a car, the cabin's
        return "cabin"
    return "overview"


# --- car.climate ---------------------------------------------------------------------------------

_FAHRENHEIT = re.compile(r"\b(?:f|fahrenheit|farenheit|degrees f)\b")
_CELSIUS = re.compile(r"\b(?:c|celsius|centigrade|degrees c)\b")
_OFF = re.compile(
    r"\b(?:turn|switch|shut|power)(?: the)? (?:\w+ )?(?:\w+ )?off\b|"
    r"\b(?:turn|switch|shut|power) off\b|\bstop the (?:ac|a c|air|heat|heater|heating|fan|"
    r"climate|air conditioning)\b|\b(?:ac|heat|heater|heating|climate|fan) off\b"
)
_ON = re.compile(
    r"\b(?:turn|switch|put|power)(?: the)? (?:\w+ )?(?:\w+ )?on\b|\b(?:turn|switch|power) on\b|"
    r"\bstart the (?:ac|a c|air|heat|heater|heating|fan|climate|air conditioning)\b|"
    r"\b(?:ac|heat|heater|heating|climate|fan) on\b"
)
_UP = re.compile(
    r"\b(?:warmer|hotter|warm (?:it|things|the \w+) up|heat (?:it|things|the \w+) up|"
    r"turn (?:up|it up)|crank (?:up|it up)|bump (?:up|it up)|raise|increase|up|higher|"
    r"more heat|cold|freezing|chilly|frozen)\b"
)
_DOWN = re.compile(
    r"\b(?:cooler|colder|cool (?:it|things|the \w+) down|turn (?:down|it down)|lower|"
    r"decrease|reduce|down|less heat|hot|warm|boiling|stuffy|sweating|roasting|too warm)\b"
)
_BY = re.compile(
    r"\bby " + NUMBER + r"|\b" + NUMBER + r"\s*(?:more )?(?:degrees? |deg )?(?:c |f )?"
    r"(?:warmer|cooler|colder|hotter|higher|lower|up|down|more|less)\b"
)
_TO = re.compile(r"\b(?:to|at|on|for|make it|set it|keep it) " + NUMBER + r"(?! (?:minutes?|%))")
_VALUE = re.compile(NUMBER + r"\s*(?:degrees?|deg|c|f|celsius|fahrenheit)\b")
_ASKS = re.compile(
    r"^(?:what(?:'s| is| are)|what's|how (?:warm|cold|hot)|is the|are the|tell me)\b|"
    r"\bset to\??$"
)


# Climate features the demo car doesn't have: said honestly, never pretended.
_UNSUPPORTED = re.compile(
    r"\b(defrost\w*|defog\w*|seat (?:heater|heating|cooling|warmer)s?|heated seats?|"
    r"cooled seats?|steering wheel (?:heater|heating)|heated steering wheel|fan speed|"
    r"recirculat\w*|fresh air mode|sunroof|windows?)\b"
)


def climate_request(text: str | Utterance) -> dict[str, Any]:
    """`action`: set | up | down | on | off | query | unsupported (a feature the car lacks,
    named in `feature`); `value` (for set) or `by` (for up/down, when said), and `unit`
    ("C" or "F") when the driver said one."""
    t = normal_of(text)
    missing = _UNSUPPORTED.search(t)
    if missing is not None:
        return {"action": "unsupported", "feature": missing.group(1)}
    slots: dict[str, Any] = {}
    if _FAHRENHEIT.search(t):
        slots["unit"] = "F"
    elif _CELSIUS.search(t):
        slots["unit"] = "C"
    by = _BY.search(t)
    down, up = bool(_DOWN.search(t)), bool(_UP.search(t))
    to = _TO.search(t)
    if to is None and by is None:
        said = _VALUE.search(t)  # "up 2 degrees" is a step; "22 degrees please" a setting
        if said is not None and (up or down):
            by = said
        else:
            to = said
    if by is not None:
        amount = number_value(next(g for g in by.groups() if g))
        if amount is not None:
            slots["by"] = amount
    if to is not None and by is None:
        value = number_value(to.group(1))
        if value is not None:
            return {"action": "set", "value": value, **slots}
    if "by" in slots or (up != down):
        # "turn the heat down" is down even though "heat" is in it; "I'm cold" is up
        if down and up:
            down = bool(re.search(r"\b(?:down|cooler|colder|lower|decrease|reduce)\b", t))
        return {"action": "down" if down else "up", **slots}
    if _OFF.search(t):
        return {"action": "off", **slots}
    if _ON.search(t):
        return {"action": "on", **slots}
    if _ASKS.search(t):
        return {"action": "query", **slots}
    return {"action": "up" if up else "down" if down else "query", **slots}


# --- car.range -----------------------------------------------------------------------------------

_NEED_CHARGE = re.compile(
    r"\b(?:need|have|got|going) to (?:re)?charge|\bcharge (?:before|on the way|along)|"
    r"\b(?:stop|stopping) (?:to|and) (?:re)?charge|\b(?:need|want) a charger|\brecharge\b|"
    r"\bcharging stop\b|\bneed (?:to stop for )?(?:a )?charge\b"
)
_ARRIVAL = re.compile(
    r"\b(?:how much|what|how many percent|what percent|how many miles|how many kilometers)\b"
    r".*\b(?:battery|charge|range|percent|left|remaining)\b.*\b(?:when|by the time|once|after|"
    r"on arrival|arrive|arriving|get there|get to|reach)\b|"
    r"\b(?:arrive|get there|get to \w+) with\b|\b(?:left|remaining) (?:at|in|by|when|once)\b|"
    r"\bwhat will (?:the |my |our )?(?:battery|charge|range|percentage)\b"
)
# Where the destination is said, most specific first; what follows it is cut by _TAIL.
_PLACE_AFTER = [
    re.compile(p)
    for p in (
        r"\b(?:before|on the way to|to get to|to reach|to make it to) (?:i (?:get|reach) )?(.+)$",
        r"\b(?:get|make it|go|drive|back|take (?:me|us)|bring (?:me|us)) (home)\b",
        r"\b(?:make it|get|drive|go|reach|take|bring|getting|driving|going|arrive|arriving|"
        r"end up|make the trip|do the drive|trip|drive|ride|be|last) (?:me |us |you |it )?"
        r"(?:all the way |back |there )?(?:to|at|in|into|until|till) (.+)$",
        r"\b(?:reach|reaching) (.+)$",
        r"\b(?:left|be|have|with) (?:at|in|by) (.+)$",
        r"\benough (?:\w+ )?(?:for|to get to) (.+)$",
        r"\b(?:range|charge|battery) for (.+)$",
        r"^(?:is|are|will|would) (.+?) (?:be )?(?:within|in|out of|too far|reachable|doable|"
        r"within reach|possible)\b",
    )
]
_TAIL = re.compile(
    r"\s+(?:(?:on|with) (?:this|the|my|one|a|the current|our|what's left|what i have|enough|"
    r"what's left)\b.*|"
    r"without\b.*|and back\b.*|there and back|before (?:i|we)\b.*|(?:today|tonight|please|now|"
    r"safely|ok|okay|on one charge|on a single charge|in one go|in one charge)\b.*|"
    r"(?:is|be) (?:within|in|out of|too far)\b.*|too far\b.*|within range\b.*|"
    r"(?:when|once|by the time|if)\b.*)$"
)
_NOT_A_PLACE = re.compile(
    r"^(?:it|there|that|this|here|this charge|the destination|my destination|our destination|"
    r"destination|where we're going|where i'm going|we need to \w+|i need to \w+|"
    r"the trip|this trip|a trip|the drive|charge|the battery|battery|the charge|range|"
    r"enough|we arrive|i arrive|we get there|i get there)?$"
)
_CLAUSE = re.compile(r"^(?:when|once|by the time|if|after|we|i|make it)\b")
_ROUND_TRIP = re.compile(r"\b(?:and back|there and back|round trip|return trip)\b")
_TRIMMED = re.compile(r"^(?:to|at|in|the|a|an)\s+|\s+(?:and|or|with|on|if|then)$")


def _destination(t: str) -> str | None:
    for pattern in _PLACE_AFTER:
        found = pattern.search(t)
        if found is None:
            continue
        place = found.group(1).strip(" ?.,")
        for _ in range(3):
            place = _TAIL.sub("", place).strip()
            place = _TRIMMED.sub("", place).strip()
        if place and not _NOT_A_PLACE.match(place) and not _CLAUSE.match(place):
            return place
    return None


def range_request(text: str | Utterance) -> dict[str, Any]:
    """`asks`: make_it | need_charge | arrival; `place` (a name, "home", or a kind of place's
    category under `category`) when the request names a destination; none: the current trip."""
    t = normal_of(text)
    asks = (
        "arrival" if _ARRIVAL.search(t) else "need_charge" if _NEED_CHARGE.search(t) else "make_it"
    )
    slots: dict[str, Any] = {"asks": asks}
    if _ROUND_TRIP.search(t):
        slots["round_trip"] = True
    place = _destination(t)
    if place:
        category = category_of(place)
        if category and category not in ("home", "friend") and len(place.split()) <= 3:
            slots.update(place_slots(place))  # "the nearest charger", "a gas station"
        slots["place"] = "home" if category == "home" else place
    return slots
