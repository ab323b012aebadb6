"""What the driver's MCP tools cost, over stdio and streamable HTTP, side by side.

    python benchmarks/mcp_tools.py [--runs 7] [--calls 50] [--write docs/PERFORMANCE.md]

The server is tests/fixtures/mcp_server.py (the official SDK's MCPServer, one read-only tool);
the client is companion's own `ToolHub` (the code a drive runs): start-up (connect and list the
tools; for stdio that includes starting the server's Python) and one call's round trip,
including the sanitising of its result. Medians and p90, stdio and HTTP interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, median_p90_ms, publish  # noqa: E402

from companion.mcp.hub import ToolHub  # noqa: E402
from companion.mcp.servers import ServerEntry  # noqa: E402
from tests.helpers import free_port, wait_listening  # noqa: E402

HEADING = "## The driver's MCP tools (benchmarks/mcp_tools.py)"
SERVER = ROOT / "tests" / "fixtures" / "mcp_server.py"


async def measure(entry: ServerEntry, calls: int) -> tuple[float, list[float]]:
    hub = ToolHub([entry])
    started = time.perf_counter()
    hub.start()
    await hub.settled()
    startup = time.perf_counter() - started
    tool = hub.lookup(f"{entry.name}__next_appointment")
    assert tool is not None, hub.servers[entry.name].detail
    rounds = []
    for _ in range(calls):
        began = time.perf_counter()
        outcome = await hub.call(tool, {})
        rounds.append(time.perf_counter() - began)
        assert "appointment" in outcome.text
    await hub.aclose()
    return startup, rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    port = free_port()
    http_server = subprocess.Popen(
        [sys.executable, str(SERVER), "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_listening(port, 30)
    entries = {
        "stdio": ServerEntry("calendar", command=sys.executable, args=(str(SERVER),)),
        "HTTP": ServerEntry("office", url=f"http://127.0.0.1:{port}/mcp"),
    }
    startup: dict[str, list[float]] = {name: [] for name in entries}
    calls: dict[str, list[float]] = {name: [] for name in entries}
    try:
        for _ in range(args.runs):
            for name, entry in entries.items():
                took, rounds = asyncio.run(measure(entry, args.calls))
                startup[name].append(took)
                calls[name] += rounds
    finally:
        http_server.terminate()
        http_server.wait(10)
    lines = [
        HEADING,
        "",
        f"{machine()}; {datetime.date.today()}; {args.runs} runs of start-up and "
        f"{args.calls} calls each, stdio and HTTP interleaved; median / p90.",
        "",
        "| transport | start-up (connect, list tools) | one call |",
        "|---|---|---|",
        *(
            f"| {name} | {median_p90_ms(startup[name], 1)} | {median_p90_ms(calls[name], 1)} |"
            for name in entries
        ),
        "",
        "Start-up runs in the background when the assistant starts; only a conversation turn "
        "that comes before it is done waits for it (each server's `startup_timeout` at most). "
        "A call adds its round trip to a turn that uses the tool, besides the second model "
        "request that reads the result.",
    ]
    publish(lines, args.write, HEADING)


if __name__ == "__main__":
    main()
