"""Logging: details to a file in the user's log directory, warnings to stderr, secrets nowhere;
and `EventLog`, a turn's typed events as JSON lines (`--timings`)."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import threading
from pathlib import Path

from .events import AnyEvent, DriveUpdate, InputLevel, event_record
from .redaction import RedactingFilter, redact
from .resources import user_log_dir

# The log file is capped: at LOG_MAX_BYTES it becomes companion.log.1 (then .2, .3) and a new
# one starts, so a long-running car never fills its disk with logs (at most ~4 MiB in all).
LOG_MAX_BYTES = 1024 * 1024
LOG_BACKUPS = 3


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
    return user_log_dir() / "companion.log"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A size-capped log whose every file - the current one and each it rotates to - is
    readable by the user alone (0600), whatever the umask; an older, wider file is narrowed."""

    def __init__(
        self, path: Path, max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")

    def _open(self):  # type: ignore[no-untyped-def]  # typeshed's signature varies by version
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


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
        handler = PrivateRotatingFileHandler(log_path())
    except OSError:
        path = None
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
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
