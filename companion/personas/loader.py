"""Persona files: one TOML file per persona in `personas/`, validated with precise errors.

TOML because designers edit these by hand: it has comments, multi-line strings and no implicit
type surprises (YAML's `no` becoming false). A file may say `extends = "other-id"` to start
from another persona and change only what differs; tables (`[voice]`, `[style]`, ...) merge key
by key, everything else is replaced.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..schema import DataFileError, expect_type, line_of, load_toml, suggest
from ..untrusted import shown
from .content import find_adult_content, rating_from_content

log = logging.getLogger(__name__)

RATINGS = ("everyone", "teen", "mature")
TABLES: dict[str, dict[str, type]] = {
    "voice": {"id": str, "rate": int, "pitch": int, "volume": float, "piper": str},
    "style": {"max_sentences": int, "max_words": int},
    "generation": {"temperature": float, "max_tokens": int, "top_p": float},
    "driving": {"max_speed_kmh": float},
}
SCALARS: dict[str, type] = {
    "id": str,
    "name": str,
    "description": str,
    "system_prompt": str,
    "greeting": str,
    "rating": str,
    "kids_safe": bool,
    "aliases": list,
    "extends": str,
    "glyph": str,
    "examples": list,
}
TOP_KEYS = (*SCALARS, *TABLES)
REQUIRED = ("name", "description", "system_prompt")
EXAMPLE_KEYS = ("user", "assistant")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
LONG_PROMPT_WORDS = 600
TEXT_LIMITS = {"system_prompt": 32 * 1024, "description": 4 * 1024, "greeting": 4 * 1024}
RANGES: dict[tuple[str, str], tuple[float, float, str]] = {  # (table, key): (low, high, unit)
    ("voice", "rate"): (80, 450, "words per minute"),
    ("voice", "pitch"): (0, 100, ""),
    ("voice", "volume"): (0.0, 1.0, ""),
    ("style", "max_sentences"): (1, 20, ""),
    ("style", "max_words"): (5, 500, ""),
    ("generation", "temperature"): (0.0, 2.0, ""),
    ("generation", "max_tokens"): (16, 8192, ""),
    ("generation", "top_p"): (0.0, 1.0, ""),
    ("driving", "max_speed_kmh"): (0.0, 300.0, ""),
}


def slug(name: str) -> str:
    """A valid persona id (and file name) for a display name: "Road Trip DJ" -> road_trip_dj."""
    text = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not text or not text[0].isalpha():
        text = f"persona_{text}".rstrip("_")
    return text


@dataclass(frozen=True)
class Voice:
    """How the persona sounds: an engine voice id ('' = default), words per minute, 0..1 volume."""

    id: str = ""
    rate: int = 175
    pitch: int = 50  # 0..100, espeak's scale
    volume: float = 1.0
    piper: str = ""  # a Piper voice name (en_US-joe-medium) or .onnx path; "" = the default


@dataclass(frozen=True)
class Persona:
    id: str
    name: str
    description: str
    system_prompt: str
    greeting: str
    rating: str = "everyone"
    kids_safe: bool = False
    aliases: tuple[str, ...] = ()
    examples: tuple[tuple[str, str], ...] = ()  # (driver says, persona answers)
    voice: Voice = field(default_factory=Voice)
    max_sentences: int = 3
    max_words: int | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    max_speed_kmh: float | None = None  # refuse to run above this speed (e.g. meditation)
    glyph: str = ""
    extends: str | None = None
    source: Path | None = None
    # What the file claimed, when that is more permissive than what was earned (`rating` and
    # `kids_safe` above are the effective ones), and why: for `personas check`.
    claimed_rating: str = ""
    claimed_kids_safe: bool = False
    rating_reasons: tuple[str, ...] = ()

    def instructions(self) -> str:
        """The system prompt as sent to the model, with the spoken-reply rules appended."""
        words = f" and {self.max_words} words" if self.max_words else ""
        return (
            f"{self.system_prompt.strip()}\n\n"
            f"Your replies are read aloud to a driver: answer in at most {self.max_sentences} "
            f"short sentences{words} of plain spoken text, with no markdown, lists, emoji or URLs."
        )

    @property
    def spoken_names(self) -> tuple[str, ...]:
        """Every name a driver may use for this persona."""
        return (self.name, self.id.replace("_", " "), *self.aliases)


@dataclass(frozen=True)
class Problem:
    """A finding of `check`: an error stops the persona loading, a warning does not."""

    path: Path
    line: int | None
    key: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        label = "" if self.severity == "error" else "warning: "
        return f"{where}: {label}{self.key}: {self.message}"


class PersonaError(DataFileError):
    """A persona file is invalid. Carries the key, so tools can print `file:line: key: ...`."""

    def __init__(self, path: Path, key: str, message: str, line: int | None = None) -> None:
        super().__init__(path, f"{key}: {message}", line)
        self.key = key
        self.message = message

    def problem(self) -> Problem:
        return Problem(self.path, self.line, self.key, self.message)


@dataclass
class _Raw:
    path: Path
    text: str
    data: dict[str, Any]


def _parse(path: Path) -> _Raw:
    """Read one file and check every key and value that is present (not yet completeness)."""
    try:
        data, text = load_toml(path)
    except DataFileError as exc:
        raise PersonaError(path, "file", str(exc).split(": ", 1)[-1], exc.line) from None

    def fail(key: str, message: str, table: str | None = None) -> PersonaError:
        return PersonaError(
            path, f"{table}.{key}" if table else key, message, line_of(text, key, table)
        )

    def typed(key: str, value: Any, kind: type, table: str | None = None) -> Any:
        try:
            return expect_type(path, text, key, value, kind, table)
        except DataFileError as exc:
            raise fail(key, str(exc).split(": ", 1)[-1], table) from None

    for key in data:
        if key not in TOP_KEYS:
            raise fail(
                key, f"unknown key.{suggest(key, TOP_KEYS)} Known keys: {', '.join(TOP_KEYS)}."
            )
    for key, kind in SCALARS.items():
        if key in data:
            data[key] = typed(key, data[key], kind)
    for key in ("name", "description", "system_prompt", "greeting"):
        if key in data and not data[key].strip():
            raise fail(key, "is empty: write some text, or delete the line to inherit it")
    for key, limit in TEXT_LIMITS.items():
        size = len(data.get(key, "").encode("utf-8", "replace"))
        if size > limit:
            raise fail(
                key,
                f"is {size // 1024} KB; the limit is {limit // 1024} KB (it is sent "
                "with every request). Shorten it.",
            )

    persona_id = data.get("id", path.stem)
    if persona_id != path.stem:
        raise fail(
            "id",
            f'"{persona_id}" differs from the file name; rename the file to '
            f'{persona_id}.toml or set id = "{path.stem}"',
        )
    if not ID_PATTERN.match(path.stem):
        raise PersonaError(
            path,
            "id",
            f"file names must be lower-case letters, digits and _ (e.g. {slug(path.stem)}.toml)",
        )
    if "rating" in data and data["rating"] not in RATINGS:
        raise fail(
            "rating",
            f'must be one of {", ".join(RATINGS)}, not "{data["rating"]}"'
            f"{suggest(data['rating'], RATINGS)}",
        )
    for alias in data.get("aliases", []):
        if not isinstance(alias, str) or not alias.strip():
            raise fail("aliases", 'must be a list of phrases, like ["story mode", "stories"]')
    if "examples" in data:
        data["examples"] = _examples(data["examples"], fail)
    for table, keys in TABLES.items():
        if table not in data:
            continue
        if not isinstance(data[table], dict):
            raise fail(table, f"must be a [{table}] table")
        for key, value in data[table].items():
            if key not in keys:
                raise fail(
                    key, f"unknown key.{suggest(key, keys)} Known keys: {', '.join(keys)}.", table
                )
            data[table][key] = typed(key, value, keys[key], table)
    _check_ranges(data, fail)
    return _Raw(path, text, data)


def _examples(entries: Any, fail: Any) -> list[tuple[str, str]]:
    """The [[examples]] tables: (user, assistant) pairs."""
    examples = []
    for n, example in enumerate(entries):
        if not isinstance(example, dict):
            raise fail("examples", f"entry {n + 1} must be an [[examples]] table")
        for key in example:
            if key not in EXAMPLE_KEYS:
                raise fail(
                    "examples",
                    f'entry {n + 1} has unknown key "{key}".{suggest(key, EXAMPLE_KEYS)}',
                )
        if set(example) != set(EXAMPLE_KEYS) or not all(
            isinstance(example[k], str) and example[k].strip() for k in EXAMPLE_KEYS
        ):
            raise fail("examples", f'entry {n + 1} needs both user = "..." and assistant = "..."')
        examples.append((example["user"], example["assistant"]))
    return examples


def _check_ranges(data: dict[str, Any], fail: Any) -> None:
    for (table, key), (low, high, unit) in RANGES.items():
        value = data.get(table, {}).get(key)
        if value is not None and not low <= value <= high:
            unit = f" {unit}" if unit else ""
            raise fail(key, f"must be between {low} and {high}{unit}, not {value}", table)


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    merged = dict(parent)
    for key, value in child.items():
        if key in TABLES and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _resolve(raw: _Raw, raws: dict[str, _Raw], chain: tuple[str, ...] = ()) -> dict[str, Any]:
    data = raw.data
    parent_id = data.get("extends")
    if not parent_id:
        return data
    if parent_id == raw.path.stem or parent_id in chain:
        loop = " -> ".join((*chain, raw.path.stem, parent_id))
        raise PersonaError(
            raw.path,
            "extends",
            f"goes round in a circle ({loop}); one of these personas must not extend another",
            line_of(raw.text, "extends"),
        )
    if parent_id not in raws:
        raise PersonaError(
            raw.path,
            "extends",
            f'no persona "{parent_id}" to extend.'
            f"{suggest(parent_id, raws)} Available: {', '.join(sorted(raws))}.",
            line_of(raw.text, "extends"),
        )
    parent = _resolve(raws[parent_id], raws, (*chain, raw.path.stem))
    inherited = {k: v for k, v in parent.items() if k not in ("id", "extends", "aliases")}
    return _merge(inherited, data)


def _chain(raw: _Raw, raws: dict[str, _Raw]) -> list[_Raw]:
    """The persona and everything it extends, nearest first (cycles were refused already)."""
    chain = [raw]
    while (parent := chain[-1].data.get("extends")) in raws and raws[parent] not in chain:
        chain.append(raws[parent])
    return chain


def _earned(
    raw: _Raw, raws: dict[str, _Raw], data: dict[str, Any]
) -> tuple[str, bool, tuple[str, ...]]:
    """(rating, kids_safe, reasons): the strictest of the persona's own claim, the claims of
    everything it extends and what its words say (personas.content); kids-safe only if it
    claims so, is rated everyone and names no adult content at all."""
    reasons: list[str] = []
    rating = data.get("rating", "everyone")
    for ancestor in _chain(raw, raws)[1:]:
        theirs = ancestor.data.get("rating", "everyone")
        if RATINGS.index(theirs) > RATINGS.index(rating):
            reasons.append(f'it extends "{ancestor.path.stem}", rated {theirs}')
            rating = theirs
    texts = {key: data.get(key, "") for key in ("description", "greeting", "system_prompt")}
    texts["examples"] = " ".join(f"{u}\n{a}" for u, a in data.get("examples", []))
    findings = find_adult_content(texts)
    by_content = rating_from_content(findings)
    if RATINGS.index(by_content) > RATINGS.index(rating):
        said = sorted({f'"{f.term}" ({f.where})' for f in findings})
        reasons.append(f"its words name adult content: {', '.join(said[:4])}")
        rating = by_content
    kids_safe = bool(data.get("kids_safe", False))
    if kids_safe and findings and rating == "everyone":
        said = sorted({f'"{f.term}" ({f.where})' for f in findings})
        reasons.append(
            f"kids-safe personas may not name adult content, even to rule it out: "
            f"{', '.join(said[:4])}"
        )
    return rating, kids_safe and rating == "everyone" and not findings, tuple(reasons)


def _build(raw: _Raw, raws: dict[str, _Raw]) -> Persona:
    data = _resolve(raw, raws)
    path = raw.path
    for key in REQUIRED:
        if key not in data:
            parent = raw.data.get("extends")
            hint = f' (nor inherited from "{parent}")' if parent else ""
            raise PersonaError(path, key, f'is missing{hint}: add a line like {key} = "..."')
    voice, style = data.get("voice", {}), data.get("style", {})
    generation, driving = data.get("generation", {}), data.get("driving", {})
    rating, kids_safe, reasons = _earned(raw, raws, data)
    return Persona(
        id=path.stem,
        # A persona file is a stranger's text: what the screen and terminal show of it is
        # shown() (untrusted.py); the prompt goes to the model as it is.
        name=shown(data["name"], one_line=True),
        description=shown(data["description"], one_line=True),
        system_prompt=data["system_prompt"],
        greeting=shown(data.get("greeting") or f"Hi, this is {data['name']}."),
        rating=rating,
        kids_safe=kids_safe,
        claimed_rating=data.get("rating", "everyone"),
        claimed_kids_safe=bool(data.get("kids_safe", False)),
        rating_reasons=reasons,
        aliases=tuple(shown(a, one_line=True) for a in data.get("aliases", [])),
        examples=tuple(data.get("examples", [])),
        voice=Voice(
            id=voice.get("id", ""),
            rate=voice.get("rate", 175),
            pitch=voice.get("pitch", 50),
            volume=voice.get("volume", 1.0),
            piper=voice.get("piper", ""),
        ),
        max_sentences=style.get("max_sentences", 3),
        max_words=style.get("max_words"),
        temperature=generation.get("temperature"),
        max_tokens=generation.get("max_tokens"),
        top_p=generation.get("top_p"),
        max_speed_kmh=driving.get("max_speed_kmh"),
        glyph=data.get("glyph", ""),
        extends=raw.data.get("extends"),
        source=path,
    )


def _files(*folders_or_files: Path) -> list[Path]:
    paths: list[Path] = []
    for item in folders_or_files:
        if item.is_dir():
            paths += sorted(item.glob("*.toml"))
        elif item.exists():
            paths.append(item)
    return paths


def load_persona(path: Path) -> Persona:
    """Read and validate one persona file (a parent it extends is looked up beside it)."""
    raws = {}
    for other in _files(path.parent):
        if other != path:
            try:
                raws[other.stem] = _parse(other)
            except PersonaError:
                continue
    raw = _parse(path)
    raws[path.stem] = raw
    return _build(raw, raws)


def load_personas(*folders: Path) -> tuple[dict[str, Persona], list[PersonaError]]:
    """Load every `*.toml` in the folders (later folders override earlier ones by id).

    A broken file does not stop the others loading: its error is returned so the caller can
    show it, and the rest of the cast stays available.
    """
    raws: dict[str, _Raw] = {}
    problems: list[PersonaError] = []
    for path in _files(*folders):
        try:
            raws[path.stem] = _parse(path)
        except PersonaError as exc:
            problems.append(exc)
    personas: dict[str, Persona] = {}
    for persona_id, raw in raws.items():
        try:
            personas[persona_id] = _build(raw, raws)
        except PersonaError as exc:
            problems.append(exc)
    for problem in problems:
        log.warning("%s", problem)
    return personas, problems


@cache
def installed_voices() -> frozenset[str] | None:
    """Voice names espeak-ng knows on this machine (None when espeak-ng is not installed)."""
    if not shutil.which("espeak-ng"):
        return None
    try:
        listing = subprocess.run(
            ["espeak-ng", "--voices"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    names: set[str] = set()
    for line in listing.splitlines()[1:]:
        columns = line.split()
        if len(columns) >= 5:
            names.update({columns[1].lower(), columns[3].lower(), columns[4].lower()})
    return frozenset(names)


def check_personas(*folders_or_files: Path, base: tuple[Path, ...] = ()) -> list[Problem]:
    """Every error and warning for the given files or folders, in file order. `base`: folders
    loaded first (the shipped personas), so a file may extend one of them, as in the app."""
    paths = _files(*folders_or_files)
    parents = [p.parent for p in paths]
    personas, errors = load_personas(*base, *dict.fromkeys(parents))
    wanted = {p.resolve() for p in paths}
    problems = [e.problem() for e in errors if e.path.resolve() in wanted]
    voices = installed_voices()
    by_alias: dict[str, str] = {}
    for persona in personas.values():
        if persona.source is None or persona.source.resolve() not in wanted:
            continue
        raw = _parse(persona.source)  # valid: it loaded; what the designer wrote themselves

        def warn(key: str, message: str, table: str | None = None, raw: _Raw = raw) -> None:
            line = line_of(raw.text, key.split(".")[-1], table)
            problems.append(Problem(raw.path, line, key, message, "warning"))

        if "greeting" not in raw.data and not persona.extends:
            warn(
                "greeting",
                'no greeting: drivers will hear a generic one when switching; add greeting = "..."',
            )
        words = len(persona.system_prompt.split())
        if words > LONG_PROMPT_WORDS:
            warn(
                "system_prompt",
                f"{words} words long; over {LONG_PROMPT_WORDS} words costs "
                "latency on every turn. Keep it short and concrete.",
            )
        if persona.voice.id and voices is not None:
            voice_base = persona.voice.id.lower().split("+")[0]
            if voice_base not in voices:
                warn(
                    "voice.id",
                    f'"{persona.voice.id}" is not installed on this machine; '
                    "`espeak-ng --voices` lists those that are",
                    "voice",
                )

        def error(key: str, message: str, raw: _Raw = raw) -> None:
            line = line_of(raw.text, key) or line_of(raw.text, "extends")
            problems.append(Problem(raw.path, line, key, message, "error"))

        why = "; ".join(persona.rating_reasons)
        if persona.rating != persona.claimed_rating:
            error(
                "rating",
                f'claims "{persona.claimed_rating}", but {why}: it is treated as '
                f'"{persona.rating}". Rate it "{persona.rating}" (or change what '
                "makes it so).",
            )
        if persona.claimed_kids_safe and not persona.kids_safe:
            error(
                "kids_safe",
                f"claims kids_safe = true, but {why or 'it is not rated everyone'}"
                ": kids mode will not offer it. Set kids_safe = false, or make "
                "it truly fit for children.",
            )
        for name in persona.spoken_names:
            key = " ".join(name.lower().split())
            other = by_alias.setdefault(key, persona.id)
            if other != persona.id:
                warn(
                    "aliases",
                    f'"{name}" is also a name of "{other}"; the driver could get '
                    "either. Give each persona its own aliases.",
                )
    return sorted(problems, key=lambda p: (str(p.path), p.line or 0))
