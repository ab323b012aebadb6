"""The `companion` command and its subcommands.

Errors a user can cause (a bad config file, an unknown persona) are printed as one actionable
line with exit status 2; anything unexpected is logged with its traceback to the log file and
reported in one line. No traceback ever reaches the terminal.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .config import REPO_PERSONAS, Settings, format_settings, load_settings, resolve_endpoint
from .llm.providers import PROVIDER_NAMES
from .logs import setup_logging
from .personas import Persona, load_personas
from .redaction import redact
from .schema import DataFileError, suggest

log = logging.getLogger("companion")


class UserError(Exception):
    """Something the user can fix; the message says how."""


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (override the config file and environment)")
    group.add_argument("--config", type=Path, metavar="FILE", help="config file to read")
    group.add_argument("--provider", choices=PROVIDER_NAMES, help="LLM backend preset")
    group.add_argument("--llm-base-url", metavar="URL", help="OpenAI-compatible /v1 base URL")
    group.add_argument("--model", help="model name on that backend")
    group.add_argument("--persona", metavar="ID", help="persona to start with")
    group.add_argument("--output-device", metavar="DEV", help="audio output: index or name")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="companion",
        description="An open, hackable in-car voice assistant. "
        "Without a subcommand it starts `companion chat`.",
    )
    parser.add_argument("--version", action="version", version=f"companion {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser(
        "chat",
        help="talk to the assistant by keyboard in this terminal",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Type a line and press Enter: the reply streams in and is spoken sentence by\n"
            "sentence as each one completes.\n\n"
            "  Ctrl+C   stops a reply (text and speech) and returns to the prompt\n"
            "  Ctrl+D   quits"
        ),
        epilog=(
            "LLM backend: XAI_API_KEY selects xAI Grok, OPENAI_API_KEY OpenAI; otherwise a\n"
            "local Ollama is tried. Any setting can also come from the config file or a\n"
            "COMPANION_<SECTION>_<KEY> variable: see `companion config show`."
        ),
    )
    chat.add_argument("--mute", action="store_true", help="do not speak replies")
    _add_settings_flags(chat)

    config = sub.add_parser("config", help="show the effective settings")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = config_sub.add_parser("show", help="print settings with their sources, keys masked")
    _add_settings_flags(show)
    config_sub.add_parser("path", help="print where the config file is looked for")

    personas = sub.add_parser("personas", help="list the personas and any file problems")
    _add_settings_flags(personas)
    return parser


def _settings_from(args: argparse.Namespace) -> Settings:
    flags: dict[str, Any] = {
        "llm.provider": getattr(args, "provider", None),
        "llm.base_url": getattr(args, "llm_base_url", None),
        "llm.model": getattr(args, "model", None),
        "persona.default": getattr(args, "persona", None),
        "speech.output_device": getattr(args, "output_device", None),
    }
    if getattr(args, "mute", False):
        flags["speech.mute"] = True
    return load_settings(config_path=getattr(args, "config", None), flags=flags)


def _persona_folders(settings: Settings) -> list[Path]:
    folders = [REPO_PERSONAS]
    if settings.persona.dir:
        folders.append(Path(settings.persona.dir).expanduser())
    return folders


def _load_cast(settings: Settings) -> tuple[dict[str, Persona], list[DataFileError]]:
    personas, problems = load_personas(*_persona_folders(settings))
    for problem in problems:
        print(f"companion: skipped a persona file: {problem}", file=sys.stderr)
    return personas, problems


def _pick_persona(settings: Settings, personas: dict[str, Persona]) -> Persona:
    wanted = settings.persona.default
    if wanted in personas:
        return personas[wanted]
    if not personas:
        raise UserError(
            "no persona files could be loaded from "
            + ", ".join(str(f) for f in _persona_folders(settings))
            + "; fix the errors above or restore personas/assistant.toml"
        )
    raise UserError(
        f'unknown persona "{wanted}".{suggest(wanted, personas)} '
        f"Available: {', '.join(sorted(personas))} (see `companion personas`)."
    )


def _cmd_chat(args: argparse.Namespace) -> int:
    from .chat import run_chat

    settings = _settings_from(args)
    personas, _ = _load_cast(settings)
    return run_chat(settings, _pick_persona(settings, personas))


def _cmd_config(args: argparse.Namespace) -> int:
    if args.config_command == "path":
        settings = load_settings(config_path=None, flags={})
        print(settings.config_file)
        return 0
    settings = _settings_from(args)
    print(format_settings(settings, resolve_endpoint(settings)))
    return 0


def _cmd_personas(args: argparse.Namespace) -> int:
    settings = _settings_from(args)
    personas, problems = _load_cast(settings)
    for persona in sorted(personas.values(), key=lambda p: p.id):
        marker = "*" if persona.id == settings.persona.default else " "
        print(f"{marker} {persona.id:<18} {persona.name:<20} {persona.rating:<9} "
              f"{persona.description}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log_file = setup_logging(verbose=args.verbose)
    if args.command is None:
        args = parser.parse_args([*(["--verbose"] if args.verbose else []), "chat"])
    handlers = {"chat": _cmd_chat, "config": _cmd_config, "personas": _cmd_personas}
    try:
        return handlers[args.command](args)
    except (UserError, DataFileError, ValueError) as exc:
        print(f"companion: error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        log.info("unexpected error", exc_info=True)  # INFO: the log file only, not the terminal
        where = f"; the details are in {log_file}" if log_file else ""
        print(
            f"companion: unexpected error: {type(exc).__name__}: {redact(str(exc))}{where}. "
            "Please report it.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
