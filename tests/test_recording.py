"""Record and replay: a session recorded from chat or the screen (never a secret in it),
played back on the screen, and turned into a dialogue test that passes on this build."""

from __future__ import annotations

import os
import stat
import subprocess
import tomllib

import pytest

from companion.events import TurnStarted
from companion.llm.scripted_server import ScriptedReply
from companion.recording import load_session
from companion.schema import DataFileError
from tests.helpers import companion_cmd
from tests.ui_helpers import make_app, nav_text, transcript_text, type_text, wait_until

KEY = "sk-live-RecordingMustNeverHoldThis-0123456789"
PASSWORD = "hunter2-never-recorded"
TURNS = "take me to the nearest charger\nswitch to storyteller\ntell me a story about a fox\n"
STORY = "Once upon a time a fox found a charger. It was happy."


def record_chat(tmp_path, scripted, extra_env=None):
    recording = tmp_path / "drive.jsonl"
    scripted.add(ScriptedReply(STORY))
    base = scripted.base_url.replace("http://", f"http://driver:{PASSWORD}@")
    result = subprocess.run(
        companion_cmd("chat", "--mute", "--record", str(recording), "--llm-base-url", base),
        input=TURNS,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "COMPANION_LLM_API_KEY": KEY, **(extra_env or {})},
    )
    assert result.returncode == 0, result.stderr
    assert STORY in result.stdout
    return recording


def test_a_recorded_chat_becomes_a_dialogue_test_that_passes(tmp_path, scripted):
    recording = record_chat(tmp_path, scripted)
    assert stat.S_IMODE(recording.stat().st_mode) == 0o600
    text = recording.read_text(encoding="utf-8")
    assert KEY not in text and PASSWORD not in text  # nothing secret, anywhere
    session = load_session(recording)
    assert session.header["persona"] == "assistant"
    said = [e.text for _, e in session.events if isinstance(e, TurnStarted)]
    assert said == TURNS.strip().split("\n")

    out = tmp_path / "from_drive.toml"
    result = subprocess.run(
        companion_cmd("test", "--from-session", str(recording), "-o", str(out)),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 of 1 dialogues passed" in result.stdout
    dialogue = tomllib.loads(out.read_text(encoding="utf-8"))
    turns = dialogue["turn"]
    assert [t["say"] for t in turns] == said
    assert turns[0]["expect"]["destination"].startswith("Voltpoint")
    assert turns[1]["expect"]["switched_to"] == "storyteller"
    assert turns[2]["model"] == STORY and turns[2]["expect"]["reply"] == STORY
    # The generated test really checks: a different build answer would fail it.
    broken = out.read_text(encoding="utf-8").replace(
        'switched_to = "storyteller"', 'switched_to = "therapist"'
    )
    out.write_text(broken, encoding="utf-8")
    result = subprocess.run(
        companion_cmd("test", str(out)), capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 1 and "therapist" in result.stdout


async def test_the_screen_records_and_replays_a_session(tmp_path, scripted):
    recording = tmp_path / "screen.jsonl"
    scripted.add(ScriptedReply(STORY))
    app = make_app(tmp_path, scripted.base_url, record=recording)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "No route" in nav_text(app), what="maps loaded")
        await type_text(pilot, "take me to bluebird coffee")
        await wait_until(pilot, lambda: "Bluebird" in nav_text(app), what="the route")
        await type_text(pilot, "tell me a story")
        await wait_until(pilot, lambda: "It was happy." in transcript_text(app), what="the reply")
        await pilot.press("ctrl+q")
    recorded = load_session(recording)
    assert [e.text for _, e in recorded.events if isinstance(e, TurnStarted)] == [
        "take me to bluebird coffee",
        "tell me a story",
    ]

    replay = make_app(tmp_path, None, replay=recorded)
    async with replay.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: "End of the recording" in transcript_text(replay),
            timeout=30,
            what="the replay to end",
        )
        shown = transcript_text(replay)
        assert "You: take me to bluebird coffee" in shown and STORY in shown
        assert "Bluebird" in nav_text(replay)  # the recorded drive updates, on the card


def test_a_file_that_is_not_a_recording_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.jsonl"
    bad.write_text('{"event": "TurnStarted"}\n', encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_session(bad)
    assert "not a session recording" in str(caught.value) and "--record" in str(caught.value)
    result = subprocess.run(
        companion_cmd("replay", str(bad)), capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "notes.jsonl" in result.stderr and "Traceback" not in result.stderr
