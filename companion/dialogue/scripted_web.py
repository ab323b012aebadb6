"""Scripted JSON services on loopback, for dialogue files and tests: real HTTP, real response
formats, answers set by the caller, every request recorded.

`ScriptedJSONServer` answers each path prefix with a body (JSON-able or raw bytes), a
(status, body) pair, or a function of (path, query) returning either. `ScriptedSearchServer`
is a SearXNG instance (`/search?format=json`) answering with the current turn's results.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


class ScriptedJSONServer:
    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib naming
                url = urlsplit(self.path)  # not urlparse: OSRM paths contain ';'
                query = parse_qs(url.query)
                server.requests.append((url.path, query, dict(self.headers)))
                status, body = server.answer(url.path, query)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def answer(self, path: str, query: dict[str, Any]) -> tuple[int, Any]:
        for prefix, answer in self.answers.items():
            if path.startswith(prefix):
                if callable(answer):
                    answer = answer(path, query)
                return answer if isinstance(answer, tuple) else (200, answer)
        return 404, {"error": "not scripted"}

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ScriptedJSONServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ScriptedSearchServer(ScriptedJSONServer):
    """SearXNG's JSON API answering with `results` (title, url, content dicts)."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[dict[str, str]] = []
        self.answers["/search"] = lambda path, query: {
            "query": query.get("q", [""])[0],
            "results": [{**r, "engine": "scripted", "score": 1.0} for r in self.results],
            "answers": [],
            "infoboxes": [],
            "suggestions": [],
        }
