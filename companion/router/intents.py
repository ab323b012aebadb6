"""Local intent recognition for in-car requests: navigation, search, assistant control.

Pure functions, no network, a few microseconds per utterance. Built and measured on real
driver phrasing (Stanford KVRET: typos, fillers like "Car, ...", implicit requests like "give
me directions to a place to sleep"); see `tests/test_intents.py` and `benchmarks/nlu.py`.

How it decides, in order:
1. assistant control ("stop", "cancel the route", "repeat that", "louder");
2. trip questions ("how long until we get there", "how far", "where am I");
3. weather (a search, never navigation unless the driver also asks for directions);
4. navigation: a directional cue ("directions to", "take me", "navigate", "where can I get",
   "nearest") or a place category said as a need ("I need a gas station", "Find pizza.");
   the category comes from a lexicon of place words, the modifiers ("nearest", "avoid heavy
   traffic") become slots;
5. search ("look up", "search for", "what is", "when does ... open");
6. everything else is conversation for the active persona (calendar requests included: there
   is no calendar skill).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recognized:
    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    confidence: float = 1.0


# Place categories: the words that name them (longest match wins; word boundaries apply).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "charger": ("charger", "chargers", "charging station", "charging", "supercharger",
                "ev station", "plug in", "recharge"),
    "gas_station": ("gas station", "gas", "petrol", "fuel", "filling station", "chevron",
                    "shell station", "valero", "76", "arco"),
    "coffee": ("coffee", "coffee shop", "cafe", "café", "starbucks", "peets", "peet's",
               "espresso", "tea", "cup of tea", "tea place", "tea house", "boba", "barista"),
    "restaurant": ("restaurant", "restaurants", "food", "eat", "dinner", "lunch",
                   "breakfast", "pizza", "pizzeria", "chinese", "takeout", "take out",
                   "fast food", "burger", "burgers", "sushi", "tacos", "mexican", "thai",
                   "italian", "indian", "diner", "bite", "mcdonalds", "mcdonald's",
                   "pizza hut", "p.f. changs", "pf changs", "dominos", "domino's", "sandwich"),
    "grocery": ("grocery", "groceries", "grocery store", "supermarket", "safeway",
                "whole foods", "trader joes", "trader joe's", "market"),
    "shopping": ("mall", "shopping center", "shopping centre", "shopping", "shop",
                 "clothes", "clothing", "outlet", "stores"),
    "parking": ("parking", "park the car", "parking garage", "parking lot", "garage",
                "place to park", "can i park", "to park", "park my car"),
    "hotel": ("hotel", "motel", "inn", "place to sleep", "sleep", "place to stay",
              "stay the night", "lodging", "hostel"),
    "hospital": ("hospital", "emergency room", "er", "urgent care", "clinic", "doctor"),
    "pharmacy": ("pharmacy", "drugstore", "drug store", "cvs", "walgreens"),
    "rest_stop": ("rest stop", "rest area", "restroom", "bathroom", "toilet"),
    "home": ("home", "my house", "my place", "my home", "my address", "where i live",
             "where do i live"),
    "friend": ("friend", "friends", "friend's", "friends'", "friend's house",
               "friends house", "my friends house"),
    "airport": ("airport",),
    "bank": ("bank", "atm", "cash machine"),
}

_LEXICON = sorted(
    ((word, category) for category, words in CATEGORIES.items() for word in words),
    key=lambda item: -len(item[0]),
)
_CATEGORY_RE = re.compile(  # plurals too: "hotels", "chargers", "pharmacies" (roughly)
    r"\b(" + "|".join(re.escape(word) for word, _ in _LEXICON) + r")(?:s|es)?\b"
)
_CATEGORY_OF = {word: category for word, category in _LEXICON}

_NAV_CUES = re.compile(
    r"\b("
    r"directions?|navigat\w*|route|take me|drive me|drive to|bring me|get me to|send me|"
    r"go to|going to|head(?:ing)? to|get to|want to go|wanna go|need to go|let's go|lets go|"
    r"how do i get|address|where(?:'s| is| are)|where (?:can|could|do|should) i|where i can|"
    r"where to|nearest|closest|nearby|near|around here|around me|close by|close to me|"
    r"quickest|fastest|on the map|find (?:me )?(?:a|an|the|some)?|looking for|"
    r"need (?:a|an|the|some)|in need of|want (?:a|an|some)|show me|locate|"
    r"place to|somewhere to|i'm hungry|im hungry|desiring|craving"
    r")\b"
)
# Asking for a way there (weather and calendar words do not override these).
_DIRECTIONAL = re.compile(r"\b(directions?|navigat\w*|route|take me|drive me|on the map|"
                          r"address)\b")
_WEATHER = re.compile(
    r"\b(weather|forecast|temperature|rain\w*|snow\w*|sunny|sun|cloud\w*|fog\w*|mist\w*|"
    r"wind\w*|humid\w*|hot|cold|warm|cool|freez\w*|dry|drizzle|hail|blizzard|storm\w*|"
    r"clear skies|degrees|heat ?wave|frost\w*|dew|overcast)\b"
)
_SCHEDULE = re.compile(
    r"\b(appointment|appointments|meeting|meetings|remind\w*|reminder|schedule\w*|calendar|"
    r"lesson|lessons|conference|agenda|activity)\b"
)
_TRIP_ETA = re.compile(
    r"\b(how long (?:until|till|til|to|before|will it take|is the drive)|when (?:will|do) we "
    r"(?:get|arrive|be there)|what(?:'s| is) (?:the|our|my) eta|\beta\b|arrival time|"
    r"time (?:left|remaining)|are we there yet)"
)
_TRIP_DISTANCE = re.compile(r"\b(how far|how many (?:miles|kilometers|km)|distance (?:left|to))")
_WHERE_AM_I = re.compile(r"\b(where am i|where are we|what street is this|our location)\b")
_CONTROL = (
    ("control.stop", re.compile(r"^(?:stop|be quiet|quiet|shut up|enough|silence|pause)"
                                r"(?: (?:it|that|talking|please|now))*$")),
    ("navigation.cancel", re.compile(r"\b(cancel|stop|end|clear) (?:the |my )?(?:route|"
                                     r"navigation|trip|directions|guidance)\b")),
    ("control.repeat", re.compile(r"^(?:repeat(?: that)?|say (?:that|it) again|what did you "
                                  r"say|come again|pardon)(?: please)?$")),
    ("control.louder", re.compile(r"\b(louder|volume up|turn (?:it|the volume) up|speak up)\b")),
    ("control.quieter", re.compile(r"\b(quieter|softer|volume down|turn (?:it|the volume) "
                                   r"down|lower the volume)\b")),
    ("control.cancel", re.compile(r"^(?:cancel|never ?mind|forget it)(?: that| it)?$")),
)
_ADD_STOP = re.compile(r"\b((?:add|at|and) (?:a )?stop|stop (?:at|by|for)|on the way|along the way|"
                       r"detour|swing by|pick up .* on the way)\b")
# "stop at Luigi's on the way": the place after the stop words.
_STOP_PLACE = re.compile(r"\b(?:stop (?:at|by|for)|add (?:a )?stop (?:at|by|for)|swing by|"
                         r"detour (?:to|via))\s+(?:the |a |an |some )?(.+?)"
                         r"(?: on the way| along the way| please| first)*$")
_SEARCH = re.compile(
    r"^(?:search(?: the web)? for|look up|lookup|google|find out|tell me about|"
    r"what(?:'s| is| are| was| were| does| do| did| should)|who(?:'s)?|"
    r"when (?:does|do|is|did|was|should)|how (?:do|does|many|much|can|should|often|long does)|"
    r"why (?:is|do|does|did)|is it (?:safe|ok|okay|legal))\b"
)
_ABOUT_YOU = re.compile(r"\b(you|your|yourself|you're|we|us|our)\b")
_LOOKUP_COMMAND = re.compile(r"^(?:search(?: the web)? for|look up|lookup|google|find out)\b")
_WH_QUESTION = re.compile(r"^(?:what|when|who|why|which|how|is|are|do|does|did|can|could)\b")
_FILLER = re.compile(r"^(?:(?:hey |ok |okay )?car|please|hey|ok|okay|um+|uh+|so|well)\b[ ,]*")
_MODIFIERS = (
    ("avoid_traffic", re.compile(r"\b(avoid\w*|least|no|without)\b[^.]*\btraffic\b")),
    ("nearest", re.compile(r"\b(nearest|closest|nearby|near me|near here|around here|"
                           r"around me|close by|close to me|local)\b")),
    ("fastest", re.compile(r"\b(quickest|fastest|quick route|shortest)\b")),
)
_NAMED_PLACE = re.compile(
    r"\b(?:directions to|navigate to|take me to|drive me to|drive to|go to|get me to|"
    r"route to|head to|bring me to|send me to)\s+(?!the nearest|the closest|a |an |some )"
    r"(?:the\s+)?(.+)$"
)


def normalize(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^\w\s'&.-]", " ", text)
    text = re.sub(r"(?<!\w)\.|\.(?!\w)", " ", text)  # sentence dots, not "p.f." or "3.5"
    text = " ".join(text.split())
    for _ in range(3):
        text = _FILLER.sub("", text).strip()
    return text


def category_of(text: str) -> str | None:
    """The place category a phrase names ("a place to sleep" -> hotel), or None."""
    found = _CATEGORY_RE.findall(normalize(text))
    if not found:
        return None
    # The longest, most specific word names the category ("fast food restaurant" -> food).
    return _CATEGORY_OF[max(found, key=len)]


_GENERIC = re.compile(r"\b(nearest|closest|nearby|local|good|nice|cheap|quick|please|now|"
                      r"one|place|a|an|the|some|any|my|route|and|avoid\w*|heavy|traffic|"
                      r"all|fastest|quickest)\b")


def _is_proper_place(phrase: str) -> bool:
    """Does the object of "navigate to ..." name a place, beyond a category and fillers?"""
    rest = _GENERIC.sub(" ", _CATEGORY_RE.sub(" ", phrase))
    return bool(rest.split())


def recognize(text: str) -> Recognized:
    """Classify one utterance (already known not to be a persona switch)."""
    t = normalize(text)
    if not t:
        return Recognized("conversation", confidence=0.0)
    for name, pattern in _CONTROL:
        if pattern.search(t):
            return Recognized(name)
    if _TRIP_ETA.search(t):
        return Recognized("navigation.eta")
    if _TRIP_DISTANCE.search(t) and not _CATEGORY_RE.search(t):
        return Recognized("navigation.distance")
    if _WHERE_AM_I.search(t):
        return Recognized("navigation.where_am_i")

    cue = _NAV_CUES.search(t)
    category = category_of(t)
    directional = bool(_DIRECTIONAL.search(t))
    stop_at = _STOP_PLACE.search(t)
    if stop_at and _ADD_STOP.search(t) and not category and not _WEATHER.search(t):
        return Recognized("navigation.add_stop", {"place": stop_at.group(1)}, 0.85)
    if _WEATHER.search(t) and not directional:
        return Recognized("search.weather", {"query": text.strip()})
    if _SCHEDULE.search(t) and not directional:
        return Recognized("conversation", confidence=0.6)

    if cue or category:
        slots: dict[str, Any] = {}
        for key, pattern in _MODIFIERS:
            if pattern.search(t):
                slots[key] = True
        named = _NAMED_PLACE.search(t)
        if category:
            slots["category"] = category
        if category in ("home", "friend"):
            return Recognized("navigation.start", {**slots, "place": category}, 0.9)
        if named and (not category or _is_proper_place(named.group(1))):
            # "navigate to Stanford Shopping Center": a named place, whatever its category.
            return Recognized("navigation.start", {**slots, "place": named.group(1)}, 0.85)
        if category and _ADD_STOP.search(t):
            if stop_at and _is_proper_place(stop_at.group(1)):
                slots["place"] = stop_at.group(1)  # "stop at Beanstalk Coffee": a name
            return Recognized("navigation.add_stop", slots, 0.9)
        # A place word alone is a request only when it is said as one ("Pizza.", "gas station
        # please"), not inside a question about something else ("the date of our dinner").
        if category and (cue or (len(t.split()) <= 4 and not _WH_QUESTION.match(t))):
            return Recognized("navigation.find_nearby", slots, 0.95 if cue else 0.75)
    search = _SEARCH.search(t)
    if search and _ABOUT_YOU.search(t) and not _LOOKUP_COMMAND.match(t):
        search = None  # "what do you think", "tell me about your day": talk, not a search
    if search or t.startswith("search "):
        # "look up X" searches for X; a question is searched for as asked.
        command = search and not _WH_QUESTION.match(t)
        query = t[search.end():].strip() if command else t.removeprefix("search ")
        return Recognized("search.lookup", {"query": query or t}, 0.7)
    return Recognized("conversation", confidence=0.5)
