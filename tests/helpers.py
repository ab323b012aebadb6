"""Small helpers shared by the tests."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from companion.llm.scripted_server import ScriptedReply


def reply(text: str = "", **kwargs: object) -> ScriptedReply:
    """A scripted reply (or fault) for the scripted LLM server."""
    return ScriptedReply(text=text, **kwargs)  # type: ignore[arg-type]


def companion_cmd(*args: str) -> list[str]:
    """The real console entry point, run through this interpreter."""
    return [sys.executable, "-m", "companion", *args]


def read_events(path: Path) -> list[dict]:
    """The events `companion listen --timings FILE` has written so far."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # the line being written right now
            events.append(json.loads(line))
    return events


def wait_for_event(
    path: Path, predicate: Callable[[dict], bool], timeout: float = 30, nth: int = 1
) -> dict | None:
    """The `nth` event in a timings file that `predicate` accepts, waiting up to `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        matching = [event for event in read_events(path) if predicate(event)]
        if len(matching) >= nth:
            return matching[nth - 1]
        time.sleep(0.05)
    return None


def first_frame(argv: list[str], env: dict[str, str], cwd: Path, ready: Path) -> bytes:
    """Run the car screen on a terminal of its own (a pty, 100x30), return everything it drew
    up to its first frame (it writes `ready` then: COMPANION_UI_READY_FILE), and quit it
    with Ctrl+Q, which it must obey."""
    import os
    import pty
    import select

    import pytest

    env = {**env, "COLUMNS": "100", "LINES": "30", "COMPANION_UI_READY_FILE": str(ready)}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app on a terminal of its own
        os.chdir(cwd)
        os.execve(argv[0], argv, env)
    screen = b""

    def drain(wait: float) -> None:
        nonlocal screen
        while select.select([fd], [], [], wait)[0]:
            try:
                screen += os.read(fd, 65536)
            except OSError:
                return

    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and not ready.exists():
            drain(0.1)
        assert ready.exists(), "no first frame within 60 s:\n" + screen.decode(errors="replace")
        time.sleep(0.3)
        drain(0.2)
        os.write(fd, b"\x11")  # Ctrl+Q
        # A deadline, not a number of reads: a screen that keeps redrawing while it quits
        # (a loading animation) sends output faster than a read loop could count on.
        quit_by = time.monotonic() + 20
        while not os.waitpid(pid, os.WNOHANG)[0]:
            if time.monotonic() > quit_by:
                pytest.fail("the screen did not quit within 20 s of Ctrl+Q")
            if select.select([fd], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):
                    os.read(fd, 65536)
    finally:
        with contextlib.suppress(ChildProcessError, ProcessLookupError):
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    return screen


def run_companion(*args: str, env: dict | None = None, timeout: float = 120):
    """`companion ARGS` to completion, output captured; `env` is added to this one's."""
    import os
    import subprocess

    return subprocess.run(
        companion_cmd(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


_PORTS_PER_WORKER = 400
_next_port = [0]


def free_port() -> int:
    """A loopback port nothing listens on, for services that can't report the port 0 gave
    them. Asking the kernel for port 0 and passing the number on is check-then-use: another
    test worker (or any connection's ephemeral port) can take it in between. So each pytest
    worker hands out ports from a range of its own below the kernel's ephemeral range
    (32768 and up here): no other worker and no outgoing connection is ever given them."""
    import os

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    base = 20000 + (int(worker) if worker.isdigit() else 0) % 30 * _PORTS_PER_WORKER
    for _ in range(_PORTS_PER_WORKER):
        port = base + _next_port[0] % _PORTS_PER_WORKER
        _next_port[0] += 1
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:  # something else of this machine's: the next one
                continue
            return port
    raise RuntimeError(f"no free loopback port in {base}..{base + _PORTS_PER_WORKER - 1}")


def wait_listening(port: int, seconds: float = 20) -> None:
    """Until something accepts connections on the loopback `port` (a service's "Ready" can
    come a moment before it listens)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds:.0f} s")


def run_in_process(*args: str, env: dict | None = None, stdin: str = ""):
    """`companion ARGS` called in this process (`companion.cli.main`), for tests of what the
    command decides and prints: a process would prove nothing more, and each one costs a
    Python start-up and its imports. Output as from `run_companion`: a CompletedProcess with
    the exit status, stdout and stderr (logging included: it is set up afresh on them, and
    put back afterwards). Keep real processes for what only they show: exit on a signal,
    the terminal, the installed wheel, children left behind."""
    import io
    import logging
    import os
    import subprocess

    from companion.cli import main

    root = logging.getLogger()
    saved_logging = (root.handlers[:], root.level, dict(root.__dict__))
    saved_env = dict(os.environ)
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.update(env or {})
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
        root.handlers = []
        root.__dict__.pop("_companion_configured", None)
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors, --help
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers, root.level = saved_logging[0], saved_logging[1]
        root.__dict__.clear()
        root.__dict__.update(saved_logging[2])
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["companion", *args], code, out.getvalue(), err.getvalue())
