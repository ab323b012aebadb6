"""The `companion` command and its subcommands.

Errors a user can cause (a bad config file, an unknown persona) are printed as one actionable
line with exit status 2; anything unexpected is logged with its traceback to the log file and
reported in one line. No traceback ever reaches the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .cli_dialogue import add_test_parser, cmd_test
from .cli_speech import (
    SpeechCommandError,
    add_speech_flags,
    add_subcommands,
    add_voice_flags,
    cmd_devices,
    cmd_models,
    cmd_transcribe,
    speech_flag_values,
)
from .cli_voice import add_subcommands as add_voice_subcommands
from .cli_voice import cmd_serve, cmd_voices
from .config import (
    Settings,
    format_settings,
    load_settings,
    persona_folders,
)
from .llm.providers import PROVIDER_NAMES
from .llm.resolve import resolve_endpoint
from .logs import log_path, setup_logging
from .personas import Persona
from .personas.authoring import (
    CardError,
    PersonaLibrary,
    card_png,
    card_to_persona_text,
    new_persona_text,
    persona_to_card,
    read_card,
)
from .personas.loader import check_personas, slug
from .personas.session import PersonaSession
from .redaction import redact
from .resources import BUNDLED_PERSONAS, writable_personas
from .schema import DataFileError, suggest

log = logging.getLogger("companion")


class UserError(Exception):
    """Something the user can fix; the message says how."""


SETTING_FLAGS = ("llm", "persona", "safety", "devices")


def _add_settings_flags(parser: argparse.ArgumentParser, *only: str) -> None:
    """--config, and the setting flags that matter to this subcommand (default: all of
    them): "llm" (backend), "persona", "safety" (kids mode, mature content), "devices"."""
    kinds = set(only or SETTING_FLAGS)
    group = parser.add_argument_group("settings (override the config file and environment)")
    group.add_argument("--config", type=Path, metavar="FILE", help="config file to read")
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


def _add_wake_word_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wake-word",
        metavar="MODEL",
        help="wake by a neural wake word (implies --listen-mode wake_phrase): an openWakeWord "
        "model that ships (hey_jarvis, alexa, ...), a .tflite file, or a Wyoming wake-word "
        "service, wyoming://HOST:PORT/MODEL",
    )


def _add_talk_flags(
    parser: argparse.ArgumentParser, audio_in_help: str, listen_mode_help: str
) -> None:
    """The speech flags `ui` and `chat` share, then the speech and settings groups."""
    parser.add_argument("--mute", action="store_true", help="do not speak replies")
    parser.add_argument("--audio-in", type=Path, metavar="FILE", help=audio_in_help)
    parser.add_argument(
        "--no-earcons", action="store_true", help='no "listening" / "got it" / "error" sounds'
    )
    parser.add_argument(
        "--no-barge-in",
        action="store_true",
        help="hands-free: do not listen while speaking (no interrupting by voice)",
    )
    parser.add_argument(
        "--listen-mode",
        choices=("push_to_talk", "hands_free", "wake_phrase"),
        help=listen_mode_help,
    )
    _add_wake_word_flag(parser)
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
    _add_settings_flags(parser)


def _add_timings_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timings",
        nargs="?",
        const="-",
        metavar="FILE",
        help="after each turn print where its time went (end of speech, "
        "transcript, routing, first token, first audio, done); with FILE "
        "write every event with its time there as JSON lines instead",
    )


def _timings(args: argparse.Namespace) -> tuple[Path | None, bool]:
    """(--timings FILE, print the waterfall?)"""
    given = getattr(args, "timings", None)
    return (None if given in (None, "-") else Path(given)), given == "-"


EPILOG = """\
exit status:
  0    done
  1    the command ran and failed: a dialogue test failed, a one-shot reply could not be
       given, a persona check found errors, `listen` lost its microphone or recording, or
       an unexpected error (details in the log)
  2    usage or input error: a bad flag or value, a broken config, persona or card file
       (the message names the file and line and says what to do)
  130  stopped with Ctrl+C (in chat, listen and ui Ctrl+C stops a reply instead; Ctrl+D
       or Ctrl+Q quits with 0)

environment:
  COMPANION_<SECTION>_<KEY>  any setting, e.g. COMPANION_LLM_MODEL (`companion config show`)
  XAI_API_KEY, OPENAI_API_KEY  API keys for those providers (never printed or logged)
  VOSK_MODEL_PATH  where Vosk models are kept (default ~/.cache/vosk)
  COMPANION_VOICES_DIR  where Piper voices are kept (`companion voices path`)
  HF_ENDPOINT      a Hugging Face mirror for `models install llm` and `voices install`
  NO_COLOR         the car screen in monochrome (https://no-color.org)
  COMPANION_LOG_FILE  the log file (default: the platform's log folder)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="companion",
        description="An open, hackable in-car voice assistant. "
        "Without a subcommand it opens the car screen (`companion ui`); without a terminal "
        "it starts `companion chat`.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"companion {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ui = sub.add_parser(
        "ui",
        help="the car's centre screen in this terminal (the default)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "The infotainment screen: car panel, navigation card, assistant panel, dock.\n\n"
            "  Space / F5   push to talk (click the Talk button too)\n"
            "  typing       goes to the prompt line; Enter sends it\n"
            "  Esc          stop a reply    F2 personas    F3 kids mode   F4 mature\n"
            "  F6 mute      F7/F8 volume    F9 settings    F10 timings\n"
            "  Ctrl+P commands  Ctrl+Q quit"
        ),
    )
    ui.add_argument(
        "--no-voice", action="store_true", help="no microphone: type only (machines without one)"
    )
    ui.add_argument(
        "--serve",
        nargs="?",
        const="localhost:8000",
        metavar="HOST:PORT",
        help="show the screen in a web browser instead (textual-serve; default "
        "localhost:8000); each browser tab gets its own session",
    )
    _add_talk_flags(
        ui,
        "a recording stands in for the microphone",
        "how a request starts (default: speech.listen_mode)",
    )

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
    chat.add_argument(
        "message",
        nargs="?",
        metavar="MESSAGE",
        help="one message: print (and speak) the reply, then exit",
    )
    chat.add_argument(
        "--voice", action="store_true", help="listen on the microphone too (typing still works)"
    )
    _add_talk_flags(
        chat,
        "a recording stands in for the microphone (implies --voice)",
        "push_to_talk: Enter on an empty line starts/stops listening",
    )
    _add_timings_flag(chat)

    listen = sub.add_parser(
        "listen",
        help="the full voice loop, no keyboard or screen (kiosks, headless demos, benchmarks)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Microphone -> speech recognition -> router -> persona/LLM -> speech -> speaker,\n"
            "hands-free by default, on the default input and output devices. Speak during a\n"
            "reply to interrupt it. The transcript is printed; Ctrl+C stops a reply, a second\n"
            "Ctrl+C (or SIGTERM) quits."
        ),
    )
    listen.add_argument(
        "--listen-mode",
        choices=("hands_free", "wake_phrase"),
        help="how a request starts (default: speech.listen_mode, "
        "hands_free if that is push_to_talk)",
    )
    _add_wake_word_flag(listen)
    listen.add_argument(
        "--audio-in", type=Path, metavar="FILE", help="a recording stands in for the microphone"
    )
    listen.add_argument("--mute", action="store_true", help="print replies, do not speak them")
    listen.add_argument(
        "--no-earcons", action="store_true", help='no "listening" / "got it" / "error" sounds'
    )
    listen.add_argument(
        "--no-barge-in",
        action="store_true",
        help="do not listen while speaking (no interrupting by voice)",
    )
    _add_timings_flag(listen)
    listen.add_argument(
        "--naive-speech",
        action="store_true",
        help="baseline for benchmarks: start after the final transcript, wait "
        "for the whole reply, synthesise it in one piece, then play it",
    )
    add_speech_flags(listen)
    add_voice_flags(listen)
    _add_settings_flags(listen)

    nlu = sub.add_parser(
        "nlu",
        help="print the intent and slots the router finds in an utterance",
        description="Runs the router (offline, no LLM) on one utterance, or with --jsonl on "
        "one utterance per line of standard input, writing one JSON object per line: "
        '{"text", "intent", "slots", "confidence"}.',
    )
    nlu.add_argument("text", nargs="*", help="the utterance (quote it, or give the words)")
    nlu.add_argument(
        "--jsonl",
        action="store_true",
        help="read utterances from stdin, one per line; write JSON lines",
    )
    _add_settings_flags(nlu, "persona")

    add_test_parser(sub)

    replay = sub.add_parser(
        "replay",
        help="play a recorded session (--record FILE) back on the car screen",
        description="Shows a recording made with `companion ui --record FILE` or `companion "
        "chat --record FILE` on the screen, at the pace it happened. Nothing is sent to a "
        "model; Ctrl+Q quits.",
    )
    replay.add_argument("file", type=Path, metavar="FILE", help="the recording")

    config = sub.add_parser("config", help="show the effective settings")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = config_sub.add_parser("show", help="print settings with their sources, keys masked")
    _add_settings_flags(show)
    config_sub.add_parser("path", help="print where the config file is looked for")

    personas = sub.add_parser(
        "personas", help="designer tools: list, check, new, try, import, export"
    )
    actions = personas.add_subparsers(dest="personas_command", metavar="ACTION")
    listing = actions.add_parser("list", help="id, name, rating, voice: one line each")
    _add_settings_flags(listing, "persona", "safety")
    check = actions.add_parser("check", help="validate persona files (default: all of them)")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    new = actions.add_parser("new", help="write a commented persona file to fill in")
    new.add_argument("name", help='the persona\'s name, e.g. "Road Trip DJ"')
    new.add_argument(
        "--dir", type=Path, default=None, help=f"folder (default: {writable_personas()})"
    )
    try_ = actions.add_parser("try", help="one reply from a persona, streamed and spoken")
    try_.add_argument("persona_id", metavar="ID")
    try_.add_argument("text")
    try_.add_argument("--mute", action="store_true", help="do not speak")
    _add_settings_flags(try_, "llm", "safety")
    try_.add_argument("--output-device", metavar="DEV", help="audio output: index or name")
    imp = actions.add_parser("import", help="character card (JSON or PNG) to a persona file")
    imp.add_argument("card", type=Path)
    imp.add_argument(
        "--dir", type=Path, default=None, help=f"folder (default: {writable_personas()})"
    )
    imp.add_argument("--force", action="store_true", help="overwrite an existing file")
    exp = actions.add_parser("export", help="persona to a character card (.json or .png)")
    exp.add_argument("persona_id", metavar="ID")
    exp.add_argument("output", type=Path)
    schema = actions.add_parser(
        "schema",
        help="print the JSON Schema of persona (or dialogue) files, for editors",
        description="Editors that validate TOML (Taplo, VS Code's Even Better TOML) check a "
        "file as you type when its first line is `#:schema PATH`; --path prints that PATH.",
    )
    schema.add_argument("kind", nargs="?", choices=("persona", "dialogue"), default="persona")
    schema.add_argument(
        "--path", action="store_true", help="print where the shipped schema file is instead"
    )
    _add_settings_flags(exp, "safety")
    add_subcommands(sub, _add_settings_flags)
    add_voice_subcommands(sub, _add_settings_flags)
    return parser


def _settings_from(args: argparse.Namespace) -> Settings:
    flags: dict[str, Any] = {
        "llm.provider": getattr(args, "provider", None),
        "llm.base_url": getattr(args, "llm_base_url", None),
        "llm.model": getattr(args, "model", None),
        "llm.local_model": getattr(args, "local_model", None),
        "persona.default": getattr(args, "persona", None),
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


def _session(settings: Settings, personas: dict[str, Persona]) -> PersonaSession:
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


def _library(settings: Settings) -> PersonaLibrary:
    library = PersonaLibrary(*persona_folders(settings))
    for problem in library.problems:
        print(f"companion: skipped a persona file: {problem}", file=sys.stderr)
    return library


def _cmd_chat(args: argparse.Namespace) -> int:
    from .chat import run_chat

    settings = _settings_from(args)
    library = _library(settings)
    session = _session(settings, library.personas)

    def reload_cast() -> None:
        problems = library.reload_if_changed()
        if problems is None:
            return
        for problem in problems:
            print(f"companion: {problem} (keeping the last good version)", file=sys.stderr)
        session.replace_cast(library.personas)

    timings, waterfall = _timings(args)
    if args.message is not None:  # one turn, as a script or a shell alias would want it
        if not args.message.strip():
            raise UserError(
                'the message is empty; give the words to say, e.g. companion chat "hello"'
            )
        return run_chat(
            settings,
            session,
            stdin=io.StringIO(args.message + "\n"),
            banner=False,
            timings=timings,
            waterfall=waterfall,
            record=args.record,
        )
    return run_chat(
        settings,
        session,
        reload_cast=reload_cast,
        voice=bool(getattr(args, "voice", False)),
        audio_in=args.audio_in,
        timings=timings,
        waterfall=waterfall,
        record=args.record,
    )


def _cmd_ui(args: argparse.Namespace) -> int:
    if args.serve:
        return _serve_ui(args.serve)
    from .ui.app import run_app

    settings = _settings_from(args)
    library = _library(settings)
    session = _session(settings, library.personas)
    problems: list[object] = []  # load errors, printed after the screen closes

    def reload_cast() -> None:
        found = library.reload_if_changed()
        if found is None:
            return
        problems.extend(found)
        session.replace_cast(library.personas)

    status = run_app(
        settings,
        session,
        voice=not args.no_voice,
        audio_in=args.audio_in,
        reload_cast=reload_cast,
        record=args.record,
    )
    for problem in problems:  # shown after the screen closes, as `chat` shows them at once
        print(f"companion: {problem} (kept the last good version)", file=sys.stderr)
    return status


def _serve_ui(where: str) -> int:
    """`companion ui --serve`: textual-serve runs `companion ui` (with the same flags, minus
    --serve) for each browser that connects, and relays its screen over a websocket."""
    import shlex

    try:
        from textual_serve.server import Server
    except ImportError:
        raise UserError("--serve needs textual-serve: pip install 'companion[serve]'") from None
    host, _, port = where.rpartition(":")
    if not port.isdigit():
        raise UserError(f"--serve {where}: give HOST:PORT, e.g. --serve localhost:8000")
    argv, flags, i = sys.argv[1:], [], 0
    while i < len(argv):  # the same command line without --serve and its value
        if argv[i] == "--serve":
            i += 2 if i + 1 < len(argv) and argv[i + 1] == where else 1
            continue
        if not argv[i].startswith("--serve="):
            flags.append(argv[i])
        i += 1
    command = shlex.join([sys.executable, "-m", "companion", *flags])
    print(
        f"companion: the car screen is at http://{host or 'localhost'}:{port} "
        "(Ctrl+C stops the server)",
        flush=True,
    )
    Server(command, host=host or "localhost", port=int(port), title="companion").serve()
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from .recording import load_session
    from .ui.app import run_app

    recording = load_session(args.file)  # a bad file: a DataFileError with the line
    settings = _settings_from(args)
    settings.speech.mute = True  # a replay shows; it does not speak
    library = _library(settings)
    header = recording.header
    if str(header.get("persona", "")) in library.personas:
        settings.persona.default = str(header["persona"])
    settings.safety.kids_mode = bool(header.get("kids_mode", settings.safety.kids_mode))
    settings.safety.mature_content = bool(header.get("mature_content", False))
    return run_app(settings, _session(settings, library.personas), voice=False, replay=recording)


def _cmd_listen(args: argparse.Namespace) -> int:
    import signal

    from .chat import run_chat

    settings = _settings_from(args)
    if settings.speech.listen_mode == "push_to_talk":
        settings.speech.listen_mode = "hands_free"  # nothing to press without a keyboard
    if args.naive_speech:
        settings.speech.speculate_after_ms = 0  # the baseline starts after the final transcript
    session = _session(settings, _library(settings).personas)

    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(0)  # unwinds through run_chat's cleanup (speech, listener, HTTP)

    # SIGTERM (a kiosk's service manager, the benchmark) quits, even mid-reply.
    signal.signal(signal.SIGTERM, terminate)
    timings, waterfall = _timings(args)
    return run_chat(
        settings,
        session,
        voice=True,
        audio_in=args.audio_in,
        keyboard=False,
        timings=timings,
        waterfall=waterfall,
        streaming_speech=not args.naive_speech,
    )


def _cmd_nlu(args: argparse.Namespace) -> int:
    from .router import route

    settings = _settings_from(args)
    cast = list(_library(settings).personas.values())

    def record(text: str) -> dict[str, Any]:
        intent = route(text, cast)
        slots = intent.slots
        # The slots people look for most, at the top level too (absent when not said).
        top = {
            "destination": slots.get("place"),
            "category": slots.get("category"),
            "cuisine": slots.get("cuisine"),
            "distance": slots.get("distance"),
            "persona": slots.get("persona") if intent.name == "persona.switch" else None,
        }
        return {
            "text": text,
            "intent": intent.name,
            "slots": slots,
            "confidence": intent.confidence,
            **{key: value for key, value in top.items() if value is not None},
        }

    if args.jsonl:
        if args.text:
            raise UserError("--jsonl reads utterances from standard input; give no text")
        for line in sys.stdin:
            if line.strip():
                print(json.dumps(record(line.strip()), ensure_ascii=False), flush=True)
        return 0
    if not args.text:
        raise UserError(
            'give an utterance, e.g. companion nlu "take me to the nearest '
            'charger", or use --jsonl with one utterance per line on stdin'
        )
    result = record(" ".join(args.text))
    slots = ", ".join(f"{k}={v}" for k, v in result["slots"].items())
    print(f"{result['intent']}  ({result['confidence']:.2f}){'  ' + slots if slots else ''}")
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    if args.config_command == "path":
        settings = load_settings(config_path=None, flags={})
        print(settings.config_file)
        return 0
    settings = _settings_from(args)
    print(format_settings(settings, resolve_endpoint(settings), log_path()))
    return 0


def _cmd_personas(args: argparse.Namespace) -> int:
    action = args.personas_command or "list"
    handlers = {
        "list": _personas_list,
        "check": _personas_check,
        "new": _personas_new,
        "try": _personas_try,
        "import": _personas_import,
        "export": _personas_export,
        "schema": _personas_schema,
    }
    return handlers[action](args)


def _personas_schema(args: argparse.Namespace) -> int:
    from .schemas import schema_path, schema_text

    print(
        schema_path(args.kind) if args.path else schema_text(args.kind),
        end="\n" if args.path else "",
    )
    return 0


def _personas_list(args: argparse.Namespace) -> int:
    settings = _settings_from(args)
    library = _library(settings)
    session = _session(settings, library.personas) if library.personas else None
    for persona in sorted(library.personas.values(), key=lambda p: p.id):
        marker = "*" if persona.id == settings.persona.default else " "
        lock = session.allowed(persona) if session else None
        locked = {"kids_mode": " [locked: kids mode]", "mature": " [locked: mature off]"}
        voice = f"{persona.voice.id or 'default'} {persona.voice.rate}wpm p{persona.voice.pitch}"
        print(
            f"{marker} {persona.id:<18} {persona.name:<18} {persona.rating:<8} "
            f"{voice:<28} {persona.description}{locked.get(lock or '', '')}"
        )
    return 1 if library.problems else 0


def _personas_check(args: argparse.Namespace) -> int:
    paths = args.paths or [BUNDLED_PERSONAS]
    for path in paths:
        if not path.exists():
            raise UserError(f"{path}: no such file or folder")
    problems = check_personas(*paths, base=(BUNDLED_PERSONAS,))
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    checked = sum(len(list(p.glob("*.toml"))) if p.is_dir() else 1 for p in paths)
    print(f"{checked} persona files checked: {errors} errors, {warnings} warnings")
    return 1 if errors else 0


def _personas_new(args: argparse.Namespace) -> int:
    folder = args.dir or writable_personas()
    persona_id = slug(args.name)
    path = folder / f"{persona_id}.toml"
    if path.exists():
        raise UserError(f"{path} already exists; pick another name or edit that file")
    folder.mkdir(parents=True, exist_ok=True)
    name = args.name if args.name != args.name.lower() else args.name.replace("_", " ").title()
    path.write_text(new_persona_text(persona_id, name), encoding="utf-8")
    print(
        f"wrote {path}\nnext: edit it, then `companion personas check {path}` and "
        f'`companion personas try {persona_id} "hello"`'
    )
    return 0


def _personas_try(args: argparse.Namespace) -> int:
    from .chat import run_chat

    args.persona = args.persona_id
    settings = _settings_from(args)
    session = _session(settings, _library(settings).personas)
    if session.active.id != args.persona_id:
        raise UserError(session.start_notice or f"cannot use {args.persona_id}")
    return run_chat(settings, session, stdin=io.StringIO(args.text + "\n"), banner=False)


def _personas_import(args: argparse.Namespace) -> int:
    try:
        persona_id, text = card_to_persona_text(read_card(args.card))
    except CardError as exc:
        raise UserError(str(exc)) from None
    folder = args.dir or writable_personas()
    path = folder / f"{persona_id}.toml"
    if path.exists() and not args.force:
        raise UserError(f"{path} already exists; use --force to overwrite it")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    problems = check_personas(path, base=(BUNDLED_PERSONAS,))
    for problem in problems:
        print(problem)
    print(f"wrote {path}")
    return 1 if any(p.severity == "error" for p in problems) else 0


def _personas_export(args: argparse.Namespace) -> int:
    settings = _settings_from(args)
    personas = _library(settings).personas
    persona = personas.get(args.persona_id)
    if persona is None:
        raise UserError(f'unknown persona "{args.persona_id}".{suggest(args.persona_id, personas)}')
    card = persona_to_card(persona)
    if args.output.suffix.lower() == ".png":
        args.output.write_bytes(card_png(card))
    else:
        args.output.write_text(
            json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    print(f"wrote {args.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log_file = setup_logging(verbose=args.verbose)
    if args.command is None:
        screen = sys.stdin.isatty() and sys.stdout.isatty()
        args = parser.parse_args(
            [*(["--verbose"] if args.verbose else []), "ui" if screen else "chat"]
        )
    handlers = {
        "ui": _cmd_ui,
        "chat": _cmd_chat,
        "listen": _cmd_listen,
        "nlu": _cmd_nlu,
        "replay": _cmd_replay,
        "test": cmd_test,
        "config": _cmd_config,
        "personas": _cmd_personas,
    }
    speech = {
        "devices": cmd_devices,
        "transcribe": cmd_transcribe,
        "models": cmd_models,
        "voices": cmd_voices,
        "serve": cmd_serve,
    }
    try:
        if args.command in speech:
            return speech[args.command](args, _settings_from(args))
        return handlers[args.command](args)
    except (UserError, DataFileError, ValueError, SpeechCommandError) as exc:
        print(f"companion: error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`companion transcribe ... | head`): like other Unix tools,
        # stop quietly. Python would otherwise complain again when flushing stdout at exit.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
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
