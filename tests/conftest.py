"""Shared fixtures: an isolated user environment, the scripted LLM server, a virtual sound card."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.llm.scripted_server import ScriptedLLMServer

ROOT = Path(__file__).resolve().parent.parent

# Variables from the developer's own shell that would change what the tests see.
_LEAKY = ("XAI_API_KEY", "OPENAI_API_KEY", "COMPANION_CONFIG")


@pytest.fixture(autouse=True)
def isolated_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point config and log directories at a temp folder; drop real API keys from the env."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("COMPANION_LOG_FILE", str(home / "companion.log"))
    for name in list(os.environ):
        if name in _LEAKY or (name.startswith("COMPANION_") and name != "COMPANION_LOG_FILE"):
            monkeypatch.delenv(name)
    return home


@pytest.fixture
def scripted() -> Iterator[ScriptedLLMServer]:
    """A scripted OpenAI-compatible server on loopback; add replies with `scripted.add(...)`."""
    with ScriptedLLMServer(ttft=0.05, tokens_per_second=200) as server:
        yield server


# --- a virtual sound card -------------------------------------------------------------------


class VirtualSoundCard:
    """PulseAudio with null sinks: `car_speaker` is the default output; record its monitor."""

    def __init__(self, runtime: Path) -> None:
        self.env = {
            **os.environ,
            "XDG_RUNTIME_DIR": str(runtime),
            "PULSE_RUNTIME_PATH": str(runtime / "pulse"),
        }

    @property
    def client_env(self) -> dict[str, str]:
        """What a client process needs to find this sound server."""
        return {key: self.env[key] for key in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH")}

    def play_into_microphone(self, path: Path) -> None:
        """Play a recording into the car's microphone (blocks until it has played)."""
        subprocess.run(["paplay", "--device=car_mic", str(path)], env=self.env, check=True,
                       timeout=60)

    def record_speaker(self, path: Path, seconds: float) -> subprocess.Popen:
        """Start recording what the car's speaker plays, as 16 kHz mono WAV."""
        return subprocess.Popen(
            ["parecord", "--device=car_speaker.monitor", "--rate=16000", "--channels=1",
             "--format=s16le", "--file-format=wav", str(path)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )


def start_sound_card(runtime: Path) -> VirtualSoundCard:
    """Start a PulseAudio daemon with the car's null sinks in its own runtime folder."""
    if not shutil.which("pulseaudio"):
        pytest.fail("pulseaudio is not installed; run `bash .ci/setup` (it installs it)")
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    card = VirtualSoundCard(runtime)
    subprocess.run(
        ["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n",
         "--load=module-native-protocol-unix",
         "--load=module-null-sink sink_name=car_mic rate=16000 channels=1",
         "--load=module-null-sink sink_name=car_speaker channels=1",
         "--load=module-always-sink"],
        env=card.env, check=True, timeout=30,
    )
    deadline = time.monotonic() + 10
    while subprocess.run(["pactl", "info"], env=card.env, capture_output=True).returncode:
        if time.monotonic() > deadline:
            stop_sound_card(card)
            pytest.fail("PulseAudio did not come up")
        time.sleep(0.1)
    subprocess.run(["pactl", "set-default-sink", "car_speaker"], env=card.env, check=True)
    subprocess.run(["pactl", "set-default-source", "car_mic.monitor"], env=card.env, check=True)
    return card


def stop_sound_card(card: VirtualSoundCard) -> None:
    subprocess.run(["pulseaudio", "--kill"], env=card.env, timeout=30)


@pytest.fixture(scope="session")
def sound_card(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualSoundCard]:
    card = start_sound_card(tmp_path_factory.mktemp("pulse-runtime"))
    try:
        yield card
    finally:
        stop_sound_card(card)
