"""`companion chat`: the assistant in a plain terminal, typed in, streamed out, spoken aloud.

The asyncio core runs on a background thread; the main thread reads lines (with readline
editing where available) and owns Ctrl+C: pressed during a reply it cancels the turn, which
closes the LLM stream and stops speech, and the prompt comes back. Ctrl+D quits.

With `--voice` (or `--audio-in FILE`) a listener runs beside the keyboard: its final
transcripts and the typed lines go into one queue that the main thread takes turns from, so
either way of talking works at any time. In push-to-talk mode Enter on an empty line starts
and stops listening; hands-free and wake-phrase modes stop hearing while the assistant speaks
(there is no echo cancellation yet, so it would otherwise answer itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sys
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TextIO

from .audio.playback import AudioPlayer
from .config import Settings, resolve_endpoint
from .events import (
    Event,
    FinalTranscript,
    InputProblem,
    ListenerEvent,
    ListenerState,
    NothingHeard,
    PartialTranscript,
    PersonaSwitched,
    ReplyDelta,
    ReplyDone,
    TurnError,
    WakePhraseHeard,
)
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
    voice: bool = False,
    audio_in: Path | None = None,
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
    voice_input = _VoiceInput(settings, printer, interactive) if voice or audio_in else None
    if voice_input is not None:
        voice_input.start(audio_in)
    if banner:
        printer.write(f"{persona.name}: {persona.greeting}\n")
        if speaker is not None:
            speaker.say(persona.greeting, persona.voice)

    try:
        if voice_input is not None:
            voice_input.loop(stdin, core, pipeline, speaker, reload_cast, session)
            return 0
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
        if voice_input is not None:
            voice_input.close()
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


class _VoiceInput:
    """The microphone (or a recording) beside the keyboard; both feed one queue of turns."""

    def __init__(self, settings: Settings, printer: _Printer, interactive: bool) -> None:
        self.settings = settings
        self.printer = printer
        self.interactive = interactive
        self.mode = settings.speech.listen_mode
        self.inputs: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self.listener: Any = None
        self._showing_partial = False
        self._announced = False

    def start(self, audio_in: Path | None) -> None:
        from .stt.factory import create_listener

        try:
            self.listener, notice = create_listener(self.settings.speech, self.on_event, audio_in)
        except Exception as exc:  # engine, model or file problem: keep typing
            self.printer.notice(f"Voice input is off: {exc} Typing still works.")
            return
        if notice:
            self.printer.notice(notice)
            log.info("%s", notice)
        self.listener.start()

    # Called on the listener's thread.
    def on_event(self, event: ListenerEvent) -> None:
        if isinstance(event, FinalTranscript):
            self._clear_partial()
            self.inputs.put(("voice", event.text))
        elif isinstance(event, PartialTranscript):
            if self.interactive and event.text:
                self.printer.write(f"\r\x1b[K  … {event.text}")
                self._showing_partial = True
        elif isinstance(event, NothingHeard):
            self._clear_partial()
            if self.mode == "push_to_talk" or self.interactive:
                self.printer.notice("didn't catch that")
        elif isinstance(event, WakePhraseHeard):
            self.printer.notice("listening")
        elif isinstance(event, ListenerState):
            if event.state == "waiting" and not self._announced:
                self._announced = True  # the microphone is open now: say how to talk
                how = {
                    "push_to_talk": "press Enter on an empty line to talk, Enter again to stop",
                    "hands_free": "just speak",
                    "wake_phrase": f'say "{self.settings.speech.wake_phrase}" and then your '
                    "request",
                }[self.mode]
                self.printer.notice(f"listening with {self.listener.engine.description}: {how}")
            elif event.state == "listening" and self.mode == "push_to_talk":
                self.printer.notice("listening… press Enter to stop")
        elif isinstance(event, InputProblem):
            self._clear_partial()
            self.printer.notice(event.message)

    def _clear_partial(self) -> None:
        if self._showing_partial:
            self.printer.write("\r\x1b[K")
            self._showing_partial = False

    def _read_lines(self, stdin: TextIO) -> None:
        prompt = "you> " if self.interactive else ""
        while True:
            try:
                line = _read_line(stdin, prompt, self.printer)
            except Exception:
                line = None
            self.inputs.put(("eof", None) if line is None else ("text", line))
            if line is None:
                return

    def _listening_done(self) -> bool:
        return self.listener is None or self.listener.finished.is_set()

    def loop(self, stdin: TextIO, core: _LoopThread, pipeline: TurnPipeline,
             speaker: Speaker | None, reload_cast: Callable[[], None] | None,
             session: PersonaSession) -> None:
        threading.Thread(target=self._read_lines, args=(stdin,), name="keyboard",
                         daemon=True).start()
        keyboard_open = True
        while True:
            try:
                try:
                    kind, value = self.inputs.get(timeout=0.1)
                except queue.Empty:
                    if not keyboard_open and self._listening_done() and self.inputs.empty():
                        return
                    continue
            except KeyboardInterrupt:
                if speaker is not None:
                    speaker.stop()
                if not keyboard_open:
                    return  # no keyboard: Ctrl+C is the way out
                self.printer.write("\n")
                continue
            if kind == "eof":
                if self.interactive or self.mode == "push_to_talk":
                    return  # Ctrl+D quits; without a keyboard push-to-talk cannot be pressed
                keyboard_open = False  # hands-free: the microphone keeps the chat going
                continue
            text = (value or "").strip()
            if kind == "text" and not text:
                if self.mode == "push_to_talk" and self.listener is not None:
                    if speaker is not None:
                        speaker.stop()  # pressing to talk is a barge-in
                    self.listener.press()
                continue
            if kind == "voice":
                self.printer.write(f"you (voice)> {text}\n")
            if speaker is not None and self.interactive:
                speaker.stop()
            if reload_cast is not None:
                reload_cast()
                self.printer.name = session.active.name
            hands_free = self.mode != "push_to_talk" and self.listener is not None
            if hands_free:
                self.listener.pause()
            try:
                _run_turn(core, pipeline, text, self.printer)
                if hands_free and speaker is not None:
                    speaker.wait_until_done(timeout=120)
            finally:
                if hands_free:
                    self.listener.resume()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
