"""The log file: in the platform's log directory, the user's alone (0600) and size-capped,
rotating to companion.log.1..3 so a car that runs for months never fills its disk."""

from __future__ import annotations

import logging
import os
import stat
import subprocess

from companion.logs import LOG_BACKUPS, PrivateRotatingFileHandler
from tests.helpers import companion_cmd


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_log_rotates_at_its_cap_and_every_file_is_the_users_alone(tmp_path):
    path = tmp_path / "logs" / "companion.log"  # the folder does not exist yet
    old_umask = os.umask(0o022)
    try:
        handler = PrivateRotatingFileHandler(path, max_bytes=4000, backups=LOG_BACKUPS)
        logger = logging.Logger("rotation-test")
        logger.addHandler(handler)
        for n in range(400):
            logger.warning("line %04d %s", n, "x" * 60)
        handler.close()
    finally:
        os.umask(old_umask)
    files = sorted(path.parent.iterdir())
    names = [f.name for f in files]
    assert names == ["companion.log"] + [f"companion.log.{i}" for i in range(1, LOG_BACKUPS + 1)]
    assert all(f.stat().st_size <= 4000 for f in files)
    assert all(mode(f) == 0o600 for f in files), [oct(mode(f)) for f in files]
    assert "line 0399" in path.read_text()  # the newest is in the current file
    assert "line 0000" not in "".join(f.read_text() for f in files)  # the oldest rotated out


def test_an_older_wider_log_is_narrowed(tmp_path):
    path = tmp_path / "companion.log"
    path.write_text("from an older version\n")
    path.chmod(0o644)
    handler = PrivateRotatingFileHandler(path)
    handler.close()
    assert mode(path) == 0o600 and path.read_text() == "from an older version\n"


def test_without_an_override_the_log_goes_to_the_platform_log_dir(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "COMPANION_LOG_FILE"}
    env.update(
        HOME=str(tmp_path),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    shown = subprocess.run(
        companion_cmd("config", "show"), capture_output=True, text=True, timeout=60, env=env
    )
    expected = tmp_path / "state" / "companion" / "log" / "companion.log"
    assert shown.returncode == 0, shown.stderr
    assert f"# log file: {expected}" in shown.stdout
    chat = subprocess.run(
        companion_cmd("-v", "chat", "--mute", "--llm-base-url", "http://127.0.0.1:9/v1", "hello"),
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert chat.returncode == 1 and "unreachable" in chat.stderr  # a one-shot turn that failed
    assert expected.exists() and mode(expected) == 0o600
    assert "Could not connect" in expected.read_text(encoding="utf-8")  # the details are kept
