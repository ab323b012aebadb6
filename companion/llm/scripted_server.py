"""A scripted LLM server: real HTTP on loopback, speaking the OpenAI streaming protocol.

Tests, benchmarks and dialogue files use it instead of a paid model. It streams replies from a
script at a set time to first token and token rate, and can misbehave on purpose: 401, 429 with
`Retry-After`, 500, a stall, a connection dropped mid-stream, or garbage instead of SSE. The
client under test is the same code users run; only the server is scripted.

Run it by hand: `python -m companion.llm.scripted_server --script replies.toml --port 8099`.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import threading
import time
import tomllib
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# no_tools: HTTP 400 to a request that offers tools (like models without tool support), the
# reply itself to the same request without them.
FAULTS = ("401", "404", "429", "500", "stall", "drop", "garbage", "no_tools")


@dataclass
class ScriptedReply:
    """One scripted answer: a reply text, or a fault. `match` makes it a standing rule."""

    text: str = ""
    fault: str | None = None
    retry_after: float | None = None
    ttft: float | None = None  # seconds; None means the server's default
    tokens_per_second: float | None = None
    match: str | None = None  # regex on the last user message; such replies are not used up
    stall_after_tokens: int = 2
    drop_after_tokens: int = 3
    # {"name": "navigate_to", "arguments": {"place": "..."}}: streamed as an OpenAI tool call
    # (after `text`, if any), with finish_reason "tool_calls". In `text`, "{tool_result}" is
    # the request's last tool message (a model reading its tool's answer out).
    tool_call: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; use one of {', '.join(FAULTS)}")


@dataclass
class RecordedRequest:
    """What the server saw of one request, for tests to assert on."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float
    reply: ScriptedReply | None = None
    tokens_sent: int = 0
    first_token_at: float | None = None
    last_token_at: float | None = None
    finished: bool = False
    client_disconnected: bool = False
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def last_tool_result(self) -> str:
        for message in reversed(self.body.get("messages", [])):
            if message.get("role") == "tool":
                return str(message.get("content", ""))
        return ""

    @property
    def last_user_message(self) -> str:
        for message in reversed(self.body.get("messages", [])):
            if message.get("role") == "user":
                return str(message.get("content", ""))
        return ""


def tokenize(text: str) -> list[str]:
    """Split a reply into word-sized tokens that keep their whitespace."""
    return re.findall(r"\s*\S+", text) or [text]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up (a cancelled stream, a process that quit) is normal here."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class ScriptedLLMServer:
    """Start with `with ScriptedLLMServer([...]) as server:`; point clients at `server.base_url`."""

    def __init__(
        self,
        replies: list[ScriptedReply] | None = None,
        *,
        ttft: float = 0.05,
        tokens_per_second: float = 200.0,
        default_reply: str = "I'm a scripted model and my script has run out.",
        model: str = "scripted-model",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.ttft = ttft
        self.tokens_per_second = tokens_per_second
        self.default_reply = default_reply
        self.model = model
        self.requests: list[RecordedRequest] = []
        self._queue: list[ScriptedReply] = []
        self._rules: list[ScriptedReply] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.add(*(replies or []))
        self._httpd = _QuietServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.scripted = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def add(self, *replies: ScriptedReply) -> None:
        """Queue more replies (or standing `match` rules)."""
        with self._lock:
            for reply in replies:
                (self._rules if reply.match else self._queue).append(reply)

    def clear(self) -> None:
        """Forget queued replies that were never used (standing `match` rules stay)."""
        with self._lock:
            self._queue.clear()

    def next_reply(self, request: RecordedRequest) -> ScriptedReply:
        with self._lock:
            for rule in self._rules:
                if re.search(rule.match or "", request.last_user_message, re.IGNORECASE):
                    return rule
            if self._queue:
                head = self._queue[0]
                if head.fault == "no_tools" and "tools" in request.body:
                    return head  # refused; the retry without tools gets it
                return self._queue.pop(0)
        return ScriptedReply(text=self.default_reply)

    def start(self) -> ScriptedLLMServer:
        self._thread = threading.Thread(  # a short poll: stop() returns in ~50 ms, not 0.5 s
            target=self._httpd.serve_forever, args=(0.05,), name="scripted-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until `count` requests have been fully handled (or raise TimeoutError)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count and all(r.done.is_set() for r in self.requests[:count]):
                return self.requests[:count]
            time.sleep(0.01)
        raise TimeoutError(f"the scripted server saw {len(self.requests)} of {count} requests")

    @classmethod
    def from_file(cls, path: Path, **overrides: Any) -> ScriptedLLMServer:
        """Load a script: top-level `ttft_ms`, `tokens_per_second`, and `[[reply]]` tables."""
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        replies = []
        for entry in data.get("reply", []):
            entry = dict(entry)
            if "ttft_ms" in entry:
                entry["ttft"] = entry.pop("ttft_ms") / 1000
            replies.append(ScriptedReply(**entry))
        options: dict[str, Any] = {}
        if "ttft_ms" in data:
            options["ttft"] = data["ttft_ms"] / 1000
        for key in ("tokens_per_second", "default_reply", "model"):
            if key in data:
                options[key] = data[key]
        options.update(overrides)
        return cls(replies, **options)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ScriptedLLM/1.0"

    @property
    def scripted(self) -> ScriptedLLMServer:
        scripted: ScriptedLLMServer = self.server.scripted  # type: ignore[attr-defined]
        return scripted

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output clean

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path.rstrip("/").endswith("/models"):
            model = {"id": self.scripted.model, "object": "model", "owned_by": "scripted"}
            self._send_json(HTTPStatus.OK, {"object": "list", "data": [model]})
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": {"message": "not found"}})

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {}
        record = RecordedRequest(
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        self.scripted.requests.append(record)
        try:
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send_json(HTTPStatus.NOT_FOUND, {"error": {"message": "unknown path"}})
                return
            reply = record.reply = self.scripted.next_reply(record)
            self._answer(record, reply)
        except (BrokenPipeError, ConnectionResetError):
            record.client_disconnected = True
        finally:
            record.done.set()

    def _answer(self, record: RecordedRequest, reply: ScriptedReply) -> None:
        fault = reply.fault
        if fault == "401":
            self._send_json(
                HTTPStatus.UNAUTHORIZED,
                {"error": {"message": "Incorrect API key provided.", "type": "invalid_request"}},
            )
        elif fault == "404":
            self._send_json(HTTPStatus.NOT_FOUND, {"error": {"message": "model not found"}})
        elif fault == "429":
            headers = {}
            if reply.retry_after is not None:
                headers["Retry-After"] = f"{reply.retry_after:g}"
            self._send_json(
                HTTPStatus.TOO_MANY_REQUESTS,
                {"error": {"message": "Rate limit reached.", "type": "rate_limit"}},
                headers,
            )
        elif fault == "500":
            self._send_json(
                HTTPStatus.INTERNAL_SERVER_ERROR, {"error": {"message": "internal error"}}
            )
        elif fault == "no_tools" and "tools" in record.body:
            self._send_json(
                HTTPStatus.BAD_REQUEST,
                {"error": {"message": "registry.ollama.ai/library/tiny does not support tools"}},
            )
        elif fault == "garbage":
            self._start_stream()
            self._chunk(b"<html><body>502 Bad Gateway</body></html>\n\n")
            self._chunk(b"data: {this is not json\n\n")
            self._chunk(b"")
        else:
            self._stream(record, reply)

    def _stream(self, record: RecordedRequest, reply: ScriptedReply) -> None:
        server = self.scripted
        ttft = server.ttft if reply.ttft is None else reply.ttft
        rate = reply.tokens_per_second or server.tokens_per_second
        created = int(time.time())
        model = record.body.get("model", server.model)

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            chunk = {
                "id": "chatcmpl-scripted",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(chunk)}\n\n".encode()

        self._start_stream()
        self._chunk(event({"role": "assistant", "content": ""}))
        if server.stopping.wait(ttft):
            return
        text = reply.text.replace("{tool_result}", record.last_tool_result)
        for n, token in enumerate(tokenize(text)):
            if reply.fault == "stall" and n == reply.stall_after_tokens:
                server.stopping.wait(3600)
                return
            if reply.fault == "drop" and n == reply.drop_after_tokens:
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if n and server.stopping.wait(1.0 / rate):
                return
            self._chunk(event({"content": token}))
            record.tokens_sent += 1
            now = time.monotonic()
            record.first_token_at = record.first_token_at or now
            record.last_token_at = now
        if reply.tool_call is not None:
            arguments = json.dumps(reply.tool_call.get("arguments", {}))
            third = max(1, len(arguments) // 3)
            pieces = [arguments[i : i + third] for i in range(0, len(arguments), third)]
            self._chunk(
                event(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_scripted_1",
                                "type": "function",
                                "function": {
                                    "name": reply.tool_call.get("name", ""),
                                    "arguments": "",
                                },
                            }
                        ]
                    }
                )
            )
            for piece in pieces:  # arguments arrive in pieces, as real servers send them
                self._chunk(event({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
            record.tokens_sent += 1
            record.first_token_at = record.first_token_at or time.monotonic()
        self._chunk(event({}, "tool_calls" if reply.tool_call is not None else "stop"))
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")
        record.finished = True

    def _start_stream(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        """Write one HTTP/1.1 chunk (an empty one ends the body) and flush it to the socket."""
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send_json(
        self, status: HTTPStatus, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, help="TOML file with [[reply]] tables")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--ttft-ms", type=float, help="time to first token, overrides the script")
    parser.add_argument("--tokens-per-second", type=float)
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {"host": args.host, "port": args.port}
    if args.ttft_ms is not None:
        overrides["ttft"] = args.ttft_ms / 1000
    if args.tokens_per_second is not None:
        overrides["tokens_per_second"] = args.tokens_per_second
    if args.script:
        server = ScriptedLLMServer.from_file(args.script, **overrides)
    else:
        server = ScriptedLLMServer(**overrides)
    print(f"scripted LLM server on {server.base_url} (Ctrl+C stops it)", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()
        server._httpd.server_close()


if __name__ == "__main__":
    main()
