"""The one place text is normalised. Every comparison of words goes through here, so a fix
to how we read "Café", "let's" or "unhіnged" (a Cyrillic і) is made once.

- `normalize`: the router's normal form (lower case, apostrophes and "p.f." kept, fillers
  such as "Car," and "um" dropped). The intent model's features are built on it.
- `fold`: plain lower-case ASCII words, accents and punctuation dropped (place names).
- `name_key`: `fold` after mapping look-alike letters and joining spelled-out letters (names
  people say or type to reach a persona, including ones written to slip past a filter).
- `words` / `same_words`: the words of a transcript, for comparing a guess with the final one
  or a dialogue test's `heard`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Letters from other scripts that look like Latin ones ("unhіnged" with a Cyrillic і).
LOOKALIKES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "ɡ": "g",
        "ı": "i",
        "ℓ": "l",
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
    }
)
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff]")
_FILLER = re.compile(r"^(?:(?:hey |ok |okay )?car|please|hey|ok|okay|um+|uh+|so|well)\b[ ,]*")


def _plain(text: str) -> str:
    """Lower case, NFKC, curly apostrophes straightened; never raises (lone surrogates and
    control characters are dropped)."""
    text = text.encode("utf-8", "ignore").decode("utf-8")
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    text = re.sub(r"[^\w\s'&.-]", " ", text)
    text = re.sub(r"(?<!\w)\.|\.(?!\w)", " ", text)  # sentence dots, not "p.f." or "3.5"
    return " ".join(text.split())


def normalize(text: str) -> str:
    """The router's one normal form: lower case, apostrophes kept ("let's", "chef chu's"),
    other punctuation and leading fillers ("Car, ...", "um") dropped."""
    text = _plain(text)
    for _ in range(3):
        text = _FILLER.sub("", text).strip()
    return text


def fold(text: str) -> str:
    """Lower case, no accents, no punctuation: 'São Paulo' -> 'sao paulo'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("'", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def plain(text: str) -> str:
    """Lower case, no accents, punctuation kept (for reading clauses): 'Ñó, SÍ!' -> 'no, si!'."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower().replace("’", "'")


def name_key(text: str) -> str:
    """Lower-case ASCII words: look-alike letters mapped, accents and punctuation dropped,
    letters spelled one by one ("u n h i n g e d") joined back into a word."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).casefold().translate(LOOKALIKES)
    text = fold(text)
    return re.sub(r"\b(?:[a-z] ){2,}[a-z]\b", lambda m: m.group().replace(" ", ""), text)


def words(text: str) -> list[str]:
    """The words of a transcript: case and punctuation aside (apostrophes kept)."""
    return [w.strip(".-&") for w in _plain(text).split() if w.strip(".-&")]


def same_words(a: str, b: str) -> bool:
    """Whether two transcripts say the same words (case and punctuation aside)."""
    return words(a) == words(b)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """Text from outside (a model's stream, a tool call's arguments, a card, a web page)
    without lone surrogates: they cannot be encoded, so one would break every later request
    and file write. Each becomes U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def clean_data(value: object) -> object:
    """`clean` applied to every string in parsed JSON."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [clean_data(v) for v in value]
    if isinstance(value, dict):
        return {clean(str(k)): clean_data(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class Utterance:
    """One utterance, normalised once on its way through the router: `raw` as heard or
    typed, `normal` (`normalize()`: the router's form) and `key` (`name_key()`: how names are
    compared). Functions that read words take an Utterance or a plain string."""

    raw: str
    normal: str
    key: str

    @classmethod
    def of(cls, text: str | Utterance) -> Utterance:
        if isinstance(text, Utterance):
            return text
        return cls(text, normalize(text), name_key(text))

    @property
    def tokens(self) -> list[str]:
        return self.normal.split()


def normal_of(text: str | Utterance) -> str:
    """The router's normal form, computed once per utterance."""
    return text.normal if isinstance(text, Utterance) else normalize(text)


def key_of(text: str | Utterance) -> str:
    """The name-comparison form, computed once per utterance."""
    return text.key if isinstance(text, Utterance) else name_key(text)
