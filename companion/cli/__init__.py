"""The `companion` command and its subcommands.

Each subcommand declares its own arguments beside its code: `talk.py` (ui, chat, listen,
replay), `tools.py` (nlu, config), `personas.py`, `dialogue.py` (test), `speech.py`
(devices, transcribe, models), `voice.py` (voices, serve) and `driver.py` (places,
memory); `common.py` holds what they
share. Errors a user can cause (a bad config file, an unknown persona) are printed as one
actionable line with exit status 2; anything unexpected is logged with its traceback to the
log file and reported in one line. No traceback ever reaches the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable

from .. import __version__
from ..logs import setup_logging
from ..redaction import redact
from ..schema import DataFileError
from ..untrusted import SafeStream
from . import dialogue, driver, personas, speech, talk, tools, voice
from .common import UserError, add_settings_flags, settings_from
from .speech import SpeechCommandError

log = logging.getLogger("companion")

Handler = Callable[[argparse.Namespace], int]
HANDLERS: dict[str, Handler] = {}

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
  HF_TOKEN         sent to Hugging Face (or HF_ENDPOINT) for model and voice downloads

licences:
  companion is MIT. Place data from GeoNames (https://www.geonames.org/), CC BY 4.0. The
  default voice is eSpeak NG and the neural one Piper (both GPL-3.0); openWakeWord's models
  are CC BY-NC-SA 4.0 (non-commercial). THIRD_PARTY_NOTICES.md lists every part.
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
    HANDLERS.update(talk.add_parsers(sub))
    HANDLERS.update(tools.add_parsers(sub))
    HANDLERS["test"] = dialogue.add_parsers(sub)
    HANDLERS.update(personas.add_parsers(sub))
    for with_settings in (
        speech.add_subcommands(sub, add_settings_flags),
        voice.add_subcommands(sub, add_settings_flags),
        driver.add_subcommands(sub, add_settings_flags),
    ):
        for name, command in with_settings.items():
            HANDLERS[name] = _with_settings(command)
    return parser


def _with_settings(
    command: Callable[[argparse.Namespace, object], int],
) -> Handler:
    return lambda args: command(args, settings_from(args))


def main(argv: list[str] | None = None) -> int:
    """Run one command. Everything it prints goes through the one sanitiser (untrusted.py):
    a persona's name, a server's error body or a catalogue entry cannot drive the terminal."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(out), SafeStream(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log_file = setup_logging(verbose=args.verbose)
    if args.command is None:
        screen = sys.stdin.isatty() and sys.stdout.isatty()
        args = parser.parse_args(
            [*(["--verbose"] if args.verbose else []), "ui" if screen else "chat"]
        )
    try:
        return HANDLERS[args.command](args)
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
