"""Files a stranger hands us: character cards and persona files that claim to be for
children, extend an adult persona, are huge, nested without end or damaged. None of them
gets into kids mode, and each is reported with its file and line, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib

import pytest

from companion.personas.loader import check_personas, load_personas
from companion.personas.session import PersonaSession
from companion.resources import BUNDLED_PERSONAS
from tests.helpers import run_in_process

ADULT_CARD = {
    "spec": "chara_card_v2",
    "data": {
        "name": "Sunny Pal",
        "description": "An explicit erotic roleplay partner for adults.",
        "personality": "Flirty and sexual.",
        "first_mes": "Hey there, sexy.",
        "tags": ["kids", "family"],
        "extensions": {"companion": {"rating": "everyone", "kids_safe": True}},
    },
}


def run(*args: str) -> subprocess.CompletedProcess:
    return run_in_process(*args)


def kids_can_use(folder, persona_id: str) -> bool:
    cast, _ = load_personas(BUNDLED_PERSONAS, folder)
    session = PersonaSession(cast, "kids_storyteller", kids_mode=True)
    return session.allowed(cast[persona_id]) is None


def test_an_adult_card_claiming_to_be_for_everyone_stays_out_of_kids_mode(tmp_path):
    card = tmp_path / "sunny.json"
    card.write_text(json.dumps(ADULT_CARD), encoding="utf-8")
    folder = tmp_path / "personas"
    result = run("personas", "import", str(card), "--dir", str(folder))
    assert "Traceback" not in result.stderr
    text = (folder / "sunny_pal.toml").read_text(encoding="utf-8")
    assert "kids_safe = false" in text  # imported cards are never kids-safe
    cast, _ = load_personas(folder)
    assert cast["sunny_pal"].rating == "mature" and not cast["sunny_pal"].kids_safe
    assert not kids_can_use(folder, "sunny_pal")
    # Even with kids_safe switched on by hand, its words keep it out, and check says why.
    (folder / "sunny_pal.toml").write_text(
        text.replace("kids_safe = false", "kids_safe = true"), encoding="utf-8"
    )
    assert not kids_can_use(folder, "sunny_pal")
    problems = [p for p in check_personas(folder) if p.severity == "error"]
    keys = {p.key for p in problems}
    assert {"rating", "kids_safe"} <= keys
    assert all(p.line for p in problems)
    assert "erotic" in " ".join(p.message for p in problems)


def test_extending_unhinged_and_claiming_everyone_inherits_its_rating(tmp_path):
    folder = tmp_path / "personas"
    folder.mkdir()
    (folder / "sunshine.toml").write_text(
        'name = "Sunshine"\ndescription = "A friendly helper."\nextends = "unhinged"\n'
        'rating = "everyone"\nkids_safe = true\n',
        encoding="utf-8",
    )
    cast, _ = load_personas(BUNDLED_PERSONAS, folder)
    assert cast["sunshine"].rating == "mature" and not cast["sunshine"].kids_safe
    assert not kids_can_use(folder, "sunshine")
    result = run("personas", "check", str(folder / "sunshine.toml"))
    assert result.returncode == 1
    assert "sunshine.toml:4: rating" in result.stdout and "unhinged" in result.stdout
    assert "sunshine.toml:5: kids_safe" in result.stdout


def test_a_huge_persona_prompt_is_refused_with_its_line(tmp_path):
    persona = tmp_path / "wall.toml"
    persona.write_text(
        'name = "Wall"\ndescription = "Too much."\nsystem_prompt = "'
        + "words " * 2_000_000
        + '"\n',
        encoding="utf-8",
    )
    result = run("personas", "check", str(persona))
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    assert "wall.toml:3: system_prompt" in result.stdout and "32 KB" in result.stdout


def test_a_card_nested_without_end_is_a_clear_error(tmp_path):
    card = tmp_path / "deep.json"
    card.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    result = run("personas", "import", str(card), "--dir", str(tmp_path / "out"))
    assert result.returncode != 0
    assert "deep.json" in result.stderr and "nested too deeply" in result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


def test_a_card_with_broken_text_imports_cleanly(tmp_path):
    card = tmp_path / "odd.json"
    data = {"data": {"name": "Odd", "description": "caf\\ud800e", "first_mes": "hi\\udfff"}}
    card.write_text(json.dumps(data).replace("\\\\", "\\"), encoding="utf-8")
    result = run("personas", "import", str(card), "--dir", str(tmp_path / "out"))
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert (tmp_path / "out" / "odd.toml").exists()


def test_a_damaged_png_card_is_a_clear_error(tmp_path):
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"iTXt", b"chara\x00\x01\x00\x00\x00not zlib at all")
        + chunk(b"IEND", b"")
    )
    card = tmp_path / "broken.png"
    card.write_bytes(png)
    result = run("personas", "import", str(card), "--dir", str(tmp_path / "out"))
    assert result.returncode != 0
    assert "broken.png" in result.stderr and "damaged" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_shipped_cast_keeps_its_ratings():
    cast, problems = load_personas(BUNDLED_PERSONAS)
    assert not problems
    for persona in cast.values():
        assert persona.rating == persona.claimed_rating, persona.id
        assert persona.kids_safe == persona.claimed_kids_safe, persona.id
    assert not [p for p in check_personas(BUNDLED_PERSONAS) if p.severity == "error"]
    assert sys.executable  # the CLI above ran through this interpreter


def _png(*chunks: tuple[bytes, bytes]) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + b"".join(chunk(kind, body) for kind, body in chunks)
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "name, data, words",
    [
        # a zTXt chunk whose few bytes inflate to 64 MiB: refused, not unpacked into memory
        ("bomb.png", _png((b"zTXt", b"chara\0\0" + zlib.compress(b"A" * 2**26, 9))), "damaged"),
        ("cut.png", _png((b"iTXt", b"ccv3\0")), "damaged"),
        ("nobase64.png", _png((b"tEXt", b"ccv3\0{not base64!}")), "not base64 JSON"),
        ("empty.png", _png((b"tEXt", b"Comment\0hello")), "no character card"),
        ("truncated.charx", b"PK\x03\x04" + b"\0" * 40, "CHARX archive is damaged"),
        (
            "future.json",
            json.dumps({"spec": "chara_card_v9", "data": {"name": "X"}}).encode(),
            "reads chara_card_v2 and chara_card_v3",
        ),
    ],
)
def test_a_broken_or_foreign_card_is_one_line_naming_the_file(tmp_path, name, data, words):
    card = tmp_path / name
    card.write_bytes(data)
    result = run("personas", "import", str(card), "--dir", str(tmp_path / "out"))
    assert result.returncode != 0 and not (tmp_path / "out").exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and words in lines[0], result.stderr


def test_a_dialogue_with_too_many_turns_is_one_clear_error(tmp_path):
    from companion.dialogue.spec import MAX_TURNS, load_dialogue
    from companion.schema import DataFileError

    path = tmp_path / "endless.toml"
    turns = "".join(f'[[turn]]\nsay = "hello {n}"\n' for n in range(MAX_TURNS + 100))
    path.write_text('description = "too long"\n' + turns, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_dialogue(path)
    message = str(caught.value)
    line = 2 + 2 * MAX_TURNS  # the first turn past the limit
    assert f"endless.toml:{line}" in message and f"at most {MAX_TURNS}" in message, message
