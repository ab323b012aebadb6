"""Which recogniser runs, and the Vosk models on this computer.

Choice of model, first match wins: an explicit path (`--vosk-model`, `speech.vosk_model` in
the config, or the `VOSK_MODEL_PATH` environment variable), then a model for the language in
the folders Vosk itself uses (`VOSK_MODEL_PATH` as a folder of models, /usr/share/vosk,
~/AppData/Local/vosk, ~/.cache/vosk), so a model another Vosk program downloaded is used as
it is. With `speech.engine = "auto"` and no Vosk model, PocketSphinx runs instead (its wheel
ships US English) and the app says so once.

Models are listed and downloaded from Vosk's own catalogue (model-list.json at
alphacephei.com) into ~/.cache/vosk (or `VOSK_MODEL_PATH` when that is a folder of models),
as Vosk's own `Model(model_name=...)` would: over httpx with a progress line; an interrupted
download is kept (`.NAME.zip.part`) and resumed with an HTTP Range request next time; the
archive is checked against the catalogue's MD5 and only unpacked into place when complete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import platformdirs

from .. import downloads
from ..downloads import Progress
from ..schema import suggest
from .base import ENGINES, SpeechEngine, SttError

if TYPE_CHECKING:
    from ..config import SpeechSettings

log = logging.getLogger(__name__)

MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"  # as in vosk.MODEL_LIST_URL


def _vosk_cache() -> Path:
    return Path.home() / ".cache" / "vosk"  # vosk.MODEL_DIRS' download folder


def _legacy_dir() -> Path:
    return platformdirs.user_cache_path("companion") / "vosk-models"  # before 0.1: still read


def _env_folder(environ: Mapping[str, str] | None = None) -> Path | None:
    """VOSK_MODEL_PATH when it names a folder of models (Vosk's meaning), not one model."""
    environ = os.environ if environ is None else environ
    value = environ.get("VOSK_MODEL_PATH", "")
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_dir() and not _is_model(path) else None


def models_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where `companion models install` puts Vosk models: where Vosk itself would."""
    return _env_folder(environ) or _vosk_cache()


def _search_dirs(environ: Mapping[str, str] | None = None) -> list[Path]:
    dirs = [
        _env_folder(environ),
        Path("/usr/share/vosk"),
        Path.home() / "AppData" / "Local" / "vosk",
        _vosk_cache(),
        _legacy_dir(),
    ]
    unique: list[Path] = []
    for d in dirs:
        if d is not None and d.is_dir() and d not in unique:
            unique.append(d)
    return unique


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


def installed_models(environ: Mapping[str, str] | None = None) -> list[Path]:
    found = []
    for folder in _search_dirs(environ):
        for child in sorted(folder.iterdir()):
            if child.is_dir() and not child.name.startswith(".") and _is_model(child):
                found.append(child)
    return found


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


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
    for path in installed_models(environ):
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
    if engine.startswith("wyoming://"):
        from ..wyoming.client import WyomingEngine, WyomingError

        try:
            return WyomingEngine(engine, language), None
        except WyomingError as exc:
            raise SttError(str(exc)) from None
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


def engine_for(speech: SpeechSettings) -> tuple[SpeechEngine, str | None]:
    """`load_engine` for the `[speech]` settings: the engine, model and language they name,
    with the driver language model on or off (`speech.driver_model`, PocketSphinx only)."""
    engine, notice = load_engine(speech.engine, speech.language, speech.vosk_model)
    if not speech.driver_model and hasattr(engine, "driver_lm"):
        engine.driver_lm = False
    return engine, notice


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


def fetch_catalog(url: str = MODEL_LIST_URL) -> list[CatalogEntry]:
    try:
        with downloads.client() as client:
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
        if not downloads.safe_name(name):  # a catalogue is a stranger's file: a name is a path
            log.info("the Vosk model list has an entry with an unsafe name %.80r; skipped", name)
            continue
        try:
            size = int(item.get("size", 0) or 0)
        except (TypeError, ValueError):
            size = 0
        entries.append(
            CatalogEntry(
                name=name,
                language=str(item.get("lang", "")),
                language_text=str(item.get("lang_text", "")),
                size=size,
                size_text=str(item.get("size_text", "")),
                kind=str(item.get("type", "")),
                url=str(item.get("url") or url.rsplit("/", 1)[0] + f"/{name}.zip"),
                md5=str(item.get("md5", "")),
                obsolete=str(item.get("obsolete", "false")).lower() == "true",
            )
        )
    return entries


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
    part = dest / f".{entry.name}.zip.part"  # kept when interrupted: the next run resumes it
    _download(entry.url, part, entry.size, progress)
    if entry.md5:
        with part.open("rb") as f:
            digest = hashlib.file_digest(f, lambda: hashlib.md5(usedforsecurity=False))
        if digest.hexdigest() != entry.md5:
            part.unlink()
            raise SttError(
                f"The download of {entry.name} is damaged (checksum {digest.hexdigest()}, "
                f"expected {entry.md5}); nothing was installed. Run the install again."
            )
    with tempfile.TemporaryDirectory(prefix=".unpack-", dir=dest) as tmp:
        unpacked = Path(tmp) / "unpacked"
        try:
            with zipfile.ZipFile(part) as zf:
                _safe_extract(zf, unpacked)
        except zipfile.BadZipFile:
            part.unlink()
            raise SttError(
                f"The download of {entry.name} is not a valid zip archive; nothing was "
                "installed. Run the install again."
            ) from None
        model_root = _find_model_root(unpacked)
        if model_root is None:
            part.unlink()
            raise SttError(
                f"The archive for {entry.name} holds no Vosk model; nothing was installed."
            )
        if target.exists():
            shutil.rmtree(target)
        model_root.rename(target)
    part.unlink()
    return target


def _download(url: str, part: Path, size: int, progress: Progress | None) -> None:
    try:
        downloads.download(url, part, size, progress)
    except downloads.DownloadError as exc:
        raise SttError(str(exc)) from None


def _safe_extract(zf: zipfile.ZipFile, where: Path) -> None:
    root = where.resolve()
    for member in zf.infolist():
        target = (where / member.filename).resolve()
        if not target.is_relative_to(root):
            raise SttError(f"The model archive has an unsafe path {member.filename!r}; refused.")
    zf.extractall(where)


def _find_model_root(folder: Path) -> Path | None:
    if _is_model(folder):
        return folder
    for child in sorted(folder.rglob("*")):
        if child.is_dir() and _is_model(child):
            return child
    return None
