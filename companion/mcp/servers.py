"""The driver's own tool servers, from config.toml: `[mcp.servers.NAME]`.

The same shape Claude Desktop and VS Code use, so an entry can be pasted across (JSON's
`"args": [...]` is TOML's `args = [...]`):

    [mcp.servers.calendar]            # a server this computer starts (stdio)
    command = "uvx"
    args = ["my-calendar-mcp"]
    env = { CALENDAR_TOKEN = "${CALENDAR_TOKEN}" }   # ${NAME}: taken from the environment

    [mcp.servers.home]                # a server already running (streamable HTTP)
    url = "http://homeassistant.local:8123/mcp_server/sse"
    headers = { Authorization = "Bearer ${HA_TOKEN}" }

Optional per server: `enabled` (true), `timeout` (seconds a call may take, 15),
`startup_timeout` (seconds to connect and list tools, 10), `confirm` ("always": ask the
driver before any tool not declared read-only; "while_driving": only while the car moves),
`read_only` (tool names you declare read-only when the server does not), `cwd`, `type`
("stdio" or "http"; taken from `command`/`url` when left out).

Values in `env` and `headers` are secrets: never shown by `config show`, in logs or errors.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..redaction import Secret
from ..schema import DataFileError, check_keys, line_of

KEYS = (
    "type",
    "command",
    "args",
    "env",
    "cwd",
    "url",
    "headers",
    "enabled",
    "timeout",
    "startup_timeout",
    "confirm",
    "read_only",
)
CONFIRM = ("always", "while_driving")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,24}$")
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class ServerEntry:
    """One `[mcp.servers.NAME]` table."""

    name: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, Secret | str] = field(default_factory=dict)
    cwd: str = ""
    url: str = ""
    headers: dict[str, Secret | str] = field(default_factory=dict)
    enabled: bool = True
    timeout: float = 15.0
    startup_timeout: float = 10.0
    confirm: str = "always"
    read_only: frozenset[str] = frozenset()
    where: str = ""  # "config.toml:12", for messages

    @property
    def holds_secrets(self) -> bool:
        """Values written out in `env` or `headers` (a `${NAME}` alone is not one)."""
        return any(isinstance(v, Secret) for v in (*self.env.values(), *self.headers.values()))

    @property
    def transport(self) -> str:
        return "http" if self.url else "stdio"

    @property
    def target(self) -> str:
        """What it runs or reaches, for lists (no secrets: env and headers are not shown)."""
        if self.url:
            from ..redaction import redact

            return redact(self.url)
        return " ".join([self.command, *self.args])


class MissingVariable(ValueError):
    """A `${NAME}` in a server's env or headers names a variable that is not set."""


def expand(value: Secret | str, environ: Mapping[str, str] | None = None) -> str:
    """A value with each `${NAME}` replaced from the environment."""
    env = os.environ if environ is None else environ

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise MissingVariable(f"${{{name}}} is not set: export {name}, or write the value")
        return env[name]

    text = value.reveal() if isinstance(value, Secret) else value
    return _REFERENCE.sub(one, text)


def parse(path: Path, text: str, table: Any) -> dict[str, ServerEntry]:
    """The `[mcp]` table of a config file. Raises `DataFileError` naming the line."""
    if not isinstance(table, dict):
        raise DataFileError(path, '"mcp" must be a table: write [mcp.servers.NAME]', 1)
    check_keys(path, text, table, ("servers",), table="mcp")
    servers = table.get("servers", {})
    if not isinstance(servers, dict):
        raise DataFileError(
            path, "mcp.servers must hold tables: write [mcp.servers.NAME]", line_of(text, "servers")
        )
    return {name: _entry(path, text, name, raw) for name, raw in servers.items()}


def _entry(path: Path, text: str, name: str, raw: Any) -> ServerEntry:
    heading = f"mcp.servers.{name}"
    line = _heading_line(text, heading)

    def fail(message: str, key: str | None = None) -> DataFileError:
        at = (line_of(text, key, heading) if key else None) or line
        return DataFileError(path, f"[{heading}]: {message}", at)

    if not isinstance(raw, dict):
        raise fail("must be a table with command = ... or url = ...")
    if not _NAME.match(name):
        raise fail("the name may have only letters, digits, - and _ (24 at most)")
    check_keys(path, text, raw, KEYS, table=heading)
    command, url = raw.get("command", ""), raw.get("url", "")
    kind = raw.get("type", "http" if url else "stdio")
    if kind in ("streamable-http", "streamableHttp", "sse"):
        kind = "http"
    if kind not in ("stdio", "http"):
        raise fail(f'type must be "stdio" or "http", not {kind!r}', "type")
    if kind == "stdio" and not (isinstance(command, str) and command.strip()):
        raise fail('a stdio server needs command = "the program to start"', "command")
    if kind == "http" and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise fail('an http server needs url = "http://host:port/mcp"', "url")
    args = raw.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise fail('args must be a list of strings: args = ["--flag", "value"]', "args")
    read_only = raw.get("read_only", [])
    if not isinstance(read_only, list) or not all(isinstance(a, str) for a in read_only):
        raise fail('read_only must be a list of tool names: read_only = ["search"]', "read_only")
    confirm = raw.get("confirm", "always")
    if confirm not in CONFIRM:
        raise fail(f'confirm must be "always" or "while_driving", not {confirm!r}', "confirm")
    numbers = {}
    for key, default in (("timeout", 15.0), ("startup_timeout", 10.0)):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 600:
            raise fail(f"{key} must be a number of seconds between 0 and 600", key)
        numbers[key] = float(value)
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail("enabled must be true or false", "enabled")
    cwd = raw.get("cwd", "")
    if not isinstance(cwd, str):
        raise fail("cwd must be a folder, as a string", "cwd")
    return ServerEntry(
        name=name,
        command=command if kind == "stdio" else "",
        args=tuple(args),
        env=_secrets(raw, "env", fail),
        cwd=cwd,
        url=url if kind == "http" else "",
        headers=_secrets(raw, "headers", fail),
        enabled=enabled,
        timeout=numbers["timeout"],
        startup_timeout=numbers["startup_timeout"],
        confirm=confirm,
        read_only=frozenset(read_only),
        where=f"{path.name}:{line}" if line else path.name,
    )


def _secrets(raw: dict[str, Any], key: str, fail: Any) -> dict[str, Secret | str]:
    """A value written out is a secret; `${NAME}` alone is not (its value, once read from the
    environment, is)."""
    table = raw.get(key, {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise fail(f'{key} must be a table of strings: {key} = {{ NAME = "value" }}', key)
    return {str(k): v if _REFERENCE.fullmatch(v.strip()) else Secret(v) for k, v in table.items()}


def _heading_line(text: str, heading: str) -> int | None:
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip().replace(" ", "")
        if stripped.startswith(f"[{heading}]") or stripped.startswith(f'[mcp.servers."{heading}'):
            return number
    return None
