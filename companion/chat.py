"""`companion chat`: the assistant in a plain terminal, typed in, streamed out, spoken aloud.

The asyncio core runs on a background thread; the main thread reads lines (with readline
editing where available) and owns Ctrl+C: pressed during a reply it cancels the turn, which
closes the LLM stream and stops speech, and the prompt comes back. Ctrl+D quits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TextIO

from .audio.playback import AudioPlayer
from .config import Settings, resolve_endpoint
from .events import Event, PersonaSwitched, ReplyDelta, ReplyDone, TurnError
from .llm.client import ChatClient
from .personas.session import PersonaSession
from .pipeline import TurnPipeline
from .tts.speaker import Speaker

log = logging.getLogger(__name__)


class _LoopThread:
    """An asyncio event loop on a daemon thread, for a synchronous front end."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="core", daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


class _Printer:
    """Writes the transcript; a lock keeps speech-thread notices from splitting a line."""

    def __init__(self, out: TextIO, name: str) -> None:
        self.out = out
        self.name = name
        self.lock = threading.Lock()
        self.mid_reply = False
        self._deferred: list[str] = []

    def write(self, text: str) -> None:
        with self.lock:
            self.out.write(text)
            self.out.flush()

    def notice(self, text: str) -> None:
        """A side note (speech problems); held back while a reply line is being written."""
        with self.lock:
            if self.mid_reply:
                self._deferred.append(text)
                return
            self.out.write(f"  ({text})\n")
            self.out.flush()

    def _end_reply_line(self, ending: str) -> None:
        self.out.write(ending)
        for text in self._deferred:
            self.out.write(f"  ({text})\n")
        self._deferred.clear()
        self.out.flush()
        self.mid_reply = False

    def on_event(self, event: Event) -> None:
        if isinstance(event, PersonaSwitched):
            self.name = event.name
        elif isinstance(event, ReplyDelta):
            with self.lock:
                if not self.mid_reply:
                    self.out.write(f"{self.name}: ")
                    self.mid_reply = True
                self.out.write(event.text)
                self.out.flush()
        elif isinstance(event, TurnError):
            with self.lock:
                self._end_reply_line(
                    ("\n" if self.mid_reply else "")
                    + f"{self.name}: {event.spoken}\n  ({event.detail})\n"
                )
        elif isinstance(event, ReplyDone):
            with self.lock:
                if event.interrupted:
                    self._end_reply_line(" [stopped]\n" if self.mid_reply else "[stopped]\n")
                else:
                    self._end_reply_line("\n" if self.mid_reply else "")


def run_chat(
    settings: Settings,
    session: PersonaSession,
    *,
    reload_cast: Callable[[], None] | None = None,
    banner: bool = True,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """The REPL. Returns the process exit status."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()

    endpoint = resolve_endpoint(settings)
    persona = session.active
    printer = _Printer(stdout, persona.name)
    speaker = None
    if not settings.speech.mute:
        player = AudioPlayer(settings.speech.output_device)
        speaker = Speaker(player=player, on_problem=printer.notice)
    core = _LoopThread()
    client = ChatClient(endpoint)
    pipeline = TurnPipeline(session, client, speaker, printer.on_event)

    model = f"{endpoint.label} ({endpoint.model})" if endpoint.configured else "no language model"
    voice = "speech off (--mute)" if speaker is None else "speech on"
    modes = (" · kids mode" if session.kids_mode else "") + (
        " · mature content on" if session.mature_content and not session.kids_mode else "")
    if banner:
        printer.write(
            f"companion chat · {persona.name} · {model} · {voice}{modes}\n"
            "Type a message and press Enter. Ctrl+C stops a reply, Ctrl+D quits.\n"
        )
        if session.start_notice:
            printer.notice(session.start_notice)
        printer.write(f"{persona.name}: {persona.greeting}\n")
        if speaker is not None:
            speaker.say(persona.greeting, persona.voice)

    try:
        while True:
            try:
                line = _read_line(stdin, "you> " if interactive else "", printer)
            except KeyboardInterrupt:
                if speaker is not None:
                    speaker.stop()
                printer.write("\n")
                continue
            if line is None:
                break
            if not line.strip():
                continue
            if speaker is not None and interactive:
                speaker.stop()  # typing over the assistant is a barge-in
            if reload_cast is not None:
                reload_cast()
                printer.name = session.active.name
            _run_turn(core, pipeline, line.strip(), printer)
    finally:
        printer.write("\n" if interactive else "")
        if speaker is not None:
            speaker.close()
        core.submit(client.aclose()).result(timeout=5)
        core.close()
    return 0


def _read_line(stdin: TextIO, prompt: str, printer: _Printer) -> str | None:
    """One line of input, or None at end of input (Ctrl+D)."""
    if stdin is sys.stdin:
        try:
            return input(prompt)
        except EOFError:
            return None
    printer.write(prompt)
    line = stdin.readline()
    return line.rstrip("\n") if line else None


def _run_turn(core: _LoopThread, pipeline: TurnPipeline, text: str, printer: _Printer) -> None:
    finished = threading.Event()

    async def guarded() -> Any:
        try:
            return await pipeline.run_turn(text)
        finally:
            finished.set()

    future = core.submit(guarded())
    try:
        while not finished.wait(0.05):
            pass
        future.result()
    except KeyboardInterrupt:
        future.cancel()  # cancels the task: closes the stream, stops speech
        with contextlib.suppress(KeyboardInterrupt):
            finished.wait(5)
    except Exception:
        log.exception("turn failed unexpectedly")
        printer.notice("Something went wrong in that turn; details are in the log. Try again.")
