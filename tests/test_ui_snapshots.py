"""The look of the car screen, pinned with pytest-textual-snapshot for its main states at the
smallest supported terminal (80×24) and a large one (160×48).

The states come from the real app: typed turns through the real pipeline (navigating, kids
mode, the error banner from an unreachable model), and for the moments that need a live
microphone or a reply in mid-stream, the same events the listener and the pipeline post.
After an intended change of the look: `python -m pytest tests/test_ui_snapshots.py
--snapshot-update`, then look at the SVGs in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from companion.events import (
    InputLevel,
    ListenerState,
    PartialTranscript,
    ReplyDelta,
    Status,
    TurnStarted,
)
from tests.ui_helpers import make_app, nav_text, transcript_text, type_text, wait_until

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


async def _settle(pilot: Pilot) -> None:
    pilot.app.set_focus(None)  # no blinking cursor in the picture
    await pilot.pause(0.3)


async def _maps_loaded(pilot: Pilot) -> None:
    await wait_until(pilot, lambda: "No route" in nav_text(pilot.app), what="maps")


@pytest.mark.parametrize("size", SIZES)
def test_idle(snap_compare, tmp_path, size):
    async def run_before(pilot: Pilot) -> None:
        await _maps_loaded(pilot)
        await _settle(pilot)

    assert snap_compare(make_app(tmp_path, None), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_listening(snap_compare, tmp_path, size):
    async def run_before(pilot: Pilot) -> None:
        await _maps_loaded(pilot)
        post = pilot.app._post_core
        post(Status("speech_in", "ready", "PocketSphinx · push to talk"))
        post(ListenerState("listening", "push_to_talk"))
        post(InputLevel(-23.0))
        post(PartialTranscript("take me to the nearest"))
        await _settle(pilot)

    assert snap_compare(make_app(tmp_path, None), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_speaking(snap_compare, tmp_path, size):
    async def run_before(pilot: Pilot) -> None:
        await _maps_loaded(pilot)
        post = pilot.app._post_core
        post(TurnStarted(1, "how far away is the moon", "assistant"))
        post(ReplyDelta(1, "The moon is about 384,000 kilometres away. "))
        post(ReplyDelta(1, "Light from it reaches us in just over a second"))
        await _settle(pilot)

    assert snap_compare(make_app(tmp_path, None), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_navigating(snap_compare, tmp_path, size):
    async def run_before(pilot: Pilot) -> None:
        await _maps_loaded(pilot)
        await type_text(pilot, "take me to the nearest charger")
        await wait_until(pilot, lambda: "Voltpoint" in nav_text(pilot.app), what="route")
        await type_text(pilot, "add a stop at a coffee shop")
        await wait_until(pilot, lambda: "via" in nav_text(pilot.app), what="the stop")
        await wait_until(pilot, lambda: pilot.app.state == "idle", what="idle")
        await _settle(pilot)

    assert snap_compare(make_app(tmp_path, None), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_kids_mode(snap_compare, tmp_path, size):
    async def run_before(pilot: Pilot) -> None:
        await _maps_loaded(pilot)
        await type_text(pilot, "switch to unhinged")
        await wait_until(
            pilot, lambda: "Kids mode is on" in transcript_text(pilot.app), what="the refusal"
        )
        await wait_until(pilot, lambda: pilot.app.state == "idle", what="idle")
        await _settle(pilot)

    app = make_app(tmp_path, None, persona="kids_storyteller", kids_mode=True)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_error(snap_compare, tmp_path, size):
    async def run_before(pilot: Pilot) -> None:
        await _maps_loaded(pilot)
        await type_text(pilot, "hello there")
        await wait_until(pilot, lambda: pilot.app.state == "error", what="the error")
        await _settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=run_before)


def _timed_turn(app) -> None:
    """A turn with fixed times (a live one would differ in every run)."""
    from companion.events import (
        FinalTranscript,
        IntentRecognized,
        ReplyDone,
        Source,
        Stage,
        TimingMark,
        TurnEnded,
    )
    from companion.timeline import Timeline
    from companion.ui.widgets.timings import TimingsPanel

    timeline, text, t = Timeline(), "tell me a fun fact", 1000.0
    turn = None
    for event in (
        FinalTranscript(text, "pocketsphinx", speech_end=t, t=t + 0.28),
        TurnStarted(1, text, "assistant", Source.SPOKEN, t=t + 0.29),
        IntentRecognized(1, "conversation", {}, 0.9, t=t + 0.30),
        TimingMark(1, Stage.LLM_FIRST_TOKEN, t=t + 0.62),
        TimingMark(1, Stage.PLAYBACK_STARTED, t=t + 0.81),
        ReplyDone(1, "Octopuses have three hearts.", t=t + 2.40),
        TurnEnded(1, "answered", {}, t=t + 2.40),
    ):
        turn = timeline.feed(event) or turn
    app.query_one(TimingsPanel).show_turn(turn, timeline)


@pytest.mark.parametrize("size", SIZES)
def test_timings_waterfall(snap_compare, tmp_path, size):
    async def run_before(pilot: Pilot) -> None:
        await _maps_loaded(pilot)
        await pilot.press("f10")
        _timed_turn(pilot.app)
        await _settle(pilot)

    assert snap_compare(make_app(tmp_path, None), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_settings_dialog(snap_compare, tmp_path, size):
    async def run_before(pilot: Pilot) -> None:
        await _maps_loaded(pilot)
        await pilot.press("f9")
        await pilot.pause(0.3)

    app = make_app(tmp_path, None)
    app.settings.config_file = Path("~/.config/companion/config.toml")  # not the tmp path
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_persona_picker_says_why_a_persona_is_locked(snap_compare, tmp_path, size):
    async def run_before(pilot: Pilot) -> None:
        await _maps_loaded(pilot)
        await pilot.press("f2")
        await pilot.pause(0.3)
        await pilot.press("end", "enter")
        await pilot.pause(0.3)

    assert snap_compare(make_app(tmp_path, None), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_confirm_dialog(snap_compare, tmp_path, size):
    async def run_before(pilot: Pilot) -> None:
        await _maps_loaded(pilot)
        await pilot.press("f4")
        await pilot.pause(0.3)

    assert snap_compare(make_app(tmp_path, None), terminal_size=size, run_before=run_before)
