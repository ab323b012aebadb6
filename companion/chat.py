"""`companion chat`: the assistant in a plain terminal, typed in, streamed out, spoken aloud.

The asyncio core runs on a background thread; the main thread reads lines (with readline
editing where available) and owns Ctrl+C: pressed during a reply it cancels the turn, which
closes the LLM stream and stops speech, and the prompt comes back. Ctrl+D quits.

With `--voice` (or `--audio-in FILE`) a listener runs beside the keyboard: its final
transcripts and the typed lines go into one queue that the main thread takes turns from, so
either way of talking works at any time. `companion listen` is the same loop without the
keyboard.

Barge-in: pressing push-to-talk (Enter on an empty line), the wake phrase, or in hands-free
mode the driver starting to speak, during a reply stops playback at once and cancels the turn
(the LLM stream is closed; the history keeps what was heard, marked interrupted). The listener
keeps running while the assistant speaks, so the new utterance is captured from its first
syllable; an echo gate (`companion.audio.echo`) keeps the assistant's own voice from counting
as the driver. With `speech.barge_in = false` hands-free listening pauses while it speaks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TextIO

from .audio.echo import EchoGate
from .audio.playback import AudioPlayer
from .config import Settings, resolve_endpoint
from .events import (
    ActionTaken,
    EndOfSpeechLikely,
    Event,
    FinalTranscript,
    InputLevel,
    InputProblem,
    ListenerEvent,
    ListenerState,
    NothingHeard,
    PartialTranscript,
    PersonaSwitched,
    ReplyDelta,
    ReplyDone,
    SpeechStarted,
    TurnError,
    WakePhraseHeard,
    event_record,
)
from .frontend import Cues, build_skills, same_words
from .llm.client import ChatClient
from .navigation import Navigator
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
        self._action: str | None = None

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
        elif isinstance(event, ActionTaken):
            self._action = event.summary  # shown before the reply unless the reply says it
        elif isinstance(event, ReplyDelta):
            with self.lock:
                action, self._action = self._action, None
                if action and action != event.text and not self.mid_reply:
                    self.out.write(f"  [{action}]\n")
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


class _Timings:
    """`--timings FILE`: every event as a JSON line, for benchmarks and debugging."""

    def __init__(self, path: Path | None) -> None:
        self._file = path.open("w", encoding="utf-8") if path else None
        self._lock = threading.Lock()

    def write(self, event: Any) -> None:
        if self._file is None:
            return
        record = event if isinstance(event, dict) else event_record(event)
        line = json.dumps(record, default=str)
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            with self._lock:
                self._file.close()


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
    keyboard: bool = True,
    timings: Path | None = None,
    streaming_speech: bool = True,
) -> int:
    """The REPL (or, with `keyboard=False`, the hands-free loop of `companion listen`).
    Returns the process exit status."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = keyboard and stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()

    endpoint = resolve_endpoint(settings)
    persona = session.active
    printer = _Printer(stdout, persona.name)
    speaker = None
    echo_gate = EchoGate() if settings.speech.barge_in else None
    if not settings.speech.mute:
        player = AudioPlayer(settings.speech.output_device, echo_gate=echo_gate)
        speaker = Speaker(player=player, on_problem=printer.notice)
    cues = Cues(speaker, settings.speech.earcons)
    log_timings = _Timings(timings)

    def on_event(event: Event) -> None:
        log_timings.write(event)
        printer.on_event(event)
        if isinstance(event, TurnError):
            cues("error")

    core = _LoopThread()
    client = ChatClient(endpoint)
    navigator, searcher = build_skills(settings, printer.notice)
    pipeline = TurnPipeline(session, client, speaker, on_event,
                            streaming_speech=streaming_speech,
                            navigator=navigator, searcher=searcher,
                            offer_tools=settings.llm.tools)
    drive = None
    if navigator is not None and settings.navigation.simulate_drive:
        drive = core.submit(_simulate_drive(navigator, pipeline, printer,
                                            settings.navigation.sim_speedup))

    model = f"{endpoint.label} ({endpoint.model})" if endpoint.configured else "no language model"
    speech = "speech off (--mute)" if speaker is None else "speech on"
    modes = (" · kids mode" if session.kids_mode else "") + (
        " · mature content on" if session.mature_content and not session.kids_mode else "")
    if banner:
        printer.write(
            f"companion chat · {persona.name} · {model} · {speech}{modes}\n"
            "Type a message and press Enter. Ctrl+C stops a reply, Ctrl+D quits.\n"
            if keyboard else
            f"companion listen · {persona.name} · {model} · {speech}{modes}\n"
            "Speak to it; speak again to interrupt a reply. Ctrl+C stops a reply, "
            "a second Ctrl+C quits.\n"
        )
        if session.start_notice:
            printer.notice(session.start_notice)
    voice_input = None
    if voice or audio_in:
        voice_input = _VoiceInput(settings, printer, interactive, core, speaker, cues,
                                  echo_gate, log_timings)
        voice_input.start(audio_in)
    if banner:
        printer.write(f"{persona.name}: {persona.greeting}\n")
        if speaker is not None:
            speaker.say(persona.greeting, persona.voice)

    try:
        if voice_input is not None:
            voice_input.loop(stdin if keyboard else None, pipeline, reload_cast, session)
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
        if drive is not None:
            drive.cancel()
        core.submit(client.aclose()).result(timeout=5)
        for skill in (navigator, searcher):
            if skill is not None:
                core.submit(skill.aclose()).result(timeout=5)
        core.close()
        log_timings.close()
    return 0


async def _simulate_drive(navigator: Navigator, pipeline: TurnPipeline, printer: _Printer,
                          speedup: float, tick: float = 1.0) -> None:
    """Move the simulated car along the route; the car's speed feeds the personas' speed
    limits (meditation is refused while driving)."""
    while True:
        await asyncio.sleep(tick)
        for event in navigator.advance(tick * speedup):
            printer.notice(event.describe())
        pipeline.speed_kmh = navigator.trip.speed_kmh


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


class _Turn:
    """A turn running on the core loop, cancellable from any thread.

    `speculative`: started on the recogniser's guess before the utterance has ended; it
    produces nothing the driver can see or hear until `confirm()` (see TurnPipeline.run_turn).
    """

    def __init__(self, core: _LoopThread, pipeline: TurnPipeline, text: str,
                 speculative: bool = False) -> None:
        self.core = core
        self.text = text
        self.speculative = speculative
        self.started_at = time.monotonic()
        self.finished = threading.Event()
        self.task: asyncio.Task | None = None
        self._confirmed: asyncio.Event | None = None
        self._confirm_asked = False

        async def guarded() -> Any:
            self.task = asyncio.current_task()
            if speculative:
                self._confirmed = asyncio.Event()
                if self._confirm_asked:
                    self._confirmed.set()
            try:
                return await pipeline.run_turn(text, self._confirmed)
            finally:
                self.finished.set()

        self.future = core.submit(guarded())

    def confirm(self) -> None:
        """The final transcript agreed: let the speculative turn speak."""
        self.speculative = False

        def on_loop() -> None:
            self._confirm_asked = True
            if self._confirmed is not None:
                self._confirmed.set()

        self.core.loop.call_soon_threadsafe(on_loop)

    def cancel(self) -> None:
        """Cancel the task on its loop; the pipeline then stops speech, closes the LLM stream
        and records the interrupted reply before `finished` is set."""
        if self.task is not None:
            self.core.loop.call_soon_threadsafe(self.task.cancel)
        else:
            self.future.cancel()  # not started yet

    def wait(self) -> None:
        while not self.finished.wait(0.05):
            if self.future.done():  # cancelled before it started
                return


def _run_turn(core: _LoopThread, pipeline: TurnPipeline, text: str, printer: _Printer,
              on_submit: Callable[[_Turn], None] | None = None) -> None:
    turn = _Turn(core, pipeline, text)
    if on_submit is not None:
        on_submit(turn)
    _await_turn(turn, printer)


def _await_turn(turn: _Turn, printer: _Printer) -> None:
    try:
        turn.wait()
        turn.future.result()
    except concurrent.futures.CancelledError:
        pass  # barge-in: the pipeline has recorded the interrupted reply
    except KeyboardInterrupt:
        turn.cancel()  # cancels the task: closes the stream, stops speech
        with contextlib.suppress(KeyboardInterrupt):
            turn.finished.wait(5)
    except Exception:
        log.exception("turn failed unexpectedly")
        printer.notice("Something went wrong in that turn; details are in the log. Try again.")


class _VoiceInput:
    """The microphone (or a recording) beside the keyboard; both feed one queue of turns.

    Listener events arrive on the listener's thread; barge-in is decided there (it must not
    wait for the main thread, which is busy running the turn it interrupts).
    """

    def __init__(self, settings: Settings, printer: _Printer, interactive: bool,
                 core: _LoopThread, speaker: Speaker | None, cues: Cues,
                 echo_gate: EchoGate | None, timings: _Timings) -> None:
        self.settings = settings
        self.printer = printer
        self.interactive = interactive
        self.core = core
        self.speaker = speaker
        self.cues = cues
        self.echo_gate = echo_gate
        self.timings = timings
        self.mode = settings.speech.listen_mode
        self.barge_in_by_voice = settings.speech.barge_in and self.mode != "push_to_talk"
        self.inputs: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self.listener: Any = None
        self.current: _Turn | None = None  # the running turn (maybe a speculative one)
        self.pipeline: TurnPipeline | None = None
        self.speculated = self.confirmed_speculations = 0
        self._lock = threading.Lock()
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
        if self.barge_in_by_voice:
            self.listener.echo_gate = self.echo_gate
        self.listener.start()

    # -- barge-in -------------------------------------------------------------------------

    def busy(self) -> bool:
        """A reply is being generated or spoken."""
        return self.current is not None or (self.speaker is not None and self.speaker.busy)

    # -- speculation: start the reply during the last pause, before the utterance has ended --

    def _speculate(self, text: str) -> None:
        pipeline = self.pipeline
        if pipeline is None or not self.inputs.empty():
            return
        with self._lock:
            current = self.current
            if current is not None and not current.speculative:
                return  # a real turn is running
            if current is None and self.speaker is not None and self.speaker.busy:
                return  # still speaking: this is a barge-in, not a pause
            if current is not None:
                if same_words(current.text, text):
                    return
                current.cancel()  # the driver said more: guess again
                current.wait()
            self.current = _Turn(self.core, pipeline, text, speculative=True)
            self.speculated += 1

    def _take_speculation(self, text: str | None) -> _Turn | None:
        """The speculative turn, if it guessed `text`; otherwise (or for None) drop it
        without a trace."""
        with self._lock:
            current = self.current
            if current is None or not current.speculative:
                return None
            if text is not None and same_words(current.text, text):
                self.confirmed_speculations += 1
                return current
            self.current = None
        current.cancel()
        current.wait()
        return None

    def _drop_stale_speculation(self, older_than: float) -> None:
        current = self.current
        if (current is not None and current.speculative
                and time.monotonic() - current.started_at > older_than):
            self._take_speculation(None)

    def barge_in(self, why: str) -> None:
        """Stop the reply now: silence the speaker, cancel the turn (closes the LLM stream)."""
        with self._lock:
            if not self.busy() or (self.current is not None and self.current.speculative):
                return
            at = time.monotonic()
            if self.speaker is not None:
                self.speaker.stop()
            turn = self.current
            if turn is not None:
                turn.cancel()
        log.info("barge-in (%s)", why)
        self.timings.write({"event": "BargeIn", "t": at, "why": why})

    def press(self) -> None:
        """Push-to-talk pressed: interrupts a reply, then opens (or closes) the microphone."""
        self.barge_in("push_to_talk")
        if self.listener is not None:
            self.listener.press()

    # -- listener events (on the listener's thread) -----------------------------------------

    def on_event(self, event: ListenerEvent) -> None:
        if not isinstance(event, InputLevel):
            self.timings.write(event)
        if isinstance(event, SpeechStarted):
            if self.barge_in_by_voice and self.mode == "hands_free" and self.busy():
                self.barge_in("voice")
        elif isinstance(event, EndOfSpeechLikely):
            self._speculate(event.text)
        elif isinstance(event, FinalTranscript):
            self._clear_partial()
            self.cues("got_it")
            self.inputs.put(("voice", event.text))
        elif isinstance(event, PartialTranscript):
            if self.interactive and event.text:
                self.printer.write(f"\r\x1b[K  … {event.text}")
                self._showing_partial = True
        elif isinstance(event, NothingHeard):
            self._drop_stale_speculation(0.0)
            self._clear_partial()
            if self.mode == "push_to_talk" or self.interactive:
                self.printer.notice("didn't catch that")
        elif isinstance(event, WakePhraseHeard):
            self.barge_in("wake_phrase")
            self.cues("listening")
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
                self.cues("listening")
                self.printer.notice("listening… press Enter to stop")
        elif isinstance(event, InputProblem):
            self._drop_stale_speculation(0.0)
            self._clear_partial()
            self.cues("error")
            self.printer.notice(event.message)

    def _clear_partial(self) -> None:
        if self._showing_partial:
            self.printer.write("\r\x1b[K")
            self._showing_partial = False

    # -- the main thread's loop --------------------------------------------------------------

    def _read_lines(self, stdin: TextIO) -> None:
        prompt = "you> " if self.interactive else ""
        while True:
            try:
                line = _read_line(stdin, prompt, self.printer)
            except Exception:
                line = None
            if line is not None and not line.strip() and self.mode == "push_to_talk":
                self.press()  # at once, even while a reply is running
                continue
            self.inputs.put(("eof", None) if line is None else ("text", line))
            if line is None:
                return

    def _listening_done(self) -> bool:
        return self.listener is None or self.listener.finished.is_set()

    def _set_current(self, turn: _Turn | None) -> None:
        with self._lock:
            self.current = turn

    def loop(self, stdin: TextIO | None, pipeline: TurnPipeline,
             reload_cast: Callable[[], None] | None, session: PersonaSession) -> None:
        self.pipeline = pipeline
        keyboard_open = stdin is not None
        if stdin is not None:
            threading.Thread(target=self._read_lines, args=(stdin,), name="keyboard",
                             daemon=True).start()
        speaker = self.speaker
        while True:
            try:
                try:
                    kind, value = self.inputs.get(timeout=0.1)
                except queue.Empty:
                    self._drop_stale_speculation(older_than=5.0)  # no final ever came
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
            if not text:
                continue
            speculation = self._take_speculation(text if kind == "voice" else None)
            if kind == "voice":
                self.printer.write(f"you (voice)> {text}\n")
            if speculation is not None:  # already running on the same words: let it speak
                speculation.confirm()
                try:
                    _await_turn(speculation, self.printer)
                finally:
                    self._set_current(None)
                continue
            if speaker is not None and self.interactive:
                speaker.stop()
            if reload_cast is not None:
                reload_cast()
                self.printer.name = session.active.name
            pause = (self.mode != "push_to_talk" and not self.barge_in_by_voice
                     and self.listener is not None)
            if pause:
                self.listener.pause()
            try:
                _run_turn(self.core, pipeline, text, self.printer, self._set_current)
                if pause and speaker is not None:
                    speaker.wait_until_done(timeout=120)
            finally:
                self._set_current(None)
                if pause:
                    self.listener.resume()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        self._drop_stale_speculation(0.0)
        if self.speculated:
            log.info("speculative starts: %d, confirmed: %d", self.speculated,
                     self.confirmed_speculations)
