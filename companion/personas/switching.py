"""Recognising "switch to the storyteller" in whatever words (and recognition errors) it comes.

Pure functions, no I/O. Detection looks at the whole cast, locked personas included, so that
the safety gates in `session.py` can refuse a locked one politely; detection never decides
what is allowed.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..text import Utterance, key_of
from ..text import name_key as normalize
from .loader import Persona

_FILLER = (
    r"(?:(?:hey|ok|okay|so|um|uh|well|please|now|just|companion|car|grok|assistant"
    r"|alright|all right|can you|could you|would you|will you|i said|lets|let us)\s+)*"
)
# Anywhere in a sentence: nobody says these except to change persona.
_STRONG = re.compile(
    r"\b(?:switch(?:\s+over)?|change|swap|flip|set)\s+(?:the\s+|your\s+)?"
    r"(?:persona\s+|personality\s+|mode\s+|voice\s+|character\s+)?(?:to|into|for)\s+(?P<rest>.+)"
)
# Only at the start of what the driver said, after fillers: common words in other sentences.
_WEAK = re.compile(
    "^" + _FILLER + r"(?:"
    r"be|become|go|turn on|activate|enable|start|put on|bring(?: back| up| out)?|use|load"
    r"|(?:can|could|may) i (?:have|get|talk to|speak to|speak with|hear)"
    r"|let me (?:talk|speak) (?:to|with)|i (?:want|wanna|would like|d like|need)"
    r"(?: to (?:talk|speak) (?:to|with)| to hear from)?|give me|gimme"
    r"|(?:talk|speak|act|answer|respond) (?:to me )?like|pretend (?:to be|you are|youre)"
    r"|you are now|youre now|now you are|play|time for|how about"
    r")\s+(?P<rest>.+)$"
)
_LEADING = re.compile(r"^(?:(?:a|an|the|my|some|me|your|to|with|into|back|again|on)\s+)+")
_TRAILING = re.compile(
    r"(?:\s+(?:mode|persona|personality|voice|character|one|please|now|again|instead|"
    r"for a while|for me|for us|for now|then|today))+$"
)
_MATCH_CUTOFF = 0.8


@dataclass(frozen=True)
class SwitchRequest:
    """The driver asked for a persona. `persona_id` is None when the name matched no one."""

    persona_id: str | None
    heard: str  # the words taken as the persona's name
    score: float
    explicit: bool = True  # False when the whole utterance was just a name or alias


def _names(cast: Iterable[Persona]) -> list[tuple[str, str, difflib.SequenceMatcher[str]]]:
    """(spoken name, persona id, a matcher primed with the name), cached per cast: this runs
    on every utterance, and the cast rarely changes."""
    return _names_cached(tuple((persona.id, tuple(persona.spoken_names)) for persona in cast))


@functools.lru_cache(maxsize=8)
def _names_cached(
    cast: tuple[tuple[str, tuple[str, ...]], ...],
) -> list[tuple[str, str, difflib.SequenceMatcher[str]]]:
    out = []
    for persona_id, spoken_names in cast:
        for name in spoken_names:
            spoken = normalize(name)
            if spoken:
                out.append((spoken, persona_id))
                bare = _TRAILING.sub("", _LEADING.sub("", spoken))
                if bare and bare != spoken:
                    out.append((bare, persona_id))
    # SequenceMatcher indexes its second sequence; prime one per name and reuse it.
    return [(name, persona_id, difflib.SequenceMatcher(None, "", name)) for name, persona_id in out]


def _best(
    phrase: str, names: list[tuple[str, str, difflib.SequenceMatcher[str]]]
) -> tuple[str | None, float, str]:
    """The persona whose name best matches the start of `phrase` (1 to 4 words). Only
    matches at or above the cutoff matter to callers, so cheap upper bounds skip the rest."""
    words = phrase.split()
    best: tuple[str | None, float, str] = (None, 0.0, "")
    for n in range(1, min(4, len(words)) + 1):
        candidate = " ".join(words[:n])
        for name, persona_id, matcher in names:
            if abs(len(name) - len(candidate)) > max(3, len(name) // 3):
                continue
            matcher.set_seq1(candidate)
            floor = max(_MATCH_CUTOFF, best[1])
            if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
                continue
            score = matcher.ratio()
            # Prefer the longer name on ties ("kids trivia" over "trivia").
            if score > best[1] or (score == best[1] and len(candidate) > len(best[2])):
                best = (persona_id, score, candidate)
    return best


def detect_switch(
    text: str | Utterance, cast: Iterable[Persona], *, asked: bool = False, bare: bool = True
) -> SwitchRequest | None:
    """The persona a switch request in `text` names (`persona_id` None: nobody in the cast).
    Whether the words *are* a switch request is the router's intent model's call; `asked`
    says it decided they are, so an unknown name after any switch phrase is reported; `bare`
    False skips the check for an utterance that is nothing but a name."""
    spoken = key_of(text)
    if not spoken:
        return None
    names = _names(cast)
    bare_words = _TRAILING.sub("", re.sub("^" + _FILLER, "", spoken))
    persona_id, score, heard = _best(bare_words, names)
    if bare and persona_id and score >= _MATCH_CUTOFF and heard == bare_words:
        return SwitchRequest(persona_id, heard, score, explicit=False)  # just a name
    for pattern, strong in ((_STRONG, True), (_WEAK, False)):
        for match in pattern.finditer(spoken):
            rest = _TRAILING.sub("", _LEADING.sub("", match.group("rest")))
            persona_id, score, heard = _best(rest, names)
            if persona_id and score >= _MATCH_CUTOFF:
                return SwitchRequest(persona_id, heard, score)
            if (strong or asked) and rest and len(rest.split()) <= 3:
                return SwitchRequest(None, rest, 0.0)
    if asked:
        # "put the romantic one on", "can Captain take over": the name anywhere in the words.
        words = spoken.split()
        best: tuple[str | None, float, str] = (None, 0.0, "")
        for start in range(len(words)):
            found = _best(" ".join(words[start:]), names)
            if found[0] and found[1] >= _MATCH_CUTOFF and found[1] > best[1]:
                best = found
        if best[0]:
            return SwitchRequest(best[0], best[2], best[1])
    return None


_SAFETY_SETTING = re.compile(
    r"\b(?:turn|switch|shut|take)\s+off|\b(?:disable|deactivate|exit|leave|stop|unlock|end"
    r"|remove|bypass|override|cancel|turn on|enable|activate|unlock|allow|change|toggle)\b"
)
_SAFETY_TOPIC = re.compile(
    r"\b(?:kids?|child|children|parental|family|mature|adult|nsfw|explicit|content filter"
    r"|safe) (?:mode|lock|controls?|content|setting|filter)|\bnsfw\b|\bmature content\b"
)


def asks_to_change_safety(text: str | Utterance) -> bool:
    """True for "turn off kids mode", "enable mature content" and the like."""
    spoken = key_of(text)
    return bool(_SAFETY_SETTING.search(spoken) and _SAFETY_TOPIC.search(spoken))
