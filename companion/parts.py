"""Building the assistant's parts from the settings, in one place: the language model's
client, navigation and search, the speaker (voice, player, earcons), the listener
(microphone or recording, recogniser) and the echo canceller.

`Parts` lets a test, the dialogue runner or a benchmark hand in its own instead (a scripted
model, sample places, a recording). Every builder here may block (imports, model files,
devices): the assistant calls them from worker threads, so the first frame never waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Settings
from .events import AnyEvent, ListenerEvent, Notice, Status

log = logging.getLogger(__name__)

NO_LLM = (
    "No language model is set up, so open conversation is off (navigation, search and "
    "personas still work). Set XAI_API_KEY or OPENAI_API_KEY, or start Ollama, then "
    "restart."
)

# (on_event) -> (listener, notice to show once); raises when there is no way to listen
ListenerFactory = Callable[[Callable[[ListenerEvent], None]], tuple[Any, str | None]]
# (echo gate, on_problem) -> speaker; raises when there is no way to speak
SpeakerFactory = Callable[[Any, Callable[[str], None]], Any]


@dataclass
class Parts:
    """What the assistant would otherwise build from the settings: a test, the dialogue
    runner or a benchmark hands in its own (a scripted model, fake speech, sample places)."""

    client: Any = None
    skills: tuple[Any, Any] | None = None  # (navigator, searcher); None: from the settings
    make_listener: ListenerFactory | None = None
    make_speaker: SpeakerFactory | None = None
    clock: Callable[[], float] = time.monotonic
    store: Any = None  # the driver's DriverStore; None: the one the settings name


def build_client(settings: Settings, parts: Parts) -> tuple[Any, list[AnyEvent]]:
    """The language model's client, and what to tell the driver about it."""
    from .llm.local import TINY, make_client
    from .llm.resolve import resolve_endpoint

    client = parts.client
    endpoint = client.endpoint if client is not None else resolve_endpoint(settings)
    if client is None:
        client = make_client(endpoint)
    news: list[AnyEvent] = []
    if endpoint.problem:  # the local model can't run: why, in one line, on the banner
        news.append(Status("llm", "problem", endpoint.problem))
    elif endpoint.provider == "local":
        news.append(Status("llm", "ready", endpoint.label))
        if TINY in endpoint.label:  # honest about it, on the screen and in chat
            news.append(
                Notice(
                    f"Brain: {endpoint.label}. Its replies are weak; for real "
                    "conversation set up a bigger model (companion models list)."
                )
            )
    elif endpoint.configured:
        news.append(Status("llm", "ready", f"{endpoint.label} · {endpoint.model}"))
    else:
        news.append(Status("llm", "off", NO_LLM))
    return client, news


def build_skills(settings: Settings, problem: Callable[[str, str], None]) -> tuple[Any, Any]:
    """Navigation and search from the settings. A bad setting or data file is reported as
    `problem(part, message)` and that skill is left out (its requests go to the persona)."""
    from .navigation import build_navigator
    from .schema import DataFileError
    from .search import build_searcher

    navigator = searcher = None
    try:
        if settings.navigation.enabled:
            navigator = build_navigator(settings)
            threading.Thread(
                target=navigator.gazetteer.preload, name="gazetteer", daemon=True
            ).start()
    except (ValueError, DataFileError) as exc:
        problem("navigation", f"Navigation is off: {exc}")
    try:
        if settings.search.enabled:
            searcher = build_searcher(settings)
    except (ValueError, OSError) as exc:
        problem("search", f"Search is off: {exc}")
    return navigator, searcher


def tool_hub(settings: Settings) -> Any:
    """The connections to the driver's MCP servers ([mcp.servers.NAME]), or None without any.
    Their servers' own messages (stderr) go to log files beside ours."""
    if not settings.mcp_servers:
        return None
    from .logs import log_path
    from .mcp.hub import ToolHub

    return ToolHub(settings.mcp_servers.values(), log_path().parent)


def echo_canceller(settings: Settings) -> Any:
    """WebRTC's echo canceller, when it is installed and wanted (else the gate works alone)."""
    from .audio import aec

    if not settings.speech.echo_cancellation or not aec.available():
        return None
    try:
        return aec.EchoCanceller()
    except Exception:  # a broken binding must not cost the conversation
        log.warning("echo cancellation is unavailable", exc_info=True)
        return None


def default_speaker(settings: Settings) -> SpeakerFactory:
    def make(echo_gate: Any, on_problem: Callable[[str], None]) -> Any:
        from .audio.playback import AudioPlayer
        from .tts.factory import Synthesizer, create_synthesizer
        from .tts.speaker import Speaker
        from .tts.synth import Pyttsx3Synthesizer, SynthesisError

        player = AudioPlayer(settings.speech.output_device, echo_gate=echo_gate)
        try:
            synthesizer: Synthesizer = create_synthesizer(settings.speech)
        except SynthesisError as exc:
            on_problem(f"{exc} Speaking with eSpeak meanwhile.")
            synthesizer = Pyttsx3Synthesizer()
        return Speaker(synthesizer, player=player, on_problem=on_problem)

    return make


def default_listener(settings: Settings, audio_in: Path | None) -> ListenerFactory:
    def make(on_event: Callable[[ListenerEvent], None]) -> tuple[Any, str | None]:
        from .stt.factory import create_listener

        return create_listener(settings.speech, on_event, audio_in)

    return make


def cues(speaker: Any, enabled: bool) -> Callable[[str], None]:
    """Earcons through the speaker (in order with speech), if earcons are on."""
    if not enabled:
        return lambda name: None
    from .tts.earcons import Earcons

    earcons = Earcons()

    def cue(name: str) -> None:
        audio = earcons.get(name)
        if audio is not None:
            speaker.cue(audio, name)

    return cue
