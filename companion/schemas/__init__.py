"""JSON Schemas for persona files and dialogue-test files, built from the loaders' own key
tables (companion/personas/loader.py, companion/dialogue/spec.py), so they cannot drift: a key
the loader accepts is in the schema with the type it checks, and nothing else is.

The generated files ship in this package (persona.schema.json, dialogue.schema.json) for
editors that validate TOML (Taplo / "Even Better TOML": put `#:schema PATH` on the first line).
`companion personas schema [persona|dialogue]` prints one; `--path` prints where it is.
tests/test_schemas.py fails if a shipped file differs from what the tables generate now:
regenerate with `python -m companion.schemas`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DRAFT = "https://json-schema.org/draft/2020-12/schema"
_JSON_TYPES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}


def _typed(kind: type | tuple[type, ...]) -> dict[str, Any]:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = [_JSON_TYPES[k] for k in kinds]
    if "integer" in names and "number" in names:
        names.remove("integer")  # every integer is a number
    return {"type": names[0] if len(names) == 1 else names}


def persona_schema() -> dict[str, Any]:
    from ..personas.loader import (
        EXAMPLE_KEYS,
        ID_PATTERN,
        RANGES,
        RATINGS,
        REQUIRED,
        SCALARS,
        TABLES,
        TEXT_LIMITS,
    )

    properties: dict[str, Any] = {}
    for key, kind in SCALARS.items():
        properties[key] = _typed(kind)
    properties["id"]["pattern"] = ID_PATTERN.pattern
    properties["rating"]["enum"] = list(RATINGS)
    properties["extends"]["pattern"] = ID_PATTERN.pattern
    properties["aliases"]["items"] = {"type": "string", "minLength": 1}
    properties["examples"]["items"] = {
        "type": "object",
        "required": list(EXAMPLE_KEYS),
        "additionalProperties": False,
        "properties": {k: {"type": "string", "minLength": 1} for k in EXAMPLE_KEYS},
    }
    for key in ("name", "description", "system_prompt", "greeting"):
        properties[key]["minLength"] = 1
    for key, limit in TEXT_LIMITS.items():
        properties[key]["maxLength"] = limit  # the loader counts UTF-8 bytes
    for table, keys in TABLES.items():
        fields = {key: _typed(kind) for key, kind in keys.items()}
        for (where, key), (low, high, unit) in RANGES.items():
            if where == table:
                fields[key].update(minimum=low, maximum=high)
                if unit:
                    fields[key]["description"] = unit
        properties[table] = {"type": "object", "additionalProperties": False, "properties": fields}
    return {
        "$schema": DRAFT,
        "$id": "https://github.com/companion/companion/persona.schema.json",
        "title": "companion persona",
        "description": "A persona file (personas/*.toml); see docs/PERSONAS.md. name, "
        "description and system_prompt are required unless `extends` inherits them.",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "if": {"not": {"required": ["extends"]}},
        "then": {"required": list(REQUIRED)},
    }


def dialogue_schema() -> dict[str, Any]:
    from ..car.state import TEMPERATURE_UNITS
    from ..dialogue.spec import (
        EXPECT_KEYS,
        FAULTS,
        LATENCY_STAGES,
        LLM_MODES,
        SETUP_KEYS,
        TURN_KEYS,
    )
    from ..navigation.geo import UNITS

    setup = {key: _typed(kind) for key, kind in SETUP_KEYS.items()}
    setup["llm"]["enum"] = list(LLM_MODES)
    setup["units"]["enum"] = list(UNITS)
    setup["temperature"]["enum"] = list(TEMPERATURE_UNITS)
    expect = {key: _typed(kind) for key, kind in EXPECT_KEYS.items()}
    expect["latency_ms"].update(
        additionalProperties=False,
        properties={stage: {"type": "number", "exclusiveMinimum": 0} for stage in LATENCY_STAGES},
    )
    turn = {key: _typed(kind) for key, kind in TURN_KEYS.items()}
    turn["model_fault"]["enum"] = list(FAULTS)
    turn["model_tool"].update(
        required=["name"], properties={"name": {"type": "string"}, "arguments": {"type": "object"}}
    )
    turn["expect"].update(additionalProperties=False, properties=expect)
    return {
        "$schema": DRAFT,
        "$id": "https://github.com/companion/companion/dialogue.schema.json",
        "title": "companion dialogue test",
        "description": "A scripted dialogue test (tests/dialogues/*.toml); see "
        "docs/DIALOGUE_TESTS.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["description", "turn"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "setup": {"type": "object", "additionalProperties": False, "properties": setup},
            "turn": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "object", "additionalProperties": False, "properties": turn},
            },
        },
    }


SCHEMAS = {"persona": persona_schema, "dialogue": dialogue_schema}


def schema_path(kind: str) -> Path:
    return HERE / f"{kind}.schema.json"


def schema_text(kind: str) -> str:
    return json.dumps(SCHEMAS[kind](), indent=2, ensure_ascii=False) + "\n"


def write_all() -> list[Path]:
    written = []
    for kind in SCHEMAS:
        schema_path(kind).write_text(schema_text(kind), encoding="utf-8")
        written.append(schema_path(kind))
    return written
