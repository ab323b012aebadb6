"""The voice subcommands: `companion voices` (Piper voices) and `companion serve wyoming`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..config import Settings
from .speech import SpeechCommandError, add_speech_flags, add_voice_flags


def add_subcommands(sub: Any, settings_flags: Any) -> dict[str, Any]:
    """voices, serve; returns their commands (args, settings) -> status."""
    voices = sub.add_parser("voices", help="list, install and locate Piper voices")
    actions = voices.add_subparsers(dest="voices_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="installed voices, and recommended ones")
    install = actions.add_parser(
        "install", help="download a Piper voice by name (e.g. en_US-joe-medium)"
    )
    install.add_argument("name", metavar="NAME")
    path = actions.add_parser("path", help="where voices are kept, and which one speaks")
    add_voice_flags(path)
    for action in (listing, install, path):
        settings_flags(action, "config")

    serve = sub.add_parser(
        "serve",
        help="offer our speech services over Wyoming, or the demo car's skills over MCP",
        description="wyoming: a Wyoming service (Home Assistant's voice protocol) with this "
        "computer's recogniser, speech engine and openWakeWord wake words, e.g. for Home "
        "Assistant's Wyoming integration or a satellite. mcp: the demo car (navigation, trip "
        "and car status) as Model Context Protocol tools, so another agent can drive it. "
        "Stops on Ctrl+C.",
    )
    serve.add_argument("protocol", choices=("wyoming", "mcp"))
    serve.add_argument(
        "--uri",
        default="tcp://127.0.0.1:10300",
        help="where to listen (default tcp://127.0.0.1:10300; tcp://0.0.0.0:10300 for the "
        "network; port 0: any free port)",
    )
    serve.add_argument(
        "--http",
        type=int,
        metavar="PORT",
        help="mcp: serve streamable HTTP on 127.0.0.1:PORT (default: stdio, for a client "
        "that starts `companion serve mcp` itself)",
    )
    serve.add_argument("--no-stt", action="store_true", help="do not offer speech to text")
    serve.add_argument("--no-tts", action="store_true", help="do not offer text to speech")
    serve.add_argument("--no-wake", action="store_true", help="do not offer wake words")
    serve.add_argument(
        "--no-zeroconf",
        action="store_true",
        help="do not announce the service on the local network (zeroconf, _wyoming._tcp), "
        "which is how Home Assistant discovers it",
    )
    serve.add_argument(
        "--zeroconf-name",
        metavar="NAME",
        help="the name it is announced by (default companion-HOSTNAME)",
    )
    serve.add_argument(
        "--max-utterance",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="the longest audio one request may send to be transcribed (default 30 s); "
        "more is refused with an error event",
    )
    add_speech_flags(serve)
    add_voice_flags(serve)
    settings_flags(serve, "config")
    return {"voices": cmd_voices, "serve": cmd_serve}


def cmd_voices(args: argparse.Namespace, settings: Settings) -> int:
    from ..downloads import progress_printer
    from ..tts import voices
    from ..tts.factory import engine_name

    if args.voices_command == "install":
        print(f"Installing {args.name} into {voices.voices_dir()}", file=sys.stderr)
        try:
            path = voices.install(args.name, progress=progress_printer(args.name))
        except voices.VoiceError as exc:
            raise SpeechCommandError(str(exc)) from None
        print(path)
        print(
            f'Installed. Personas speak with it when they name it ([voice] piper = "{args.name}") '
            f'or with speech.voice = "{args.name}".',
            file=sys.stderr,
        )
        return 0
    if args.voices_command == "path":
        print(f"voices folder: {voices.voices_dir()}")
        name = engine_name(settings.speech)
        if name == "piper":
            chosen = voices.find(settings.speech.voice)
            print(f"speaks with: Piper, {chosen.name} ({chosen.model})" if chosen else "Piper")
        else:
            print(f"speaks with: {name}")
        return 0
    found = voices.installed()
    print(f"Piper voices on this computer ({len(found)}):")
    for voice in found:
        print(f"  {voice.name:28} {voice.source}  {voice.model}")
        print(
            f"  {'':28} licence of its data: {voices.licence(voice) or 'unknown (no model card)'}"
        )
    if not found:
        print("  none: speech is eSpeak NG (pyttsx3; GPL-3.0) until you install one")
    names = {v.name for v in found}
    print("Recommended (install with `companion voices install NAME`):")
    for name, what in voices.RECOMMENDED.items():
        warning = f"  [{voices.NON_COMMERCIAL[name]}]" if name in voices.NON_COMMERCIAL else ""
        print(f"  {name:28} {what}{'  (installed)' if name in names else ''}{warning}")
    print(
        "Piper itself (piper-tts) and eSpeak NG, which it speaks through, are GPL-3.0; "
        "THIRD_PARTY_NOTICES.md says what that means for you."
    )
    from ..audio.wakeword import LICENCE as WAKE_LICENCE
    from ..audio.wakeword import builtin_models

    wake = builtin_models()
    print(f"Wake words (openWakeWord models in pyopen-wakeword; {WAKE_LICENCE}):")
    print(f"  {', '.join(wake)}" if wake else "  none: pip install 'companion[cabin]'")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    if args.protocol == "mcp":
        from ..mcp.server import run
        from .common import library_for, session_for

        run(settings, session_for(settings, library_for(settings).personas), args.http)
        return 0

    from ..audio.wakeword import builtin_models
    from ..stt.base import SttError
    from ..stt.models import engine_for
    from ..tts.factory import Synthesizer, create_synthesizer, engine_name
    from ..tts.synth import SynthesisError
    from ..tts.voices import installed
    from ..wyoming.discovery import default_name
    from ..wyoming.server import Services, serve

    speech = settings.speech
    engine = None
    if not args.no_stt:
        try:
            engine, notice = engine_for(speech)
        except SttError as exc:
            raise SpeechCommandError(str(exc)) from None
        if notice:
            print(notice, file=sys.stderr)
    synth: Synthesizer | None = None
    name = ""
    if not args.no_tts:
        name = engine_name(speech)
        if name.startswith("wyoming://"):
            raise SpeechCommandError(
                "serve wyoming offers this computer's own speech engine: use --tts piper or "
                "--tts pyttsx3, not another Wyoming service."
            )
        try:
            synth = create_synthesizer(speech)
            synth.warm_up()
        except SynthesisError as exc:
            raise SpeechCommandError(str(exc)) from None
    voices = [v.name for v in installed()] if name == "piper" else ["default"]
    wake_words = [] if args.no_wake else builtin_models()
    if not (engine or synth or wake_words):
        raise SpeechCommandError(
            "Nothing to serve: wake words need pyopen-wakeword (pip install 'companion[cabin]')"
            if not args.no_wake
            else "Nothing to serve: leave out one of --no-stt, --no-tts, --no-wake."
        )
    services = Services(engine, synth, name, voices, wake_words)
    services.max_utterance_s = max(1.0, args.max_utterance)
    host = args.uri.rsplit(":", 1)[0]

    def ready(port: int, announced_as: str) -> None:
        parts = (
            ("speech to text", engine),
            ("text to speech", synth),
            (f"wake words: {', '.join(wake_words)}", wake_words),
        )
        offers = "; ".join(what for what, on in parts if on)
        if announced_as:
            where = "this computer only" if host.endswith("127.0.0.1") else "the network"
            print(f"Announced as {announced_as} (zeroconf, {where})", file=sys.stderr)
        print(f"Wyoming service ({offers}) listening on {host}:{port}", file=sys.stderr, flush=True)

    announce: str | None = None if args.no_zeroconf else args.zeroconf_name or default_name()
    try:
        asyncio.run(serve(args.uri, services, ready, announce_as=announce))
    except OSError as exc:
        raise SpeechCommandError(f"Cannot listen on {args.uri}: {exc.strerror or exc}") from None
    return 0
