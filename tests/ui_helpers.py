"""Building the screen for tests: the real app with a scripted LLM server, test places and a
fixed clock (so snapshots do not change with the time of day)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from companion.config import BUNDLED_PERSONAS, load_settings
from companion.personas.loader import load_personas
from companion.personas.session import PersonaSession
from companion.ui.app import CompanionApp
from tests.nav_helpers import TEST_PLACES

FIXED_NOW = datetime(2026, 11, 23, 14, 5)
CLOSED_PORT_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing listens there


def make_app(
    tmp_path: Path,
    llm_url: str | None = CLOSED_PORT_URL,
    *,
    voice: bool = False,
    audio_in: Path | None = None,
    persona: str = "assistant",
    kids_mode: bool = False,
    mature_content: bool = False,
    tick_s: float = 3600.0,
    theme: str = "night",
    record: Path | None = None,
    replay: Any = None,
    **flags: Any,
) -> CompanionApp:
    places = tmp_path / "test_places.toml"
    places.write_text(TEST_PLACES, encoding="utf-8")
    values: dict[str, Any] = {
        "speech.mute": True,
        "speech.earcons": False,
        "navigation.places_file": str(places),
        "ui.theme": theme,
        "safety.kids_mode": kids_mode,
        "safety.mature_content": mature_content,
    }
    if llm_url is not None:
        values.update(
            {"llm.provider": "custom", "llm.base_url": llm_url, "llm.model": "scripted-model"}
        )
    values.update({k.replace("__", "."): v for k, v in flags.items()})
    settings = load_settings(config_path=None, flags=values)
    session = PersonaSession(
        load_personas(BUNDLED_PERSONAS)[0],
        persona,
        kids_mode=kids_mode,
        mature_content=mature_content,
    )
    return CompanionApp(
        settings,
        session,
        voice=voice,
        audio_in=audio_in,
        clock=lambda: FIXED_NOW,
        tick_s=tick_s,
        record=record,
        replay=replay,
    )


async def wait_until(
    pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.05)


def transcript_text(app: CompanionApp) -> str:
    """Everything in the assistant panel's transcript, as plain text."""
    parts = []
    for widget in app.query("#transcript Static").results(Static):
        parts.append(str(widget.render()))
    return "\n".join(parts)


def nav_text(app: CompanionApp) -> str:
    return str(app.query_one("#nav-body", Static).render())


async def type_text(pilot: Pilot, text: str) -> None:
    """Type as a driver would (keys go to the prompt line), then Enter.

    With the microphone on, the line is put in the prompt at once and only Enter is a key
    press: Textual's pilot waits after every key until the process is idle (under 5% of a
    core) or a second has passed, and the listener's echo canceller and neural VAD keep it
    a little busier than that, so each key would take a second. Typing key by key is tested
    without the microphone (here and in tests/test_ui_keyboard.py)."""
    from textual.widgets import Input

    if getattr(pilot.app, "voice", False):
        prompt = pilot.app.query_one("#prompt", Input)
        pilot.app.set_focus(prompt)
        prompt.value = text
        prompt.cursor_position = len(text)
        await pilot.press("enter")
        return
    keys = ["space" if c == " " else c for c in text]
    await pilot.press(*keys, "enter")
