"""The JSON Schemas for persona and dialogue files: generated from the loaders' tables (the
shipped files are exactly what the tables generate now), accept every shipped file, and reject
what the loaders reject (unknown key, wrong type, out of range, bad enum), so an editor flags
the mistake before the app does."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import jsonschema
import pytest

from companion.dialogue import load_dialogue
from companion.personas.loader import PersonaError, load_persona
from companion.schema import DataFileError
from companion.schemas import SCHEMAS, schema_path, schema_text

from .helpers import companion_cmd

ROOT = Path(__file__).resolve().parent.parent
PERSONAS = sorted((ROOT / "personas").glob("*.toml"))
DIALOGUES = sorted((ROOT / "tests" / "dialogues").glob("*.toml")) + sorted(
    (ROOT / "personas" / "dialogues").glob("*.toml")
)


def _validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_path(kind).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_shipped_schema_is_what_the_loader_tables_generate(kind):
    assert schema_path(kind).read_text() == schema_text(kind), (
        "regenerate with: python -m companion.schemas"
    )


def test_every_shipped_persona_and_dialogue_validates():
    personas, dialogues = _validator("persona"), _validator("dialogue")
    for path in PERSONAS:
        errors = [e.message for e in personas.iter_errors(tomllib.loads(path.read_text()))]
        assert not errors, f"{path.name}: {errors}"
    assert len(DIALOGUES) > 20
    for path in DIALOGUES:
        errors = [e.message for e in dialogues.iter_errors(tomllib.loads(path.read_text()))]
        assert not errors, f"{path.name}: {errors}"


PERSONA = (ROOT / "personas" / "assistant.toml").read_text()


@pytest.mark.parametrize(
    "change",
    [
        ("[voice]", 'colour = "red"\n[voice]'),  # unknown top-level key
        ("[voice]", "[voice]\nspeed = 3"),  # unknown table key
        ("[voice]", "[voice]\nrate = 900"),  # out of range
        ("[voice]", '[voice]\nrate = "fast"'),  # wrong type
        ("[voice]", 'rating = "adults"\n[voice]'),  # not a rating
    ],
)
def test_the_schema_rejects_what_the_persona_loader_rejects(tmp_path, change):
    anchor, replacement = change
    key = replacement.splitlines()[-1].split(" =")[0] if "=" in replacement else None
    # Drop the line the change sets again (TOML forbids a key twice), then apply it.
    text = "".join(
        line
        for line in PERSONA.splitlines(keepends=True)
        if not (key and line.startswith(f"{key} ="))
    )
    text = text.replace(anchor, replacement, 1)
    path = tmp_path / "assistant.toml"
    path.write_text(text)
    with pytest.raises(PersonaError):
        load_persona(path)
    assert list(_validator("persona").iter_errors(tomllib.loads(text)))


@pytest.mark.parametrize(
    "text",
    [
        'description = "x"\n[[turn]]\nsay = "hi"\nmodel_fault = "explode"\n',
        'description = "x"\n[[turn]]\nsay = "hi"\n[turn.expect]\nreplyy = "hello"\n',
        'description = "x"\n[setup]\nllm = "gpt"\n[[turn]]\nsay = "hi"\n',
        'description = "x"\n[[turn]]\nsay = "hi"\n[turn.expect]\nmax_sentences = "three"\n',
    ],
)
def test_the_schema_rejects_what_the_dialogue_loader_rejects(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(DataFileError):
        load_dialogue(path)
    assert list(_validator("dialogue").iter_errors(tomllib.loads(text)))


def test_personas_schema_prints_the_shipped_file():
    done = subprocess.run(
        companion_cmd("personas", "schema"), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout == schema_path("persona").read_text()
    where = subprocess.run(
        companion_cmd("personas", "schema", "dialogue", "--path"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert Path(where.stdout.strip()) == schema_path("dialogue")


def _taplo() -> str:
    import shutil
    import sys

    found = shutil.which("taplo", path=str(Path(sys.executable).parent)) or shutil.which("taplo")
    assert found, "taplo is in the test extras: pip install -e '.[test]'"
    return found


def test_an_editor_checks_files_in_the_checkout_through_taplo_toml():
    """Taplo (the engine of VS Code's Even Better TOML) validates every persona and dialogue
    file in the checkout against our schemas through .taplo.toml."""
    files = [str(p.relative_to(ROOT)) for p in PERSONAS + DIALOGUES]
    checked = subprocess.run(
        [_taplo(), "check", *files], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 0, checked.stderr
    assert "found configuration file" in checked.stderr and f"total={len(files)}" in checked.stderr


def test_an_editor_flags_a_typo_in_a_file_that_names_the_schema(tmp_path):
    """A designer's file anywhere names the schema in its first line (`companion personas
    schema --path` prints it) and the editor marks the mistyped key, with its line."""
    path = subprocess.run(
        companion_cmd("personas", "schema", "--path"), capture_output=True, text=True, timeout=60
    ).stdout.strip()
    mine = tmp_path / "mine.toml"
    mine.write_text(
        f'#:schema {path}\nname = "Mine"\ndescription = "d"\nsystem_prompt = "p"\ngreting = "hi"\n'
    )
    checked = subprocess.run(
        [_taplo(), "check", str(mine)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 1
    assert "'greting' was unexpected" in checked.stderr and "mine.toml:5:" in checked.stderr
    mine.write_text(mine.read_text().replace("greting", "greeting"))
    fixed = subprocess.run(
        [_taplo(), "check", str(mine)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert fixed.returncode == 0, fixed.stderr
