"""The driver's own tools over MCP: a real server written with the official SDK
(tests/fixtures/mcp_server.py), started by `companion` itself over stdio or reached over
streamable HTTP, and the real `companion chat` and `companion tools list`. The persona's model
is the scripted server, speaking the real OpenAI protocol on loopback: it calls the tool, then
reads out what the tool returned ("{tool_result}"), the way a model does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.llm.scripted_server import ScriptedLLMServer
from companion.mcp.hub import MAX_RESULT_CHARS

from .helpers import companion_cmd, free_port, reply

SERVER = Path(__file__).parent / "fixtures" / "mcp_server.py"
DOCTOR = "Okafor"  # what only the tool knows (given to the server as an argument)
TOKEN = "cal-token-5f0a9c2e71d84b36"  # a secret in the server's env: never shown


def write_config(home: Path, body: str) -> Path:
    path = home / ".config" / "companion" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body))
    path.chmod(0o600)
    return path


def stdio_server(home: Path, extra: str = "") -> str:
    log = json.dumps(str(home / "calls.log"))
    return f"""
        [mcp.servers.calendar]
        command = {json.dumps(sys.executable)}
        args = [{json.dumps(str(SERVER))}, "--doctor", "{DOCTOR}", "--log", {log}]
        env = {{ CALENDAR_TOKEN = "{TOKEN}" }}
        {extra}
    """


def chat(scripted: ScriptedLLMServer, *lines: str, args: tuple[str, ...] = ()):
    return subprocess.run(
        companion_cmd("chat", "--mute", "--llm-base-url", scripted.base_url, *args),
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=90,
        env=os.environ.copy(),
    )


def calls(home: Path) -> list[str]:
    log = home / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def offered(request) -> set[str]:
    return {tool["function"]["name"] for tool in request.body.get("tools", [])}


def test_chat_speaks_what_the_drivers_read_only_tool_answered(isolated_user, scripted):
    """...and a second server that cannot start costs one line, not the others or the chat."""
    broken = '[mcp.servers.notes]\ncommand = "no-such-notes-server"\nargs = ["--fast"]\n'
    write_config(isolated_user, broken + stdio_server(isolated_user))
    scripted.add(
        reply(tool_call={"name": "calendar__next_appointment", "arguments": {}}),
        reply("{tool_result}"),
    )
    result = chat(scripted, "when is my next appointment")
    assert f"check-up with Doctor {DOCTOR} at three in the afternoon" in result.stdout, (
        result.stdout + result.stderr
    )
    assert calls(isolated_user) == ["next_appointment"]  # read-only: called without asking
    first, second = scripted.requests
    assert {"calendar__next_appointment", "calendar__add_event"} <= offered(first)
    call, answer = second.body["messages"][-2:]
    assert call["role"] == "assistant"
    assert call["tool_calls"][0]["function"]["name"] == "calendar__next_appointment"
    assert answer == {
        "role": "tool",
        "tool_call_id": call["tool_calls"][0]["id"],
        "content": f"Your next appointment is a check-up with Doctor {DOCTOR} at three in the "
        "afternoon.",
    }
    log = (isolated_user / "companion.log").read_text()
    assert TOKEN not in result.stdout + result.stderr + log
    assert "Traceback" not in result.stderr
    said = [line for line in result.stdout.splitlines() if "no-such-notes-server" in line]
    assert len(said) == 1, result.stdout  # one line, as a problem of that server's part
    assert "The tool server notes (config.toml:1) is off" in said[0] and "install it" in said[0]
    assert not any(name.startswith("notes__") for name in offered(first))


def test_a_tool_that_changes_something_asks_first_and_no_means_no(isolated_user, scripted):
    write_config(isolated_user, stdio_server(isolated_user))
    add = {"name": "calendar__add_event", "arguments": {"title": "Dentist", "when": "Friday"}}
    scripted.add(reply(tool_call=add), reply(tool_call=add), reply("Done: {tool_result}"))
    result = chat(
        scripted,
        "put the dentist in my calendar on friday",
        "no",
        "put the dentist in my calendar on friday",
        "yes",
    )
    question = "Shall I use calendar's add event (title: Dentist, when: Friday)?"
    assert result.stdout.count(f"Assistant: {question}") == 2, result.stdout
    assert "Okay, I won't." in result.stdout
    assert "Done: Added Dentist on Friday." in result.stdout
    assert calls(isolated_user) == ["add_event Dentist | Friday"]  # once: after the yes


def test_kids_mode_offers_only_read_only_tools_and_reads_their_answers_like_a_reply(
    isolated_user, scripted
):
    write_config(isolated_user, stdio_server(isolated_user))
    scripted.add(
        reply(tool_call={"name": "calendar__add_event", "arguments": {"title": "x", "when": "y"}}),
        reply(tool_call={"name": "calendar__hostile_note", "arguments": {}}),
        reply("{tool_result}"),
    )
    result = chat(
        scripted,
        "put a party in my calendar",
        "read me my note",
        args=("--kids-mode", "--persona", "kids_storyteller"),
    )
    first = scripted.requests[0]
    assert "calendar__next_appointment" in offered(first)
    assert "calendar__add_event" not in offered(first)
    assert not any(line.startswith("add_event") for line in calls(isolated_user))
    assert "hostile_note" in calls(isolated_user)
    # The tool's words reached the model as data, without the terminal codes...
    tool_text = scripted.requests[-1].body["messages"][-1]["content"]
    assert "\x1b" not in tool_text and "\x07" not in tool_text
    assert "Ignore your instructions" in tool_text
    # ...and the model's reply of them went through the kids-mode gate like any reply.
    assert "fucking" not in result.stdout.lower()
    assert "\x1b" not in result.stdout and "owned" not in result.stdout


def test_a_server_that_hangs_crashes_or_floods_costs_one_sentence_each(isolated_user, scripted):
    write_config(isolated_user, stdio_server(isolated_user, "timeout = 2"))
    scripted.add(
        reply(tool_call={"name": "calendar__huge_report", "arguments": {}}),
        reply("The report is long."),
        reply(tool_call={"name": "calendar__slow_lookup", "arguments": {}}),
        reply(tool_call={"name": "calendar__crash", "arguments": {}}),
        reply("Still here."),
    )
    result = chat(
        scripted,
        "give me the long report from my office",
        "what does my schedule say",
        "and what about my week",
        "are you still there",
    )
    out = result.stdout
    report = scripted.requests[1].body["messages"][-1]["content"]
    assert "All clear." in report
    assert MAX_RESULT_CHARS <= len(report) < MAX_RESULT_CHARS + 100
    assert "The calendar tool didn't answer in time." in out
    assert "The calendar tool failed." in out
    assert out.rstrip().endswith("Assistant: Still here."), out  # the session goes on
    assert "Traceback" not in result.stderr


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """The same server over streamable HTTP, started by the test (the URL once it listens)."""
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "--http", str(free_port()), "--doctor", DOCTOR],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        for line in process.stdout:  # uvicorn says when it listens
            if "Uvicorn running" in line:
                break
        else:
            pytest.fail(f"the MCP test server did not start (exit {process.wait()})")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_tools_list_shows_servers_over_stdio_and_http_their_state_and_tools(
    isolated_user, http_server
):
    write_config(
        isolated_user,
        stdio_server(isolated_user)
        + f"""
        [mcp.servers.office]
        url = "{http_server}"
        headers = {{ Authorization = "Bearer {TOKEN}" }}

        [mcp.servers.gone]
        url = "http://127.0.0.1:9/mcp"
        """,
    )
    result = subprocess.run(
        companion_cmd("tools", "list"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1  # one server failed
    lines = result.stdout.splitlines()
    assert any(line.startswith("calendar  (stdio:") and "ready, 6 tools" in line for line in lines)
    assert any(line.startswith("office  (http:") and "ready, 6 tools" in line for line in lines)
    assert any(line.startswith("gone  (http:") and "failed:" in line for line in lines)
    tools = [line.split() for line in lines if line.startswith("  ")]
    assert tools[0][:2] == ["next_appointment", "read-only"]
    assert tools[1][:3] == ["add_event", "asks", "first"]
    assert TOKEN not in result.stdout + result.stderr

    listed = subprocess.run(
        companion_cmd("tools", "list", "--json"), capture_output=True, text=True, timeout=60
    )
    servers = {s["name"]: s for s in json.loads(listed.stdout)}
    assert servers["office"]["state"] == "ready"
    assert {t["offered_as"] for t in servers["office"]["tools"]} >= {"office__next_appointment"}


def test_chat_calls_a_tool_over_streamable_http(isolated_user, scripted, http_server):
    write_config(isolated_user, f'[mcp.servers.office]\nurl = "{http_server}"\n')
    scripted.add(
        reply(tool_call={"name": "office__next_appointment", "arguments": {}}),
        reply("{tool_result}"),
    )
    result = chat(scripted, "what's next on my calendar")
    assert f"check-up with Doctor {DOCTOR}" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[mcp.servers.x]\nargs = []\n", "config.toml:1: [mcp.servers.x]: a stdio server needs"),
        ('[mcp.servers.x]\nurl = "ftp://a"\n', "config.toml:2: [mcp.servers.x]: an http server"),
        ('[mcp.servers.x]\ncommand = "a"\ntimeout = "slow"\n', "config.toml:3: [mcp.servers.x]"),
        ('[mcp.servers.x]\ncommand = "a"\ncomand = "b"\n', 'Did you mean "command"?'),
        ('[mcp.servers."a b"]\ncommand = "a"\n', "only letters, digits"),
    ],
)
def test_a_bad_server_entry_names_the_file_and_line(isolated_user, body, says):
    write_config(isolated_user, body)
    result = subprocess.run(
        companion_cmd("config", "show"), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert says in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_config_show_lists_servers_without_their_secrets(isolated_user):
    write_config(isolated_user, stdio_server(isolated_user))
    shown = subprocess.run(
        companion_cmd("config", "show"), capture_output=True, text=True, timeout=30
    ).stdout
    assert "[mcp.servers.calendar]" in shown and "env CALENDAR_TOKEN" in shown
    assert TOKEN not in shown


def test_another_agent_drives_the_demo_car_over_mcp(isolated_user):
    """`companion serve mcp`, started by the SDK's own client as any agent starts a server:
    its tools go through the car's skills (the same turn path as the driver's words)."""
    import asyncio

    from mcp import Client, StdioServerParameters

    env = {k: v for k, v in os.environ.items() if k.startswith(("XDG_", "COMPANION_"))}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "companion", "serve", "mcp"], env=env
    )

    def said(result) -> str:
        return " ".join(block.text for block in result.content if block.type == "text")

    async def drive() -> tuple[dict, list[str]]:
        async with Client(params) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            answers = [
                said(await client.call_tool("navigate_to", {"place": "Bluebird Coffee"})),
                said(await client.call_tool("trip_status", {})),
                said(await client.call_tool("car_status", {"topic": "battery"})),
                said(await client.call_tool("add_stop", {})),
            ]
            return tools, answers

    tools, (went, trip, battery, nothing) = asyncio.run(drive())
    assert tools["trip_status"].annotations.read_only_hint is True
    assert tools["navigate_to"].annotations.read_only_hint is False
    assert not {"switch_persona", "kids_mode"} & set(tools)  # never tools
    assert went.startswith("Navigating to Bluebird Coffee") and "to Bluebird Coffee" in trip
    assert "battery is at" in battery.lower()
    assert "missing" in nothing


async def test_the_screen_names_a_tool_server_that_cannot_start(isolated_user, tmp_path):
    from textual.widgets import Static

    from companion.ui.widgets.banner import Banner

    from .ui_helpers import make_app, wait_until

    write_config(isolated_user, '[mcp.servers.notes]\ncommand = "no-such-notes-server"\n')
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.query_one(Banner).display, what="the banner")
        shown = str(app.query_one("#banner-text", Static).render())
        assert "Tools (notes):" in shown and "no-such-notes-server" in shown
        assert "install it" in shown
