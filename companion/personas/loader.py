"""Persona files: one TOML file per persona in `personas/`, validated with precise errors.

TOML because designers edit these by hand: it has comments, multi-line strings and no implicit
type surprises (YAML's `no` becoming false). The full persona system (inheritance, safety gates,
designer tools) builds on this loader.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..schema import DataFileError, check_keys, expect_type, line_of, load_toml

log = logging.getLogger(__name__)

RATINGS = ("everyone", "teen", "mature")
TOP_KEYS = (
    "id", "name", "description", "system_prompt", "greeting", "rating", "kids_safe",
    "aliases", "examples", "voice", "style", "generation",
)
VOICE_KEYS = ("id", "rate", "pitch", "volume")
STYLE_KEYS = ("max_sentences",)
GENERATION_KEYS = ("temperature", "max_tokens")
EXAMPLE_KEYS = ("user", "assistant")


@dataclass(frozen=True)
class Voice:
    """How the persona sounds: an engine voice id ('' = default), words per minute, 0..1 volume."""

    id: str = ""
    rate: int = 175
    pitch: int = 50  # 0..100, espeak's scale
    volume: float = 1.0


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
    temperature: float | None = None
    max_tokens: int | None = None
    source: Path | None = None

    def instructions(self) -> str:
        """The system prompt as sent to the model, with the spoken-reply rules appended."""
        return (
            f"{self.system_prompt.strip()}\n\n"
            f"Your replies are read aloud to a driver: answer in at most {self.max_sentences} "
            "short sentences of plain spoken text, with no markdown, lists, emoji or URLs."
        )


def load_persona(path: Path) -> Persona:
    """Read and validate one persona file."""
    data, text = load_toml(path)
    check_keys(path, text, data, TOP_KEYS)

    def need(key: str) -> str:
        if key not in data:
            raise DataFileError(path, f'missing "{key}": add a line like {key} = "..."')
        value = expect_type(path, text, key, data[key], str)
        if not value.strip():
            raise DataFileError(path, f'"{key}" is empty: write some text', line_of(text, key))
        return value

    persona_id = need("id")
    if persona_id != path.stem:
        raise DataFileError(
            path,
            f'id "{persona_id}" differs from the file name; rename the file to '
            f'{persona_id}.toml or set id = "{path.stem}"',
            line_of(text, "id"),
        )
    rating = expect_type(path, text, "rating", data.get("rating", "everyone"), str)
    if rating not in RATINGS:
        raise DataFileError(
            path, f'rating must be one of {", ".join(RATINGS)}, not "{rating}"',
            line_of(text, "rating"),
        )

    aliases = expect_type(path, text, "aliases", data.get("aliases", []), list)
    for alias in aliases:
        expect_type(path, text, "aliases", alias, str)

    examples = []
    raw_examples = expect_type(path, text, "examples", data.get("examples", []), list)
    for n, example in enumerate(raw_examples):
        if not isinstance(example, dict):
            raise DataFileError(path, f"examples[{n}] must be a [[examples]] table")
        check_keys(path, text, example, EXAMPLE_KEYS, table="examples")
        if set(example) != set(EXAMPLE_KEYS):
            raise DataFileError(
                path, f'examples[{n}] needs both user = "..." and assistant = "..."'
            )
        examples.append((str(example["user"]), str(example["assistant"])))

    voice = _table(path, text, data, "voice", VOICE_KEYS)
    style = _table(path, text, data, "style", STYLE_KEYS)
    generation = _table(path, text, data, "generation", GENERATION_KEYS)

    def typed(table: dict[str, Any], name: str, key: str, kind: type, default: Any) -> Any:
        return expect_type(path, text, key, table.get(key, default), kind, name)

    max_sentences = typed(style, "style", "max_sentences", int, 3)
    if max_sentences < 1:
        raise DataFileError(path, "style.max_sentences must be at least 1",
                            line_of(text, "max_sentences", "style"))
    volume = typed(voice, "voice", "volume", float, 1.0)
    if not 0.0 <= volume <= 1.0:
        raise DataFileError(path, "voice.volume must be between 0.0 and 1.0",
                            line_of(text, "volume", "voice"))

    return Persona(
        id=persona_id,
        name=need("name"),
        description=need("description"),
        system_prompt=need("system_prompt"),
        greeting=need("greeting"),
        rating=rating,
        kids_safe=expect_type(path, text, "kids_safe", data.get("kids_safe", False), bool),
        aliases=tuple(aliases),
        examples=tuple(examples),
        voice=Voice(
            id=typed(voice, "voice", "id", str, ""),
            rate=typed(voice, "voice", "rate", int, 175),
            pitch=typed(voice, "voice", "pitch", int, 50),
            volume=volume,
        ),
        max_sentences=max_sentences,
        temperature=typed(generation, "generation", "temperature", float, None)
        if "temperature" in generation else None,
        max_tokens=typed(generation, "generation", "max_tokens", int, None)
        if "max_tokens" in generation else None,
        source=path,
    )


def _table(path: Path, text: str, data: dict[str, Any], name: str, keys: tuple[str, ...]) -> dict:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise DataFileError(path, f"{name} must be a [{name}] table", line_of(text, name))
    check_keys(path, text, table, keys, table=name)
    return table


def load_personas(*folders: Path) -> tuple[dict[str, Persona], list[DataFileError]]:
    """Load every `*.toml` in the folders (later folders override earlier ones by id).

    A broken file does not stop the others loading: its error is returned so the caller can
    show it, and the rest of the cast stays available.
    """
    personas: dict[str, Persona] = {}
    problems: list[DataFileError] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                persona = load_persona(path)
            except DataFileError as exc:
                problems.append(exc)
                log.warning("%s", exc)
                continue
            personas[persona.id] = persona
    return personas, problems
