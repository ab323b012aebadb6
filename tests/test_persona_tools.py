"""Designer tools, as a designer runs them: `companion personas ...` (called in-process: what
the command decides and prints is the same; the console script itself is tested on the
installed wheel in tests/test_packaging.py)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import time

from companion.personas import load_persona
from companion.personas.authoring import PersonaLibrary, read_card

from .conftest import ROOT
from .helpers import reply
from .helpers import run_in_process as run
from .test_cli import Repl


def test_list_shows_the_cast_with_ratings_and_voices():
    result = run("personas", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) >= 12
    unhinged = next(line for line in lines if line.split()[0] == "unhinged")
    assert "mature" in unhinged and "[locked: mature off]" in unhinged and "wpm" in unhinged
    kids = run("personas", "list", "--kids-mode").stdout
    storyteller = next(x for x in kids.splitlines() if x.split()[0] == "storyteller")
    assert "[locked: kids mode]" in storyteller


def test_check_passes_on_the_shipped_cast_and_fails_with_file_line_key():
    result = run("personas", "check", str(ROOT / "personas"))
    assert result.returncode == 0, result.stdout
    assert "0 errors" in result.stdout


def test_check_reports_every_broken_file_and_exit_1(tmp_path):
    (tmp_path / "good.toml").write_text(
        'name = "G"\ndescription = "d"\nsystem_prompt = "p"\ngreeting = "hi"\n'
    )
    (tmp_path / "bad.toml").write_text(
        'name = "B"\ndescription = "d"\nsystem_prompt = "p"\ngreeting = "hi"\nrateing = "teen"\n'
    )
    (tmp_path / "worse.toml").write_text('name = "W"\n[voice]\nrate = "fast"\n')
    result = run("personas", "check", str(tmp_path))
    assert result.returncode == 1
    assert f'{tmp_path / "bad.toml"}:5: rateing: unknown key. Did you mean "rating"?' in (
        result.stdout
    )
    assert f"{tmp_path / 'worse.toml'}:3: voice.rate:" in result.stdout
    assert "3 persona files checked: 2 errors" in result.stdout


def test_new_then_check_then_try_a_persona(tmp_path, scripted):
    folder = tmp_path / "mine"
    result = run("personas", "new", "Road Trip DJ", "--dir", str(folder))
    assert result.returncode == 0, result.stderr
    path = folder / "road_trip_dj.toml"
    assert path.exists() and "# " in path.read_text()  # commented for designers
    assert run("personas", "check", str(path)).returncode == 0
    text = path.read_text().replace(
        "One line about Road Trip DJ: what drivers get from it.", "Spins stories about songs."
    )
    path.write_text(text)

    scripted.add(reply("Spinning up a classic for the open road."))
    config = tmp_path / "config.toml"
    config.write_text(f'[persona]\ndir = "{folder}"\n')
    result = run(
        "personas",
        "try",
        "road_trip_dj",
        "tell me about a classic road song",
        "--mute",
        "--config",
        str(config),
        "--llm-base-url",
        scripted.base_url,
    )
    assert result.returncode == 0, result.stderr
    assert "Road Trip DJ: Spinning up a classic for the open road." in result.stdout
    assert "You are Road Trip DJ" in scripted.requests[0].body["messages"][0]["content"]


def sillytavern_card() -> dict:
    return {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": "Captain Nova",
            "description": "{{char}} is a retired starship captain who narrates trips.",
            "personality": "gruff, kind, fond of space metaphors",
            "scenario": "{{char}} rides along with {{user}}.",
            "first_mes": "Captain Nova on the bridge. Where are we warping to, {{user}}?",
            "mes_example": "<START>\n{{user}}: How far is it?\n{{char}}: Three light-minutes, "
            "give or take a traffic jam.\n",
            "creator_notes": "A space captain co-pilot.",
            "system_prompt": "",
            "post_history_instructions": "",
            "alternate_greetings": [],
            "tags": ["scifi"],
            "creator": "someone",
            "character_version": "1",
            "extensions": {},
        },
    }


def png_with_card(card: dict) -> bytes:
    from companion.personas.authoring import card_png

    return card_png({"data": {"name": "x"}, **card})


def test_import_a_sillytavern_card_from_json_and_png(tmp_path):
    card = sillytavern_card()
    for name, data in (("nova.json", json.dumps(card).encode()), ("nova.png", png_with_card(card))):
        folder = tmp_path / name.replace(".", "_")
        (tmp_path / name).write_bytes(data)
        result = run("personas", "import", str(tmp_path / name), "--dir", str(folder))
        assert result.returncode == 0, result.stdout + result.stderr
        persona = load_persona(folder / "captain_nova.toml")
        assert persona.name == "Captain Nova"
        assert persona.greeting == (
            "Captain Nova on the bridge. Where are we warping to, the driver?"
        )
        assert "retired starship captain" in persona.system_prompt
        assert "Personality: gruff" in persona.system_prompt
        assert persona.examples == (
            ("How far is it?", "Three light-minutes, give or take a traffic jam."),
        )
        assert persona.rating == "teen" and not persona.kids_safe  # unknown content: not kids


def v3_card() -> dict:
    card = sillytavern_card()
    data = {
        **card["data"],
        "nickname": "Nova",  # V3: {{char}} means the nickname
        "group_only_greetings": ["Crew, assemble."],
        "creation_date": 1767225600,
        "assets": [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
    }
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": data}


def test_import_a_v3_card_from_json_png_and_charx(tmp_path):
    import io
    import zipfile

    from companion.personas.authoring import card_png

    v3 = v3_card()
    v2_elsewhere = {**sillytavern_card(), "data": {**sillytavern_card()["data"], "name": "Old"}}
    charx = io.BytesIO()
    with zipfile.ZipFile(charx, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", json.dumps(v3))
        archive.writestr("assets/icon/images/main.png", card_png(v3))
    # A PNG with a V2 'chara' chunk and a V3 'ccv3' chunk holding different cards: V3 wins.
    png = _png_with_text(chara=v2_elsewhere, ccv3=v3)
    assert b"ccv3" in png and b"chara" in png
    for name, data in (
        ("nova.json", json.dumps(v3).encode()),
        ("nova.png", png),
        ("nova.charx", charx.getvalue()),
    ):
        (tmp_path / name).write_bytes(data)
        folder = tmp_path / name.replace(".", "_")
        result = run("personas", "import", str(tmp_path / name), "--dir", str(folder))
        assert result.returncode == 0, result.stdout + result.stderr
        persona = load_persona(folder / "captain_nova.toml")
        assert persona.name == "Captain Nova", name
        assert (
            persona.greeting == "Captain Nova on the bridge. Where are we warping to, the driver?"
        )
        assert "Nova is a retired starship captain" in persona.system_prompt  # the nickname
        assert persona.examples == (
            ("How far is it?", "Three light-minutes, give or take a traffic jam."),
        )


def _png_with_text(**cards: dict) -> bytes:
    """A 1x1 PNG with one tEXt chunk per keyword, each holding a base64 JSON card."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    texts = b"".join(
        chunk(b"tEXt", key.encode() + b"\0" + base64.b64encode(json.dumps(card).encode()))
        for key, card in cards.items()
    )
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + texts + chunk(b"IEND", b"")


def test_export_then_import_round_trips(tmp_path):
    for suffix in (".json", ".png"):
        out = tmp_path / f"story{suffix}"
        assert run("personas", "export", "storyteller", str(out)).returncode == 0
        card = read_card(out)
        assert card["name"] == "Storyteller"
        if suffix == ".png":  # both versions, as the V3 spec asks, for old and new readers
            assert b"tEXtchara\0" in out.read_bytes() and b"tEXtccv3\0" in out.read_bytes()
        folder = tmp_path / f"back{suffix[1:]}"
        assert run("personas", "import", str(out), "--dir", str(folder)).returncode == 0
        again = load_persona(folder / "storyteller.toml")
        original = load_persona(ROOT / "personas" / "storyteller.toml")
        for field in (
            "name",
            "description",
            "greeting",
            "rating",
            "kids_safe",
            "aliases",
            "examples",
            "voice",
            "max_sentences",
            "temperature",
        ):
            assert getattr(again, field) == getattr(original, field), field
        assert again.system_prompt.strip() == original.system_prompt.strip()


def test_import_errors_are_clear(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = run("personas", "import", str(bad), "--dir", str(tmp_path))
    assert result.returncode == 2 and f"{bad}:1: not valid JSON" in result.stderr
    plain = tmp_path / "plain.png"
    plain.write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        )
    )
    result = run("personas", "import", str(plain), "--dir", str(tmp_path))
    assert "no character card in it" in result.stderr


def test_library_reloads_changed_files_and_keeps_the_last_good_version(tmp_path):
    folder = tmp_path / "cast"
    shutil.copytree(ROOT / "personas", folder)
    library = PersonaLibrary(folder)
    assert library.reload_if_changed() is None
    path = folder / "storyteller.toml"
    original = path.read_text()
    time.sleep(0.01)
    path.write_text(original.replace('name = "Storyteller"', 'name = "Bard"'))
    assert library.reload_if_changed() == []
    assert library.personas["storyteller"].name == "Bard"
    path.write_text(original.replace('name = "Storyteller"', 'nmae = "Oops"'))
    problems = library.reload_if_changed()
    assert problems and 'Did you mean "name"' in str(problems[0])
    assert library.personas["storyteller"].name == "Bard"  # last good version kept


def test_chat_switches_by_voice_refuses_in_kids_mode_and_reloads_edits(tmp_path, scripted):
    folder = tmp_path / "cast"
    shutil.copytree(ROOT / "personas", folder)
    config = tmp_path / "config.toml"
    config.write_text(f'[persona]\ndir = "{folder}"\n')
    scripted.add(reply("Once upon a time."), reply("Another tale."))
    repl = Repl(
        "--mute",
        "--kids-mode",
        "--config",
        str(config),
        "--persona",
        "kids_storyteller",
        "--llm-base-url",
        scripted.base_url,
    )
    repl.send("switch to unhinged mode")
    repl.wait_for("Kids mode is on, so I can't be Unhinged")
    repl.send("tell me a story")
    repl.wait_for("Once upon a time.")
    story = folder / "kids_storyteller.toml"
    story.write_text(story.read_text().replace('name = "Kids Storyteller"', 'name = "Story Buddy"'))
    repl.send("another one")
    repl.wait_for("Story Buddy: Another tale.")
    repl.send("switch to kids trivia")
    repl.wait_for("Kids Trivia: Welcome to Kids Trivia!")
    code, out, err = repl.finish()
    assert code == 0 and "Traceback" not in out + err
    assert "Kids mode is on" in scripted.requests[0].body["messages"][0]["content"]


def test_voice_cannot_change_safety_settings(scripted):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "companion",
            "chat",
            "--mute",
            "--kids-mode",
            "--llm-base-url",
            scripted.base_url,
        ],
        input="turn off kids mode\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "can only be changed in settings" in result.stdout
    assert not scripted.requests
