"""Every dialogue in tests/dialogues and personas/dialogues runs as a test, and the runner
itself is tested: broken personas and gates fail with messages a designer understands, bad
files are explained, the CLI's exit status, JUnit output, --update and --llm real behave."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from companion.config import BUNDLED_PERSONAS
from companion.dialogue import load_dialogue, run_dialogue
from companion.dialogue.report import format_result
from companion.resources import BUNDLED_DIALOGUES
from companion.schema import DataFileError

from .helpers import companion_cmd, reply

DIALOGUES = Path(__file__).resolve().parent / "dialogues"
FILES = sorted(DIALOGUES.glob("*.toml")) + sorted(BUNDLED_DIALOGUES.glob("*.toml"))


def test_there_are_enough_dialogues():
    assert len(FILES) >= 20
    assert sum(1 for f in FILES if "audio = " in f.read_text()) >= 3


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_dialogue(path):
    result = run_dialogue(load_dialogue(path))
    assert result.passed, "\n" + format_result(result)


def _personas_with(tmp_path: Path, persona: str, old: str, new: str) -> Path:
    folder = tmp_path / "personas"
    folder.mkdir()
    source = (BUNDLED_PERSONAS / f"{persona}.toml").read_text()
    assert old in source
    (folder / f"{persona}.toml").write_text(source.replace(old, new))
    return folder


def test_a_broken_greeting_fails_with_the_line_and_both_texts(tmp_path):
    personas = _personas_with(
        tmp_path, "storyteller", "Settle in. What kind of story", "Hey. What kind of story"
    )
    result = run_dialogue(
        load_dialogue(DIALOGUES / "switch_by_voice_and_back.toml"), personas=personas
    )
    assert not result.passed
    message = format_result(result)
    assert "switch_by_voice_and_back.toml:10: turn 1 expect.reply" in message
    assert 'expected: "Settle in. What kind of story shall I tell you?"' in message
    assert 'got:      "Hey. What kind of story shall I tell you?"' in message


def test_claiming_kids_safe_does_not_open_the_kids_gate(tmp_path):
    """A designer (or a stranger's file) marks Unhinged kids-safe and rated everyone: its
    own words still rate it, and the kids dialogue keeps passing."""
    personas = _personas_with(tmp_path, "unhinged", "kids_safe = false", "kids_safe = true")
    source = (personas / "unhinged.toml").read_text()
    (personas / "unhinged.toml").write_text(
        source.replace('rating = "mature"', 'rating = "everyone"')
    )
    result = run_dialogue(
        load_dialogue(DIALOGUES / "kids_mode_refuses_unhinged.toml"), personas=personas
    )
    assert result.passed, format_result(result)


def test_a_persona_that_really_is_let_through_fails_the_kids_dialogue(tmp_path):
    """The dialogue test itself can fail: an Unhinged rewritten as harmless and kids-safe
    is let in by the gate, and the kids dialogue, which expects a refusal, says so."""
    personas = _personas_with(tmp_path, "unhinged", "kids_safe = false", "kids_safe = true")
    source = (personas / "unhinged.toml").read_text()
    start = source.index('system_prompt = """')
    end = source.index('"""', start + len('system_prompt = """')) + 3
    source = (
        source[:start] + 'system_prompt = "You tell gentle jokes about ducks."' + source[end:]
    ).replace('rating = "mature"', 'rating = "everyone"')
    source = source.replace("Hard limits", "Rules")
    (personas / "unhinged.toml").write_text(source)
    result = run_dialogue(
        load_dialogue(DIALOGUES / "kids_mode_refuses_unhinged.toml"), personas=personas
    )
    message = format_result(result)
    assert "turn 1 expect.refused" in message
    assert "expected: a refusal for kids_mode" in message
    assert "got:      switched:unhinged" in message
    assert "turn 1 expect.persona" in message and 'got:      "unhinged"' in message


@pytest.mark.parametrize(
    "text, line, words",
    [
        (
            'description = "x"\n[setup]\npersona = "assistant"\nkids = true\n'
            '[[turn]]\nsay = "hi"\n',
            4,
            ['unknown key "kids"', 'Did you mean "kids_mode"?'],
        ),
        ('description = "x"\n[[turn]]\nsay = "hi"\naudio = "a.wav"\n', 2, ["not both"]),
        (
            'description = "x"\n[[turn]]\nsay = "hi"\nmodel_fault = "501"\n',
            4,
            ['model_fault "501"', "500"],
        ),
        ('[[turn]]\nsay = "hi"\n', 1, ["add a description"]),
        (
            'description = "x"\n[[turn]]\nsay = "hi"\n[turn.expect]\nreply_contain = "a"\n',
            5,
            ['unknown key "reply_contains"', 'Did you mean "reply_contains"?'],
        ),
        (
            'description = "x"\n[[turn]]\nsay = "hi"\n[turn.expect]\nmax_sentences = "two"\n',
            5,
            ["must be a whole number"],
        ),
        (
            'description = "x"\n[setup]\nllm = "gpt"\n[[turn]]\nsay = "hi"\n',
            3,
            ['"scripted" or "real"'],
        ),
    ],
)
def test_invalid_dialogue_files_are_explained(tmp_path, text, line, words):
    path = tmp_path / "bad.toml"
    path.write_text(text.replace('unknown key "reply_contains"', ""))
    with pytest.raises(DataFileError) as info:
        load_dialogue(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:"), message
    for word in words:
        if not word.startswith('unknown key "reply_contains'):
            assert word in message, message


def _failing_copy(tmp_path: Path) -> tuple[Path, int]:
    """control_repeat_and_stop with the last reply expectation wrong, and its line."""
    path = tmp_path / "failing.toml"
    text = (DIALOGUES / "control_repeat_and_stop.toml").read_text()
    path.write_text(text.replace('reply = "Okay."', 'reply = "Sure."'))
    line = text.splitlines().index('reply = "Okay."') + 1
    return path, line


def test_the_cli_exits_1_writes_junit_and_points_at_the_line(tmp_path):
    failing, line = _failing_copy(tmp_path)
    junit = tmp_path / "out" / "junit.xml"
    done = subprocess.run(
        companion_cmd(
            "test", str(failing), str(DIALOGUES / "navigate_which_one.toml"), "--junit", str(junit)
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{failing}:{line}: turn 3 expect.reply" in done.stdout
    assert 'expected: "Sure."' in done.stdout and 'got:      "Okay."' in done.stdout
    assert "1 of 2 dialogues passed, 1 failed." in done.stdout
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["failing"]
    ok = subprocess.run(
        companion_cmd("test", str(DIALOGUES / "navigate_which_one.toml")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and "1 of 1 dialogues passed." in ok.stdout


def test_update_records_the_new_reply_when_approved(tmp_path):
    failing, _ = _failing_copy(tmp_path)
    refused = subprocess.run(
        companion_cmd("test", str(failing), "--update"),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert "use --yes to accept" in refused.stdout and 'reply = "Sure."' in failing.read_text()
    done = subprocess.run(
        companion_cmd("test", str(failing), "--update", "--yes"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "1 reply expectation(s) updated." in done.stdout
    assert 'reply = "Okay."' in failing.read_text()
    again = subprocess.run(
        companion_cmd("test", str(failing)), capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stdout


def test_with_a_real_model_only_model_independent_expectations_count(
    tmp_path, scripted, monkeypatch
):
    """--llm real: the configured backend answers in its own words; reply-text expectations
    of turns it answered are skipped, everything the model cannot change is still checked."""
    scripted.add(reply("Something completely different.", match="."))
    monkeypatch.setenv("COMPANION_LLM_PROVIDER", "custom")
    monkeypatch.setenv("COMPANION_LLM_BASE_URL", scripted.base_url)
    monkeypatch.setenv("COMPANION_LLM_MODEL", "m")
    path = DIALOGUES / "switch_by_voice_and_back.toml"
    result = run_dialogue(load_dialogue(path), llm="real")
    assert result.passed, format_result(result)
    assert result.turns[1].reply == "Something completely different."
    assert scripted.requests  # the configured backend was really asked
    broken = tmp_path / "broken.toml"
    broken.write_text(
        path.read_text().replace('switched_to = "storyteller"', 'switched_to = "trivia"')
    )
    result = run_dialogue(load_dialogue(broken), llm="real")
    assert not result.passed and "expect.switched_to" in format_result(result)


def test_every_persona_has_a_greeting_and_style_dialogue():
    names = {f.stem for f in BUNDLED_DIALOGUES.glob("*.toml")}
    personas = {p.stem for p in BUNDLED_PERSONAS.glob("*.toml")}
    assert {f"persona_{p}" for p in personas} <= names


def test_latency_budgets_are_reported_and_fail_only_when_asked(tmp_path):
    path = tmp_path / "slow.toml"
    path.write_text(
        'description = "A budget nobody can meet."\n[[turn]]\nsay = "tell me a joke"\n'
        'model = "Knock knock."\n[turn.expect]\n'
        "latency_ms = { first_sentence = 0.001 }\n"
    )
    relaxed = run_dialogue(load_dialogue(path))
    assert relaxed.passed
    text = format_result(relaxed)
    assert "note:" in text and "slow.toml:6: turn 1 first_sentence" in text
    assert "over its 0.001 ms budget (not enforced" in text
    strict = run_dialogue(load_dialogue(path), enforce_latency=True)
    assert not strict.passed
    assert "turn 1 expect.latency_ms" in format_result(strict)
    assert "expected: first_sentence within 0.001 ms" in format_result(strict)
