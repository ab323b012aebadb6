"""No process outlives its test.

Every process a test run starts inherits two environment variables: one naming the run
(`RUN_MARK`: set when conftest.py is first imported, before pytest-xdist starts its
workers, so they and everything they start carry it) and one naming the worker that started
it (`WORKER_MARK`). That finds what a test left behind however it was started: a child, a
grandchild whose parent died, a daemon that forked away.

- After the last test of a module (on each worker), once the module's fixtures are torn
  down: a marked process still running 5 s later is killed and that test errors, naming
  the process and the test during which it first appeared. (Per module, not per test: a
  module-scoped fixture may keep a process, or restart it, across its tests.) Services a
  session-scoped fixture starts on purpose (the virtual sound card) carry `SESSION_SCOPED`
  and are checked at the end instead.
- At the end of the run (`pytest_sessionfinish` in the controller): anything still marked,
  a crashed worker's children included, is killed and the run fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterable

RUN_MARK = "TESTS_RUN_MARK"  # not COMPANION_*: isolated_user drops those
WORKER_MARK = "TESTS_WORKER_MARK"
SESSION_SCOPED = "TESTS_SESSION_SCOPED"


def mark_this_run() -> None:
    """Called once per process at import. The run's mark is the controller's (workers
    inherit it); the worker's mark is new in every process, so a worker only ever judges
    what it started itself. (A process's /proc/PID/environ is the environment it was started
    with: pytest's own processes show their parent's worker mark, never their own.)"""
    os.environ.setdefault(RUN_MARK, uuid.uuid4().hex)
    os.environ[WORKER_MARK] = uuid.uuid4().hex


def marked(*, whole_run: bool = False, include_session_scoped: bool = True) -> dict[int, str]:
    """pid -> command line of every live process (not a zombie) that this worker started
    (`whole_run`: that any process of this test run started)."""
    mark = RUN_MARK if whole_run else WORKER_MARK
    needle = f"{mark}={os.environ[mark]}\0".encode()
    scoped = f"{SESSION_SCOPED}=1\0".encode()
    me = os.getpid()
    found: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                environ = b"\0" + f.read() + b"\0"
            if b"\0" + needle not in environ:
                continue
            if not include_session_scoped and b"\0" + scoped in environ:
                continue
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state in (b"Z", b"X"):
                continue
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # it ended while we looked
            continue
        found[int(entry.name)] = cmdline[:300]
    return found


def outlived(pids: dict[int, str], grace: float) -> dict[int, str]:
    """Those of `pids` still running after `grace` seconds (killed then, with SIGKILL)."""
    deadline = time.monotonic() + grace
    alive = dict(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        now = marked(whole_run=True)
        alive = {pid: cmd for pid, cmd in alive.items() if pid in now}
    for pid in alive:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return alive


def stop(pids: Iterable[int], grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL for whatever is still running `grace` seconds later."""
    pids = list(pids)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    outlived({pid: "" for pid in pids}, grace)


_origin: dict[int, str] = {}


def first_seen_during(test: str) -> None:
    """Remember which test each marked process first appeared in (for the message)."""
    for pid in marked(include_session_scoped=False):
        _origin.setdefault(pid, test)


def describe(pids: dict[int, str]) -> str:
    return "\n".join(
        f"  pid {pid} (appeared during {_origin.get(pid, 'an earlier test')}): {cmd}"
        for pid, cmd in sorted(pids.items())
    )
