"""Large downloads (speech models, language models): a progress line, resume after an
interruption (HTTP Range on a `.part` file kept beside the target), and checksums.

`download()` raises `DownloadError` with a message that says what to do (run the same command
again to resume, or check the network); callers verify the file and move it into place.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .redaction import Secret

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (bytes so far, total or 0)


class DownloadError(Exception):
    """A download failed; the message says how far it got and what to do."""


def client() -> httpx.Client:
    """Proxies from HTTP(S)_PROXY/NO_PROXY are honoured (trust_env), redirects followed."""
    return httpx.Client(timeout=httpx.Timeout(10.0, read=60.0), follow_redirects=True)


HUB_HOSTS = ("huggingface.co", "hf.co")


def auth_headers(url: str) -> dict[str, str]:
    """`HF_TOKEN` (the Hugging Face tools' own variable), when set, for Hugging Face and the
    mirror HF_ENDPOINT names, and for no one else: gated or rate-limited files then download
    as they do with huggingface-cli. httpx drops the header when a redirect leaves that host
    (Hugging Face sends large files on from its CDN). The token is masked in every message."""
    token = os.environ.get("HF_TOKEN", "").strip()
    if not token:
        return {}
    Secret(token)  # known to the redaction from here on
    host = httpx.URL(url).host
    mirror = os.environ.get("HF_ENDPOINT", "")
    hosts = {*HUB_HOSTS, httpx.URL(mirror).host if mirror else ""}
    return {"Authorization": f"Bearer {token}"} if host and host in hosts else {}


def progress_printer(label: str, stream: Any = None) -> Progress:
    """A one-line progress display for a terminal (a bar when the size is known)."""
    stream = stream or sys.stderr
    started = time.monotonic()
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and done != total:
            return
        last[0] = now
        rate = done / max(now - started, 1e-6) / 2**20
        if total:
            filled = int(30 * done / total)
            bar = "#" * filled + "-" * (30 - filled)
            text = (
                f"\r{label} [{bar}] {done / 2**20:6.1f}/{total / 2**20:.1f} MiB {rate:5.1f} MiB/s"
            )
        else:
            text = f"\r{label} {done / 2**20:6.1f} MiB {rate:5.1f} MiB/s"
        stream.write(text)
        if done == total:
            stream.write("\n")
        stream.flush()

    return show


def download(url: str, part: Path, size: int, progress: Progress | None) -> None:
    """Fetch `url` into `part`, continuing from what an earlier, interrupted run left there
    (HTTP Range); a server that ignores the range sends it all again and we start over."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    headers.update(auth_headers(url))
    try:
        with client() as http, http.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and have:  # nothing after what we have
                if not size or have == size:
                    return  # it was complete
                part.unlink()  # longer than the file: not ours to continue
                return download(url, part, size, progress)
            response.raise_for_status()
            resumed = response.status_code == 206
            done = have if resumed else 0
            total = done + int(response.headers.get("content-length") or 0) or size
            if resumed:
                log.info("resuming %s at %d bytes", url, have)
            with part.open("ab" if resumed else "wb") as out:
                for chunk in response.iter_bytes(1 << 16):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            if progress and done != total:
                progress(done, done)
    except httpx.HTTPError as exc:
        kept = part.stat().st_size if part.exists() else 0
        if kept:
            raise DownloadError(
                f"Downloading {url} stopped at {kept / 2**20:.1f} MiB ({type(exc).__name__}: "
                f"{exc}); nothing was installed yet. Run the same command again to resume."
            ) from None
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"Downloading {url} failed ({type(exc).__name__}: {exc}); nothing was installed. "
            "Check the network and run the install again."
        ) from None


def published_sha256(url: str) -> str:
    """The SHA-256 a server publishes for a file without sending it: Hugging Face (and its
    mirrors) put it in the X-Linked-Etag header of a large file's download address.
    "" when there is none."""
    try:
        with client() as http:
            response = http.head(url, headers=auth_headers(url))
    except httpx.HTTPError as exc:
        raise DownloadError(
            f"Could not reach {url} ({type(exc).__name__}: {exc}). Check the network and run "
            "the install again."
        ) from None
    for answer in (*response.history, response):
        tag = str(answer.headers.get("x-linked-etag", ""))
        tag = tag.strip('"').removeprefix("W/").strip('"')
        if len(tag) == 64 and all(c in "0123456789abcdef" for c in tag.lower()):
            return tag.lower()
    if response.status_code >= 400:
        raise DownloadError(f"{url} answered HTTP {response.status_code}; nothing was installed.")
    return ""


def sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return str(hashlib.file_digest(f, "sha256").hexdigest())


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


def safe_name(name: str) -> bool:
    """Whether a name from a catalogue (a model, a voice) can become a file or folder name
    in our own folder: letters, digits, dots, dashes, underscores and pluses, no "..", no
    separator, at most 128 characters. Anything else is refused before it is a path."""
    return bool(_SAFE_NAME.fullmatch(name)) and ".." not in name
