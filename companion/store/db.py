"""The driver's database: one SQLite file in the platform's data folder.

`Database` opens it (creating it with mode 0600 in a 0700 folder), turns on WAL (readers
never wait for the writer; a crash mid-write leaves the last committed state), waits for
another `companion` process's write instead of failing (`busy_timeout`), and brings an older
schema up to date with the numbered migrations below (`PRAGMA user_version`). Every write is
one `write()` block: one `BEGIN IMMEDIATE` transaction, so one writer at a time.

A file that is not a database, or fails `PRAGMA quick_check`, is moved aside
(`companion.sqlite3.damaged-<time>`, never deleted) and a fresh one is started; `notice`
says so in one line. A file from a newer companion is left alone (`StoreError`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "companion.sqlite3"
BUSY_TIMEOUT_MS = 10_000  # another process's write: wait this long before giving up

# Migrations, in order: MIGRATIONS[n] takes the schema from version n to n + 1. Never edit a
# released one; add the next.
MIGRATIONS: tuple[str, ...] = (
    # 1: saved places and preferences, per driver profile
    """
    CREATE TABLE places (
        profile TEXT NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL,
        label TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
        address TEXT NOT NULL DEFAULT '', category TEXT NOT NULL DEFAULT '',
        saved_at REAL NOT NULL,
        PRIMARY KEY (profile, key)
    );
    CREATE TABLE preferences (
        profile TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (profile, key)
    );
    """,
    # 2: recent destinations and the persona's opt-in memory of the driver
    """
    CREATE TABLE visits (
        id INTEGER PRIMARY KEY, profile TEXT NOT NULL, label TEXT NOT NULL,
        lat REAL NOT NULL, lon REAL NOT NULL, address TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL
    );
    CREATE INDEX visits_by_time ON visits (profile, at);
    CREATE TABLE facts (
        id INTEGER PRIMARY KEY, profile TEXT NOT NULL, text TEXT NOT NULL, at REAL NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The database can't be used (a newer schema, a folder we may not write): one line that
    says what to do."""


def default_path() -> Path:
    import platformdirs

    return platformdirs.user_data_path("companion") / FILE_NAME


class Database:
    """One connection, shared by the threads of one process (a lock around each use)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path).expanduser() if path else default_path()
        self.notice: str | None = None  # said once: the damaged file we moved aside
        self._lock = threading.RLock()
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:  # not a database, or a damaged one
            self._db = self._start_fresh(exc)

    # --- opening -----------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():  # created 0600 before SQLite ever writes to it
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            os.chmod(self.path, 0o600)  # and kept so (SQLite gives -wal and -shm the same)
        except OSError as exc:
            raise StoreError(
                f"can't write the driver database {self.path}: {exc.strerror}. Set "
                "driver.database to a file in a folder you can write, or driver.save = false."
            ) from None
        db = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if db.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
                raise sqlite3.DatabaseError("WAL mode could not be turned on")
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: a process crash loses nothing
            db.execute("PRAGMA foreign_keys = ON")
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("the integrity check failed")
            self._migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _migrate(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the driver database {self.path} was written by a newer companion (schema "
                f"{version}, this one knows {SCHEMA_VERSION}); upgrade companion, or set "
                "driver.database to another file"
            )
        if version == SCHEMA_VERSION:
            return
        db.execute("BEGIN IMMEDIATE")  # one process migrates; the other waits, then sees it
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    db.execute(statement)
                log.info("driver database %s: schema %d -> %d", self.path, number, number + 1)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _start_fresh(self, why: Exception) -> sqlite3.Connection:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                part.rename(Path(f"{aside}{suffix}"))
        self.notice = (
            f"The driver database {self.path} could not be read ({why}); it was kept as "
            f"{aside.name} and a fresh one started (saved places and preferences start over)."
        )
        log.warning("%s", self.notice)
        return self._open()

    # --- using it ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction that writes: all of it is kept, or none of it."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def read(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
