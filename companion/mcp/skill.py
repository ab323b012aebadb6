"""A call the persona's model makes to one of the driver's MCP tools (`tools.call`), and the
driver's yes or no when it had to ask first (`tools.confirm`).

A tool its server (or the driver's config) declares read-only is called at once. Any other
tool may change something (send a message, book, buy, switch a light): the driver is asked
first, always or only while driving (the server's `confirm`), and in kids mode such tools are
not even offered. The tool's answer goes back to the model, whose reply is spoken like any
other, through the same reply chain (kids-mode gate, driving cap). A server that fails or
takes too long costs one spoken sentence.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..events import ActionTaken
from ..untrusted import shown
from .hub import RemoteTool, ToolHub

if TYPE_CHECKING:
    from ..llm.endpoint import Message
    from ..turns.turn import Answer, ToolUse, Turn

log = logging.getLogger(__name__)

NOT_AVAILABLE = "That tool isn't available right now."
NOT_IN_KIDS_MODE = "I can't use that tool in kids mode."
DECLINED = "Okay, I won't."


@dataclass
class _Asked:
    """A call waiting for the driver's yes."""

    tool: RemoteTool
    arguments: dict[str, Any]
    call_id: str
    messages: list[Message]


class ToolsSkill:
    """Carries out the model's calls to the driver's MCP tools."""

    name = "tools"
    handles = frozenset({"tools"})
    changes_state = True

    def __init__(self, hub: ToolHub, offer: Callable[[bool], list[dict[str, Any]] | None]) -> None:
        self.hub = hub
        self.offer = offer  # the tools a conversation turn offers (kids mode or not)
        self.pending: _Asked | None = None

    def followup(self, text: str) -> tuple[str, dict[str, Any]] | None:
        """The driver's answer to "Shall I ...?"."""
        from ..store.recall import confirmation

        return None if self.pending is None else confirmation(text, "tools.confirm")

    def forget_question(self) -> None:
        self.pending = None

    async def answer(self, turn: Turn) -> Answer | ToolUse:
        slots = turn.intent.slots
        if turn.intent.name == "tools.confirm":
            asked, self.pending = self.pending, None
            if asked is None:
                return await turn.say(NOT_AVAILABLE)
            if not slots.get("confirmed"):
                turn.remember(DECLINED)
                return await turn.say(DECLINED)
            return await self._call(turn, asked)
        tool = self.hub.lookup(str(slots.get("tool", "")))
        if tool is None:
            return await turn.say(NOT_AVAILABLE)
        if turn.session.kids_mode and not tool.read_only:
            return await turn.say(NOT_IN_KIDS_MODE)
        arguments = slots.get("arguments") or {}
        asked = _Asked(tool, arguments, str(slots.get("call_id") or "call_1"), turn.model_messages)
        entry = self.hub.servers[tool.server].entry
        if not tool.read_only and (entry.confirm == "always" or turn.speed_kmh):
            self.pending = asked
            return await turn.say(
                f"Shall I use {_spoken_name(tool)}{_spoken_arguments(arguments)}?"
            )
        return await self._call(turn, asked)

    async def _call(self, turn: Turn, asked: _Asked) -> Answer | ToolUse:
        tool = asked.tool
        outcome = await self.hub.call(tool, asked.arguments)
        data = {"tool": tool.offered_as, "ok": not outcome.failed}
        said = outcome.failed or f"{tool.server}: {tool.name.replace('_', ' ')}"
        turn.emit(ActionTaken(turn.id, "tools", "called", said, data))
        if outcome.failed:
            turn.remember(outcome.failed)
            return await turn.say(outcome.failed)
        call = {
            "id": asked.call_id,
            "type": "function",
            "function": {"name": tool.offered_as, "arguments": json.dumps(asked.arguments)},
        }
        messages: list[Message] = [
            *asked.messages,
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": asked.call_id, "content": outcome.text},
        ]
        # Without the model, the tool's own words (the reply path reads them like any
        # local answer in kids mode).
        fallback = f"{tool.server} says: {shown(outcome.text, one_line=True)[:300]}"
        return await turn.converse(
            messages=messages, tools=self.offer(turn.session.kids_mode), without_llm=fallback
        )


def _spoken_name(tool: RemoteTool) -> str:
    words = tool.name.replace("_", " ").replace("-", " ").strip()
    return f"{tool.server}'s {words}"


def _spoken_arguments(arguments: dict[str, Any]) -> str:
    """ "(title: Dentist, when: Friday)": what the call will do, short enough to say."""
    said = []
    for key, value in list(arguments.items())[:4]:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        said.append(f"{key}: {shown(str(text), one_line=True)[:60]}")
    return f" ({', '.join(said)})" if said else ""
