"""Keeping secrets out of output: a string type that will not print itself, and a log filter."""

from __future__ import annotations

import logging
import re
from typing import Any

# Shapes of API keys that servers sometimes echo back in their error messages.
_KEY_SHAPES = re.compile(r"\b(?:sk|xai|gsk)-[A-Za-z0-9*_\-]{8,}")
_registered: set[str] = set()


class Secret:
    """An API key. `str()`, `repr()` and f-strings show a mask; `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if len(value) >= 4:
            _registered.add(value)

    def reveal(self) -> str:
        return self._value

    def masked(self) -> str:
        if not self._value:
            return "(not set)"
        return f"***{self._value[-4:]}" if len(self._value) >= 12 else "***"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return f"Secret({self.masked()!r})"

    __str__ = masked


# A password in a URL (https://user:pass@host), an Authorization value, a key in a query.
_USERINFO = re.compile(r"(?<=://)[^/\s:@]+(?::[^/\s@]*)?@")
_AUTH_VALUE = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)
_QUERY_SECRET = re.compile(
    r"([?&](?:api[_-]?key|key|token|access[_-]?token|secret|password)=)[^&\s#]+", re.IGNORECASE
)


# A configured secret is masked wherever MIN_PART or more of its characters appear in a row,
# as they are, percent-encoded (%41), JSON-escaped (\u0041) or spaced out ("s k - 1 2").
MIN_PART = 8
_SEPARATORS = frozenset(" \t\r\n\u00a0\u200b-_.:,;|/\\'\"")
_HEX = frozenset("0123456789abcdefABCDEF")
# Enough text held back from a stream for any MIN_PART characters in any of those forms.
HOLD_BACK = 4 * MIN_PART

Span = tuple[int, int]


def _hex4(text: str, at: int) -> bool:
    return at + 4 <= len(text) and set(text[at : at + 4]) <= _HEX


def _decoded(text: str, spans: list[Span]) -> tuple[str, list[Span]]:
    r"""`text` (whose characters came from `spans` of the original) with %XX and \uXXXX
    escapes decoded, each decoded character keeping the span of its escape."""
    out: list[str] = []
    where: list[Span] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%" and i + 2 < len(text) and set(text[i + 1 : i + 3]) <= _HEX:
            out.append(chr(int(text[i + 1 : i + 3], 16)))
            where.append((spans[i][0], spans[i + 2][1]))
            i += 3
        elif c == "\\" and text[i + 1 : i + 2] == "u" and _hex4(text, i + 2):
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            where.append((spans[i][0], spans[i + 5][1]))
            i += 6
        elif c == "\\" and i + 1 < len(text) and text[i + 1] in '"\\/':
            out.append(text[i + 1])
            where.append((spans[i][0], spans[i + 1][1]))
            i += 2
        else:
            out.append(c)
            where.append(spans[i])
            i += 1
    return "".join(out), where


def _squeezed(text: str, spans: list[Span]) -> tuple[str, list[Span]]:
    keep = [i for i, c in enumerate(text) if c not in _SEPARATORS]
    return "".join(text[i] for i in keep), [spans[i] for i in keep]


def _squeeze(value: str) -> str:
    return "".join(c for c in value if c not in _SEPARATORS)


def secret_spans(text: str) -> list[Span]:
    """Where `text` holds MIN_PART or more characters in a row of a configured secret, in
    any of the forms above: (start, end) in `text`, merged."""
    secrets = [v for v in _registered if len(v) >= MIN_PART]
    if not secrets or len(text) < MIN_PART:
        return []
    identity = [(i, i + 1) for i in range(len(text))]
    decoded = _decoded(text, identity)
    views = [(text, identity, False), (*decoded, False)]
    views += [(*_squeezed(view, spans), True) for view, spans, _ in list(views)]
    found: list[Span] = []
    for value in secrets:
        for squeezed_value in (False, True):
            secret = _squeeze(value) if squeezed_value else value
            grams = {secret[i : i + MIN_PART] for i in range(len(secret) - MIN_PART + 1)}
            for view, spans, squeezed in views:
                if squeezed != squeezed_value:
                    continue
                for i in range(len(view) - MIN_PART + 1):
                    if view[i : i + MIN_PART] in grams:
                        found.append((spans[i][0], spans[i + MIN_PART - 1][1]))
    found.sort()
    merged: list[Span] = []
    for start, end in found:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _masked(text: str, spans: list[Span]) -> str:
    out, at = [], 0
    for start, end in spans:
        out += [text[at:start], "***"]
        at = end
    return "".join(out) + text[at:]


def has_secrets() -> bool:
    """Is any secret long enough to be looked for in part configured?"""
    return any(len(v) >= MIN_PART for v in _registered)


def redact(text: str) -> str:
    """Replace every known secret (whole, in part, encoded or spaced out), and anything
    shaped like one (an API key, a URL's password, an Authorization value, a key in a
    query string), with a mask."""
    for value in _registered:
        if value in text:
            text = text.replace(value, "***")
    spans = secret_spans(text)
    if spans:
        text = _masked(text, spans)
    text = _USERINFO.sub("***@", text)
    text = _AUTH_VALUE.sub(r"\1 ***", text)
    text = _QUERY_SECRET.sub(r"\1***", text)
    return _KEY_SHAPES.sub("***", text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from the fully formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks go to the log file only; still, never let a secret ride along in one.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class StreamRedactor:
    """Redacts a text that arrives in pieces (a model's reply, streamed): a secret split
    across pieces is caught too. `push()` gives what is safe to show so far; the last
    HOLD_BACK characters wait for what follows (or for `flush()`), so no MIN_PART characters
    of a secret can leave in two halves."""

    def __init__(self) -> None:
        self._text = ""
        self._shown = 0  # characters of `_text` already given out

    def push(self, piece: str) -> str:
        self._text += piece
        return self._give(len(self._text) - HOLD_BACK)

    def flush(self) -> str:
        return self._give(len(self._text))

    def _give(self, upto: int) -> str:
        if upto <= self._shown:
            return ""
        # What was given out is never masked later (a match reaching back into it would
        # hold MIN_PART characters seen before), so only the tail needs reading again.
        base = max(0, self._shown - HOLD_BACK)
        spans = [(a + base, b + base) for a, b in secret_spans(self._text[base:])]
        start = self._shown
        for a, b in spans:  # never end inside a secret: it goes out whole, masked
            if a < upto < b:
                upto = b if b <= len(self._text) else a
        if upto <= start:
            return ""
        part = self._text[start:upto]
        local = [
            (max(a, start) - start, min(b, upto) - start)
            for a, b in spans
            if a < upto and b > start
        ]
        self._shown = upto
        return _masked(part, local)  # the shapes of keys: redact(), where every event goes


class ReplyStreams:
    """The core's streamed replies, by turn: each `ReplyDelta` goes through its turn's
    `StreamRedactor` while a secret long enough to be looked for is configured, and what is
    held back goes out before the next `SentenceReady`, `ReplyDone`, `TurnError` or
    `TurnEnded` of that turn."""

    def __init__(self) -> None:
        self._by_turn: dict[int, StreamRedactor] = {}

    def through(self, event: Any) -> list[Any]:
        """The events to post for `event`, in order (none while a piece is held back)."""
        from .events import ReplyDelta, ReplyDone, SentenceReady, TurnEnded, TurnError

        if isinstance(event, ReplyDelta) and has_secrets():
            stream = self._by_turn.setdefault(event.turn_id, StreamRedactor())
            text = stream.push(event.text)
            return [ReplyDelta(event.turn_id, text)] if text else []
        ends = (SentenceReady, ReplyDone, TurnError, TurnEnded)
        if isinstance(event, ends) and event.turn_id in self._by_turn:
            # A whole sentence is out (it is redacted as a whole): what was held goes first,
            # so the text shown, and recorded, is never behind what is said.
            stream = self._by_turn[event.turn_id]
            if not isinstance(event, SentenceReady):
                del self._by_turn[event.turn_id]
            rest = stream.flush()
            return [ReplyDelta(event.turn_id, rest), event] if rest else [event]
        return [event]
