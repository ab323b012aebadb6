"""Talking to the assistant: `ui` (the car screen, the default), `chat` (keyboard and,
with --voice, the microphone), `listen` (the voice loop alone) and `replay` (a recorded session
on the screen)."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Any

from .common import (
    UserError,
    add_settings_flags,
    add_talk_flags,
    add_timings_flag,
    add_voice_toggles,
    add_wake_word_flag,
    library_for,
    session_for,
    settings_from,
    timings_of,
)
from .speech import add_speech_flags, add_voice_flags

Handler = Any


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    """The talking subcommands' parsers; returns their handlers."""
    _add_ui(sub)
    _add_chat(sub)
    _add_listen(sub)
    _add_replay(sub)
    return {"ui": _cmd_ui, "chat": _cmd_chat, "listen": _cmd_listen, "replay": _cmd_replay}


def _add_ui(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    add_talk_flags(
        ui,
        "a recording stands in for the microphone",
        "how a request starts (default: speech.listen_mode)",
    )


def _add_chat(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    add_talk_flags(
        chat,
        "a recording stands in for the microphone (implies --voice)",
        "push_to_talk: Enter on an empty line starts/stops listening",
    )
    add_timings_flag(chat)


def _add_listen(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    add_wake_word_flag(listen)
    add_voice_toggles(
        listen,
        "a recording stands in for the microphone",
        mute_help="print replies, do not speak them",
        barge_in_help="do not listen while speaking (no interrupting by voice)",
    )
    add_timings_flag(listen)
    listen.add_argument(
        "--naive-speech",
        action="store_true",
        help="baseline for benchmarks: start after the final transcript, wait "
        "for the whole reply, synthesise it in one piece, then play it",
    )
    add_speech_flags(listen)
    add_voice_flags(listen)
    add_settings_flags(listen)


def _add_replay(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = sub.add_parser(
        "replay",
        help="play a recorded session (--record FILE) back on the car screen",
        description="Shows a recording made with `companion ui --record FILE` or `companion "
        "chat --record FILE` on the screen, at the pace it happened. Nothing is sent to a "
        "model; Ctrl+Q quits.",
    )
    replay.add_argument("file", type=Path, metavar="FILE", help="the recording")


def _cmd_chat(args: argparse.Namespace) -> int:
    from ..chat import run_chat

    settings = settings_from(args)
    library = library_for(settings)
    session = session_for(settings, library.personas)

    def reload_cast() -> None:
        problems = library.reload_if_changed()
        if problems is None:
            return
        for problem in problems:
            print(f"companion: {problem} (keeping the last good version)", file=sys.stderr)
        session.replace_cast(library.personas)

    timings, waterfall = timings_of(args)
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
    from ..ui.app import run_app

    settings = settings_from(args)
    library = library_for(settings)
    session = session_for(settings, library.personas)
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

    class Serving(Server):
        def request_exit(self) -> None:
            # SIGINT or SIGTERM: end every tab's screen first. textual-serve alone waited on
            # the open tabs (up to a minute), and a tab's process outlived it, spinning.
            _end_children()
            super().request_exit()

    Serving(command, host=host or "localhost", port=int(port), title="companion").serve()
    _end_children()
    return 0


def _end_children() -> None:
    """SIGTERM to every process this one started (the browser tabs' screens)."""
    import signal

    me = os.getpid()
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == me:
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGTERM)


def _cmd_replay(args: argparse.Namespace) -> int:
    from ..recording import load_session
    from ..ui.app import run_app

    recording = load_session(args.file)  # a bad file: a DataFileError with the line
    settings = settings_from(args)
    settings.speech.mute = True  # a replay shows; it does not speak
    library = library_for(settings)
    header = recording.header
    if str(header.get("persona", "")) in library.personas:
        settings.persona.default = str(header["persona"])
    settings.safety.kids_mode = bool(header.get("kids_mode", settings.safety.kids_mode))
    settings.safety.mature_content = bool(header.get("mature_content", False))
    return run_app(settings, session_for(settings, library.personas), voice=False, replay=recording)


def _cmd_listen(args: argparse.Namespace) -> int:
    import signal

    from ..chat import run_chat

    settings = settings_from(args)
    if settings.speech.listen_mode == "push_to_talk":
        settings.speech.listen_mode = "hands_free"  # nothing to press without a keyboard
    if args.naive_speech:
        settings.speech.speculate_after_ms = 0  # the baseline starts after the final transcript
    session = session_for(settings, library_for(settings).personas)

    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(0)  # unwinds through run_chat's cleanup (speech, listener, HTTP)

    # SIGTERM (a kiosk's service manager, the benchmark) quits, even mid-reply.
    signal.signal(signal.SIGTERM, terminate)
    timings, waterfall = timings_of(args)
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
