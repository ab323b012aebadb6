"""Turning a streamed reply into speakable sentences as early as correctness allows.

Time to first audio is what the driver feels, so the chunker hands over each sentence the moment
it is provably complete (its end mark followed by white space), and an over-long first sentence
is spoken early at a comma. It does not split at "Dr.", "U.S.", "e.g." or "3.5". `speakable()`
strips what a voice should not read out: markdown, URLs, emoji.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    (
        "mr mrs ms dr prof sr jr st mt ft ave blvd rd hwy approx vs etc inc ltd co no e.g i.e "
        "a.m p.m u.s u.k min max est dept jan feb mar apr jun jul aug sep sept oct nov dec"
    ).split()
)

# An end mark (one or more of . ! ? …), optional closing quotes/brackets, then white space.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_CLAUSE_BREAK = re.compile(r"[,;:—–](?=\s)")
_WORD_BEFORE = re.compile(r"(\S+)$")


class SentenceChunker:
    """Feed reply text as it streams; get back complete, speakable sentences.

    `early_clause_chars`: if no sentence has ended yet and the first one is already this long,
    speak it up to its last comma so the driver hears something sooner.
    """

    def __init__(self, early_clause_chars: int = 90, min_clause_chars: int = 25) -> None:
        self._buffer = ""
        self._emitted = 0
        self.early_clause_chars = early_clause_chars
        self.min_clause_chars = min_clause_chars

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        out: list[str] = []
        while True:
            cut = self._next_cut()
            if cut is None:
                break
            piece, self._buffer = self._buffer[:cut], self._buffer[cut:].lstrip()
            self._emit(piece, out)
        return out

    def flush(self) -> list[str]:
        """The rest of the buffer, at the end of the reply."""
        out: list[str] = []
        piece, self._buffer = self._buffer, ""
        self._emit(piece, out)
        return out

    def _emit(self, piece: str, out: list[str]) -> None:
        spoken = speakable(piece)
        if spoken:
            out.append(spoken)
            self._emitted += 1

    def _next_cut(self) -> int | None:
        buffer = self._buffer
        newline = buffer.find("\n")
        for match in _SENTENCE_END.finditer(buffer):
            if newline != -1 and newline < match.start():
                break
            if not self._is_abbreviation(buffer[: match.start() + 1]):
                return match.end()
        if newline != -1:
            return newline + 1
        if self._emitted == 0 and len(buffer) >= self.early_clause_chars:
            breaks = [m.end() for m in _CLAUSE_BREAK.finditer(buffer)]
            breaks = [b for b in breaks if b >= self.min_clause_chars]
            if breaks:
                return breaks[-1]
        return None

    @staticmethod
    def _is_abbreviation(text_through_dot: str) -> bool:
        if not text_through_dot.endswith("."):
            return False
        match = _WORD_BEFORE.search(text_through_dot)
        if not match:
            return False
        word = match.group(1).lower().strip("\"'(“‘")
        bare = word.rstrip(".")
        if bare in ABBREVIATIONS:
            return True
        # Single letters and initialisms: "J.", "U.S.", "D.C."
        return bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", bare))


_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(\*\*|__|\*|`+|~~)")
_LINE_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|[-*+•]\s+|\d+[.)]\s+|>\s*)", re.MULTILINE)
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u200d\ufe0f\u2b50\u2b55]"
)
_UNITS = (
    (re.compile(r"(?<=\d)\s?km/h\b"), " kilometers per hour"),
    (re.compile(r"(?<=\d)\s?mph\b"), " miles per hour"),
    (re.compile(r"(?<=\d)\s?°C\b"), " degrees Celsius"),
    (re.compile(r"(?<=\d)\s?°F\b"), " degrees Fahrenheit"),
    (re.compile(r"(?<=\d)\s?°"), " degrees"),
    (re.compile(r"(?<=\d)\s?%"), " percent"),
    (re.compile(r"(?<=\d)\s?km\b"), " kilometers"),
    (re.compile(r"(?<=\d)\s?mi\b"), " miles"),
    (re.compile(r"(?<=\d)\s?kWh\b"), " kilowatt hours"),
)


def speakable(text: str) -> str:
    """What a voice should read: no markdown, URLs, emoji; units spelled out; tidy spaces."""
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub("", text)
    text = _LINE_PREFIX.sub("", text)
    text = _MD_MARKS.sub("", text)
    text = _EMOJI.sub("", text)
    for pattern, words in _UNITS:
        text = pattern.sub(words, text)
    text = " ".join(text.split())
    # Nothing left but punctuation is not worth a breath.
    return text if re.search(r"\w", text) else ""
