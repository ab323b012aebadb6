"""Text from outside, made safe to show: the one sanitiser on every way out.

A model's reply, a tool's or a web page's text, a server's error body, a persona file, a
character card, a recording and a catalogue are all written by someone else. Before any of it
reaches a terminal (`chat`, the CLI's lists and errors), the car screen, a recording or a file
we write, `shown()` takes out what a terminal would *obey* instead of print:

- escape sequences of every kind: CSI (cursor moves, clearing the screen, colours), OSC
  (window titles, clipboard writes with OSC 52, hyperlinks), DCS, SOS, PM and APC strings,
  the short two-character escapes, and their 8-bit C1 forms;
- every other control character (BEL, backspace, carriage return, form feed, DEL and the
  C1 range), so nothing can overwrite or hide what was printed before it;
- the bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) that make
  text display in another order than it is read ("Trojan Source").

Newlines stay (and tabs, as spaces in one-line text). Whatever is left is shown as text. The
assistant core passes every event through `shown_event()` (with redaction) before a front end,
log, timings file or recording sees it, and the CLI writes through `SafeStream`, so a new
front end or a new `print` cannot forget it. The screen's own markup is escaped where the
screen builds it (`rich.markup.escape`): a `[bold]` in a model's reply stays text.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TextIO

from .redaction import redact

_SEQUENCES = re.compile(
    r"""
      \x1b\[ [0-?]* [ -/]* [@-~]?                       # CSI ... final byte
    | \x1b [\]PX^_] [\s\S]*? (?:\x07|\x1b\\|\x9c|\Z)    # OSC, DCS, SOS, PM, APC ... ending
    | \x1b [ -/]* [0-~]?                                # the other escapes (nF, Fp, Fe, Fs)
    | \x9b [0-?]* [ -/]* [@-~]?                         # 8-bit CSI
    | [\x90\x98\x9d\x9e\x9f] [\s\S]*? (?:\x07|\x9c|\x1b\\|\Z)   # 8-bit OSC, DCS, ...
    """,
    re.VERBOSE,
)
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_CONTROLS = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def shown(text: str, *, one_line: bool = False) -> str:
    """`text` without anything a terminal would obey (see the module's doc). `one_line`:
    newlines and tabs become spaces too (a name, a title, a list entry)."""
    if not text:
        return text
    text = _SEQUENCES.sub("", text)
    text = _CONTROLS.sub("", text.replace("\t", " ") if one_line else text)
    if one_line:
        text = " ".join(text.split())
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(shown(value)) if value else value
    if isinstance(value, (tuple, list)):
        items = [_clean(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        if hasattr(value, "_fields"):  # a NamedTuple
            return type(value)(*items)
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return cleaned if any(cleaned[k] is not value[k] for k in value) else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return shown_event(value)
    return value


def shown_event(event: Any) -> Any:
    """An event with every text in it (nested lists, dicts and records included) redacted and
    `shown()`: a copy only when something changed."""
    if not dataclasses.is_dataclass(event) or isinstance(event, type):
        return event
    changes = {}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        cleaned = _clean(value)
        if cleaned is not value and cleaned != value:
            changes[f.name] = cleaned
    return dataclasses.replace(event, **changes) if changes else event


class SafeStream:
    """A text stream (stdout, stderr) that writes only `shown()`, redacted text. Our own
    terminal controls (the chat's "clear this line") go through `control()`, which nothing
    from outside can reach. Everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(shown(text)))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def control(self, sequence: str) -> None:
        """Write one of our own terminal control sequences as it is."""
        self._stream.write(sequence)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def control(out: Any, sequence: str) -> None:
    """Write our own control sequence to `out`, through `SafeStream.control` if it is one."""
    write = getattr(out, "control", None) or out.write
    write(sequence)
