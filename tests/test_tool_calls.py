"""LLM tool calling for the long tail: the model gets navigation and search tools in
conversation turns, its streamed tool call is parsed from the real OpenAI format, carried out
by the same navigator/searcher (after the speculative-turn check), and a server that refuses
tools gets the request again without them."""

from __future__ import annotations

import asyncio

from companion.events import ActionTaken, IntentRecognized
from companion.llm.client import ToolCall
from companion.router.tools import TOOLS, intent_for

from .helpers import reply
from .nav_helpers import Drive, llm_client


def tool_drive(tmp_path, scripted) -> Drive:
    drive = Drive(tmp_path, client=llm_client(scripted.base_url))
    drive.pipeline.offer_tools = True
    return drive


async def test_a_streamed_tool_call_is_parsed(scripted):
    scripted.add(
        reply(tool_call={"name": "navigate_to", "arguments": {"place": "Stanford Shopping Center"}})
    )
    client = llm_client(scripted.base_url)
    pieces = [p async for p in client.stream_chat([{"role": "user", "content": "hi"}], tools=TOOLS)]
    await client.aclose()
    assert pieces == [
        ToolCall("navigate_to", {"place": "Stanford Shopping Center"}, "call_scripted_1")
    ]
    body = scripted.requests[0].body
    assert body["tool_choice"] == "auto"
    assert [t["function"]["name"] for t in body["tools"]] == [
        "navigate_to",
        "find_nearby",
        "add_stop",
        "cancel_route",
        "trip_status",
        "where_am_i",
        "search",
    ]


async def test_the_long_tail_is_navigated_through_a_tool(tmp_path, scripted):
    """'I could murder a flat white' is conversation to the router; the model calls
    find_nearby(coffee) and the navigator answers exactly as for 'find me a coffee shop'."""
    scripted.add(reply(tool_call={"name": "find_nearby", "arguments": {"category": "coffee"}}))
    drive = tool_drive(tmp_path, scripted)
    said = await drive.say("I could murder a flat white")
    intents = [e.intent for e in drive.turn_events() if isinstance(e, IntentRecognized)]
    assert intents == ["conversation", "navigation.find_nearby"]
    assert said.startswith("Three coffee places nearby: Beanstalk Coffee on Main Street")
    assert drive.action().action == "choices"
    assert (
        await drive.say("the second one")
        == "Navigating to Bluebird Coffee on Elm Street, 1.2 miles, about 3 minutes."
    )
    assert len(scripted.requests) == 1  # the answer to the question needed no model
    await drive.close()


async def test_a_search_tool_call_is_summarised_as_quoted_data(tmp_path, scripted):
    scripted.add(
        reply(tool_call={"name": "search", "arguments": {"query": "turtle symbol"}}),
        reply("The turtle means limited power."),
    )
    drive = tool_drive(tmp_path, scripted)
    said = await drive.say("my dashboard shows a little tortoise, is that bad")
    assert said == "The turtle means limited power."
    assert drive.action().action == "kb"
    assert "tools" not in scripted.requests[1].body  # the summary is not offered tools
    assert "untrusted" in scripted.requests[1].body["messages"][0]["content"]
    await drive.close()


async def test_unknown_or_malformed_tool_calls_are_ignored(tmp_path, scripted):
    scripted.add(
        reply(
            "Sure, I can chat about that.",
            tool_call={"name": "switch_persona", "arguments": {"id": "unhinged"}},
        )
    )
    drive = tool_drive(tmp_path, scripted)
    said = await drive.say("be someone wilder")
    assert said == "Sure, I can chat about that."
    assert drive.session.active.id == "assistant" and drive.action() is None
    assert intent_for("find_nearby", {"category": "casino"}) is None  # not a category
    assert intent_for("navigate_to", {}) is None
    await drive.close()


def test_a_find_nearby_tool_call_keeps_a_known_cuisine_only():
    found = intent_for("find_nearby", {"category": "restaurant", "cuisine": "thai"})
    assert found is not None and found.slots["cuisine"] == "thai"
    assert (
        "cuisine"
        not in intent_for("find_nearby", {"category": "restaurant", "cuisine": "martian"}).slots
    )
    assert (
        "cuisine" not in intent_for("find_nearby", {"category": "charger", "cuisine": "thai"}).slots
    )


async def test_a_server_without_tool_support_is_asked_again_without_tools(tmp_path, scripted):
    scripted.add(reply("Happy to talk.", fault="no_tools"), reply("Still happy to talk."))
    drive = tool_drive(tmp_path, scripted)
    assert await drive.say("how are you") == "Happy to talk."
    assert await drive.say("and now") == "Still happy to talk."
    bodies = [r.body for r in scripted.requests]
    assert ["tools" in b for b in bodies] == [True, False, False]  # not offered again
    await drive.close()


async def test_a_tool_call_in_a_speculative_turn_waits_for_the_final_words(tmp_path, scripted):
    scripted.add(
        reply(tool_call={"name": "navigate_to", "arguments": {"place": "QuickFuel"}}, match="fuel")
    )
    drive = tool_drive(tmp_path, scripted)
    confirmed = asyncio.Event()
    task = asyncio.create_task(drive.pipeline.run_turn("I fancy some quickfuel", confirmed))
    await asyncio.to_thread(scripted.wait_for_requests, 1)
    await asyncio.sleep(0.2)
    assert not drive.trip.active and drive.events == []
    confirmed.set()
    await task
    assert drive.trip.destination.name == "QuickFuel"
    assert any(isinstance(e, ActionTaken) for e in drive.events)
    await drive.close()
