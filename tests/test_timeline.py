"""Where a turn's time went: the timeline folds a turn's events into six moments; the
screen (F10) and `chat --timings` draw them as a waterfall with milliseconds."""

from __future__ import annotations

import os
import subprocess

from companion.events import (
    FinalTranscript,
    IntentRecognized,
    ReplyDelta,
    ReplyDone,
    Source,
    Stage,
    TimingMark,
    TurnEnded,
    TurnStarted,
)
from companion.llm.scripted_server import ScriptedReply
from companion.timeline import STAGES, Timeline, summary_line, waterfall
from companion.ui.widgets.timings import TimingsPanel
from tests.helpers import companion_cmd
from tests.ui_helpers import make_app, wait_until


def spoken_turn(timeline: Timeline, turn: int, start: float, first_audio: float, done: float):
    text = f"tell me fact {turn}"
    events = [
        FinalTranscript(text, "pocketsphinx", speech_end=start, t=start + 0.30),
        TurnStarted(turn, text, "assistant", Source.SPOKEN, t=start + 0.31),
        IntentRecognized(turn, "conversation", {}, 0.9, t=start + 0.32),
        TimingMark(turn, Stage.LLM_FIRST_TOKEN, t=start + 0.60),
        ReplyDelta(turn, "Octopuses have three hearts.", t=start + 0.60),
        TimingMark(turn, Stage.PLAYBACK_STARTED, t=start + first_audio),
        ReplyDone(turn, "Octopuses have three hearts.", t=start + done - 0.001),
        TurnEnded(turn, "answered", {}, t=start + done),
    ]
    return [timeline.feed(event) for event in events][-1]


def test_a_spoken_turn_is_measured_from_the_end_of_speech():
    timeline = Timeline()
    turn = spoken_turn(timeline, 1, 100.0, 0.75, 2.0)
    assert turn is not None and turn.spoken
    offsets = dict(turn.offsets_ms())
    assert round(offsets["transcript"]) == 300
    assert round(offsets["routing"]) == 320
    assert round(offsets["first token"]) == 600
    assert round(offsets["first audio"]) == 750
    assert round(offsets["done"]) == 2000
    lines = waterfall(turn, 70)
    assert [line.split("  ")[0].strip() for line in lines] == list(STAGES)
    assert lines[-1].rstrip().endswith("2000 ms +1250")
    # Bars grow left to right: the done bar starts where first audio ended.
    assert lines[-1].index("█") >= lines[4].rindex("█")


def test_a_typed_turn_is_not_taken_for_the_words_heard_before_it():
    """The source says how a turn came, not its text: typing what was just heard is typed."""
    timeline = Timeline()
    text = "tell me a fact"
    for event in (
        FinalTranscript(text, "pocketsphinx", speech_end=50.0, t=50.3),
        TurnStarted(1, text, "assistant", Source.TYPED, t=60.0),
    ):
        timeline.feed(event)
    done = timeline.feed(TurnEnded(1, "answered", {}, t=61.0))
    assert done is not None and not done.spoken
    assert round(dict(done.offsets_ms())["done"]) == 1000  # from Enter, not from the speech


def test_the_summary_keeps_the_last_twenty_turns():
    timeline = Timeline()
    for n in range(25):
        spoken_turn(timeline, n, 10.0 * n, 0.5 + n / 100, 1.0 + n / 10)
    assert len(timeline.turns) == 20
    median, p90, count = timeline.summary()["done"]
    assert count == 20
    assert round(median) == 1000 + 100 * 14.5  # turns 5..24
    assert round(p90) == 1000 + 100 * 22
    assert "last 20 turns" in summary_line(timeline)


def test_chat_timings_prints_the_waterfall_after_each_turn(scripted):
    scripted.add(ScriptedReply("Octopuses have three hearts."))
    result = subprocess.run(
        companion_cmd("chat", "--mute", "--timings", "--llm-base-url", scripted.base_url),
        input="tell me a fun fact\ntake me to the nearest charger\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for stage in STAGES:
        assert out.count(f"  {stage}") == 2, stage  # both turns
    assert "last 2 turns" in out and "(median/p90)" in out


async def test_the_screen_shows_the_waterfall_on_f10(tmp_path, scripted):
    scripted.add(ScriptedReply("Octopuses have three hearts."))
    app = make_app(tmp_path, scripted.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(TimingsPanel)
        assert not panel.display
        await pilot.press("f10")
        assert panel.display
        await pilot.press(*"tell me a fun fact", "enter")
        await wait_until(pilot, lambda: app.view.timeline.turns, what="a timed turn")
        await pilot.pause(0.1)
        shown = str(panel.render())
        for stage in STAGES:
            assert stage in shown
        assert " ms" in shown and "typed" in shown
        await pilot.press("f10")
        assert not panel.display
