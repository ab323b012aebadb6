"""Which recogniser runs, and the Vosk models on this computer.

Choice of model, first match wins: an explicit path (`--vosk-model`, `speech.vosk_model` in
the config, or the `VOSK_MODEL_PATH` environment variable), then a model for the language
installed by `companion models install` (in the user's cache) or in Vosk's own folders. With
`speech.engine = "auto"` and no Vosk model, PocketSphinx runs instead (its wheel ships US
English) and the app says so once.

Models are listed and downloaded from Vosk's own catalogue (model-list.json at
alphacephei.com), over httpx, with a progress line, into a temporary folder that is only
renamed into place when the download is complete and verified.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import platformdirs

from ..schema import suggest
from .base import ENGINES, SpeechEngine, SttError

log = logging.getLogger(__name__)

MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"  # as in vosk.MODEL_LIST_URL


def models_dir() -> Path:
    """Where `companion models install` puts Vosk models."""
    return platformdirs.user_cache_path("companion") / "vosk-models"


def _search_dirs() -> list[Path]:
    # Ours first, then the folders Vosk itself looks in.
    dirs = [models_dir(), Path.home() / ".cache" / "vosk", Path("/usr/share/vosk")]
    return [d for d in dirs if d.is_dir()]


def _is_model(path: Path) -> bool:
    from .vosk_engine import check_model_dir

    try:
        check_model_dir(path)
    except SttError:
        return False
    return True


def _matches_language(name: str, language: str) -> bool:
    name = name.lower()
    language = language.lower()
    stems = (f"vosk-model-{language}", f"vosk-model-small-{language}")
    return name in stems or name.startswith(tuple(f"{stem}-" for stem in stems))


def installed_models() -> list[Path]:
    found = []
    for folder in _search_dirs():
        for child in sorted(folder.iterdir()):
            if child.is_dir() and _is_model(child):
                found.append(child)
    return found


@dataclass(frozen=True)
class ModelChoice:
    path: Path
    source: str  # "flag/config", "VOSK_MODEL_PATH", "installed"


def find_vosk_model(
    explicit: str, language: str, environ: Mapping[str, str] | None = None
) -> ModelChoice | None:
    """The Vosk model to use, or None. An explicit path is returned even if it is broken (the
    engine then says exactly what is wrong with it)."""
    environ = os.environ if environ is None else environ
    if explicit:
        return ModelChoice(Path(explicit).expanduser(), "speech.vosk_model")
    env = environ.get("VOSK_MODEL_PATH", "")
    if env:
        path = Path(env).expanduser()
        if path.is_dir() and not _is_model(path):
            # Vosk's own meaning: a folder that holds models.
            for child in sorted(path.iterdir()):
                if child.is_dir() and _matches_language(child.name, language) and _is_model(child):
                    return ModelChoice(child, "VOSK_MODEL_PATH")
        else:
            return ModelChoice(path, "VOSK_MODEL_PATH")
    for path in installed_models():
        if _matches_language(path.name, language):
            return ModelChoice(path, "installed")
    return None


def install_hint(language: str) -> str:
    name = SUGGESTED.get(language.lower())
    target = name or f"a model for {language}"
    how = f"companion models install {name}" if name else "see `companion models list`"
    return f"For better recognition install {target}: {how}"


SUGGESTED = {
    "en-us": "vosk-model-small-en-us-0.15",
    "de": "vosk-model-small-de-0.15",
    "fr": "vosk-model-small-fr-0.22",
    "es": "vosk-model-small-es-0.42",
    "ko": "vosk-model-small-ko-0.22",
}


def load_engine(
    engine: str, language: str, vosk_model: str = "", environ: Mapping[str, str] | None = None
) -> tuple[SpeechEngine, str | None]:
    """The recogniser to run and, when it is not the one the user would want, a one-time
    notice saying which runs and how to get the better one. Raises SttError when nothing
    can run."""
    if engine not in ENGINES:
        raise SttError(
            f'speech.engine "{engine}" is not known.{suggest(engine, ENGINES)} '
            f"Choose one of: {', '.join(ENGINES)}."
        )
    if engine == "pocketsphinx":
        return _pocketsphinx(language), None
    choice = find_vosk_model(vosk_model, language, environ)
    problem = ""
    if choice is not None:
        from .vosk_engine import VoskEngine

        try:
            return VoskEngine(choice.path, language), None
        except SttError as exc:
            if engine == "vosk":
                raise
            problem = f"{exc} "
    elif engine == "vosk":
        raise SttError(
            f"No Vosk model for {language} is installed. {install_hint(language)}, or pass "
            "--vosk-model PATH."
        )
    fallback = _pocketsphinx(language)
    notice = (
        f"{problem}Speech recognition: using PocketSphinx (built-in US English; less "
        f"accurate) because no usable Vosk model for {language} was found. "
        f"{install_hint(language)}."
    )
    return fallback, notice


def _pocketsphinx(language: str) -> SpeechEngine:
    from .sphinx_engine import PocketsphinxEngine

    if not language.lower().startswith("en"):
        raise SttError(
            f"No Vosk model for {language} is installed and the built-in fallback only knows "
            f"US English. {install_hint(language)}."
        )
    return PocketsphinxEngine()


# --- the catalogue and downloads -------------------------------------------------------------


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    language: str
    language_text: str
    size: int
    size_text: str
    kind: str  # small | big | ...
    url: str
    md5: str
    obsolete: bool


def _client() -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(10.0, read=60.0), follow_redirects=True)


def fetch_catalog(url: str = MODEL_LIST_URL) -> list[CatalogEntry]:
    try:
        with _client() as client:
            response = client.get(url)
            response.raise_for_status()
            data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SttError(
            f"Could not fetch the Vosk model list from {url} ({type(exc).__name__}: {exc}). "
            "Check the network, or download a model zip from https://alphacephei.com/vosk/models"
            ", unpack it and pass its folder with --vosk-model PATH."
        ) from None
    if not isinstance(data, list):
        raise SttError(f"The Vosk model list at {url} is not a list of models; try again later.")
    entries = []
    for item in data:
        if not isinstance(item, dict) or "name" not in item:
            continue
        name = str(item["name"])
        entries.append(
            CatalogEntry(
                name=name,
                language=str(item.get("lang", "")),
                language_text=str(item.get("lang_text", "")),
                size=int(item.get("size", 0) or 0),
                size_text=str(item.get("size_text", "")),
                kind=str(item.get("type", "")),
                url=str(item.get("url") or url.rsplit("/", 1)[0] + f"/{name}.zip"),
                md5=str(item.get("md5", "")),
                obsolete=str(item.get("obsolete", "false")).lower() == "true",
            )
        )
    return entries


Progress = Callable[[int, int], None]  # (bytes so far, total or 0)


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
            text = (f"\r{label} [{bar}] {done / 2**20:6.1f}/{total / 2**20:.1f} MiB "
                    f"{rate:5.1f} MiB/s")
        else:
            text = f"\r{label} {done / 2**20:6.1f} MiB {rate:5.1f} MiB/s"
        stream.write(text)
        if done == total:
            stream.write("\n")
        stream.flush()

    return show


def install_model(
    name: str,
    catalog_url: str = MODEL_LIST_URL,
    dest: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Download, verify and unpack a catalogue model; returns its folder. Never leaves a
    half-installed model behind."""
    dest = dest or models_dir()
    entries = fetch_catalog(catalog_url)
    by_name = {e.name: e for e in entries}
    entry = by_name.get(name)
    if entry is None:
        raise SttError(
            f'There is no Vosk model called "{name}".{suggest(name, list(by_name))} '
            "See `companion models list` for the names."
        )
    target = dest / entry.name
    if target.exists() and _is_model(target):
        return target
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=dest) as tmp:
        archive = Path(tmp) / f"{entry.name}.zip"
        digest = _download(entry.url, archive, entry.size, progress)
        if entry.md5 and digest != entry.md5:
            raise SttError(
                f"The download of {entry.name} is damaged (checksum {digest}, expected "
                f"{entry.md5}); nothing was installed. Run the install again."
            )
        unpacked = Path(tmp) / "unpacked"
        try:
            with zipfile.ZipFile(archive) as zf:
                _safe_extract(zf, unpacked)
        except zipfile.BadZipFile:
            raise SttError(
                f"The download of {entry.name} is not a valid zip archive; nothing was "
                "installed. Run the install again."
            ) from None
        model_root = _find_model_root(unpacked)
        if model_root is None:
            raise SttError(f"The archive for {entry.name} holds no Vosk model; nothing was "
                           "installed.")
        if target.exists():
            shutil.rmtree(target)
        model_root.rename(target)
    return target


def _download(url: str, archive: Path, size: int, progress: Progress | None) -> str:
    """Stream `url` into `archive`; returns the MD5 hex digest of what arrived."""
    md5 = hashlib.md5(usedforsecurity=False)
    try:
        with _client() as client, client.stream("GET", url) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length") or size or 0)
            done = 0
            with archive.open("wb") as out:
                for chunk in response.iter_bytes(1 << 16):
                    out.write(chunk)
                    md5.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            if progress and done != total:
                progress(done, done)
    except httpx.HTTPError as exc:
        raise SttError(
            f"Downloading {url} failed ({type(exc).__name__}: {exc}); nothing was installed. "
            "Check the network and run the install again."
        ) from None
    return md5.hexdigest()


def _safe_extract(zf: zipfile.ZipFile, where: Path) -> None:
    root = where.resolve()
    for member in zf.infolist():
        target = (where / member.filename).resolve()
        if not str(target).startswith(str(root)):
            raise SttError(f"The model archive has an unsafe path {member.filename!r}; refused.")
    zf.extractall(where)


def _find_model_root(folder: Path) -> Path | None:
    if _is_model(folder):
        return folder
    for child in sorted(folder.rglob("*")):
        if child.is_dir() and _is_model(child):
            return child
    return None
