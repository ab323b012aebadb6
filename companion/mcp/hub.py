"""The connections to the driver's MCP servers, and their tools as the persona's model sees them.

One asyncio task per server holds its session open (the official `mcp` SDK's `Client`, over
stdio or streamable HTTP): it connects, lists the tools, then carries out calls one at a time.
Everything a server sends is untrusted text: names, descriptions and results pass through the
sanitiser (`untrusted.shown`) and are capped in size before the model or the driver sees them.
A server that fails to start, crashes, hangs or misbehaves is marked failed and costs one
spoken sentence per call, never the session; it is tried again on the next call, at most every
`RETRY_AFTER_S`.

Tools go to the model named `SERVER__TOOL` (OpenAI's name rules: letters, digits, _ and -,
64 at most). A tool counts as read-only when its server declares it so (the MCP annotation
`readOnlyHint`) or the driver's config lists it in `read_only`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..redaction import Secret, redact
from ..untrusted import shown
from .servers import ServerEntry, expand

CONNECTION_CLOSED = -32000  # MCP's error codes (mcp_types.jsonrpc), kept here so that
REQUEST_TIMEOUT = -32001  # reading them does not import the SDK

log = logging.getLogger(__name__)

MAX_RESULT_CHARS = 4000  # of one tool result, as the model gets it
MAX_DESCRIPTION_CHARS = 500
MAX_SCHEMA_CHARS = 8000
MAX_TOOLS_PER_SERVER = 32
RETRY_AFTER_S = 30.0


@dataclass(frozen=True)
class RemoteTool:
    """One tool of one server, as offered to the model."""

    server: str
    name: str  # the server's own name for it
    offered_as: str  # SERVER__TOOL
    description: str
    schema: dict[str, Any]
    read_only: bool

    def as_openai(self) -> dict[str, Any]:
        note = "" if self.read_only else " (changes something: the driver is asked first)"
        return {
            "type": "function",
            "function": {
                "name": self.offered_as,
                "description": f"[{self.server}] {self.description}{note}".strip(),
                "parameters": self.schema,
            },
        }


@dataclass(frozen=True)
class ToolOutcome:
    """A call's result: `text` for the model; `failed` (one sentence for the driver) when the
    server itself failed (it did not answer, crashed, refused the connection)."""

    text: str
    failed: str = ""


@dataclass
class Server:
    """One server's state: "off", "starting", "ready" or "failed" (with `detail`)."""

    entry: ServerEntry
    state: str = "starting"
    detail: str = ""
    tools: list[RemoteTool] = field(default_factory=list)
    failed_at: float = 0.0
    jobs: asyncio.Queue[tuple[str, dict[str, Any], asyncio.Future[ToolOutcome]] | None] = field(
        default_factory=asyncio.Queue
    )
    task: asyncio.Task[None] | None = None
    up: asyncio.Event = field(default_factory=asyncio.Event)  # ready or failed

    @property
    def name(self) -> str:
        return self.entry.name


def offered_name(server: str, tool: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}__{tool}")[:64]


class ToolHub:
    """The driver's MCP servers. Create and use it on one event loop; `aclose()` at the end."""

    def __init__(self, entries: Iterable[ServerEntry], log_dir: Path | None = None) -> None:
        self.servers = {e.name: Server(e, "starting" if e.enabled else "off") for e in entries}
        self.log_dir = log_dir
        # Told when a server fails ("problem": one line, which server, where it is set, why)
        # or is ready ("ready"), with the server's name; the pipeline makes it a Status event
        # (part "tools:NAME") the screen and chat show.
        self.on_status: Callable[[str, str, str], None] | None = None
        self._closing = False

    def start(self) -> None:
        """Connect to every enabled server in the background (on the event loop; off it this
        does nothing, and the next call on the loop starts them)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        for server in self.servers.values():
            if server.entry.enabled and server.task is None:
                self._launch(server)

    async def settled(self) -> None:
        """Wait until every server that is starting is ready or has failed (each within its
        startup_timeout): the first turn after start-up then sees the tools."""
        waiting = [s.up.wait() for s in self.servers.values() if s.state == "starting" and s.task]
        if waiting:
            await asyncio.gather(*waiting)

    def offered(self, kids_mode: bool) -> list[dict[str, Any]]:
        """The tools of every ready server, for the model (kids mode: read-only ones only)."""
        return [
            tool.as_openai()
            for server in self.servers.values()
            if server.state == "ready"
            for tool in server.tools
            if tool.read_only or not kids_mode
        ]

    def lookup(self, offered_as: str) -> RemoteTool | None:
        for server in self.servers.values():
            for tool in server.tools:
                if tool.offered_as == offered_as:
                    return tool
        return None

    async def call(self, tool: RemoteTool, arguments: dict[str, Any]) -> ToolOutcome:
        """Call `tool`; never raises (but for cancellation)."""
        server = self.servers.get(tool.server)
        if server is None:
            return ToolOutcome("", f"The {tool.server} tools are not set up.")
        if server.state == "failed" and time.monotonic() - server.failed_at >= RETRY_AFTER_S:
            self._restart(server)
            await server.up.wait()
        if server.state != "ready":
            return ToolOutcome("", f"The {tool.server} tools aren't working right now.")
        future: asyncio.Future[ToolOutcome] = asyncio.get_running_loop().create_future()
        await server.jobs.put((tool.name, arguments, future))
        return await future

    def _restart(self, server: Server) -> None:
        server.state, server.detail, server.tools = "starting", "", []
        server.up = asyncio.Event()
        server.jobs = asyncio.Queue()
        self._launch(server)

    def _launch(self, server: Server) -> None:
        server.task = asyncio.create_task(self._run(server), name=f"mcp {server.name}")

    async def aclose(self) -> None:
        self._closing = True
        tasks = [s.task for s in self.servers.values() if s.task is not None]
        for server in self.servers.values():
            server.jobs.put_nowait(None)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=5)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(BaseException):
                    await task

    # --- one server's task ------------------------------------------------------------------

    async def _run(self, server: Server) -> None:
        entry = server.entry
        try:
            async with contextlib.AsyncExitStack() as stack:
                # asyncio.timeout, not wait_for: the SDK's task groups must be entered and
                # left in this very task.
                async with asyncio.timeout(entry.startup_timeout):
                    client = await self._connect(stack, entry)
                    server.tools = await _list_tools(client, entry)
                server.state, server.detail = "ready", f"{len(server.tools)} tools"
                server.up.set()
                log.info("MCP server %s: ready with %d tools", entry.name, len(server.tools))
                if self.on_status is not None:
                    self.on_status(server.name, "ready", server.detail)
                await self._serve(server, client)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the SDK reports a server's failures as anything
            if self._closing:
                return
            self._failed(server, _why(exc, entry))

    async def _serve(self, server: Server, client: Any) -> None:
        """Carry out calls until told to stop (None) or the server fails."""
        timeout = server.entry.timeout
        while True:
            job = await server.jobs.get()
            if job is None:
                return
            name, arguments, future = job
            try:
                async with asyncio.timeout(timeout + 1):
                    result = await client.call_tool(name, arguments, read_timeout_seconds=timeout)
            except Exception as exc:
                code = _code(exc)
                late = isinstance(exc, TimeoutError) or code == REQUEST_TIMEOUT
                said = "didn't answer in time" if late else "failed"
                _settle(future, ToolOutcome("", f"The {server.entry.name} tool {said}."))
                log.info("MCP %s.%s: %s", server.entry.name, name, _why(exc, server.entry))
                if code == CONNECTION_CLOSED or _dead(exc):
                    raise  # the task ends: the server is marked failed, and restarted later
                continue
            _settle(future, ToolOutcome(result_text(result)))

    def _failed(self, server: Server, why: str) -> None:
        server.state, server.detail, server.tools = "failed", why, []
        server.failed_at = time.monotonic()
        server.up.set()
        said = f"The tool server {server.entry.name} ({server.entry.where}) is off: {why}"
        log.info("%s", said)  # the front ends show it (on_status); `tools list` lists it
        if self.on_status is not None:
            self.on_status(server.name, "problem", said)
        while not server.jobs.empty():  # calls that were waiting: answered, not left hanging
            job = server.jobs.get_nowait()
            if job is not None:
                _settle(job[2], ToolOutcome("", f"The {server.entry.name} tools stopped working."))

    async def _connect(self, stack: contextlib.AsyncExitStack, entry: ServerEntry) -> Any:
        from mcp import Client, StdioServerParameters
        from mcp.client.stdio import stdio_client
        from mcp.client.streamable_http import streamable_http_client

        transport: Any
        if entry.transport == "http":
            import httpx2

            headers = {k: _expanded(v) for k, v in entry.headers.items()}
            http = await stack.enter_async_context(
                httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0))
            )
            transport = streamable_http_client(entry.url, http_client=http)
        else:
            params = StdioServerParameters(
                command=entry.command,
                args=list(entry.args),
                env={k: _expanded(v) for k, v in entry.env.items()} or None,
                cwd=entry.cwd or None,
            )
            transport = stdio_client(params, errlog=stack.enter_context(self._errlog(entry)))
        return await stack.enter_async_context(
            Client(transport, read_timeout_seconds=entry.timeout)
        )

    def _errlog(self, entry: ServerEntry) -> Any:
        """Where a stdio server's own messages (its stderr) go: a log file of its own, never
        the driver's terminal."""
        if self.log_dir is None:
            return open("/dev/null", "w")  # noqa: SIM115 (closed by the exit stack)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return open(self.log_dir / f"mcp-{entry.name}.log", "a")  # noqa: SIM115


async def _list_tools(client: Any, entry: ServerEntry) -> list[RemoteTool]:
    listing = await client.list_tools()
    tools: list[RemoteTool] = []
    seen: set[str] = set()
    for tool in listing.tools:
        name = shown(str(tool.name), one_line=True)
        offered = offered_name(entry.name, name)
        if not name or offered in seen:
            continue
        schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
        if len(json.dumps(schema)) > MAX_SCHEMA_CHARS:
            log.info("MCP %s: tool %.60r skipped: its input schema is too large", entry.name, name)
            continue
        schema = {k: v for k, v in schema.items() if k != "title"} or {"type": "object"}
        annotations = tool.annotations
        read_only = bool(annotations and annotations.read_only_hint) or name in entry.read_only
        description = shown(str(tool.description or tool.title or name), one_line=True)
        tools.append(
            RemoteTool(
                entry.name,
                name,
                offered,
                description[:MAX_DESCRIPTION_CHARS],
                schema,
                read_only,
            )
        )
        seen.add(offered)
        if len(tools) == MAX_TOOLS_PER_SERVER:
            log.info("MCP %s: only the first %d tools are offered", entry.name, len(tools))
            break
    return tools


def result_text(result: Any) -> str:
    """A CallToolResult as text for the model: its text blocks (other kinds named), or its
    structured content; sanitised and capped. A tool's own error says so."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(str(block.text))
        elif kind == "resource" and hasattr(getattr(block, "resource", None), "text"):
            parts.append(str(block.resource.text))
        else:
            parts.append(f"[{kind or 'content'} not shown]")
    text = "\n".join(parts)
    structured = getattr(result, "structured_content", None)
    if not text.strip() and structured:
        text = json.dumps(structured, ensure_ascii=False, default=str)
    sent = len(text)
    # Cut before the sanitiser reads it (a flood costs no more than this), then again after.
    text = redact(shown(text[: 2 * MAX_RESULT_CHARS])).strip()
    if sent > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f" [cut: the tool sent {sent} characters]"
    if getattr(result, "is_error", False):
        text = f"The tool reported an error: {text or 'no details'}"
    return text or "(the tool returned nothing)"


def _expanded(value: Secret | str) -> str:
    text = expand(value)
    Secret(text)  # registered: the value as sent is masked wherever it might be logged
    return text


def _settle(future: asyncio.Future[ToolOutcome], outcome: ToolOutcome) -> None:
    if not future.done():
        future.set_result(outcome)


def _code(exc: BaseException) -> int | None:
    """The MCP error code of an SDK error (MCPError.error.code), if it is one."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    return code if isinstance(code, int) else None


def _dead(exc: BaseException) -> bool:
    """The connection itself is gone (the session cannot go on)."""
    names = {type(e).__name__ for e in _leaves(exc)}
    return bool(
        names & {"ClosedResourceError", "BrokenResourceError", "EndOfStream", "BrokenPipeError"}
    )


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _why(exc: BaseException, entry: ServerEntry) -> str:
    """One line on why a server failed, without secrets or terminal codes."""
    leaves = _leaves(exc)
    first = leaves[0] if leaves else exc
    if isinstance(first, (asyncio.TimeoutError, TimeoutError)):
        text = f"no answer within {entry.startup_timeout:.0f} s"
    elif isinstance(first, FileNotFoundError):
        text = f"{entry.command!r} was not found: install it, or give its full path in command"
    else:
        text = str(first) or type(first).__name__
    return redact(shown(text, one_line=True))[:300]
