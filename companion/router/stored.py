"""The details of a request about what the car keeps between drives: a place to save, forget
or rename (`places.*`), a fact to remember or forget (`memory.*`). The trained model decides
*that* it is such a request; these read *what* out of the words it said."""

from __future__ import annotations

import re
from typing import Any

from ..text import Utterance

_POLITE = r"^(?:(?:please|ok|okay|hey|car|so|now|can you|could you|would you|will you|just)\s+)*"
_THIS_WORDS = (
    "this",
    "that",
    "it",
    "here",
    "this place",
    "that place",
    "this location",
    "that location",
    "this spot",
    "that spot",
    "this address",
    "the destination",
    "our destination",
    "the current location",
    "my current location",
    "where we are",
    "where we are now",
    "where we're going",
    "the place we're at",
    "that one",
)
# the longest first: "this spot" is not "this" followed by a name
_THIS = "(?:" + "|".join(sorted(_THIS_WORDS, key=len, reverse=True)) + ")"
_TAIL = r"(?:\s+(?:please|thanks|thank you|for me|now|from now on))*$"
_HOME_WORK = r"(?:home|work|office|house)(?:\s+address)?|address"

_SET_MY = re.compile(
    _POLITE
    + r"(?:set|make|change|update|save)\s+(?:my\s+)?("
    + _HOME_WORK
    + r")\s+(?:to|as)\s+(.+?)"
    + _TAIL
)
_MY_IS = re.compile(_POLITE + r"my\s+(" + _HOME_WORK + r")\s+is\s+(.+?)" + _TAIL)
_USE_AS = re.compile(
    _POLITE + r"(?:use|make|set|save)\s+(.+?)\s+as\s+(?:my\s+)?(" + _HOME_WORK + r")" + _TAIL
)
_MAKE_MY = re.compile(_POLITE + r"make\s+(.+?)\s+my\s+(home|work|office)(?:\s+address)?" + _TAIL)
_THIS_IS = re.compile(
    _POLITE + r"(?:this|this place|here|this spot) is\s+(.+?)[\s,]+(?:save|remember|bookmark|"
    r"keep) (?:it|that|this)" + _TAIL
)
_SAVE_AS = re.compile(
    _POLITE + r"(?:save|remember|store|keep|bookmark|mark|pin|tag|add)\s+(.+?)\s+"
    r"(?:as|under|with the name)\s+(?:a\s+)?(.+?)" + _TAIL
)
_CALL_THIS = re.compile(_POLITE + r"(?:call|name)\s+" + _THIS + r"\s+(.+?)" + _TAIL)
_SAVE_THIS = re.compile(
    _POLITE + r"(?:save|add|bookmark|keep|store)\s+(" + _THIS + r"|.+?)"
    r"(?:\s+(?:to|in)\s+my\s+\w+(?:\s+\w+)?)?" + _TAIL
)
_FAVOURITE = re.compile(r"^(?:my\s+)?(?:favou?rites?|saved places?|saved locations?|bookmarks?)$")


def as_said(u: Utterance, phrase: str) -> str:
    """`phrase` (read from the normal form) as the driver typed it: "Mia", not "mia". Kept
    (in a saved place's name, a fact) only when it is plain printable text: no terminal
    codes ride into the database between the words."""
    words = phrase.split()
    if not words:
        return phrase
    pattern = r"[\W_]*".join(re.escape(w).replace("'", "['’]?") for w in words)
    found = re.search(rf"(?<!\w){pattern}(?!\w)", u.raw, re.IGNORECASE)
    return found.group(0) if found and found.group(0).isprintable() else phrase


def _home_word(said: str) -> str:
    word = said.split()[0]
    return "work" if word in ("work", "office") else "home"


# What "set my home to ..." says when it is the thermostat at home, not an address.
_A_SETTING = re.compile(
    r"^(?:\d+(?:\.\d+)?(?:\s*(?:degrees?|percent|%|c|f))?|on|off|warmer|cooler|heat|cool|"
    r"auto|away|eco|night mode|day mode)(?:\s+(?:degrees?|celsius|fahrenheit|please|now))*$"
)


def sets_home(u: Utterance) -> bool:
    """ "set my home to X", "make X my work": saving home or work, whatever the model says
    (a trip home is "take me home"; these frames never ask for one). Not "set my home to
    21 degrees" (the thermostat), nor anything about "my house" ("set colour blue for all
    lights of my house")."""
    t = u.normal
    found = _SET_MY.match(t)
    if found is not None and found.group(1).split()[0] != "house":
        return _A_SETTING.match(found.group(2)) is None
    used = _USE_AS.match(t) or _MAKE_MY.match(t)
    return used is not None and used.group(2).split()[0] != "house"


def save_slots(u: Utterance) -> dict[str, Any] | None:
    """`name`: what to save it as (none: its own name); `place`: what to save (none: the
    current destination, or the last place shown). None: the words save nothing."""
    t = u.normal
    frames = ((_SET_MY, 1, 2), (_MY_IS, 1, 2), (_USE_AS, 2, 1), (_MAKE_MY, 2, 1))
    for pattern, name_at, place_at in frames:
        found = pattern.match(t)
        if found is not None:
            return _with_place({"name": _home_word(found.group(name_at))}, found.group(place_at))
    found = _THIS_IS.match(t)
    if found is not None:
        return {"name": found.group(1)}
    found = _SAVE_AS.match(t)
    if found is not None:
        name = found.group(2)
        if _FAVOURITE.match(name):  # "save this as a favourite": its own name
            return _with_place({}, found.group(1))
        return _with_place({"name": name}, found.group(1))
    found = _CALL_THIS.match(t)
    if found is not None:
        return {"name": found.group(1)}
    found = _SAVE_THIS.match(t)
    if found is not None:
        return _with_place({}, found.group(1))
    return None


def _with_place(slots: dict[str, Any], place: str) -> dict[str, Any]:
    if re.fullmatch(_THIS, place.strip()):
        return slots  # this place: the one on the screen
    return {**slots, "place": place.strip()}


_FORGET_PLACE = re.compile(
    _POLITE + r"(?:forget|delete|remove|unsave|erase|clear|take)\s+(?:about\s+)?"
    r"(?:the\s+(?:saved\s+)?(?:place|location|address)\s+(?:called|named)\s+)?(.+?)"
    r"(?:\s+(?:off|from)\s+(?:my|the)\s+(?:saved places|saved locations|favou?rites|places|list|"
    r"bookmarks|my places))?" + _TAIL
)
_NO_LONGER = re.compile(r"^i don't need (.+?) saved anymore$")


def forget_place_slots(u: Utterance) -> dict[str, Any] | None:
    """`name`: the saved place to forget ("my home address": home). None: no such words."""
    t = u.normal
    found = _NO_LONGER.match(t) or _FORGET_PLACE.match(t)
    if found is None:
        return None
    name = found.group(1).strip()
    home = re.fullmatch(r"my\s+(" + _HOME_WORK + r")", name)
    if home is not None:
        name = _home_word(home.group(1))
    if _FAVOURITE.match(name):
        return {"all": True}
    return {"name": name}


_RENAME = re.compile(
    _POLITE + r"(?:rename\s+(.+?)\s+(?:to|as)\s+(.+?)|change the name of\s+(.+?)\s+to\s+(.+?)|"
    r"call\s+(.+?)\s+(.+?)\s+from now on|(.+?)\s+should be called\s+(.+?))" + _TAIL
)


_RENAMES = re.compile(_POLITE + r"(?:rename|change the name of|relabel)\s+\S.*\s(?:to|as)\s+\S")


def renames(u: Utterance) -> bool:
    """ "rename X to Y", "change the name of X to Y": a saved place's new name, whatever the
    model says ("rename" asks for nothing else the car does)."""
    return _RENAMES.match(u.normal) is not None


def rename_slots(u: Utterance) -> dict[str, Any] | None:
    found = _RENAME.match(u.normal)
    if found is None:
        return None
    old, new = [g for g in found.groups() if g is not None][:2]
    return {"name": old.strip(), "new_name": new.strip()}


_REMEMBER = re.compile(
    _POLITE + r"(?:i want you to remember|i'd like you to remember|remember for next time|"
    r"remember|don't forget|do not forget|keep in mind|make a note|take a note|note|"
    r"for future reference|just so you know|so you know|memorize|learn|"
    r"(?:store|save|memorize) (?:this|the fact))(?:\s+(?:that|this|something))?[\s,:]+(.+?)"
    r"(?:[\s,]+remember that)?" + _TAIL
)
_REMEMBER_AFTER = re.compile(r"^(.+?)[\s,]+(?:remember that|please remember|remember)$")


def remember_slots(u: Utterance) -> dict[str, Any] | None:
    """`fact`: what to remember, as the driver said it (cleaned of the frame). None: no
    words that ask to remember."""
    for pattern in (_REMEMBER, _REMEMBER_AFTER):
        found = pattern.match(u.normal)
        if found is not None and found.group(1).strip():
            return {"fact": found.group(1).strip()}
    return None


_FORGET_FACT = re.compile(
    _POLITE + r"(?:you can\s+)?(?:forget|stop remembering|unlearn|erase|delete|remove|"
    r"don't remember|do not remember)\s+(?:the (?:thing|part|bit|memory|note|fact) )?"
    r"(?:about\s+|what i (?:just\s+)?(?:told you|said)\s+(?:about\s+)?|what you know about\s+|"
    r"that\s+)?(.*?)" + _TAIL
)
_THAT = re.compile(r"^(?:that|it|this|that memory|that fact|that note|)$")


def forget_fact_slots(u: Utterance) -> dict[str, Any] | None:
    """`about`: what to forget (none: the last thing remembered). None: no words that ask
    to forget."""
    found = _FORGET_FACT.match(u.normal)
    if found is None:
        return None
    about = found.group(1).strip()
    return {} if _THAT.match(about) else {"about": about}


# A place the car went to before: "back to where we went yesterday", "the last charger we
# used", "the same coffee shop as last time", "our last destination".
_RECENT = re.compile(
    r"\b(?:where (?:we|i) (?:went|were|drove|stopped|ate|had (?:lunch|dinner|breakfast|coffee)|"
    r"charged|parked)|"
    r"(?:the|our|my) (?:last|previous|most recent) ([a-z' ]+?) (?:we|i) (?:used|went to|"
    r"visited|stopped at|were at|charged at|drove to|had|ate at|got coffee at|tried)|"
    r"(?:the|our|my) (?:last|previous|most recent) (?:place|destination|stop|trip)|"
    r"the same ([a-z' ]+?) as (?:last time|yesterday|before|last week|this morning))\b"
)
_WHEN = re.compile(
    r"\b(yesterday|this morning|last night|last week|earlier today|this afternoon|today)\b"
)


def recent_slots(u: Utterance) -> dict[str, Any] | None:
    """`recent`: True; `category` (what kind of place), `when` (yesterday, this morning, last
    week...): a place from the trip history. None: the words ask for no such place."""
    from .slots import category_of

    found = _RECENT.search(u.normal)
    if found is None:
        return None
    slots: dict[str, Any] = {"recent": True}
    kind = found.group(1) or found.group(2)
    category = category_of(kind) if kind else None
    if category is not None:
        slots["category"] = category
    when = _WHEN.search(u.normal)
    if when is not None:
        slots["when"] = when.group(1)
    return slots


_GO = re.compile(
    _POLITE + r"(?:(?:let's|let us|can we|could we|shall we|i want to|we need to|i'd like to|"
    r"we want to|i need to)\s+)?(?:go|head|drive|navigate|return|get back|take (?:me|us)|"
    r"bring (?:me|us)|get (?:me|us)|guide (?:me|us)|route (?:me|us)|back|add a stop|stop)\b"
)


def goes_back(u: Utterance) -> bool:
    """A request to go (or stop) somewhere from the trip history: a trip's verb, then a
    place the history holds ("back to where we went yesterday", "to the last charger we
    used"). A question about the history ("what was the last restaurant we went to") is
    not a trip."""
    return _GO.match(u.normal) is not None and recent_slots(u) is not None


_FORGETTING = re.compile(r"\b(?:forget|erase|wipe|clear|delete|reset|remove|unlearn)\b")


def forget_all_slots(u: Utterance) -> dict[str, Any] | None:
    """Forgetting everything needs a word that forgets ("give me everything you know about
    X" is a question, whatever the model makes of it)."""
    return {} if _FORGETTING.search(u.normal) else None
