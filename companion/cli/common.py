"""What the subcommands share: user errors, the settings flags, and the settings, persona
library and session a command builds from its flags."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..config import Settings, load_settings, persona_folders
from ..llm.providers import PROVIDER_NAMES
from ..personas import Persona
from ..personas.authoring import PersonaLibrary
from ..personas.session import PersonaSession
from ..schema import suggest
from .speech import add_speech_flags, add_voice_flags, speech_flag_values


class UserError(Exception):
    """Something the user can fix; the message says how."""


SETTING_FLAGS = ("llm", "persona", "safety", "devices")


def add_settings_flags(parser: argparse.ArgumentParser, *only: str) -> None:
    """--config, and the setting flags that matter to this subcommand (default: all of
    them): "llm" (backend), "persona", "safety" (kids mode, mature content), "devices"."""
    kinds = set(only or SETTING_FLAGS)
    group = parser.add_argument_group("settings (override the config file and environment)")
    group.add_argument("--config", type=Path, metavar="FILE", help="config file to read")
    group.add_argument(
        "--profile", metavar="NAME", help="the driver whose places and preferences to use"
    )
    if "llm" in kinds:
        group.add_argument("--provider", choices=PROVIDER_NAMES, help="LLM backend preset")
        group.add_argument("--llm-base-url", metavar="URL", help="OpenAI-compatible /v1 base URL")
        group.add_argument("--model", help="model name on that backend")
        group.add_argument(
            "--local-model",
            metavar="NAME|FILE",
            help="--provider local: a model from `companion models list`, a .gguf file, or none",
        )
    if "persona" in kinds:
        group.add_argument("--persona", metavar="ID", help="persona to start with")
    if "devices" in kinds:
        group.add_argument("--output-device", metavar="DEV", help="audio output: index or name")
        group.add_argument("--input-device", metavar="DEV", help="microphone: index or name")
    if "safety" in kinds:
        group.add_argument(
            "--kids-mode",
            action="store_true",
            default=None,
            help="only kids-safe personas, kid-appropriate replies",
        )
        group.add_argument(
            "--mature-content",
            action="store_true",
            default=None,
            help="allow mature personas (ignored in kids mode)",
        )


def add_wake_word_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wake-word",
        metavar="MODEL",
        help="wake by a neural wake word (implies --listen-mode wake_phrase): an openWakeWord "
        "model that ships (hey_jarvis, alexa, ...), a .tflite file, or a Wyoming wake-word "
        "service, wyoming://HOST:PORT/MODEL",
    )


def add_voice_toggles(
    parser: argparse.ArgumentParser, audio_in_help: str, *, mute_help: str, barge_in_help: str
) -> None:
    """--audio-in, --mute, --no-earcons, --no-barge-in: every command that listens."""
    parser.add_argument("--mute", action="store_true", help=mute_help)
    parser.add_argument("--audio-in", type=Path, metavar="FILE", help=audio_in_help)
    parser.add_argument(
        "--no-earcons", action="store_true", help='no "listening" / "got it" / "error" sounds'
    )
    parser.add_argument("--no-barge-in", action="store_true", help=barge_in_help)


def add_talk_flags(
    parser: argparse.ArgumentParser, audio_in_help: str, listen_mode_help: str
) -> None:
    """The speech flags `ui` and `chat` share, then the speech and settings groups."""
    add_voice_toggles(
        parser,
        audio_in_help,
        mute_help="do not speak replies",
        barge_in_help="hands-free: do not listen while speaking (no interrupting by voice)",
    )
    parser.add_argument(
        "--listen-mode",
        choices=("push_to_talk", "hands_free", "wake_phrase"),
        help=listen_mode_help,
    )
    add_wake_word_flag(parser)
    parser.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="record the session (what was said and shown, with times; never "
        "a secret) for `companion replay FILE` or `companion test "
        "--from-session FILE`",
    )
    add_speech_flags(parser)
    add_voice_flags(parser)
    add_settings_flags(parser)


def add_timings_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timings",
        nargs="?",
        const="-",
        metavar="FILE",
        help="after each turn print where its time went (end of speech, "
        "transcript, routing, first token, first audio, done); with FILE "
        "write every event with its time there as JSON lines instead",
    )


def timings_of(args: argparse.Namespace) -> tuple[Path | None, bool]:
    """(--timings FILE, print the waterfall?)"""
    given = getattr(args, "timings", None)
    return (None if given in (None, "-") else Path(given)), given == "-"


def settings_from(args: argparse.Namespace) -> Settings:
    flags: dict[str, Any] = {
        "llm.provider": getattr(args, "provider", None),
        "llm.base_url": getattr(args, "llm_base_url", None),
        "llm.model": getattr(args, "model", None),
        "llm.local_model": getattr(args, "local_model", None),
        "persona.default": getattr(args, "persona", None),
        "driver.profile": getattr(args, "profile", None),
        "speech.output_device": getattr(args, "output_device", None),
        **speech_flag_values(args),
    }
    if getattr(args, "wake_word", None):
        flags["speech.wake_word"] = args.wake_word
        flags["speech.listen_mode"] = flags["speech.listen_mode"] or "wake_phrase"
    if getattr(args, "mute", False):
        flags["speech.mute"] = True
    if getattr(args, "no_earcons", False):
        flags["speech.earcons"] = False
    if getattr(args, "no_barge_in", False):
        flags["speech.barge_in"] = False
    if getattr(args, "kids_mode", None):
        flags["safety.kids_mode"] = True
    if getattr(args, "mature_content", None):
        flags["safety.mature_content"] = True
    return load_settings(config_path=getattr(args, "config", None), flags=flags)


def session_for(settings: Settings, personas: dict[str, Persona]) -> PersonaSession:
    wanted = settings.persona.default
    if not personas:
        raise UserError(
            "no persona files could be loaded from "
            + ", ".join(str(f) for f in persona_folders(settings))
            + "; fix the errors above or restore personas/assistant.toml"
        )
    if wanted not in personas:
        raise UserError(
            f'unknown persona "{wanted}".{suggest(wanted, personas)} '
            f"Available: {', '.join(sorted(personas))} (see `companion personas list`)."
        )
    return PersonaSession(
        personas,
        wanted,
        kids_mode=settings.safety.kids_mode,
        mature_content=settings.safety.mature_content,
        history=settings.persona.history,
        max_tokens=settings.memory.max_tokens,
        max_turns=settings.memory.max_turns,
    )


def library_for(settings: Settings) -> PersonaLibrary:
    library = PersonaLibrary(*persona_folders(settings))
    for problem in library.problems:
        print(f"companion: skipped a persona file: {problem}", file=sys.stderr)
    return library
