"""Secrets in every shape a user or a server can put them: a password in the endpoint URL,
a key in its query string, an API key from the environment, and a server that echoes the
Authorization header back in its error. None may appear on the screen, in the log, in the
`--timings` file, in a recording or in `config show`; the log is the user's alone (0600)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from companion.redaction import Secret
from tests.helpers import companion_cmd
from tests.ui_helpers import make_app, transcript_text, type_text, wait_until

PASSWORD = "hunter2-url-password"
QUERY_KEY = "qk-0123456789query"
ENV_KEY = "sk-env-0123456789abcdefSECRET"


class EchoingServer(ThreadingHTTPServer):
    """Answers every request 401 and quotes the Authorization header it got back."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers.get("content-length") or 0))
                body = json.dumps(
                    {
                        "error": {
                            "message": "invalid credentials in "
                            f"Authorization: {self.headers.get('authorization')}"
                            f" for {self.path}"
                        }
                    }
                ).encode()
                self.send_response(401)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> EchoingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def echoing():
    with EchoingServer() as server:
        yield server


def leaky_url(server: EchoingServer) -> str:
    host, port = server.server_address[:2]
    return f"http://driver:{PASSWORD}@{host}:{port}/v1?api_key={QUERY_KEY}"


def secrets_in(text: str) -> list[str]:
    basic = "ZHJpdmVyOmh1bnRlcjItdXJsLXBhc3N3b3Jk"  # base64 of driver:PASSWORD
    return [s for s in (PASSWORD, QUERY_KEY, ENV_KEY, basic) if s in text]


def chat_recorded(url, timings, recording, env, said: str) -> subprocess.CompletedProcess:
    """`companion -v chat` against `url`, writing its timings and a recording."""
    return subprocess.run(
        companion_cmd(
            "-v",
            "chat",
            "--mute",
            "--llm-base-url",
            url,
            "--timings",
            str(timings),
            "--record",
            str(recording),
        ),  # fmt: skip
        input=said,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_no_secret_reaches_the_terminal_the_log_the_timings_or_config_show(tmp_path, echoing):
    log, timings, recording = tmp_path / "companion.log", tmp_path / "t.jsonl", tmp_path / "r"
    env = {**os.environ, "COMPANION_LOG_FILE": str(log), "COMPANION_LLM_API_KEY": ENV_KEY}
    url = leaky_url(echoing)
    chat = chat_recorded(url, timings, recording, env, "hello\ntell me a joke\n")
    assert "rejected" in chat.stdout or "401" in chat.stdout  # the server was reached
    shown = chat.stdout + chat.stderr
    assert secrets_in(shown) == []
    assert log.exists() and stat.S_IMODE(log.stat().st_mode) == 0o600
    for path in (log, timings, recording):
        assert secrets_in(path.read_text(encoding="utf-8")) == [], path.name
    assert stat.S_IMODE(timings.stat().st_mode) == 0o600
    config = subprocess.run(
        companion_cmd("config", "show", "--llm-base-url", url),
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert config.returncode == 0 and "base_url" in config.stdout
    assert secrets_in(config.stdout + config.stderr) == []


async def test_no_secret_reaches_the_screen(tmp_path, echoing):
    app = make_app(tmp_path, leaky_url(echoing), llm__api_key=Secret(ENV_KEY))
    async with app.run_test(size=(160, 48)) as pilot:
        await type_text(pilot, "hello")
        await wait_until(pilot, lambda: app.state == "error", what="the error")
        await pilot.press("f10")
        await pilot.pause(0.2)
        screen = app.export_screenshot()
        banner = str(app.query_one("#banner-text").render())
        assert secrets_in(screen) == [] and secrets_in(banner) == []
        assert secrets_in(transcript_text(app)) == []
        assert "***" in banner  # the URL is there, its password masked


PARTS_KEY = "sk-live-7Qz3Xw9Lm2Rt5Vb8Nc4Hd6Jf"


def leaked_parts(text: str, key: str = PARTS_KEY) -> list[str]:
    """Any 8 characters of `key` in a row in `text`: as they are, percent-decoded,
    JSON-unescaped or with the spaces and dashes between them taken out."""
    import re
    import urllib.parse

    unescaped = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    views = [text, urllib.parse.unquote(text), unescaped]
    views += [re.sub(r"[\s\-_.]", "", v) for v in views]
    squeezed_key = re.sub(r"[\s\-_.]", "", key)
    found = []
    for candidate in (key, squeezed_key):
        for i in range(len(candidate) - 7):
            part = candidate[i : i + 8]
            if any(part in v for v in views):
                found.append(part)
    return found


def test_a_model_that_echoes_the_key_in_part_encoded_or_spaced_leaks_nothing(tmp_path, scripted):
    import urllib.parse

    from tests.helpers import reply

    echoes = [
        f"Your key starts {PARTS_KEY[:14]} and that is all.",
        f"Encoded it is {urllib.parse.quote(PARTS_KEY, safe='')} there.",
        "Spelled out: " + " ".join(PARTS_KEY) + " done.",
        "As JSON: " + "".join(f"\\u{ord(c):04x}" for c in PARTS_KEY[6:20]) + " ok.",
        f"Hyphenated {'-'.join(PARTS_KEY[8:24])} end.",
    ]
    scripted.add(reply(" ".join(echoes), tokens_per_second=400))
    log, timings, recording = tmp_path / "c.log", tmp_path / "t.jsonl", tmp_path / "r.jsonl"
    env = {**os.environ, "COMPANION_LOG_FILE": str(log), "COMPANION_LLM_API_KEY": PARTS_KEY}
    chat = chat_recorded(scripted.base_url, timings, recording, env, "what is my key\n")
    assert chat.returncode == 0, chat.stderr
    assert "that is all" in chat.stdout and "done." in chat.stdout  # the reply was shown
    assert leaked_parts(chat.stdout + chat.stderr) == []
    for path in (log, timings, recording):
        assert leaked_parts(path.read_text(encoding="utf-8")) == [], path.name


def test_redaction_masks_parts_and_encodings_and_leaves_other_text():
    import urllib.parse

    from companion.redaction import StreamRedactor, redact

    Secret(PARTS_KEY)
    for form in (
        PARTS_KEY[3:15],
        urllib.parse.quote(PARTS_KEY, safe=""),
        " ".join(PARTS_KEY[5:20]),
        "".join(f"\\u{ord(c):04x}" for c in PARTS_KEY[:12]),
    ):
        assert leaked_parts(redact(f"before {form} after")) == [], form
        assert redact(f"before {form} after").startswith("before ")
    ordinary = "Turn left at the second light, then 2.4 miles on Elm Street."
    assert redact(ordinary) == ordinary
    stream, out = StreamRedactor(), ""
    text = f"The key is {PARTS_KEY} and that is that."
    for i in range(0, len(text), 3):  # three characters at a time, as a model streams
        out += stream.push(text[i : i + 3])
    out += stream.flush()
    assert leaked_parts(out) == [] and out.startswith("The key is ") and "that is that." in out
