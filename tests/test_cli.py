"""The `companion` command as a user runs it: a real process, real HTTP, real signals."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time

import pytest

from companion.llm.scripted_server import ScriptedLLMServer

from .helpers import companion_cmd, first_frame, read_events, reply, wait_for_event
from .soundcard import wait_until_recording
from .test_speech import loud_seconds

KEY = "xai-NeverPrintMe-abcdefghijklmnop"


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess:
    return subprocess.run(
        companion_cmd(*args),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_help_and_version():
    result = run("chat", "--help")
    assert result.returncode == 0
    assert "Ctrl+C   stops a reply" in result.stdout and "--mute" in result.stdout
    assert run("--version").stdout.startswith("companion ")


def test_config_show_masks_the_key_from_the_environment():
    result = run("config", "show", env={"XAI_API_KEY": KEY})
    assert result.returncode == 0
    assert "xAI Grok at https://api.x.ai/v1" in result.stdout
    assert KEY not in result.stdout + result.stderr
    assert "***mnop" in result.stdout


def test_a_broken_config_file_is_one_clear_line_not_a_traceback(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text('[llm]\nmodle = "grok-4"\n')
    for args in (("config", "show", "--config", str(bad)), ("chat", "--config", str(bad))):
        result = run(*args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert f"{bad}:2:" in result.stderr and 'Did you mean "model"?' in result.stderr


def test_unknown_persona_suggests_the_right_one():
    result = run("chat", "--persona", "asistant", "--mute")
    assert result.returncode == 2
    assert 'Did you mean "assistant"?' in result.stderr and "Traceback" not in result.stderr


def test_chat_streams_replies_and_survives_every_fault(scripted: ScriptedLLMServer, isolated_user):
    scripted.add(
        reply("Hello driver. Nice day for a drive."),
        reply(fault="401"),
        reply(fault="500"),
        reply("One two three four five.", fault="drop"),
        reply(fault="garbage"),
        reply(fault="429", retry_after=60),
        reply("Still here."),
    )
    # Seven ordinary chat lines (to the persona's model, not a skill).
    lines = "\n".join(f"tell me a thought, number {n}" for n in range(7)) + "\n"
    result = run(
        "chat",
        "--mute",
        "--llm-base-url",
        scripted.base_url,
        stdin=lines,
        env={"COMPANION_LLM_API_KEY": KEY},
    )
    out = result.stdout
    # Every fault answered, and the last line answered again; piped input with failed
    # turns exits 1, as a script would want to know.
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "Assistant: Hi, I'm your assistant." in out  # the persona's greeting
    assert "Assistant: Hello driver. Nice day for a drive." in out
    assert "rejected the API key" in out
    assert "ran into a problem" in out
    assert "dropped in the middle of the reply" in out
    assert "couldn't read" in out
    assert "try again in 60 seconds" in out
    assert out.rstrip().endswith("Assistant: Still here.")
    everything = out + result.stderr + (isolated_user / "companion.log").read_text()
    assert "Traceback" not in out + result.stderr
    assert KEY not in everything
    assert scripted.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_offline_chat_explains_how_to_configure_a_model():
    result = run(
        "chat",
        "--mute",
        "--provider",
        "ollama",
        stdin="hello\n",
        env={"COMPANION_LLM_BASE_URL": "http://127.0.0.1:9/v1"},
    )
    assert result.returncode == 1  # piped input whose turn failed: a failing command
    assert "Traceback" not in result.stderr
    assert "can't reach my language model" in result.stdout
    assert "ollama serve" in result.stdout and "XAI_API_KEY" in result.stdout


class Repl:
    """A running `companion chat` with stdout collected on a thread."""

    def __init__(
        self, *args: str, env: dict[str, str] | None = None, command: str = "chat"
    ) -> None:
        self.process = subprocess.Popen(
            companion_cmd(command, *args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.out = self._err = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # stderr is read as it comes too: a full pipe would block the process.
        self._err_reader = threading.Thread(target=self._read_err, daemon=True)
        self._err_reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := self.process.stdout.read(1):
            self.out += chunk

    def _read_err(self) -> None:
        assert self.process.stderr is not None
        while chunk := self.process.stderr.read(1):
            self._err += chunk

    def err(self) -> str:
        """Everything it wrote to stderr (call once it has ended)."""
        self._err_reader.join(timeout=5)
        return self._err

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.out:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared in:\n{self.out}")
            time.sleep(0.02)

    def finish(self, timeout: float = 20) -> tuple[int, str, str]:
        """Ctrl+D, then wait for the exit (a reply still being spoken is finished first). A
        process that outlives `timeout` is killed: left running, it would talk into the
        shared sound card during the next test."""
        assert self.process.stdin is not None
        self.process.stdin.close()  # Ctrl+D
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        self._reader.join(timeout=5)
        return code, self.out, self.err()


def test_ctrl_c_mid_reply_stops_it_closes_the_stream_and_returns_to_the_prompt(scripted):
    long_story = " ".join(f"word{n}" for n in range(400)) + "."
    scripted.add(reply(long_story, tokens_per_second=30), reply("Ready when you are."))
    repl = Repl("--mute", "--llm-base-url", scripted.base_url)
    repl.send("tell me a very long story")
    repl.wait_for("word5 ")
    repl.process.send_signal(signal.SIGINT)
    repl.wait_for("[stopped]")
    request = scripted.wait_for_requests(1)[0]
    assert request.client_disconnected and not request.finished
    repl.send("are you still there?")
    repl.wait_for("Ready when you are.")
    code, out, err = repl.finish()
    assert code == 0
    assert "word399" not in out
    assert "Traceback" not in out + err
    assert "was destroyed but it is pending" not in err  # every task awaited at exit
    # The next request carried the interrupted reply, marked as such.
    history = scripted.requests[1].body["messages"]
    assert history[-2]["role"] == "assistant" and "interrupted" in history[-2]["content"]


@pytest.mark.slow
def test_chat_speaks_the_first_sentence_while_the_reply_is_still_streaming(
    scripted, sound_card, tmp_path
):
    text = "Sure, here is a quick one. A driver waited so long at a red light that he walked home."
    scripted.add(reply(text, tokens_per_second=5))  # about four seconds of streaming
    recording, timings = tmp_path / "speaker.wav", tmp_path / "timings.jsonl"
    recorder = sound_card.record_speaker(recording, 0)
    started = wait_until_recording(recording)  # when the recording's first sample was heard
    repl = Repl(
        "--llm-base-url", scripted.base_url, "--timings", str(timings), env=sound_card.client_env
    )
    repl.wait_for("Hi, I'm your assistant.")
    greeted = wait_for_event(  # the greeting has been spoken whole (turn 0's sentence)
        timings, lambda e: e["event"] == "SentenceSpoken" and e["turn_id"] == 0, timeout=60
    )
    assert greeted and not greeted["stopped"], read_events(timings)
    repl.send("tell me a joke")
    request = scripted.wait_for_requests(1, timeout=60)[0]
    code, out, err = repl.finish(timeout=60)  # four seconds of streaming, then its speech
    wait_until_recording(recording, 0.3)  # the recorder has caught up with the speaker
    recorder.terminate()
    recorder.wait()
    assert code == 0, err
    assert "No usable audio output" not in out

    # Sound that began after the request and before the last token: the first sentence.
    import wave

    import numpy as np

    with wave.open(str(recording)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    offset = int((request.received_at - started) * 16000)
    end = int((request.last_token_at - started) * 16000)
    during_stream = samples[offset:end]
    assert np.abs(during_stream.astype(np.int32)).max() > 1000, (
        "nothing was spoken while the reply streamed: speech waited for the whole reply"
    )
    _, total = loud_seconds(recording)
    spoken = [e for e in read_events(timings) if e["event"] == "SentenceSpoken" and e["turn_id"]]
    assert " ".join(e["text"] for e in spoken) == text and not any(e["stopped"] for e in spoken)
    assert total > 4  # and heard: the greeting and both sentences (5.3 s of sound measured)


def test_typed_chat_leaves_the_microphone_alone(scripted):
    """Regression: `chat` without --voice once opened the microphone anyway (a banner string
    reused the `voice` flag's name), loading a recogniser and complaining about devices."""
    scripted.add(reply("Hello there."))
    repl = Repl("--mute", "--llm-base-url", scripted.base_url)
    repl.send("hello")
    repl.wait_for("Hello there.")
    code, out, err = repl.finish()
    assert code == 0
    assert "PocketSphinx" not in out and "microphone" not in out.lower()


def _colours(screen: bytes) -> set[tuple[int, int, int]]:
    """Every 24-bit colour the terminal was told to use."""
    found = re.findall(rb"[34]8;2;(\d+);(\d+);(\d+)", screen)
    return {(int(r), int(g), int(b)) for r, g, b in found}


def test_no_color_turns_the_car_screen_monochrome(tmp_path, isolated_user):
    """https://no-color.org: with NO_COLOR set the screen draws in greys only."""
    argv = companion_cmd("ui", "--mute", "--no-voice", "--llm-base-url", "http://127.0.0.1:9/v1")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color", COLORTERM="truecolor")  # a modern terminal
    coloured = _colours(first_frame(argv, env, tmp_path, tmp_path / "ready1"))
    plain = _colours(first_frame(argv, {**env, "NO_COLOR": "1"}, tmp_path, tmp_path / "ready2"))
    assert any(len({r, g, b}) > 1 for r, g, b in coloured)  # the normal screen has colour
    assert plain and all(r == g == b for r, g, b in plain), sorted(plain)[:5]
