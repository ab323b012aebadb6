"""Logging: details to a file in the user's log directory, warnings to stderr, secrets nowhere;
and `EventLog`, a turn's typed events as JSON lines (`--timings`)."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import platformdirs

from .events import AnyEvent, DriveUpdate, InputLevel, event_record
from .redaction import RedactingFilter, redact


class _NoTracebackFormatter(logging.Formatter):
    """Console lines never carry a traceback; the log file has it."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def log_path() -> Path:
    override = os.environ.get("COMPANION_LOG_FILE")
    if override:
        return Path(override)
    return platformdirs.user_log_path("companion") / "companion.log"


def setup_logging(verbose: bool = False) -> Path | None:
    """Configure the root logger once. Returns the log file (None if it could not be opened)."""
    root = logging.getLogger()
    if getattr(root, "_companion_configured", False):
        return getattr(root, "_companion_log_file", None)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    redacting = RedactingFilter()

    console = logging.StreamHandler()
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(_NoTracebackFormatter("companion: %(message)s"))
    console.addFilter(redacting)
    root.addHandler(console)

    path: Path | None = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The user's alone (0600), created so and narrowed if an older one was wider.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        os.chmod(path, 0o600)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        path = None
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        handler.addFilter(redacting)
        root.addHandler(handler)
    # httpx logs every request line at INFO; keep it out of the user's terminal.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    root._companion_configured = True  # type: ignore[attr-defined]
    root._companion_log_file = path  # type: ignore[attr-defined]
    return path


class EventLog:
    """The assistant's events as JSON lines, for benchmarks and debugging (`--timings FILE`);
    the level meter and the drive's once-a-second update are left out. Any thread."""

    def __init__(self, path: Path | None) -> None:
        self.file = None
        if path is not None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self.file = os.fdopen(fd, "w", encoding="utf-8")
        self.lock = threading.Lock()

    def write(self, event: AnyEvent) -> None:
        if self.file is None or isinstance(event, (InputLevel, DriveUpdate)):
            return
        line = redact(json.dumps(event_record(event), default=str))
        with self.lock:
            if not self.file.closed:
                self.file.write(line + "\n")
                self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            with self.lock:
                self.file.close()
