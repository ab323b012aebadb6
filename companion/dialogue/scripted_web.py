"""A scripted web search server for dialogue files: SearXNG's JSON format on loopback, answering
each search with the results the current turn gives (`web_results = [...]`)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedSearchServer:
    def __init__(self) -> None:
        self.results: list[dict[str, str]] = []
        self.queries: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib naming
                from urllib.parse import parse_qs, urlsplit

                query = parse_qs(urlsplit(self.path).query).get("q", [""])[0]
                server.queries.append(query)
                body = json.dumps({"query": query, "results": [
                    {**r, "engine": "scripted", "score": 1.0} for r in server.results],
                    "answers": [], "infoboxes": [], "suggestions": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ScriptedSearchServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
