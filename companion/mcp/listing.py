"""`companion tools list`: the driver's MCP servers, their state and their tools, as the car
sees them at start-up (each server is started, listed and stopped again)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .hub import ToolHub
from .servers import ServerEntry

HOW_TO_ADD = """\
No tool servers are set up. Add one to {config} (the shape Claude Desktop and VS Code use):

    [mcp.servers.calendar]
    command = "uvx"
    args = ["my-calendar-mcp"]

    [mcp.servers.home]
    url = "http://homeassistant.local:8123/mcp_server/sse"

See README.md, "Your own tools (MCP)"."""


async def survey(entries: Iterable[ServerEntry], log_dir: Path | None) -> list[dict[str, Any]]:
    """Each server's name, transport, target, state, detail and tools."""
    hub = ToolHub(entries, log_dir)
    hub.start()
    try:
        await hub.settled()
        return [
            {
                "name": server.name,
                "transport": server.entry.transport,
                "target": server.entry.target,
                "state": server.state,
                "detail": server.detail,
                "tools": [
                    {
                        "name": tool.name,
                        "offered_as": tool.offered_as,
                        "read_only": tool.read_only,
                        "description": tool.description,
                    }
                    for tool in server.tools
                ],
            }
            for server in hub.servers.values()
        ]
    finally:
        await hub.aclose()


def as_text(servers: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for server in servers:
        state = server["state"]
        if state == "failed":
            state = f"failed: {server['detail']}"
        elif state == "ready":
            state = f"ready, {len(server['tools'])} tools"
        lines.append(f"{server['name']}  ({server['transport']}: {server['target']})  {state}")
        for tool in server["tools"]:
            kind = "read-only " if tool["read_only"] else "asks first"
            lines.append(f"  {tool['name']:<24} {kind}  {tool['description'][:70]}")
    return "\n".join(lines)


def as_json(servers: list[dict[str, Any]]) -> str:
    return json.dumps(servers, indent=2, ensure_ascii=False)
