"""`companion chat` and `companion listen`: the assistant in a plain terminal.

A thin front end over `companion.assistant.Assistant`, the core the screen drives too. The core
runs on an asyncio loop in a background thread; this thread hands typed lines to it as turns
and prints its events. Ctrl+C stops a reply, Ctrl+D quits. With `--voice`/`--audio-in` the core
also listens (spoken turns, barge-in, speculation); Enter on an empty line is push-to-talk;
`--timings` prints each turn's waterfall. `companion listen` is the same without a keyboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .assistant import Assistant
from .config import Settings
from .events import (
    ActionTaken,
    AnyEvent,
    FinalTranscript,
    ListenerState,
    NothingHeard,
    Notice,
    PartialTranscript,
    ReplyDelta,
    ReplyDone,
    Status,
    TurnError,
    WakePhraseHeard,
)
from .llm.resolve import resolve_endpoint
from .logs import EventLog
from .loopthread import LoopThread
from .personas.session import PersonaSession
from .timeline import WaterfallPrinter
from .untrusted import control

HOW_TO_TALK = {
    "push_to_talk": "press Enter on an empty line to talk, Enter again to stop",
    "hands_free": "just speak",
    "wake_phrase": 'say "{phrase}" and then your request',
}


class _Printer:
    """The core's events as a transcript; a lock keeps other threads' lines out of a reply."""

    def __init__(
        self,
        out: TextIO,
        session: PersonaSession,
        speech: Any,
        interactive: bool,
        listener: Callable[[], Any],
        voice_only: bool = False,
    ) -> None:
        self.out, self.session, self.speech, self.interactive = out, session, speech, interactive
        self.voice_only = voice_only  # `companion listen`: without voice input it has no input
        self.listener = listener  # the core's current listener (it changes with the mode)
        self.lock = threading.Lock()
        self.mid_reply = self.showing_partial = self.announced = self.failed = False
        self.action: str | None = None
        self.deferred: list[str] = []

    def show(self, event: AnyEvent) -> None:
        name = self.session.active.name
        match event:
            case ActionTaken():
                self.action = event.summary  # shown before the reply unless it says it
            case ReplyDelta():
                self._delta(name, event.text)
            case TurnError():
                self.failed = True  # piped input: the exit status says so
                self._end_line(
                    ("\n" if self.mid_reply else "")
                    + f"{name}: {event.spoken}\n  ({event.detail})\n"
                )
            case ReplyDone(interrupted=True):
                self._end_line(" [stopped]\n" if self.mid_reply else "[stopped]\n")
            case ReplyDone():
                self._end_line("\n" if self.mid_reply else "")
            case Status(part="speech_in", state="problem") if self.voice_only:
                self.failed = True  # the exit status says the recording or microphone failed
                self.notice(event.message)
            case Notice() | Status(state="problem"):
                self.notice(event.text if isinstance(event, Notice) else event.message)
            case FinalTranscript() if event.text.strip():
                self.write(f"you (voice)> {event.text.strip()}\n")
            case PartialTranscript() if self.interactive and event.text and not self.mid_reply:
                with self.lock:
                    control(self.out, "\r\x1b[K")
                    self.out.write(f"  … {event.text}")
                    self.showing_partial = True
            case NothingHeard() if self.speech.listen_mode == "push_to_talk" or self.interactive:
                self.notice("didn't catch that")
            case WakePhraseHeard():
                self.notice("listening")
            case ListenerState(state="waiting") if not self.announced:
                self.announced = True  # the microphone is open now: say how to talk
                engine = getattr(self.listener(), "engine", None)
                how = HOW_TO_TALK[self.speech.listen_mode].format(phrase=self.speech.said_to_wake)
                self.notice(f"listening with {getattr(engine, 'description', 'speech')}: {how}")
            case ListenerState(state="listening") if self.speech.listen_mode == "push_to_talk":
                self.notice("listening… press Enter to stop")

    def write(self, text: str) -> None:
        with self.lock:
            self._clear_partial()
            self.out.write(text)
            self.out.flush()

    def notice(self, text: str) -> None:
        """A side note; held back while a reply line is being written. Under the lock: a
        note from another thread arriving while the reply line ends was lost (appended after
        the held notes were printed, then cleared with them)."""
        with self.lock:
            if self.mid_reply:
                self.deferred.append(text)
                return
            self._clear_partial()
            self.out.write(f"  ({text})\n")
            self.out.flush()

    def _delta(self, name: str, text: str) -> None:
        with self.lock:
            action, self.action = self.action, None
            if not self.mid_reply:
                self._clear_partial()
                if action and action != text:
                    self.out.write(f"  [{action}]\n")
                self.out.write(f"{name}: ")
                self.mid_reply = True
            self.out.write(text)
            self.out.flush()

    def _end_line(self, ending: str) -> None:
        with self.lock:
            self.out.write(ending + "".join(f"  ({text})\n" for text in self.deferred))
            self.deferred.clear()
            self.out.flush()
            self.mid_reply = False

    def _clear_partial(self) -> None:
        if self.showing_partial:
            control(self.out, "\r\x1b[K")
            self.showing_partial = False


def run_chat(
    settings: Settings,
    session: PersonaSession,
    *,
    reload_cast: Any = None,
    banner: bool = True,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    voice: bool = False,
    audio_in: Path | None = None,
    keyboard: bool = True,
    timings: Path | None = None,
    streaming_speech: bool = True,
    waterfall: bool = False,
    record: Path | None = None,
) -> int:
    """The REPL (or, with `keyboard=False`, `companion listen`); returns the exit status."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    interactive = keyboard and stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()
    core = LoopThread()
    loop = core.loop
    event_log = EventLog(timings)
    printer = _Printer(
        stdout,
        session,
        settings.speech,
        interactive,
        listener=lambda: assistant.listener,
        voice_only=not keyboard,
    )
    sinks: list[Callable[[AnyEvent], None]] = [
        event_log.write,
        printer.show,
        *([WaterfallPrinter(printer.write)] * waterfall),
    ]

    def post(event: AnyEvent) -> None:
        for sink in sinks:
            sink(event)

    assistant = Assistant(
        settings,
        session,
        post,
        audio_in=audio_in,
        reload_cast=reload_cast,
        greet=banner,
        streaming_speech=streaming_speech,
        record=record,
    )
    loop.call_soon_threadsafe(assistant.start)
    if banner:
        _banner(printer, settings, session, keyboard)
    listening = voice or audio_in is not None
    try:
        assistant.load(voice=listening)
        if banner:
            printer.write(f"{session.active.name}: {session.active.greeting}\n")
        _talk(assistant, loop, printer, stdin if keyboard else None, interactive)
    finally:
        printer.write("\n" if interactive else "")
        core.close(assistant.aclose)
        event_log.close()
    return 1 if printer.failed and not interactive else 0


def _banner(printer: _Printer, settings: Settings, session: PersonaSession, keyboard: bool) -> None:
    llm = resolve_endpoint(settings)
    parts = [
        f"companion {'chat' if keyboard else 'listen'}",
        session.active.name,
        f"{llm.label} ({llm.model})" if llm.configured else "no language model",
        "speech off (--mute)" if settings.speech.mute else "speech on",
    ]
    parts += (
        ["kids mode"]
        if session.kids_mode
        else (["mature content on"] if session.mature_content else [])
    )
    how = (
        "Type a message and press Enter. Ctrl+C stops a reply, Ctrl+D quits."
        if keyboard
        else "Speak to it; speak again to interrupt a reply. Ctrl+C stops a reply, then quits."
    )
    printer.write(" · ".join(parts) + f"\n{how}\n")
    if session.start_notice:
        printer.notice(session.start_notice)


def _read_line(stdin: TextIO, interactive: bool) -> str | None:
    """One typed line, or None at end of input (Ctrl+D)."""
    try:
        if stdin is sys.stdin:
            return input("you> " if interactive else "")
        line = stdin.readline()
        return line.rstrip("\n") if line else None
    except (EOFError, OSError, ValueError):  # end of input, or stdin closed under us
        return None


def _take_turn(assistant: Assistant, loop: asyncio.AbstractEventLoop, text: str) -> None:
    """A typed turn, waited for; Ctrl+C stops it (the core records the interrupted reply)."""
    future = asyncio.run_coroutine_threadsafe(assistant.ask(text), loop)
    try:
        future.result()
    except KeyboardInterrupt:
        assistant.stop()
        with contextlib.suppress(Exception, KeyboardInterrupt):
            future.result(timeout=5)


def _talk(
    assistant: Assistant,
    loop: asyncio.AbstractEventLoop,
    printer: _Printer,
    stdin: TextIO | None,
    interactive: bool,
) -> None:
    """Typed lines (read on a thread, taken as turns in order here) beside the listener, if
    any (the core takes spoken turns itself). Ends at Ctrl+D (or Ctrl+C without a keyboard),
    or once the input has ended and everything heard has been answered."""
    mode = assistant.settings.speech.listen_mode
    lines: queue.Queue[str | None] = queue.Queue()

    def read_keyboard(stdin: TextIO) -> None:
        while True:
            line = _read_line(stdin, interactive)
            if line is not None and not line.strip() and mode == "push_to_talk":
                assistant.press()  # at once, even while a reply is running
                continue
            lines.put(line)
            if line is None:
                return

    keyboard_open = stdin is not None
    if stdin is not None:
        threading.Thread(target=read_keyboard, args=(stdin,), name="keyboard", daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            if not keyboard_open and assistant.turns.listening_done() and not assistant.busy():
                assistant.sync()  # a last transcript may be on its way to a turn
                if not assistant.busy():
                    return
            continue
        except KeyboardInterrupt:
            if not keyboard_open and not assistant.busy():
                return  # no keyboard: Ctrl+C while nothing is said is the way out
            assistant.stop()
            printer.write("\n")
            continue
        if line is None:
            if interactive or mode == "push_to_talk":
                return  # Ctrl+D quits; without a keyboard push-to-talk cannot be pressed
            keyboard_open = False  # hands-free: the microphone keeps the chat going
        elif line.strip():
            _take_turn(assistant, loop, line)
