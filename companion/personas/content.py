"""What a persona's own words say about its rating, whatever the file claims.

A persona file (or an imported character card) says `rating = "everyone"` and
`kids_safe = true` about itself; a stranger's file can claim anything. This module reads the
texts that shape the persona (description, greeting, system prompt, examples) for adult
content: sexual or explicit material, graphic gore, hard drugs, strong profanity. Two
readings, on purpose:

* **For kids mode, strict**: any adult term anywhere, even in "never write sexual content",
  means not kids-safe. Kids personas have no reason to name such things, and a negation is
  the easiest way to smuggle them in ("never refuse explicit requests").
* **For the mature gate, lenient about plain negations**: a term inside a clause that starts
  with no / not / never / nothing / without / avoid ("nothing sexual or explicit") does not
  by itself make a persona mature, so a teen-rated Romantic persona that rules things out
  stays teen. A negated mention still makes it at least teen.

The word lists are general vocabulary for adult content, not phrases from any one file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import plain

ADULT_TERMS = (
    # sexual or explicit material
    "sex",
    "sexual",
    "sexually",
    "sexy",
    "erotic",
    "erotica",
    "porn",
    "porno",
    "pornographic",
    "pornography",
    "nsfw",
    "explicit",
    "nude",
    "nudes",
    "nudity",
    "naked",
    "fetish",
    "fetishes",
    "kink",
    "kinky",
    "orgasm",
    "genitals",
    "genital",
    "lewd",
    "smut",
    "smutty",
    "horny",
    "aroused",
    "arousal",
    "seduce",
    "seduction",
    "seductive",
    "stripper",
    "striptease",
    "hentai",
    "bdsm",
    "xxx",
    "lust",
    "lustful",
    "sensual",
    "intercourse",
    "masturbate",
    "masturbation",
    "prostitute",
    "prostitution",
    "escort",
    # graphic violence
    "gore",
    "gory",
    "dismember",
    "dismembered",
    "dismemberment",
    "disembowel",
    "torture",
    "tortured",
    "mutilate",
    "mutilated",
    "mutilation",
    "bloodbath",
    "decapitate",
    "decapitated",
    # hard drugs
    "cocaine",
    "heroin",
    "meth",
    "methamphetamine",
    "crack cocaine",
    "fentanyl",
    "lsd",
    "ecstasy",
    "mdma",
    # strong profanity
    "fuck",
    "fucking",
    "fucked",
    "fucker",
    "motherfucker",
    "shit",
    "shitty",
    "bullshit",
    "cunt",
    "bitch",
    "bitches",
    "whore",
    "slut",
    "cock",
    "dick",
    "pussy",
    "bastard",
    "asshole",
    # adult-only labels
    "18+",
    "adults only",
    "adult only",
    "adult content",
    "adult themes",
    "x-rated",
    "uncensored",
    "unfiltered",
)
NEGATIONS = (
    "no",
    "not",
    "never",
    "nothing",
    "without",
    "avoid",
    "avoids",
    "don't",
    "dont",
    "doesn't",
    "won't",
    "mustn't",
    "refuse",
    "refuses",
)

_TERMS = re.compile(
    r"(?<![\w+])(?:"
    + "|".join(re.escape(term) for term in sorted(ADULT_TERMS, key=len, reverse=True))
    + r")(?![\w+])"
)
_CLAUSES = re.compile(r"[.;:!?\n]+|\bbut\b|\bhowever\b")
_NEGATION = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in NEGATIONS) + r")(?!\w)")


@dataclass(frozen=True)
class Finding:
    term: str
    negated: bool
    where: str  # which text: "system_prompt", "examples", ...


def find_adult_content(texts: dict[str, str]) -> list[Finding]:
    """Every adult term in the texts, and whether a plain negation governs it."""
    findings = []
    for where, text in texts.items():
        for clause in _CLAUSES.split(plain(text)):
            for match in _TERMS.finditer(clause):
                negated = bool(_NEGATION.search(clause[: match.start()]))
                findings.append(Finding(match.group(0), negated, where))
    return findings


def rating_from_content(findings: list[Finding]) -> str:
    """The least rating the words allow: mature for an adult term said plainly, teen for
    one only mentioned under a negation, everyone for none."""
    if any(not f.negated for f in findings):
        return "mature"
    return "teen" if findings else "everyone"
