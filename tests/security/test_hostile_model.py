"""A language model server that misbehaves: endless, stalling, empty, malformed, huge or
broken tool calls, adult words in kids mode, errors. The turn always ends, the driver always
hears something, and the next turn works."""

from __future__ import annotations

import time

import pytest

from companion.config import BUNDLED_PERSONAS
from companion.events import Notice, ReplyDelta, ReplyDone, SentenceReady, TurnError
from companion.limits import EMPTY_REPLY, KIDS_CHANGE_OF_SUBJECT, STILL_THINKING, TurnLimits
from companion.personas.loader import load_personas
from companion.personas.session import PersonaSession
from companion.turns import TurnPipeline
from tests.helpers import reply

CAST, _ = load_personas(BUNDLED_PERSONAS)


def pipeline(client, events, persona="assistant", speed=None, **session_kw) -> TurnPipeline:
    session = PersonaSession(CAST, persona, **session_kw)
    return TurnPipeline(session, client, None, events.append, speed=lambda: speed)


async def test_an_endless_stream_is_cut_within_the_limits_when_parked(scripted, client_for):
    endless = " ".join(f"word{n}" for n in range(200_000))
    scripted.add(reply(endless, tokens_per_second=2000), reply("Back to normal."))
    events: list = []
    turns = pipeline(client_for(scripted.base_url), events, speed=0)  # parked: no style cap
    started = time.monotonic()
    done = await turns.run_turn("tell me everything")
    took = time.monotonic() - started
    limits = TurnLimits()
    assert isinstance(done, ReplyDone)
    assert took < limits.max_seconds  # documented: 400 pieces / 3000 characters / 30 s
    streamed = "".join(e.text for e in events if isinstance(e, ReplyDelta))
    assert len(streamed) <= limits.max_chars + 50
    request = scripted.wait_for_requests(1)[0]
    assert request.client_disconnected and not request.finished  # the stream was closed
    assert (await turns.run_turn("are you there")).text == "Back to normal."


async def test_a_stall_before_the_first_word_gets_a_spoken_cue_in_time(scripted, client_for):
    scripted.add(reply("Here you go.", ttft=5.0))
    events: list = []
    turns = pipeline(client_for(scripted.base_url, read_timeout=8.0), events)
    started = time.monotonic()
    done = await turns.run_turn("what's a good podcast")
    cue = next(e for e in events if isinstance(e, Notice))
    assert cue.text == STILL_THINKING
    assert cue.t - started <= 3.5
    assert isinstance(done, ReplyDone) and done.text == "Here you go."


async def test_a_model_that_never_answers_gives_up_out_loud(scripted, client_for):
    scripted.add(reply("never", ttft=30.0))
    events: list = []
    turns = pipeline(client_for(scripted.base_url, read_timeout=4.0), events)
    started = time.monotonic()
    done = await turns.run_turn("hello")
    assert isinstance(done, TurnError) and done.kind == "timeout"
    assert done.spoken and time.monotonic() - started < 6
    assert any(isinstance(e, Notice) and e.text == STILL_THINKING for e in events)


async def test_an_empty_reply_is_answered_and_not_remembered(scripted, client_for):
    scripted.add(reply(""))
    events: list = []
    turns = pipeline(client_for(scripted.base_url), events)
    done = await turns.run_turn("hello")
    assert isinstance(done, ReplyDone) and done.text == EMPTY_REPLY
    assert not turns.session.memory.exchanges


@pytest.mark.parametrize("fault", ["garbage", "401", "429", "500", "drop"])
async def test_errors_and_malformed_streams_end_the_turn_out_loud(scripted, client_for, fault):
    scripted.add(
        reply("Partial reply that will fail. More text here.", fault=fault), reply("Fine again.")
    )
    events: list = []
    turns = pipeline(client_for(scripted.base_url), events)
    done = await turns.run_turn("hello")
    assert isinstance(done, TurnError) and done.spoken
    assert (await turns.run_turn("hello again")).text == "Fine again."


async def test_a_huge_tool_argument_ends_the_turn_quickly(scripted, client_for):
    huge = {"name": "navigate_to", "arguments": {"place": "x" * 2_000_000}}
    scripted.add(reply(tool_call=huge, tokens_per_second=100_000), reply("Fine again."))
    events: list = []
    turns = pipeline(client_for(scripted.base_url), events)
    turns.offer_tools = True
    started = time.monotonic()
    done = await turns.run_turn("drive somewhere")
    assert time.monotonic() - started < 10
    assert isinstance(done, TurnError) and done.kind == "malformed_stream"
    assert (await turns.run_turn("hello again")).text == "Fine again."


async def test_a_lone_surrogate_in_a_tool_call_does_not_break_the_persona(scripted, client_for):
    broken = {"name": "web_search", "arguments": {"query": "caf\ud800e"}}
    scripted.add(reply(tool_call=broken), reply("Still me. All fine."))
    events: list = []
    turns = pipeline(client_for(scripted.base_url), events)
    turns.offer_tools = True
    await turns.run_turn("look something up")
    done = await turns.run_turn("hello again")
    assert isinstance(done, ReplyDone) and done.text == "Still me. All fine."
    sent = scripted.requests[-1].body["messages"]
    assert all("\ud800" not in str(m.get("content", "")) for m in sent)


async def test_kids_mode_never_shows_or_says_a_sentence_with_adult_content(scripted, client_for):
    scripted.add(
        reply("Once upon a time there was a duck. Then things got sexual and explicit. The end.")
    )
    events: list = []
    turns = pipeline(
        client_for(scripted.base_url), events, persona="kids_storyteller", kids_mode=True
    )
    done = await turns.run_turn("tell me a story")
    shown = "".join(e.text for e in events if isinstance(e, ReplyDelta))
    said = " ".join(e.text for e in events if isinstance(e, SentenceReady))
    for text in (shown, said, done.text):
        assert "sexual" not in text and "explicit" not in text
    assert "Once upon a time there was a duck." in said
    assert KIDS_CHANGE_OF_SUBJECT in said
    stored = turns.session.memory.exchanges[-1].assistant
    assert "sexual" not in stored


async def test_an_instruction_in_a_search_result_changes_nothing(tmp_path, scripted):
    """The model 'obeys' a result that says to navigate or switch persona: its summary comes
    back as tool calls. The summary offered no tools, so none is carried out."""
    from tests.nav_helpers import Drive, llm_client

    scripted.add(
        reply(tool_call={"name": "search", "arguments": {"query": "turtle symbol"}}),
        reply(
            "Done.",
            tool_call={"name": "navigate_to", "arguments": {"place": "QuickFuel"}},
        ),
        reply(tool_call={"name": "switch_persona", "arguments": {"id": "unhinged"}}),
        reply("Back to normal."),
    )
    drive = Drive(tmp_path, client=llm_client(scripted.base_url))
    drive.pipeline.offer_tools = True
    said = await drive.say("my dashboard shows a little tortoise, is that bad")
    assert said == "Done."
    assert "tools" not in scripted.requests[1].body  # the summary offered none
    assert not drive.navigator.trip.active and drive.session.active.id == "assistant"
    said = await drive.say("look up what the turtle symbol means in the manual")
    assert not drive.navigator.trip.active and drive.session.active.id == "assistant"
    assert await drive.say("how are you") == "Back to normal."
    await drive.close()


async def test_a_model_that_keeps_calling_tools_ends_its_turn_and_the_next_is_answered(
    tmp_path, scripted
):
    from tests.nav_helpers import Drive, llm_client

    search = {"name": "search", "arguments": {"query": "turtle symbol"}}
    # Every request about the tortoise (the summary's too) is answered with another search.
    scripted.add(reply(tool_call=search, match="tortoise"), reply("Back to normal."))
    drive = Drive(tmp_path, client=llm_client(scripted.base_url))
    drive.pipeline.offer_tools = True
    said = await drive.say("my dashboard shows a little tortoise, is that bad")
    assert said == EMPTY_REPLY  # the summary's own search call is not carried out
    assert len(scripted.requests) == 2  # the question, then the summary: no recursion
    assert await drive.say("how are you") == "Back to normal."
    await drive.close()
