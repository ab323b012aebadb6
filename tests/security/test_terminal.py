"""No text from outside drives the terminal: a model's reply, a persona file or a recording
with escape sequences, control characters or bidi overrides is shown as text, in `chat`, on
the screen, in `personas list` and in `replay`. The bytes the terminal gets are checked."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib

import pytest

from companion.events import IntentRecognized, ReplyDone, TurnError
from companion.recording import _toml, load_session
from companion.schema import DataFileError
from companion.untrusted import BIDI_CONTROLS, SafeStream, shown, shown_event
from tests.helpers import companion_cmd, reply
from tests.ui_helpers import make_app, transcript_text, type_text, wait_until

# Each is something a terminal obeys rather than prints, with words around it that must stay.
ATTACKS = {
    "clipboard write, BEL-terminated (OSC 52)": "copy \x1b]52;c;cm0gLXJmIH4K\x07done",
    "clipboard write, ST-terminated": "copy \x1b]52;c;cm0gLXJmIH4K\x1b\\done",
    "window title": "title \x1b]0;you have been pwned\x07done",
    "hyperlink": "link \x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\done",
    "clear the screen": "clear \x1b[2J\x1b[Hdone",
    "leave the alternate screen": "leave \x1b[?1049ldone",
    "colours": "red \x1b[31;1mdone\x1b[0m",
    "8-bit CSI": "csi \u009b2Jdone",
    "8-bit OSC": "osc \u009d0;title\u0007done",
    "device control string": "dcs \x1bP+q544e\x1b\\done",
    "application program command": "apc \x1b_payload\x1b\\done",
    "an unterminated OSC": "tail done\x1b]0;the rest is swallowed",
    "carriage return overwriting the line": "harmless-looking\rdone",
    "backspaces": "rm -rf\x08\x08\x08\x08\x08\x08done",
    "DEL": "del\x7fdone",
    "bell": "ring\x07done",
    "right-to-left override": "file\u202etxt.exe done",
    "isolates": "a\u2066b\u2069 done",
    "NUL": "nul\x00done",
}
OBEYED = set("\x1b\x07\x08\x7f\r\x00\u009b\u009d\u0090") | set(BIDI_CONTROLS)


def obeyed(text: str) -> set[str]:
    return {c for c in text if c in OBEYED or ("\x00" <= c < " " and c not in "\n\t")}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=list(ATTACKS))
def test_shown_keeps_the_words_and_drops_what_a_terminal_obeys(attack):
    out = shown(attack)
    assert not obeyed(out), repr(out)
    assert "done" in out
    assert shown(out) == out  # nothing left to take out
    one_line = shown("two\nlines\tand a tab", one_line=True)
    assert one_line == "two lines and a tab"


def test_every_text_in_an_event_is_shown_and_redacted_nested_too():
    event = TurnError(
        turn_id=1, kind="server", spoken="Sorry.", detail="body: \x1b]52;c;eA==\x07oops"
    )
    cleaned = shown_event(event)
    assert cleaned.detail == "body: oops" and cleaned.spoken == "Sorry."
    plain_event = ReplyDone(turn_id=1, text="plain")
    assert shown_event(plain_event) is plain_event  # nothing to clean: the same event
    # Nested: a route's stops named by a tool or a place file, in a dict in a list.
    intent = IntentRecognized(
        turn_id=1,
        intent="navigation.navigate_to",
        slots={"stops": [{"name": "Caf\u202ee\x1b[2J"}], "n": 2},
        confidence=0.9,
    )
    cleaned = shown_event(intent)
    assert cleaned.slots == {"stops": [{"name": "Cafe"}], "n": 2}


def test_a_stream_that_writes_only_shown_text_keeps_our_own_controls(tmp_path):
    path = tmp_path / "out.txt"
    with path.open("w", encoding="utf-8", newline="") as raw:
        stream = SafeStream(raw)
        stream.write("model says \x1b]0;title\x07hi\n")
        stream.control("\r\x1b[K")  # ours: clearing the line
        stream.write("bye\n")
    assert path.read_bytes() == b"model says hi\n\r\x1b[Kbye\n"


def test_chat_prints_a_hostile_reply_and_persona_as_text(scripted, tmp_path):
    hostile = " ".join(ATTACKS.values())
    scripted.add(reply(hostile))
    personas = tmp_path / "config" / "companion" / "personas"
    personas.mkdir(parents=True)
    (personas / "sneaky.toml").write_text(
        'name = "Sneaky\\u001b]0;owned\\u0007 Pal\\u202e"\n'
        'description = "Looks harmless\\u001b[2J"\n'
        'system_prompt = "You are helpful."\n',
        encoding="utf-8",
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = subprocess.run(
        companion_cmd("chat", "--mute", "--llm-base-url", scripted.base_url),
        input=b"tell me something\n",
        capture_output=True,
        timeout=60,
        env=env,
    )
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0, result.stderr
    assert "copy done" in out and "harmless-looking" in out  # the words are shown
    assert not obeyed(out + result.stderr.decode("utf-8")), repr(out)
    listed = subprocess.run(
        companion_cmd("personas", "list"), capture_output=True, timeout=60, env=env
    )
    text = listed.stdout.decode("utf-8")
    assert listed.returncode == 0 and "Sneaky" in text and "Looks harmless" in text
    assert not obeyed(text), repr(text)


async def test_the_screen_and_its_replay_show_a_hostile_reply_as_text(tmp_path, scripted):
    recording = tmp_path / "hostile.jsonl"
    scripted.add(reply("Look: \x1b]52;c;cm0gLXJm\x07copied \x1b[2Jcleared \u202eevil"))
    app = make_app(tmp_path, scripted.base_url, record=recording)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "tell me a story")
        await wait_until(pilot, lambda: "evil" in transcript_text(app), what="the reply")
        shown_text = transcript_text(app)
        assert "copied" in shown_text and "cleared" in shown_text
        assert not obeyed(shown_text), repr(shown_text)
        await pilot.press("ctrl+q")
    # A crafted recording: what it holds is shown as text too.
    lines = recording.read_text(encoding="utf-8").splitlines()
    assert not obeyed("".join(lines))  # nothing hostile was recorded
    crafted = json.dumps({"event": "ReplyDone", "text": "bye \x1b[?1049l\x1b]0;t\x07now"})
    recording.write_text("\n".join([*lines, crafted]) + "\n", encoding="utf-8")
    replayed = load_session(recording)
    assert not obeyed(repr([e for _, e in replayed.events]).encode().decode("unicode_escape"))
    replay = make_app(tmp_path, None, replay=replayed)
    async with replay.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot, lambda: "End of the recording" in transcript_text(replay), timeout=30
        )
        assert not obeyed(transcript_text(replay))


def test_a_malformed_recording_line_is_a_clear_error_with_its_line(tmp_path):
    header = json.dumps({"kind": "session", "version": 1})
    for bad, says in (
        ('{"event": "TurnStarted", "text": "hi", "dt": null}', '"dt"'),
        ('["TurnStarted", "hi"]', "not an event"),
        ('{"event": "TurnStarted", "text": "hi", "dt": "soon"}', '"dt"'),
    ):
        path = tmp_path / "bad.jsonl"
        path.write_text(f"{header}\n{bad}\n", encoding="utf-8")
        with pytest.raises(DataFileError) as caught:
            load_session(path)
        message = str(caught.value)
        assert "bad.jsonl" in message and ":2" in message and says in message, message


def test_what_from_session_writes_always_parses():
    for text in ("del \x7f here", 'quote " and \\ back', "tab\tand\nnewline", "\u202eevil"):
        assert tomllib.loads(f"x = {_toml(text)}")["x"] == text
