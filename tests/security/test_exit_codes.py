"""Commands that fail say so in their exit status, tests that should fail do, and a closed
pipe ends a command quietly, like any Unix tool."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.helpers import companion_cmd, reply

AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"


def test_personas_try_fails_when_the_model_does(tmp_path):
    result = subprocess.run(
        companion_cmd(
            "personas",
            "try",
            "storyteller",
            "hello",
            "--mute",
            "--llm-base-url",
            "http://127.0.0.1:9/v1",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "can't reach" in result.stdout and "Traceback" not in result.stderr


def test_a_closed_pipe_ends_quietly():
    """Like `companion transcribe *.wav | head -1`: the first line arrives while the rest are
    still being transcribed, and the reader going away stops the run at the next file."""
    files = [str(AUDIO / "how_long.wav")] * 6
    with subprocess.Popen(
        companion_cmd("transcribe", *files), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()  # like `| head -1`: read a line, then go away
        # It came while the run went on (the next file has to be transcribed before the run
        # can even notice the reader left): nothing held back until the end.
        still_running = process.poll() is None
        process.stdout.close()
        err = process.stderr.read().decode()
        code = process.wait(timeout=120)
    assert code == 0, err
    assert b"how_long.wav: " in first and still_running
    assert "BrokenPipe" not in err and "unexpected" not in err and "Traceback" not in err


def test_a_dialogue_whose_recording_cannot_be_read_fails(tmp_path):
    dialogue = tmp_path / "bad_audio.toml"
    dialogue.write_text(
        'description = "a recording that is not one"\n\n[[turn]]\n'
        'audio = "/etc/passwd"\n[turn.expect]\nintent = "conversation"\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        companion_cmd("test", str(dialogue)), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert re.search(r"bad_audio\.toml:\d+: turn 1 audio", result.stdout)
    assert "not a readable audio file" in result.stdout


def test_a_real_model_that_refuses_every_request_fails_the_run(tmp_path, scripted):
    for _ in range(4):
        scripted.add(reply(fault="401"))
    dialogue = tmp_path / "chat.toml"
    dialogue.write_text(
        'description = "small talk"\n\n[[turn]]\nsay = "tell me a joke"\n'
        'model = "A joke."\n[turn.expect]\nintent = "conversation"\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "COMPANION_LLM_PROVIDER": "custom",
        "COMPANION_LLM_BASE_URL": scripted.base_url,
        "COMPANION_LLM_MODEL": "m",
    }
    result = subprocess.run(
        companion_cmd("test", str(dialogue), "--llm", "real"),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 1, result.stdout
    assert "authentication error" in result.stdout


def test_help_documents_the_exit_status_and_a_usage_error_is_2():
    shown = subprocess.run(companion_cmd("--help"), capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0
    for status in ("0 ", "1 ", "2 ", "130 "):
        assert re.search(rf"^  {status}\s*\S", shown.stdout, re.M), status
    assert "NO_COLOR" in shown.stdout
    wrong = subprocess.run(
        companion_cmd("config", "show", "--bogus"), capture_output=True, text=True, timeout=60
    )
    assert wrong.returncode == 2 and "unrecognized arguments: --bogus" in wrong.stderr


def test_ctrl_c_stops_a_long_command_with_status_130():
    import signal

    files = [str(AUDIO / "how_long.wav")] * 20
    with subprocess.Popen(
        companion_cmd("transcribe", *files), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()  # the first file is done: we are inside the command
        process.send_signal(signal.SIGINT)
        rest = process.stdout.read().decode()
        err = process.stderr.read().decode()
        code = process.wait(timeout=60)
    assert code == 130, err
    assert len(rest.splitlines()) < len(files) - 1  # it stopped early
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
