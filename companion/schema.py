"""Reading the project's TOML data files (config, personas) with errors a non-programmer can act on.

Every problem names the file, the line where TOML can tell it (else the key path), and the fix.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


class DataFileError(Exception):
    """A problem in a file a person edits. `str()` is the whole, ready-to-show message."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


def load_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; syntax errors name the line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise DataFileError(path, f"not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    except OSError as exc:
        raise DataFileError(path, f"cannot be read: {exc.strerror}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = int(match.group(1)) if match else None
        if line is None and "end of document" in str(exc):
            line = max(1, len(text.splitlines()))
        reason = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", str(exc))
        col = f", column {match.group(2)}" if match else ""
        raise DataFileError(
            path,
            f"TOML syntax error{col}: {reason}. Check quotes, brackets and `key = value` form.",
            line,
        ) from None


def line_of(text: str, key: str, table: str | None = None) -> int | None:
    """Best-effort line number of `key = ...` (inside `[table]` when given) in TOML source."""
    in_table = table is None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("["):
            name = stripped.strip("[] \t")
            if table is not None:
                in_table = name == table
            continue
        if in_table and re.match(rf'^"?{re.escape(key)}"?\s*=', stripped):
            return number
    return None


def suggest(word: str, choices: Iterable[str]) -> str:
    """A ' Did you mean "x"?' suffix, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""


def check_keys(
    path: Path,
    text: str,
    data: Mapping[str, Any],
    allowed: Iterable[str],
    table: str | None = None,
) -> None:
    """Reject unknown keys with the line and a "did you mean" suggestion."""
    allowed = list(allowed)
    for key in data:
        if key not in allowed:
            where = f"[{table}] " if table else ""
            raise DataFileError(
                path,
                f'unknown key {where}"{key}".{suggest(key, allowed)} '
                f"Known keys: {', '.join(sorted(allowed))}.",
                line_of(text, key, table),
            )


def expect_type(
    path: Path,
    text: str,
    key: str,
    value: Any,
    kind: type | tuple[type, ...],
    table: str | None = None,
) -> Any:
    """Return `value` if it has the right type; else a clear error (ints count as floats)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    # bool is a subclass of int in Python, but `true` is no answer to "a whole number".
    ok = not (isinstance(value, bool) and bool not in kinds) and isinstance(value, kinds)
    if not ok:
        names = {
            str: "text in quotes",
            bool: "true or false",
            int: "a whole number",
            float: "a number",
            list: "a list [...]",
            dict: "a table",
        }
        wanted = " or ".join(names.get(k, k.__name__) for k in kinds)
        dotted = f"{table}.{key}" if table else key
        raise DataFileError(
            path, f'"{dotted}" must be {wanted}, not {value!r}.', line_of(text, key, table)
        )
    return value
