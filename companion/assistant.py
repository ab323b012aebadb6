"""The assistant: the one core every front end drives (the screen, `chat`, `listen`, the
dialogue runner, the benchmarks).

It owns everything about taking turns: listening (the listener's events), end of speech and
speculation (a reply started on the recogniser's guess, kept silent until the final words
confirm it, dropped without a trace otherwise), routing and answering (through
`TurnPipeline`), streaming speech, barge-in, switching listeners, the simulated drive and a
clean shutdown. A front end feeds it text (`say`, `ask`), key presses (`press`, `release`,
`stop`) and settings, and renders the typed events (`companion.events`) handed to `post`.
`post` may be called from any thread; the front end hops to its own.

It runs on one asyncio loop (`start()` on that loop). The blocking loaders (`load_*`) are
meant for worker threads, so the first frame never waits for a model. Barge-in is decided on
the thread that notices it (the listener's, for the driver's voice) and acts at once: the
speaker stops on that thread, the turn is cancelled on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .car import Car
from .config import Settings, resolve_endpoint
from .events import (
    ActionTaken,
    AnyEvent,
    BargeIn,
    DriveUpdate,
    EndOfSpeechLikely,
    FinalTranscript,
    InputProblem,
    ListenerEvent,
    ListenerState,
    NothingHeard,
    Notice,
    SafetyChanged,
    SentenceSpoken,
    SpeechStarted,
    Status,
    TurnError,
    WakePhraseHeard,
)
from .personas.session import PersonaSession
from .redaction import redact, redact_event
from .text import same_words

log = logging.getLogger(__name__)

SPECULATION_TIMEOUT_S = 5.0  # a guess whose final transcript never came is dropped
NO_LLM = (
    "No language model is set up, so open conversation is off (navigation, search and "
    "personas still work). Set XAI_API_KEY or OPENAI_API_KEY, or start Ollama, then "
    "restart."
)

Post = Callable[[AnyEvent], None]
Spawn = Callable[[Coroutine[Any, Any, Any]], None]
# (on_event) -> (listener, notice to show once); raises when there is no way to listen
ListenerFactory = Callable[[Callable[[ListenerEvent], None]], tuple[Any, str | None]]
# (echo gate, on_problem) -> speaker; raises when there is no way to speak
SpeakerFactory = Callable[[Any, Callable[[str], None]], Any]


@dataclass
class _Guess:
    """A speculative turn started on the recogniser's guess, waiting for the final words."""

    text: str
    confirmed: asyncio.Event
    started: float
    task: asyncio.Task[None] | None = None
    dropped: bool = False


@dataclass
class Parts:
    """What the assistant would otherwise build from the settings: a test, the dialogue
    runner or a benchmark hands in its own (a scripted model, fake speech, sample places)."""

    client: Any = None
    skills: tuple[Any, Any] | None = None  # (navigator, searcher); None: from the settings
    make_listener: ListenerFactory | None = None
    make_speaker: SpeakerFactory | None = None
    clock: Callable[[], float] = time.monotonic


class Assistant:
    """Create it, call `start()` on the loop, run the `load_*` methods in worker threads."""

    def __init__(
        self,
        settings: Settings,
        session: PersonaSession,
        post: Post,
        *,
        audio_in: Path | None = None,
        reload_cast: Callable[[], None] | None = None,
        spawn: Spawn | None = None,
        parts: Parts | None = None,
        tick_s: float = 1.0,
        greet: bool = True,
        streaming_speech: bool = True,
        record: Path | None = None,
    ) -> None:
        self.settings = settings
        self.session = session

        def post_redacted(event: AnyEvent) -> None:
            # The one redaction path: nothing a front end shows, logs, times or records can
            # carry a key, a URL's password or an Authorization value.
            post(redact_event(event))

        self.post = post_redacted
        self.recorder = None
        if record is not None:  # --record FILE: every event also goes to the recording
            from .recording import SessionRecorder, session_header

            recorder = self.recorder = SessionRecorder(record, session_header(settings, session))

            def post_and_record(event: AnyEvent) -> None:
                event = redact_event(event)
                recorder.write(event)
                post(event)

            self.post = post_and_record
        self.audio_in = audio_in
        self.reload_cast = reload_cast
        self.parts = parts or Parts()
        self.clock = self.parts.clock
        self.tick_s = tick_s
        self.greet = greet
        self.streaming_speech = streaming_speech
        self._spawn = spawn
        self.car = Car()
        self.client: Any = None
        self.pipeline: Any = None
        self.navigator: Any = None
        self.searcher: Any = None
        self.speaker: Any = None
        self.listener: Any = None
        self.cues: Callable[[str], None] = lambda name: None  # earcons, once speech is on
        self.echo_gate: Any = None
        self.muted = settings.speech.mute
        self.volume = 1.0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.fixed_speed: float | None = None  # set_speed(): the car's speed is not simulated
        self._speed_fixed = False
        self._turn: asyncio.Task[None] | None = None
        self._guess: _Guess | None = None
        self._closed = False
        self._greeted = False
        self._paused_listener: Any = None  # paused while we speak (no barge-in by voice)
        self._drive: asyncio.Task[None] | None = None
        self._skills_ready: asyncio.Event | None = None
        self._core_loaded = threading.Event()  # the echo gate exists (the listener needs it)

    # --- start-up ----------------------------------------------------------------------------

    def start(self) -> None:
        """On the loop, instantly: remember the loop, start the drive. The rest is loaded by
        the `load_*` methods."""
        self.loop = asyncio.get_running_loop()
        self._skills_ready = asyncio.Event()
        if self.tick_s > 0:
            self._drive = asyncio.ensure_future(self._drive_loop())

    def load(self, voice: bool = False) -> None:
        """Blocking, everything in order (for front ends without a first frame to show):
        returns once every part is attached on the loop."""
        self.load_core()
        if voice:
            self.load_speech_in()
        self.sync()

    def sync(self) -> None:
        """Blocking (not on the loop): wait until what the loaders handed the loop is done."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(timeout=30)

    def load_core(self) -> None:
        """Blocking (imports httpx, numpy and the pipeline's stages): the LLM client, the
        pipeline, navigation and search, then the voice. Run it in a worker thread."""
        try:
            self._load_core()
        except Exception as exc:  # a broken install: say so, keep the front end up
            log.exception("the assistant could not start")
            self._core_loaded.set()
            self.post(
                Status(
                    "llm",
                    "problem",
                    f"The assistant could not start ({exc}); "
                    "reinstall with `bash .ci/setup`. Details are in the log.",
                )
            )

    def _load_core(self) -> None:
        from .audio.echo import EchoGate
        from .llm.local import TINY, make_client
        from .pipeline import TurnPipeline

        if self.settings.speech.barge_in:
            self.echo_gate = EchoGate()  # its canceller comes with the microphone
        client = self.parts.client
        endpoint = client.endpoint if client is not None else resolve_endpoint(self.settings)
        if client is None:
            client = make_client(endpoint)
        pipeline = TurnPipeline(
            self.session,
            client,
            None,
            self._on_event,
            offer_tools=self.settings.llm.tools,
            streaming_speech=self.streaming_speech,
        )

        def attach() -> None:
            self.client, self.pipeline = client, pipeline
            pipeline.speed_kmh = self.speed_kmh

        self._on_loop(attach)
        self._core_loaded.set()
        if endpoint.problem:  # the local model can't run: why, in one line, on the banner
            self.post(Status("llm", "problem", endpoint.problem))
        elif endpoint.provider == "local":
            self.post(Status("llm", "ready", endpoint.label))
            if TINY in endpoint.label:  # honest about it, on the screen and in chat
                self.post(
                    Notice(
                        f"Brain: {endpoint.label}. Its replies are weak; for real "
                        "conversation set up a bigger model (companion models list)."
                    )
                )
        elif endpoint.configured:
            self.post(Status("llm", "ready", f"{endpoint.label} · {endpoint.model}"))
        else:
            self.post(Status("llm", "off", NO_LLM))
        self.load_skills()
        self.load_speech_out()

    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(fn, *args)

    def load_skills(self) -> None:
        """Blocking (reads data files): navigation and search."""
        navigator = searcher = None

        def attach() -> None:
            self.navigator, self.searcher = navigator, searcher
            self.pipeline.set_skills(navigator, searcher)
            if navigator is not None:
                self.post(
                    Status(
                        "navigation",
                        "ready",
                        "offline maps" if not self.settings.navigation.online else "online maps",
                    )
                )
            self.post(self._drive_update())
            if self._skills_ready is not None:
                self._skills_ready.set()

        try:
            if self.parts.skills is not None:
                navigator, searcher = self.parts.skills
            else:
                navigator, searcher = build_skills(self.settings, self._skill_problem)
        finally:
            self._on_loop(attach)

    def _skill_problem(self, part: str, text: str) -> None:
        self.post(Status(part, "problem", text))

    def load_speech_out(self) -> None:
        """Blocking (starts the speech engine's process): the speaker."""
        if self.speaker is not None:
            return  # already loaded (unmuting only reconnects it)
        if self.muted:
            self.post(Status("speech_out", "off", "Speech is muted."))
            return
        self.post(Status("speech_out", "loading", "Starting the voice…"))
        try:
            make = self.parts.make_speaker or _default_speaker(self.settings)
            speaker = make(self.echo_gate, self._speech_problem)
        except Exception as exc:  # the engine or device: keep going as text
            log.warning("speech output unavailable", exc_info=True)
            self.post(
                Status(
                    "speech_out",
                    "problem",
                    f"Speech is unavailable: {exc}. Replies "
                    "are shown as text; check `companion devices`.",
                )
            )
            return
        speaker.volume = self.volume

        def attach() -> None:
            if self._closed or self.muted:
                speaker.close()
                return
            self.speaker = speaker
            self.pipeline.speaker = speaker
            self.cues = _cues(speaker, self.settings.speech.earcons)
            self.post(Status("speech_out", "ready", "Speech on"))
            if self.greet and not self._greeted:
                self._greeted = True
                if not self._turn_running:
                    persona = self.session.active

                    def greeted(text: str, stopped: bool, played: float) -> None:
                        # Turn 0: the greeting's end is an event like any sentence's (a front
                        # end or a test waits for it, never for the clock). The first turn
                        # wires the speaker to itself.
                        self.post(SentenceSpoken(0, text, stopped))

                    speaker.on_spoken = greeted
                    speaker.say(persona.greeting, persona.voice)

        self._on_loop(attach)

    def _speech_problem(self, message: str) -> None:
        self.post(Status("speech_out", "problem", message))

    def load_speech_in(self) -> None:
        """Blocking (loads the recogniser's model): the listener on the microphone, or on
        `audio_in`. Failing is a Status problem: typing still works."""
        self._core_loaded.wait(30)
        gate = self.echo_gate
        if gate is not None and gate.canceller is None:
            # Only a microphone needs it: typed and muted sessions never load WebRTC's binding
            # (a third of a second of start-up).
            gate.canceller = _echo_canceller(self.settings)
        old, self.listener = self.listener, None
        if old is not None:
            old.stop()
        speech = self.settings.speech
        self.post(Status("speech_in", "loading", "Loading speech recognition…"))
        try:
            make = self.parts.make_listener or self._default_listener
            listener, notice = make(self._on_listener_event)
        except Exception as exc:  # engine, model, device or file problem
            log.info("voice input unavailable", exc_info=True)
            self.post(
                Status(
                    "speech_in",
                    "problem",
                    f"Voice input is off: {redact(str(exc))} Typing still works.",
                )
            )
            return
        if self._barge_in_by_voice:
            listener.echo_gate = self.echo_gate
        if self._closed:
            return
        if notice:
            self.post(Notice(notice))
        self.listener = listener
        listener.start()
        description = getattr(getattr(listener, "engine", None), "description", "listening")
        self.post(
            Status("speech_in", "ready", f"{description} · {speech.listen_mode.replace('_', ' ')}")
        )

    def _default_listener(
        self, on_event: Callable[[ListenerEvent], None]
    ) -> tuple[Any, str | None]:
        from .stt.factory import create_listener

        return create_listener(self.settings.speech, on_event, self.audio_in)

    @property
    def _barge_in_by_voice(self) -> bool:
        speech = self.settings.speech
        return speech.barge_in and speech.listen_mode != "push_to_talk"

    def listening_done(self) -> bool:
        """No listener, or it has finished (a recording played to its end)."""
        listener = self.listener
        return listener is None or listener.finished.is_set()

    # --- talking -----------------------------------------------------------------------------

    def busy(self) -> bool:
        """A reply is being generated or spoken."""
        return self._turn_running or self.speaking

    @property
    def speaking(self) -> bool:
        return self.speaker is not None and self.speaker.busy

    @property
    def _turn_running(self) -> bool:
        return self._turn is not None and not self._turn.done()

    def say(self, text: str) -> None:
        """On the loop: typed words (or a tapped choice) are a new turn, interrupting any
        reply."""
        text = text.strip()
        if text:
            self._start(self._typed(text))

    async def ask(self, text: str) -> Any:
        """Typed words as a turn, awaited: returns its last event (ReplyDone or TurnError),
        None if it was interrupted or there was nothing to say."""
        text = text.strip()
        if not text:
            return None
        with contextlib.suppress(asyncio.CancelledError):
            return await self._typed(text)
        return None

    def _typed(self, text: str) -> Coroutine[Any, Any, Any]:
        self.barge_in("typed")
        self._drop_guess()
        return self._run(lambda: self.pipeline.run_turn(text), None)

    def pick_persona(self, persona_id: str) -> None:
        self.barge_in("picker")
        self._start(self._run(lambda: self.pipeline.pick_persona(persona_id), None))

    def press(self) -> None:
        """Push-to-talk pressed (key or mic button): interrupts a reply, then opens (or, when
        toggling, closes) the microphone."""
        self.barge_in("push_to_talk")
        if self.listener is not None:
            self.listener.press()

    def release(self) -> None:
        if self.listener is not None:
            self.listener.release()

    def stop(self) -> None:
        """Stop talking now (Escape, Ctrl+C): silence and cancel the turn. Any thread."""
        self.barge_in("stop")

    def barge_in(self, why: str) -> None:
        """From any thread: stop the reply at once (speaker now, turn on its loop)."""
        if not self.busy():
            return
        guess = self._guess
        if guess is not None and guess.task is self._turn and not guess.confirmed.is_set():
            return  # an unconfirmed guess is silent: nothing to interrupt
        at = self.clock()
        if self.speaker is not None:
            self.speaker.stop()
        task = self._turn
        if task is not None and not task.done():
            self._on_loop(task.cancel)
        log.info("barge-in (%s)", why)
        self.post(BargeIn(why, t=at))

    def _start(self, coro: Coroutine[Any, Any, Any]) -> None:
        if self._spawn is not None:
            self._spawn(coro)
        else:
            asyncio.ensure_future(coro)

    async def _run(self, make: Callable[[], Awaitable[Any]], guess: _Guess | None) -> Any:
        """One turn at a time: a new one cancels (and waits out) the one before it."""
        me = asyncio.current_task()
        previous, self._turn = self._turn, me
        if guess is not None:
            guess.task = me
        if previous is not None and not previous.done():
            previous.cancel()
            await asyncio.wait({previous})
        if (guess is not None and guess.dropped) or self.pipeline is None:
            return None
        if self._skills_ready is not None and not self._skills_ready.is_set():
            # The first request can come before the data files are read (well under a
            # second); it waits for them rather than going to the persona.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._skills_ready.wait(), 10)
        try:
            if guess is None:
                self._pause_listening()
                if self.reload_cast is not None:
                    self.reload_cast()
            return await make()
        finally:
            if self._turn is me:
                self._turn = None
                await self._resume_listening()

    def _pause_listening(self) -> None:
        """Without barge-in by voice, hands-free listening pauses while we answer: the
        microphone must not hear the assistant's own voice as the driver."""
        speech = self.settings.speech
        listener = self.listener
        if (
            listener is None
            or speech.barge_in
            or speech.listen_mode == "push_to_talk"
            or self._paused_listener is listener
        ):
            return
        listener.pause()
        self._paused_listener = listener

    async def _resume_listening(self) -> None:
        listener = self._paused_listener
        if listener is None:
            return
        if self.speaker is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.to_thread(self.speaker.wait_until_done, 120)
        if self._paused_listener is listener and not self._turn_running:
            self._paused_listener = None
            listener.resume()

    def _on_event(self, event: AnyEvent) -> None:
        """The pipeline's events (on the loop)."""
        self.post(event)
        if isinstance(event, TurnError):
            self.cues("error")
        elif isinstance(event, ActionTaken) and event.skill == "navigation":
            self.post(self._drive_update())

    # --- the microphone ----------------------------------------------------------------------

    def _on_listener_event(self, event: ListenerEvent) -> None:
        """On the listener's thread: barge-in here, turns on the loop, everything shown (first,
        so the front end knows the words before a turn on them starts)."""
        self.post(event)
        mode = self.settings.speech.listen_mode
        match event:
            case SpeechStarted():
                if self._barge_in_by_voice and mode == "hands_free":
                    self.barge_in("voice")
            case EndOfSpeechLikely():
                self._on_loop(self._speculate, event.text)
            case FinalTranscript():
                self.cues("got_it")
                self._on_loop(self._heard, event.text)
            case WakePhraseHeard():
                self.barge_in("wake_phrase")
                self.cues("listening")
            case ListenerState(state="listening") if mode == "push_to_talk":
                self.cues("listening")
            case NothingHeard():
                self._on_loop(self._drop_guess)
            case InputProblem():
                self._on_loop(self._drop_guess)
                self.cues("error")
                self.post(Status("speech_in", "problem", event.message))

    def _speculate(self, text: str) -> None:
        """Start the reply on the recogniser's guess; it stays silent until confirmed."""
        if not text.strip() or self.pipeline is None:
            return
        guess = self._guess
        running = self._turn_running
        if running and (guess is None or guess.task is not self._turn):
            return  # a real turn is running
        if not running and self.speaking:
            return  # still speaking: this is a barge-in, not a pause
        if guess is not None:
            if same_words(guess.text, text):
                return
            self._drop_guess()  # the driver said more: guess again
        confirmed = asyncio.Event()
        guess = self._guess = _Guess(text, confirmed, self.clock())
        self._start(self._run(lambda: self.pipeline.run_turn(text, confirmed), guess))

    def _heard(self, text: str) -> None:
        """The final transcript: confirm the guess if it had these words, else a new turn."""
        guess, self._guess = self._guess, None
        if guess is not None and not guess.dropped and same_words(guess.text, text):
            self._pause_listening()
            guess.confirmed.set()
            return
        if guess is not None:
            self._cancel_guess(guess)
        if text.strip():
            self._start(self._run(lambda: self.pipeline.run_turn(text.strip()), None))

    def _drop_guess(self) -> None:
        guess, self._guess = self._guess, None
        if guess is not None:
            self._cancel_guess(guess)

    def _cancel_guess(self, guess: _Guess) -> None:
        guess.dropped = True
        if guess.task is not None and not guess.task.done() and not guess.confirmed.is_set():
            guess.task.cancel()  # leaves no trace (see TurnPipeline.run_turn)

    # --- the car -----------------------------------------------------------------------------

    async def _drive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                self.tick(self.tick_s)
            except Exception:  # a bug in the drive must not stop the assistant
                log.exception("the simulated drive failed")

    def tick(self, seconds: float = 1.0) -> None:
        """On the loop, once a second: the simulated drive moves on; a guess that never got
        its final words is dropped."""
        nav = self.settings.navigation
        if nav.simulate_drive:
            self.drive(seconds * nav.sim_speedup)
        guess = self._guess
        if guess is not None and self.clock() - guess.started > SPECULATION_TIMEOUT_S:
            self._drop_guess()
        self.post(self._drive_update())

    def drive(self, seconds: float) -> None:
        """`seconds` of simulated driving along the route (arrivals become Notices)."""
        navigator = self.navigator
        if navigator is not None:
            speed = navigator.trip.speed_kmh
            for event in navigator.advance(seconds):
                self.post(Notice(event.describe()))
            self.car.drive(seconds, speed if navigator.trip.active else 0.0)
        if self.pipeline is not None:
            self.pipeline.speed_kmh = self.speed_kmh

    @property
    def speed_kmh(self) -> float | None:
        """What the personas' speed limits see: the simulated car's, unless `set_speed`."""
        return self.fixed_speed if self._speed_fixed else self.car.speed_kmh

    def set_speed(self, kmh: float | None) -> None:
        """Fix the speed the personas see (a dialogue test's `speed_kmh`); None: unknown."""
        self.fixed_speed, self._speed_fixed = kmh, True
        if self.pipeline is not None:
            self.pipeline.speed_kmh = kmh

    def _drive_update(self) -> DriveUpdate:
        car = self.car
        trip = self.navigator.snapshot() if self.navigator is not None else None
        return DriveUpdate(
            car.speed_kmh,
            car.gear,
            car.battery_percent,
            car.range_km,
            car.outside_c,
            car.climate_c,
            trip,
        )

    def set_climate(self, celsius: float) -> float:
        value = self.car.set_climate(celsius)
        self.post(self._drive_update())
        return value

    # --- settings from the front end ---------------------------------------------------------

    def set_volume(self, volume: float) -> float:
        self.volume = min(1.0, max(0.0, round(volume, 2)))
        if self.speaker is not None:
            self.speaker.volume = self.volume
        return self.volume

    def set_muted(self, muted: bool) -> None:
        """Muted: replies are text only (the speaker stays ready for unmuting)."""
        self.muted = muted
        if self.pipeline is None:
            return
        if muted:
            if self.speaker is not None:
                self.speaker.stop()
            self.pipeline.speaker = None
            self.cues = lambda name: None
            self.post(Status("speech_out", "off", "Speech is muted."))
        elif self.speaker is not None:
            self.pipeline.speaker = self.speaker
            self.cues = _cues(self.speaker, self.settings.speech.earcons)
            self.post(Status("speech_out", "ready", "Speech on"))

    def set_kids_mode(self, on: bool) -> None:
        self._set_safety(kids_mode=on)

    def set_mature_content(self, on: bool) -> None:
        self._set_safety(mature_content=on)

    def _set_safety(self, **change: bool) -> None:
        session = self.session
        took_over = session.set_safety(**change)
        self.post(SafetyChanged(session.kids_mode, session.mature_content))
        if took_over is not None:
            what = "Kids mode is on" if session.kids_mode else "Mature content is off"
            text = f"{what}, so {took_over.name} takes over. {took_over.greeting}"
            self.barge_in("safety")
            self._start(
                self._run(lambda: self.pipeline.announce(text, switched_to=took_over), None)
            )

    def set_listen_mode(self, mode: str) -> None:
        """Blocking (restarts the listener): call from a worker thread."""
        self.settings.speech.listen_mode = mode
        self.load_speech_in()

    # --- shutting down -----------------------------------------------------------------------

    def close_blocking(self) -> None:
        """Blocking: stop the listener and the speaker (from a thread, or at exit)."""
        self._closed = True
        if self.recorder is not None:
            self.recorder.close()
        if self.listener is not None:
            self.listener.stop()
        if self.speaker is not None:
            self.speaker.close()

    async def aclose(self) -> None:
        """On the loop: cancel and await every task of ours, then close every part."""
        self._closed = True
        self._drop_guess()
        tasks = {t for t in (self._turn, self._drive) if t is not None and not t.done()}
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        await asyncio.to_thread(self.close_blocking)
        if self.client is not None:
            await self.client.aclose()
        for skill in (self.navigator, self.searcher):
            if skill is not None:
                await skill.aclose()


def build_skills(settings: Settings, problem: Callable[[str, str], None]) -> tuple[Any, Any]:
    """Navigation and search from the settings. A bad setting or data file is reported as
    `problem(part, message)` and that skill is left out (its requests go to the persona)."""
    from .navigation import build_navigator
    from .schema import DataFileError
    from .search import build_searcher

    navigator = searcher = None
    try:
        if settings.navigation.enabled:
            navigator = build_navigator(settings)
            threading.Thread(
                target=navigator.gazetteer.preload, name="gazetteer", daemon=True
            ).start()
    except (ValueError, DataFileError) as exc:
        problem("navigation", f"Navigation is off: {exc}")
    try:
        if settings.search.enabled:
            searcher = build_searcher(settings)
    except (ValueError, OSError) as exc:
        problem("search", f"Search is off: {exc}")
    return navigator, searcher


def _echo_canceller(settings: Settings) -> Any:
    """WebRTC's echo canceller, when it is installed and wanted (else the gate works alone)."""
    from .audio import aec

    if not settings.speech.echo_cancellation or not aec.available():
        return None
    try:
        return aec.EchoCanceller()
    except Exception:  # a broken binding must not cost the conversation
        log.warning("echo cancellation is unavailable", exc_info=True)
        return None


def _default_speaker(settings: Settings) -> SpeakerFactory:
    def make(echo_gate: Any, on_problem: Callable[[str], None]) -> Any:
        from .audio.playback import AudioPlayer
        from .tts.factory import Synthesizer, create_synthesizer
        from .tts.speaker import Speaker
        from .tts.synth import Pyttsx3Synthesizer, SynthesisError

        player = AudioPlayer(settings.speech.output_device, echo_gate=echo_gate)
        try:
            synthesizer: Synthesizer = create_synthesizer(settings.speech)
        except SynthesisError as exc:
            on_problem(f"{exc} Speaking with eSpeak meanwhile.")
            synthesizer = Pyttsx3Synthesizer()
        return Speaker(synthesizer, player=player, on_problem=on_problem)

    return make


def _cues(speaker: Any, enabled: bool) -> Callable[[str], None]:
    """Earcons through the speaker (in order with speech), if earcons are on."""
    if not enabled:
        return lambda name: None
    from .tts.earcons import Earcons

    earcons = Earcons()

    def cue(name: str) -> None:
        audio = earcons.get(name)
        if audio is not None:
            speaker.cue(audio, name)

    return cue
