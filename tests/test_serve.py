"""`companion ui --serve`: the car screen in a browser through textual-serve. A websocket
client connects as a browser does and must receive the screen's first frame."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import companion_cmd, free_port


@pytest.fixture
def served(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        companion_cmd("ui", "--serve", f"127.0.0.1:{port}", "--no-voice", "--mute"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=os.environ.copy(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise AssertionError(f"the server did not start: {server.stderr.read()}") from None
            time.sleep(0.1)
    yield port, server
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGINT)  # the server and any screen it started
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


async def first_frame(ws) -> bytes:
    received = b""
    deadline = time.monotonic() + 30
    while b"NAVIGATION" not in received:
        left = deadline - time.monotonic()
        assert left > 0, f"no first frame; got {received[-400:]!r}"
        try:
            message = await ws.receive(timeout=left)
        except TimeoutError:
            continue
        if message.type == aiohttp.WSMsgType.BINARY:
            received += message.data
        elif message.type == aiohttp.WSMsgType.TEXT:
            received += message.data.encode()
        elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            break
    return received


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


async def test_sigterm_to_the_server_ends_every_tabs_screen(served):
    """A service manager stops `ui --serve` with SIGTERM while a browser tab is open: the
    tab's own `companion ui` must not be left behind (it was, spinning on a CPU)."""
    import asyncio

    port, server = served
    url = f"ws://127.0.0.1:{port}/ws?width=100&height=30"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        assert b"NAVIGATION" in await first_frame(ws)
        tabs = [
            pid
            for pid in children(server.pid)
            if b"companion" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert tabs, "the tab's screen process was not found"
        server.send_signal(signal.SIGTERM)  # to the server only, the tab still open
        await asyncio.to_thread(server.wait, 20)
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{pid}") for pid in tabs):
        assert time.monotonic() < deadline, f"left behind: {tabs}"
        await asyncio.sleep(0.1)


async def test_a_browser_gets_the_first_frame_of_the_car_screen(served):
    port, _ = served
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/") as page:
            assert page.status == 200
            assert "companion" in await page.text()
        async with http.ws_connect(f"ws://127.0.0.1:{port}/ws?width=100&height=30") as ws:
            received = await first_frame(ws)
        assert b"NAVIGATION" in received  # the navigation card's title: the screen drew
