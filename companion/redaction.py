"""Keeping secrets out of output: a string type that will not print itself, and a log filter."""

from __future__ import annotations

import logging
import re

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


def redact(text: str) -> str:
    """Replace every known secret, and anything shaped like one (an API key, a URL's
    password, an Authorization value, a key in a query string), with a mask."""
    for value in _registered:
        if value in text:
            text = text.replace(value, "***")
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
