"""What the memory skill says (`memory.*`): one short sentence for each request, from the
driver's facts (`facts.py`). Facts are the driver's own words, said back in the second
person ("my daughter is Mia" -> "your daughter is Mia")."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..text import normalize

if TYPE_CHECKING:
    from . import DriverStore

Said = tuple[str, str, dict[str, Any]]  # spoken text, action, data
SAID_AT_ONCE = 3  # facts read out in one answer; the screen shows them all

MEMORY_OFF = (
    "My memory is off, so I won't keep that. To let me remember things between drives, "
    "turn on driver.remember in your settings."
)
KIDS_OFF = "Kids mode is on, so I'm not keeping anything new."
NO_DATABASE = "I can't remember anything between drives: driver.save is off in the settings."

_YES = re.compile(r"^(?:yes|yeah|yep|sure|ok|okay|do it|go ahead|please do|confirm|correct)\b")
_NO = re.compile(r"^(?:no|nope|don't|do not|cancel|never ?mind|keep it|stop)\b")


def confirmation(text: str, intent: str) -> tuple[str, dict[str, Any]] | None:
    """The driver's yes or no to a question a skill asked, as the intent that answers it
    (`{"confirmed": True/False}`), or None when the words are something else."""
    said = yes_or_no(text)
    return None if said is None else (intent, {"confirmed": said})


def yes_or_no(text: str) -> bool | None:
    """The answer to a yes-or-no question, or None if the words are something else."""
    t = normalize(text)
    if _NO.match(t):
        return False
    if _YES.match(t):
        return True
    return None


_PERSON = {
    "i": "you",
    "i'm": "you're",
    "im": "you're",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "we": "you",
    "we're": "you're",
    "us": "you",
    "our": "your",
    "ours": "yours",
    "am": "are",
    "i've": "you've",
    "i'd": "you'd",
    "i'll": "you'll",
}


def second_person(fact: str) -> str:
    return " ".join(_PERSON.get(w, w) for w in fact.split())


def memory_answer(
    store: DriverStore | None, action: str, slots: dict[str, Any], kids_mode: bool
) -> Said:
    """(spoken, action, data) for memory.remember / recall / forget / forget_all."""
    if store is None:
        return NO_DATABASE, "unavailable", {}
    memory = store.memory
    if action in ("remember", "recall") and not store.may_remember(kids_mode):
        off = KIDS_OFF if store.remember and kids_mode else MEMORY_OFF
        return off, "memory_off", {}
    if action == "remember":
        fact = str(slots.get("fact") or "").strip()
        if not fact:
            return "What should I remember?", "nothing_to_remember", {}
        kept = memory.remember(fact)
        return (
            f"Okay, I'll remember that {second_person(kept.text)}.",
            "remembered",
            {"fact": kept.text},
        )
    if action == "recall":
        facts = [f.text for f in memory.all()]
        if not facts:
            return "I don't remember anything about you yet.", "recalled", {"facts": []}
        said = "; ".join(second_person(f) for f in facts[-SAID_AT_ONCE:])
        more = len(facts) - SAID_AT_ONCE
        text = f"You told me: {said}." + (f" And {more} more on the screen." if more > 0 else "")
        return text, "recalled", {"facts": facts}
    if action == "forget":
        return _forget(store, slots)
    return _forget_all(store, slots)


def _forget(store: DriverStore, slots: dict[str, Any]) -> Said:
    memory = store.memory
    about = str(slots.get("about") or "").strip()
    if about:
        found = memory.matching(about)
        if not found:
            return (
                f"I don't remember anything about {second_person(about)}.",
                "nothing_forgotten",
                {},
            )
    else:
        found = memory.all()[-1:]  # "forget that": the last thing remembered
        if not found:
            return (
                "There's nothing to forget: I don't remember anything about you.",
                ("nothing_forgotten"),
                {},
            )
    memory.forget(found)
    said = "; ".join(second_person(f.text) for f in found)
    return f"Okay, I've forgotten that {said}.", "forgotten", {"facts": [f.text for f in found]}


def _forget_all(store: DriverStore, slots: dict[str, Any]) -> Said:
    confirmed = slots.get("confirmed")
    if confirmed is None:
        if not store.memory.all():
            return "I don't remember anything about you.", "nothing_forgotten", {}
        return (
            "Forget everything I remember about you? Say yes to confirm.",
            "confirm_forget_all",
            {},
        )
    if not confirmed:
        return "Okay, I'll keep it.", "kept", {}
    gone = store.memory.forget_all()
    return "Done. I've forgotten everything about you.", "forgot_everything", {"facts": gone}
