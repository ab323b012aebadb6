"""What a request names: the place category and cuisine, a named place, a distance limit and
route preferences. Pure functions, no I/O.

These are lexicons and parsers, not decisions: the trained intent model (`model.py`) decides
*what* the driver asked for; this module only reads the details out of the words once it has.
"""

from __future__ import annotations

import re
from typing import Any

from ..text import Utterance, normal_of, normalize

# Place categories: the words that name them (longest match wins; word boundaries apply).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "charger": (
        "charger",
        "chargers",
        "charging station",
        "charging",
        "supercharger",
        "ev station",
        "plug in",
        "recharge",
    ),
    "gas_station": (
        "gas station",
        "gas",
        "petrol",
        "fuel",
        "filling station",
        "chevron",
        "shell station",
        "valero",
        "76",
        "arco",
    ),
    "coffee": (
        "coffee",
        "coffee shop",
        "cafe",
        "café",
        "starbucks",
        "peets",
        "peet's",
        "espresso",
        "tea",
        "cup of tea",
        "tea place",
        "tea house",
        "boba",
        "barista",
        "coffee or tea place",
    ),
    "restaurant": (
        "restaurant",
        "restaurants",
        "food",
        "eat",
        "dinner",
        "lunch",
        "breakfast",
        "pizzeria",
        "takeout",
        "take out",
        "fast food",
        "diner",
        "bite",
        "mcdonalds",
        "mcdonald's",
        "pizza hut",
        "p.f. changs",
        "pf changs",
        "dominos",
        "domino's",
        "food court",
        "place to eat",
        "eatery",
    ),
    "grocery": (
        "grocery",
        "groceries",
        "grocery store",
        "supermarket",
        "safeway",
        "whole foods",
        "trader joes",
        "trader joe's",
        "market",
    ),
    "shopping": (
        "mall",
        "shopping center",
        "shopping centre",
        "shopping",
        "shop",
        "clothes",
        "clothing",
        "outlet",
        "stores",
        "clothing store",
    ),
    "parking": (
        "parking",
        "park the car",
        "parking garage",
        "parking lot",
        "garage",
        "place to park",
        "can i park",
        "to park",
        "park my car",
        "parking spot",
        "parking space",
    ),
    "hotel": (
        "hotel",
        "motel",
        "inn",
        "place to sleep",
        "sleep",
        "place to stay",
        "stay the night",
        "lodging",
        "hostel",
    ),
    "hospital": ("hospital", "emergency room", "er", "urgent care", "clinic", "doctor"),
    "pharmacy": ("pharmacy", "drugstore", "drug store", "cvs", "walgreens"),
    "rest_stop": ("rest stop", "rest area", "restroom", "bathroom", "toilet"),
    "home": (
        "home",
        "my house",
        "my place",
        "my home",
        "my address",
        "where i live",
        "where do i live",
    ),
    "friend": (
        "friend",
        "friends",
        "friend's",
        "friends'",
        "friend's house",
        "friends house",
        "my friends house",
    ),
    "airport": ("airport",),
    "bank": ("bank", "atm", "cash machine"),
}

# Cuisines: a kind of restaurant. "chinese restaurant" is category restaurant, cuisine chinese;
# a cuisine said alone ("Find pizza.") names a restaurant too.
CUISINES: dict[str, tuple[str, ...]] = {
    "chinese": ("chinese", "dim sum", "dumpling", "dumplings"),
    "pizza": ("pizza", "pizzas", "pizzeria", "pizza hut", "dominos", "domino's"),
    "italian": ("italian", "pasta", "trattoria"),
    "mexican": ("mexican", "tacos", "taco", "burrito", "burritos", "taqueria"),
    "japanese": ("japanese", "sushi", "ramen"),
    "thai": ("thai",),
    "indian": ("indian", "curry"),
    "burger": ("burger", "burgers", "hamburger", "hamburgers", "mcdonalds", "mcdonald's"),
    "korean": ("korean",),
    "vietnamese": ("vietnamese", "pho"),
    "french": ("french", "bistro"),
    "greek": ("greek", "gyro", "gyros"),
    "mediterranean": ("mediterranean", "falafel"),
    "american": ("american",),
    "seafood": ("seafood", "fish and chips"),
    "vegetarian": ("vegetarian", "vegan"),
    "barbecue": ("barbecue", "bbq"),
    "sandwich": ("sandwich", "sandwiches", "deli", "subway"),
    "steak": ("steak", "steakhouse"),
}


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_LEXICON = {word: category for category, words in CATEGORIES.items() for word in words}
_CATEGORY_RE = re.compile(  # plurals too: "hotels", "chargers", "pharmacies" (roughly)
    r"\b(" + _alternation(list(_LEXICON)) + r")(?:s|es)?\b"
)
_CUISINE_OF = {word: cuisine for cuisine, words in CUISINES.items() for word in words}
_CUISINE_RE = re.compile(r"\b(" + _alternation(list(_CUISINE_OF)) + r")\b")


def category_of(text: str | Utterance) -> str | None:
    """The place category a phrase names ("a place to sleep" -> hotel), or None. A cuisine
    alone ("pizza", "chinese food") names a restaurant."""
    found = _CATEGORY_RE.findall(normal_of(text))
    if found:
        # The longest, most specific word names the category ("fast food restaurant").
        return _LEXICON[max(found, key=len)]
    return "restaurant" if cuisine_of(text) else None


def cuisine_of(text: str | Utterance) -> str | None:
    """The cuisine a phrase names ("chinese restaurant" -> chinese), or None."""
    found = _CUISINE_RE.findall(normal_of(text))
    return _CUISINE_OF[max(found, key=len)] if found else None


# Cuisines named after a place are capitalised when written ("a Chinese restaurant"); the rest
# are ordinary words ("a pizza restaurant", "a seafood restaurant").
_PROPER_CUISINES = frozenset(
    {
        "chinese",
        "italian",
        "mexican",
        "japanese",
        "thai",
        "indian",
        "korean",
        "vietnamese",
        "french",
        "greek",
        "mediterranean",
        "american",
    }
)


def cuisine_said(cuisine: str) -> str:
    """How a cuisine is written in a sentence: "Chinese", "pizza"."""
    return cuisine.title() if cuisine in _PROPER_CUISINES else cuisine


def place_kind(text: str | Utterance) -> tuple[str | None, str | None]:
    """(category, cuisine) of a phrase: "pizza restaurant" -> ("restaurant", "pizza")."""
    category = category_of(text)
    return category, cuisine_of(text) if category == "restaurant" else None


# --- distance limits ("within 5 miles", "less than two kilometers away") ----------------------

_NUMBER_WORDS = {
    "a": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "half a": 0.5,
    "a half": 0.5,
}
_UNITS_M = {
    "mile": 1609.344,
    "miles": 1609.344,
    "mi": 1609.344,
    "km": 1000.0,
    "kms": 1000.0,
    "kilometer": 1000.0,
    "kilometers": 1000.0,
    "kilometre": 1000.0,
    "kilometres": 1000.0,
    "block": 100.0,
    "blocks": 100.0,
    "minute": None,
    "minutes": None,
}
_NUMBER = r"(\d+(?:\.\d+)?|" + _alternation(list(_NUMBER_WORDS)) + r")"
_WITHIN = re.compile(
    r"\b(?:within|in|under|less than|no more than|not more than|at most|inside|up to|"
    r"no farther than|no further than)\s+(?:a\s+)?(?:radius of\s+)?"
    + _NUMBER
    + r"\s*("
    + _alternation(list(_UNITS_M))
    + r")\b"
)
_AWAY = re.compile(
    r"\b"
    + _NUMBER
    + r"\s*("
    + _alternation(list(_UNITS_M))
    + r")\s+(?:away|from here|of here|radius|or less|or closer)\b"
)


def distance_limit(text: str | Utterance) -> tuple[float, str] | None:
    """A distance limit the driver set, in metres, with the words said: "within 5 miles" ->
    (8046.72, "5 miles"). Minutes ("within 10 minutes") are not distances: None."""
    t = normal_of(text)
    for pattern in (_WITHIN, _AWAY):
        found = pattern.search(t)
        if not found:
            continue
        number, unit = found.group(1), found.group(2)
        metres_per = _UNITS_M[unit]
        if metres_per is None:
            return None
        value = float(number) if number[0].isdigit() else float(_NUMBER_WORDS[number])
        if value <= 0:
            return None
        return round(value * metres_per, 1), f"{number} {unit}"
    return None


# --- route preferences and other modifiers -----------------------------------------------------

_MODIFIERS = (
    (
        "avoid_traffic",
        re.compile(
            r"\b(avoid\w*|least|no|without|less|around|skip\w*)\b"
            r"[^.]*\btraffic\b|\btraffic[- ]free\b"
        ),
    ),
    (
        "avoid_tolls",
        re.compile(
            r"\b(avoid\w*|no|without|skip\w*)\b[^.]*\btolls?\b|"
            r"\btoll[- ]free\b"
        ),
    ),
    (
        "avoid_highways",
        re.compile(
            r"\b(avoid\w*|no|without|skip\w*|off the)\b[^.]*"
            r"\b(highways?|freeways?|motorways?|interstates?)\b"
        ),
    ),
    # Superlatives only: "the nearest charger" goes there; "chargers nearby" asks which one.
    ("nearest", re.compile(r"\b(nearest|closest|most nearby)\b")),
    ("fastest", re.compile(r"\b(quickest|fastest|quick route|shortest|quickly|fast route)\b")),
)
ROUTE_PREFERENCES = ("avoid_traffic", "avoid_tolls", "avoid_highways", "fastest")


def modifiers(text: str | Utterance) -> dict[str, bool]:
    """The modifiers said: nearest, fastest and the things to avoid."""
    t = normal_of(text)
    return {key: True for key, pattern in _MODIFIERS if pattern.search(t)}


# --- named places ------------------------------------------------------------------------------

_GENERIC = re.compile(
    r"\b(nearest|closest|nearby|local|good|nice|cheap|quick|please|now|"
    r"one|place|a|an|the|some|any|my|route|and|avoid\w*|heavy|traffic|"
    r"all|fastest|quickest|here|there|me|around|near|by|to|of|for|"
    r"within|miles?|km|kilometers?|\d+)\b"
)
# Words that end the name of somewhere you can drive to ("the Tin Whistle Pub", "Halloway
# Park", "418 Larchmont Avenue"): a proper name with one of these is a place, not a plan
# ("sleep", "sally's birthday") or a thing ("a definition").
PLACE_NOUNS = frozenset(
    """park pub bar cafe diner bakery deli bistro grill tavern restaurant pizzeria market store
    shop shops stores mall outlet outlets center centre plaza square school college university
    academy library museum gallery station terminal airport hospital clinic pharmacy hotel inn
    lodge motel hostel resort marina harbor harbour beach pier dock trailhead trail lake river
    bridge church chapel temple mosque synagogue cemetery stadium arena field gym studio theater
    theatre cinema zoo aquarium winery brewery distillery farm ranch garden gardens nursery
    office offices bank salon spa dentist dental vet veterinary kennel garage depot warehouse
    factory campus hall courthouse embassy lighthouse castle fort tower falls canyon hill mount
    mountain valley ridge point island street st avenue ave road rd boulevard blvd lane ln drive
    dr way court ct place highway hwy parkway pkwy""".split()
)


_TRAILING = re.compile(r"(?:\s+(?:please|now|right now|today|tonight|from here|thanks))+$")


def names_a_place(phrase: str) -> bool:
    """A proper place by its words: a name that ends with a place noun ("the Tin Whistle
    Pub", "Halloway Park"; not "a ride to the mall of america", "the convention center
    located")."""
    words = _TRAILING.sub("", normalize(phrase)).split()
    return bool(words) and words[-1] in PLACE_NOUNS and is_proper_place(phrase)


_NAMED_PLACE = re.compile(
    r"\b(?:directions to|direction to|navigate to|navigation to|take me to|drive me to|"
    r"drive to|go to|get me to|route to|head to|heading to|bring me to|send me to|get to|"
    r"going to|way to|directions for|guide me to|steer me to|point me to|set a course for|"
    r"set course for|set the destination to|set destination to|destination is|"
    r"head over to|go over to|drive over to|take us to|get us to|drive us to)"
    r"\s+(?!the nearest|the closest|a |an |some |any )(?:the\s+)?(.+?)"
    r"(?:\s+(?:please|now|right now|asap|and avoid.*|avoiding.*|via .*|using the .*|"
    r"by the .*|with the .*|on the fastest .*|on the quickest .*|fast|quickly))*$"
)
_STOP_PLACE = re.compile(
    r"\b(?:stop (?:at|by|for)|add (?:a )?stop (?:at|by|for)|swing by|"
    r"detour (?:to|via)|stopover at|pit stop at|quick stop at)\s+"
    r"(?:the |a |an |some )?(.+?)"
    r"(?: on the way| along the way| please| first| too| as well)*$"
)


def is_proper_place(phrase: str) -> bool:
    """Does a phrase name a place, beyond a category and fillers ("Beanstalk Coffee" does,
    "the nearest coffee shop" does not)?"""
    rest = _GENERIC.sub(" ", _CUISINE_RE.sub(" ", _CATEGORY_RE.sub(" ", normalize(phrase))))
    return bool(rest.split())


def named_place(text: str | Utterance) -> str | None:
    """The place after "navigate to", "take me to" ... when it names one."""
    found = _NAMED_PLACE.search(normal_of(text))
    return found.group(1).strip() if found and found.group(1).strip() else None


_ASKED_ABOUT = re.compile(
    r"\b(?:how (?:far|long|many (?:miles|minutes|kilometers|kilometres)) (?:away )?"
    r"(?:is it |are we |will it take |would it take |does it take |do i have )?"
    r"(?:from here |to drive |to get |to go |to walk )?(?:(?:is|to|from|till|until) )?|"
    r"(?:what's|what is) the (?:distance|drive|driving time|drive time) (?:to|from here to) |"
    r"distance to |time to get to )"
    r"(?:(?:to|get to|reach) )?(?:the )?(.+?)(?: from here| away| by car| right now| now)*$"
)
# The trip's own ("how long until we get there", "how long is the drive"): no place asked.
_NO_PLACE = re.compile(
    r"^(?:go|left)$|\b(?:it|that|there|we|us|drive|trip|journey|destination|arrive|arrival|"
    r"next stop|the stop|ride)\b"
)


def asked_about(text: str | Utterance) -> str | None:
    """The place a distance or time question asks about ("how far is Beanstalk Coffee",
    "how long to get to the airport"), or None for the trip's own ("how far is it")."""
    found = _ASKED_ABOUT.search(normal_of(text))
    if found is None:
        return None
    place = found.group(1).strip()
    return None if not place or _NO_PLACE.search(place) else place


def stop_place(text: str | Utterance) -> str | None:
    """The place after "stop at", "swing by" ... ("stop at Luigi's on the way")."""
    found = _STOP_PLACE.search(normal_of(text))
    return found.group(1).strip() if found else None


def place_slots(text: str | Utterance) -> dict[str, Any]:
    """Every place detail in a request: category, cuisine, distance limit, modifiers."""
    slots: dict[str, Any] = dict(modifiers(text))
    category, cuisine = place_kind(text)
    if category:
        slots["category"] = category
    if cuisine:
        slots["cuisine"] = cuisine
    limit = distance_limit(text)
    if limit:
        slots["within_m"], slots["distance"] = limit
    return slots
