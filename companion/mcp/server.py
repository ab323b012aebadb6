"""`companion serve mcp`: the demo car's own skills as an MCP server, so another agent (Claude
Desktop, VS Code, Home Assistant's MCP client, or companion itself) can drive it.

The car is the same assistant core `companion chat` runs (muted, no microphone): each tool
call becomes the intent it stands for (`router.tools.intent_for`, the mapping the persona's
model uses) and goes through the one turn path, skills and gates included; the tool returns
what the car would have said. Read-only tools (trip status, where am I, car status, can I make
it) say so (`readOnlyHint`), so a careful client calls them without asking. Persona
switches and the safety settings are not tools. Over stdio by default; `--http PORT` serves
streamable HTTP on loopback.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..router import Intent
from ..router.tools import intent_for

log = logging.getLogger(__name__)

TOPICS = ("overview", "battery", "range", "outside", "cabin", "speed", "gear", "odometer")


class Car:
    """The assistant core on its own loop thread, driven by intents."""

    def __init__(self, settings: Any, session: Any) -> None:
        from ..assistant import Assistant
        from ..loopthread import LoopThread

        settings.speech.mute = True
        self.core = LoopThread()
        self.assistant = Assistant(settings, session, lambda event: None, greet=False)
        self.core.loop.call_soon_threadsafe(self.assistant.start)
        self.assistant.load(voice=False)

    async def act(self, intent: Intent | None, heard: str) -> str:
        """Carry out `intent` as a turn of its own; what the car said."""
        if intent is None:
            return "That request is missing what it needs (a place, a kind of place)."
        future = asyncio.run_coroutine_threadsafe(
            self.assistant.turns.act(intent, heard), self.core.loop
        )
        answer = await asyncio.wrap_future(future)
        text = getattr(answer, "text", None) or getattr(answer, "spoken", None)
        return str(text or "Done.")

    def close(self) -> None:
        self.core.close(self.assistant.aclose)


def build(car: Car) -> Any:
    """The MCP server (the official SDK's MCPServer) with the car's tools."""
    from mcp.server.mcpserver import MCPServer
    from mcp_types import ToolAnnotations

    server = MCPServer(
        "companion-car",
        instructions="A demo car: navigate it, ask about the trip and the car. Replies are "
        "what the car says to its driver.",
    )
    reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    acts = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)

    @server.tool(annotations=acts)
    async def navigate_to(place: str) -> str:
        """Start navigation to a named place, street address, city or airport."""
        return await car.act(intent_for("navigate_to", {"place": place}), f"navigate to {place}")

    @server.tool(annotations=acts)
    async def find_nearby(category: str, cuisine: str = "") -> str:
        """Go to the nearest place of a kind: charger, coffee, restaurant, gas, parking,
        pharmacy, grocery, hospital and more (cuisine: for restaurants)."""
        args = {"category": category, "cuisine": cuisine, "nearest": True}
        return await car.act(intent_for("find_nearby", args), f"find the nearest {category}")

    @server.tool(annotations=acts)
    async def add_stop(place: str = "", category: str = "") -> str:
        """Add a stop on the way to the current destination: a named place or a kind."""
        args = {"place": place, "category": category}
        return await car.act(intent_for("add_stop", args), f"add a stop at {place or category}")

    @server.tool(annotations=acts)
    async def cancel_route() -> str:
        """Cancel the active navigation."""
        return await car.act(intent_for("cancel_route", {}), "cancel the route")

    @server.tool(annotations=reads)
    async def trip_status() -> str:
        """How long and how far until the destination."""
        return await car.act(intent_for("trip_status", {}), "how long until we get there")

    @server.tool(annotations=reads)
    async def where_am_i() -> str:
        """Where the car is now."""
        return await car.act(intent_for("where_am_i", {}), "where am I")

    @server.tool(annotations=reads)
    async def car_status(topic: str = "overview") -> str:
        """A reading of the car: overview, battery, range, outside, cabin, speed, gear or
        odometer."""
        topic = topic if topic in TOPICS else "overview"
        return await car.act(Intent("car.status", {"topic": topic}, 1.0), f"car {topic}")

    @server.tool(annotations=reads)
    async def can_i_make_it(place: str) -> str:
        """Whether the battery reaches a place (and what to do if not)."""
        intent = Intent("car.range", {"place": place, "asks": "make_it"}, 1.0)
        return await car.act(intent, f"can I make it to {place}")

    return server


def run(settings: Any, session: Any, http_port: int | None) -> None:
    """Serve until the client goes (stdio) or Ctrl+C (HTTP)."""
    car = Car(settings, session)
    try:
        server = build(car)
        if http_port is None:
            server.run()
        else:
            server.run("streamable-http", host="127.0.0.1", port=http_port)
    finally:
        car.close()
