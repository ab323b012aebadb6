"""A local stand-in for huggingface.co, for the download tests (language models, voices):
files by path (or one file at every path), HEAD answers with X-Linked-Etag (the file's
SHA-256, as Hugging Face publishes it), GET honours Range, and one download can be cut off."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Hub:
    def __init__(self, files: dict[str, bytes] | None = None, data: bytes = b"") -> None:
        self.files = files or {}
        self.data = data  # served at any path not in `files`
        self.etag: str | None = None  # None: each file's real SHA-256
        self.cut_after: int | None = None  # the next download (of `cut_suffix`) drops here
        self.cut_suffix = ""
        self.ranges: list[str] = []
        self.authorization: list[str] = []  # the Authorization header of each request
        self.url = ""

    def file(self, path: str) -> bytes | None:
        return self.files.get(path, self.data or None)


@contextmanager
def serving(state: Hub) -> Iterator[Hub]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, status: int, data: bytes, start: int = 0, body: bool = True) -> None:
            self.send_response(status)
            etag = state.etag or hashlib.sha256(data).hexdigest()
            self.send_header("X-Linked-Etag", f'"{etag}"')
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            if body:
                chunk = data[start:]
                if state.cut_after is not None and self.path.endswith(state.cut_suffix):
                    chunk, state.cut_after = chunk[: state.cut_after], None  # the line drops
                self.wfile.write(chunk)

        def do_HEAD(self):  # noqa: N802 - stdlib naming
            state.authorization.append(self.headers.get("Authorization", ""))
            data = state.file(self.path)
            if data is None:
                self.send_error(404)
                return
            self._send(200, data, body=False)

        def do_GET(self):  # noqa: N802 - stdlib naming
            state.authorization.append(self.headers.get("Authorization", ""))
            data = state.file(self.path)
            if data is None:
                self.send_error(404)
                return
            wanted = self.headers.get("Range", "")
            state.ranges.append(wanted)
            start = int(wanted[6:].split("-")[0]) if wanted.startswith("bytes=") else 0
            self._send(206 if start else 200, data, start)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
