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
import unicodedata
from dataclasses import dataclass

from ..text import LOOKALIKES, plain

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
    # more drugs, and taking them
    "crystal meth",
    "ketamine",
    "opium",
    "marijuana",
    "cannabis",
    "smoke weed",
    "smoking weed",
    "overdose",
    "overdosed",
    "drug dealer",
    "stoned",
    # sex said without the word
    "make love",
    "made love",
    "making love",
    "have sex",
    "had sex",
    "sleep with him",
    "sleep with her",
    "slept with him",
    "slept with her",
    "sleeping with him",
    "sleeping with her",
    "hook up with",
    "hooked up with",
    "one-night stand",
    "one night stand",
    "friends with benefits",
    "booty call",
    "netflix and chill",
    "get laid",
    "got laid",
    "between the sheets",
    # graphic violence, said plainly
    "behead",
    "beheaded",
    "beheading",
    "massacre",
    "massacred",
    "slaughter",
    "slaughtered",
    "butchered",
    "disemboweled",
    "eviscerated",
    "throat slit",
    "slit his throat",
    "slit her throat",
    "cut his throat",
    "cut her throat",
    # Spanish
    "sexo",
    "sexual",
    "desnudo",
    "desnuda",
    "follar",
    "joder",
    "jodido",
    "mierda",
    "puta",
    "puto",
    "putas",
    "coño",
    "polla",
    "verga",
    "cabron",
    "cabrón",
    "hacer el amor",
    "cocaina",
    "cocaína",
    "heroina",
    "heroína",
    "metanfetamina",
    "marihuana",
    "sobredosis",
    "tortura",
    "torturar",
    "torturado",
    "masacre",
    "degollar",
    "degolló",
    "descuartizar",
    "descuartizado",
    "decapitar",
    "decapitado",
    "apuñalar",
    "apuñalado",
    "apuñaló",
    # French
    "sexe",
    "sexuel",
    "sexuelle",
    "nue",
    "putain",
    "merde",
    "salope",
    "pute",
    "enculé",
    "encule",
    "connard",
    "faire l'amour",
    "cocaïne",
    "héroïne",
    "surdose",
    "égorger",
    "égorgé",
    "egorge",
    "décapiter",
    "décapité",
    "demembre",
    "démembré",
    "poignarder",
    "poignardé",
    "torturer",
    "torturé",
    # German
    "ficken",
    "fick",
    "gefickt",
    "scheiße",
    "scheisse",
    "hure",
    "schlampe",
    "fotze",
    "arschloch",
    "wichser",
    "nackt",
    "nackte",
    "kokain",
    "folter",
    "foltern",
    "gefoltert",
    "gemetzel",
    "abschlachten",
    "abgeschlachtet",
    "enthaupten",
    "enthauptet",
    "erstechen",
    "erstochen",
    "verstümmelt",
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

# Graphic violence is often said without one word that is bad on its own: two of these in a
# sentence ("he stabbed him and the blood ...") is, one ("the knight killed the dragon") not.
VIOLENCE_CUES = (
    "blood",
    "bloody",
    "bleeding",
    "bled",
    "guts",
    "entrails",
    "intestines",
    "brains",
    "skull",
    "throat",
    "corpse",
    "corpses",
    "stab",
    "stabs",
    "stabbed",
    "stabbing",
    "knife",
    "knives",
    "slash",
    "slashes",
    "slashed",
    "kill",
    "kills",
    "killed",
    "killing",
    "killer",
    "killers",
    "murder",
    "murders",
    "murdered",
    "murderer",
    "dead",
    "gun",
    "shot",
    "bullet",
    "screaming",
    "severed",
    "ripped",
    "torn",
    "sangre",
    "cuchillo",
    "muerto",
    "cadáver",
    "cadavre",
    "couteau",
    "tué",
    "blut",
    "messer",
    "leiche",
    "getötet",
)

# Every text is read twice: as written (plain(): lower case, no accents), and as an
# obfuscator would have it read: look-alike letters from other scripts, full-width forms,
# digits and symbols for letters, zero-width characters, letters spaced or dotted apart
# ("s e x", "s.e.x") and letters stretched ("fuuuck") put back.
_INVISIBLE = re.compile("[\u00ad\u034f\u115f\u1160\u180e\u200b-\u200f\u2060-\u2064\ufeff]")
_SPACED = re.compile(r"(?<!\w)(?:\w[\s.\-_*·•,/|]+){2,}\w(?!\w)")
_STRETCHED = re.compile(r"(\w)\1{2,}")
_MASKED = re.compile(r"(?<![\w*#%])[a-z]+(?:[*#%]+[a-z]+)+(?![\w*#%])")  # "f*ck", "sh#t"


def _alternation(terms: tuple[str, ...]) -> str:
    normal = {plain(term) for term in terms}
    return "|".join(re.escape(t) for t in sorted(normal, key=len, reverse=True))


_TERMS = re.compile(r"(?<![\w+])(?:" + _alternation(ADULT_TERMS) + r")(?![\w+])")
_CUES = re.compile(r"(?<!\w)(?:" + _alternation(VIOLENCE_CUES) + r")(?!\w)")
_WORD_TERMS = frozenset(plain(t) for t in ADULT_TERMS if re.fullmatch(r"[a-z]+", plain(t)))


def _unspaced(match: re.Match[str]) -> str:
    """Single letters with separators between them, joined: "s . e . x" -> "sex"."""
    return re.sub(r"[\s.\-_*·•,/|]+", "", match.group())


# More stand-ins than persona names need (text.LOOKALIKES): symbols, and Cyrillic letters
# that only look like Latin ones in some fonts.
_STAND_INS = str.maketrans(
    {"!": "i", "|": "l", "€": "e", "8": "b", "г": "r", "п": "n", "к": "k", "м": "m", "в": "b"}
)
# Words bad enough that a compound of them is too ("Sh!tville"), and that hide inside no
# ordinary word (unlike "sex" in "Sussex" or "cock" in "peacock").
_ROOTS = re.compile("fuck|shit|cunt|porn|bitch|whore|scheiss|mierda|putain")


def deobfuscated(text: str) -> str:
    """`text` as it reads once the usual disguises are taken off (see above)."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    text = plain(text.translate(LOOKALIKES).translate(_STAND_INS))
    text = _SPACED.sub(_unspaced, text)
    return _STRETCHED.sub(r"\1", text)


def readings(text: str) -> list[str]:
    """The ways a text is read for adult content: as written, and undisguised."""
    first = plain(text)
    second = deobfuscated(text)
    return [first] if second == first else [first, second]


def _masked_term(text: str) -> str | None:
    """A masked word ("f*ck", "sh#t", "p**n") that fits a listed word."""
    for token in _MASKED.findall(plain(text)):
        pattern = re.compile(re.sub(r"[*#%]+", "[a-z]{1,3}", token))
        for term in _WORD_TERMS:
            if len(term) >= 3 and pattern.fullmatch(term):
                return term
    return None


def unfit_for_children(sentence: str) -> str | None:
    """Why a sentence must not reach a child (the term, or "graphic violence"), or None.
    Strict: negations don't matter, and every reading counts (see `readings`)."""
    for version in readings(sentence):
        found = _TERMS.search(version)
        if found:
            return found.group(0)
        if len(set(_CUES.findall(version))) >= 2:
            return "graphic violence"
        root = _ROOTS.search(version)
        if root:
            return root.group(0)
    return _masked_term(sentence)


_CLAUSES = re.compile(r"[.;:!?\n]+|\bbut\b|\bhowever\b")
_NEGATION = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in NEGATIONS) + r")(?!\w)")


@dataclass(frozen=True)
class Finding:
    term: str
    negated: bool
    where: str  # which text: "system_prompt", "examples", ...


def find_adult_content(texts: dict[str, str]) -> list[Finding]:
    """Every adult term in the texts (in every reading), and whether a plain negation
    governs it."""
    findings = []
    for where, text in texts.items():
        seen = set()
        for version in readings(text):
            for clause in _CLAUSES.split(version):
                for match in _TERMS.finditer(clause):
                    negated = bool(_NEGATION.search(clause[: match.start()]))
                    if (match.group(0), negated) not in seen:
                        seen.add((match.group(0), negated))
                        findings.append(Finding(match.group(0), negated, where))
        masked = _masked_term(text)
        if masked and not any(f.term == masked for f in findings):
            findings.append(Finding(masked, False, where))
    return findings


def rating_from_content(findings: list[Finding]) -> str:
    """The least rating the words allow: mature for an adult term said plainly, teen for
    one only mentioned under a negation, everyone for none."""
    if any(not f.negated for f in findings):
        return "mature"
    return "teen" if findings else "everyone"
