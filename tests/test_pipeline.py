"""A turn through the pipeline against the scripted server: event order, cancel, failures."""

from __future__ import annotations

import asyncio

import pytest

from companion.config import BUNDLED_PERSONAS
from companion.events import (
    Event,
    ReplyDelta,
    ReplyDone,
    SentenceReady,
    TimingMark,
    TurnEnded,
    TurnError,
    TurnStarted,
)
from companion.llm.client import ChatClient
from companion.memory import INTERRUPTED_NOTE
from companion.personas import load_persona
from companion.personas.session import PersonaSession
from companion.turns import TurnPipeline

from .helpers import reply
from .nav_helpers import endpoint_for

PERSONA = load_persona(BUNDLED_PERSONAS / "assistant.toml")


def marks_of(events: list[Event]) -> list[str]:
    return [e.stage for e in events if isinstance(e, TimingMark)]


def make_pipeline(base_url: str, events: list[Event], **kw) -> TurnPipeline:
    endpoint = endpoint_for(base_url, read_timeout=kw.pop("read_timeout", 2.0))
    session = PersonaSession({"assistant": PERSONA}, "assistant")
    return TurnPipeline(session, ChatClient(endpoint), None, events.append)


async def test_first_sentence_goes_to_tts_before_the_last_token(scripted):
    text = "Okay, heading there now. It is about twelve minutes away with light traffic today."
    scripted.add(reply(text, tokens_per_second=30))
    events: list[Event] = []
    pipeline = make_pipeline(scripted.base_url, events)
    done = await pipeline.run_turn("take me to the office")
    await pipeline.client.aclose()

    assert isinstance(done, ReplyDone) and done.text == text and not done.interrupted
    kinds = [type(e) for e in events]
    assert kinds[0] is TurnStarted and kinds[-2:] == [ReplyDone, TurnEnded]
    ended = events[-1]
    assert ended.outcome == "answered"
    assert set(ended.latency_ms) == {*marks_of(events), "reply_done"}
    deltas = [e for e in events if isinstance(e, ReplyDelta)]
    sentences = [e for e in events if isinstance(e, SentenceReady)]
    assert len(deltas) > 5
    assert [s.text for s in sentences] == [
        "Okay, heading there now.",
        "It is about twelve minutes away with light traffic today.",
    ]
    first_sentence, last_delta = sentences[0], deltas[-1]
    # Handed over while the reply was still streaming: by order and by timestamp.
    assert events.index(first_sentence) < events.index(last_delta)
    assert first_sentence.t < last_delta.t
    marks = marks_of(events)
    assert marks == ["llm_request", "llm_first_token", "first_sentence", "llm_done"]
    assert all(a.t <= b.t for a, b in zip(events, events[1:], strict=False))


async def test_history_and_persona_reach_the_model(scripted):
    scripted.add(reply("First answer."), reply("Second answer."))
    pipeline = make_pipeline(scripted.base_url, [])
    await pipeline.run_turn("first question")
    await pipeline.run_turn("second question")
    await pipeline.client.aclose()
    messages = scripted.requests[1].body["messages"]
    assert messages[0]["role"] == "system" and "driver" in messages[0]["content"]
    assert messages[-3:] == [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "First answer."},
        {"role": "user", "content": "second question"},
    ]
    assert scripted.requests[1].body["temperature"] == PERSONA.temperature


async def test_cancel_mid_reply_closes_the_stream_and_records_an_interrupted_reply(scripted):
    scripted.add(reply(" ".join(["blah"] * 300), tokens_per_second=40), reply("Fresh start."))
    events: list[Event] = []
    pipeline = make_pipeline(scripted.base_url, events)
    task = asyncio.create_task(pipeline.run_turn("tell me a long story"))
    while sum(isinstance(e, ReplyDelta) for e in events) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    done, ended = events[-2:]
    assert isinstance(done, ReplyDone) and done.interrupted and done.text.startswith("blah")
    assert isinstance(ended, TurnEnded) and ended.outcome == "interrupted"
    request = scripted.wait_for_requests(1)[0]
    assert request.client_disconnected and not request.finished
    exchange = pipeline.session.memory.exchanges[-1]
    assert exchange.interrupted and exchange.user == "tell me a long story"

    # The next turn works and tells the model the last reply was cut off.
    result = await pipeline.run_turn("what were we talking about")
    await pipeline.client.aclose()
    assert isinstance(result, ReplyDone) and result.text == "Fresh start."
    sent = scripted.requests[1].body["messages"]
    assert sent[-2]["content"].endswith(INTERRUPTED_NOTE)


@pytest.mark.parametrize("fault", ["401", "429", "500", "stall", "drop", "garbage"])
async def test_a_failing_llm_ends_the_turn_with_a_spoken_error_and_the_next_turn_works(
    scripted, fault
):
    scripted.add(
        reply("Partial reply that will fail. More text here.", fault=fault), reply("All good now.")
    )
    events: list[Event] = []
    pipeline = make_pipeline(scripted.base_url, events, read_timeout=0.5)
    result = await pipeline.run_turn("hello")
    assert isinstance(result, TurnError)
    assert result.spoken and result.detail and result.kind != "llm"
    assert not pipeline.session.memory.exchanges  # a failed turn leaves no half answer in history
    again = await pipeline.run_turn("hello again")
    await pipeline.client.aclose()
    assert isinstance(again, ReplyDone) and again.text == "All good now."


async def test_offline_turn_is_answered_not_raised():
    events: list[Event] = []
    pipeline = make_pipeline("http://127.0.0.1:9/v1", events)
    result = await pipeline.run_turn("hello")
    await pipeline.client.aclose()
    assert isinstance(result, TurnError) and result.kind == "unreachable"
    # A server the user set up: the sentence names it, not providers they did not choose.
    assert "can't reach" in result.spoken and "xAI" not in result.spoken


async def test_a_speculative_turn_shows_nothing_until_confirmed(scripted):
    """Started on the recogniser's guess during the driver's pause: the LLM is already asked,
    but no event (so no text, no speech) escapes until the final transcript confirms it."""
    scripted.add(reply("Heading to the charger. It is two miles away."))
    events: list[Event] = []
    pipeline = make_pipeline(scripted.base_url, events)
    confirmed = asyncio.Event()
    task = asyncio.create_task(pipeline.run_turn("navigate to the nearest charger", confirmed))
    request = await asyncio.to_thread(scripted.wait_for_requests, 1)
    await asyncio.to_thread(request[0].done.wait, 5)  # the whole reply has streamed
    await asyncio.sleep(0.05)
    assert events == [] and not task.done()
    assert len(pipeline.session.memory.exchanges) == 0
    confirmed.set()
    result = await task
    await pipeline.client.aclose()
    assert isinstance(result, ReplyDone) and result.text.startswith("Heading")
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "TurnStarted" and kinds[-2:] == ["ReplyDone", "TurnEnded"]
    assert [e.text for e in events if isinstance(e, SentenceReady)] == [
        "Heading to the charger.",
        "It is two miles away.",
    ]
    # Events keep the times they happened at, before the confirmation.
    assert events[0].t < request[0].first_token_at + 1
    assert len(pipeline.session.memory.exchanges) == 1


async def test_a_wrong_guess_is_dropped_without_a_trace(scripted):
    scripted.add(
        reply("Here is a long answer to the wrong question. " * 5, tokens_per_second=50),
        reply("At a stop: the coffee shop it is."),
    )
    events: list[Event] = []
    pipeline = make_pipeline(scripted.base_url, events)
    confirmed = asyncio.Event()
    task = asyncio.create_task(pipeline.run_turn("as stop but coffee shop", confirmed))
    while not scripted.requests or scripted.requests[0].tokens_sent < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events == [] and pipeline.turn_id == 0
    assert len(pipeline.session.memory.exchanges) == 0
    first = (await asyncio.to_thread(scripted.wait_for_requests, 1))[0]
    assert first.client_disconnected and not first.finished  # the wasted request is closed
    # The real turn, on the final words, is turn 1 and sees no history of the guess.
    result = await pipeline.run_turn("add a stop at the coffee shop")
    await pipeline.client.aclose()
    assert isinstance(result, ReplyDone) and events[0].turn_id == 1
    sent = " ".join(m["content"] for m in scripted.requests[1].body["messages"])
    assert "as stop but" not in sent and "wrong question" not in sent


async def test_a_speculative_persona_switch_waits_for_the_final_words(scripted):
    storyteller = load_persona(BUNDLED_PERSONAS / "storyteller.toml")
    events: list[Event] = []
    pipeline = make_pipeline(scripted.base_url, events)
    pipeline.session.replace_cast({"assistant": PERSONA, "storyteller": storyteller})
    task = asyncio.create_task(pipeline.run_turn("switch to storyteller", asyncio.Event()))
    await asyncio.sleep(0.2)
    assert pipeline.session.active.id == "assistant"  # nothing changed on a guess
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await pipeline.client.aclose()
    assert pipeline.session.active.id == "assistant" and events == []


async def test_a_model_repeating_itself_is_cut_at_the_first_repeat(scripted):
    """Small local models fall into loops ("You can bring a baby carrier, or a bed." sixteen
    times); parked, with no sentence cap, the first repeated sentence still ends the reply."""
    looping = "Bring some snacks. Bring a blanket. Bring some snacks. Bring a blanket. Bring toys."
    scripted.add(reply(looping, tokens_per_second=200))
    events: list[Event] = []
    pipeline = make_pipeline(scripted.base_url, events)
    done = await pipeline.run_turn("how do I keep my kids busy on a long drive")
    await pipeline.client.aclose()
    spoken = [e.text for e in events if isinstance(e, SentenceReady)]
    assert spoken == ["Bring some snacks.", "Bring a blanket."]
    assert isinstance(done, ReplyDone) and "Bring toys" not in done.text
