"""The assistant as a long-running service for the screen (`companion` with no arguments).

It owns the turn pipeline, the speaker, the listener, the skills and the simulated car, and
runs on the front end's asyncio loop. Everything the front end shows is handed to `post` (any
thread may call it): the pipeline's turn events, the listener's events, and the three kinds
below (Status, DriveUpdate, Notice). The front end never reaches into a stage; it calls the
methods here (say, press, pick_persona, set_kids_mode, ...), and the blocking loaders
(`load_*`) are meant for worker threads so the first frame never waits for a model.

Barge-in is decided on the thread that notices it (the listener's, for the driver's voice)
and acts at once: the speaker stops on that thread, the turn is cancelled on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .car import Car
from .config import Settings, resolve_endpoint
from .events import (
    ActionTaken,
    EndOfSpeechLikely,
    Event,
    FinalTranscript,
    InputProblem,
    ListenerEvent,
    ListenerState,
    NothingHeard,
    SpeechStarted,
    TurnError,
    WakePhraseHeard,
)
from .frontend import same_words
from .personas.session import PersonaSession
from .redaction import redact

log = logging.getLogger(__name__)

SPECULATION_TIMEOUT_S = 5.0  # a guess whose final transcript never came is dropped


@dataclass(frozen=True)
class Status:
    """A part of the assistant is `loading`, `ready`, `off` or has a `problem`; `message`
    says what (and, for a problem, what to do)."""

    part: str  # llm | speech_in | speech_out | navigation | search
    state: str
    message: str
    t: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class DriveUpdate:
    """Once a second of the simulated drive (and after every navigation action)."""

    speed_kmh: float
    gear: str
    battery_percent: int
    range_km: float
    outside_c: float
    climate_c: float
    trip: dict | None  # Navigator.snapshot(), None without navigation


@dataclass(frozen=True)
class Notice:
    """Something to show in the transcript that is not a reply ("Arrived at ...")."""

    text: str


@dataclass(frozen=True)
class SafetyChanged:
    kids_mode: bool
    mature_content: bool


Post = Callable[[object], None]
Spawn = Callable[[Coroutine[Any, Any, Any]], None]


@dataclass
class _Guess:
    """A speculative turn started on the recogniser's guess, waiting for the final words."""

    text: str
    confirmed: asyncio.Event
    started: float = field(default_factory=time.monotonic)
    task: asyncio.Task | None = None
    dropped: bool = False


class Assistant:
    """The assistant behind an interactive screen. Create it, call `start()` on the loop,
    run the `load_*` methods in worker threads, call `tick()` once a second."""

    def __init__(
        self,
        settings: Settings,
        session: PersonaSession,
        post: Post,
        *,
        audio_in: Path | None = None,
        reload_cast: Callable[[], None] | None = None,
        spawn: Spawn | None = None,
    ) -> None:
        self.settings = settings
        self.session = session
        self.post = post
        self.audio_in = audio_in
        self.reload_cast = reload_cast
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
        self._turn: asyncio.Task | None = None
        self._guess: _Guess | None = None
        self._closed = False
        self._skills_ready: asyncio.Event | None = None
        self._core_loaded = threading.Event()  # the echo gate exists (the listener needs it)

    # --- start-up ----------------------------------------------------------------------------

    def start(self) -> None:
        """On the loop, instantly: remember the loop. Everything else is in the loaders."""
        self.loop = asyncio.get_running_loop()
        self._skills_ready = asyncio.Event()

    def load_core(self) -> None:
        """Blocking (imports httpx, numpy and the pipeline's stages): the LLM client, the
        pipeline, navigation and search, then the voice. Run it in a worker thread."""
        try:
            self._load_core()
        except Exception as exc:  # a broken install: say so on screen, keep the app up
            log.exception("the assistant could not start")
            self._core_loaded.set()
            self.post(Status("llm", "problem", f"The assistant could not start ({exc}); "
                             "reinstall with `bash .ci/setup`. Details are in the log."))

    def _load_core(self) -> None:
        from .audio.echo import EchoGate
        from .llm.client import ChatClient
        from .pipeline import TurnPipeline

        if self.settings.speech.barge_in:
            self.echo_gate = EchoGate()
        endpoint = resolve_endpoint(self.settings)
        client = ChatClient(endpoint)
        pipeline = TurnPipeline(self.session, client, None, self._on_event,
                                offer_tools=self.settings.llm.tools)

        def attach() -> None:
            self.client, self.pipeline = client, pipeline
            pipeline.speed_kmh = self.car.speed_kmh

        self._on_loop(attach)
        self._core_loaded.set()
        if endpoint.configured:
            self.post(Status("llm", "ready", f"{endpoint.label} · {endpoint.model}"))
        else:
            self.post(Status("llm", "off", "No language model is set up, so open conversation "
                             "is off (navigation, search and personas still work). Set "
                             "XAI_API_KEY or OPENAI_API_KEY, or start Ollama, then restart."))
        self.load_skills()
        self.load_speech_out()

    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(fn, *args)

    def load_skills(self) -> None:
        """Blocking (reads data files): navigation and search."""
        from .frontend import build_skills

        def notice(text: str) -> None:
            part = "navigation" if text.startswith("Navigation") else "search"
            self.post(Status(part, "problem", text))

        navigator = searcher = None

        def attach() -> None:
            self.navigator, self.searcher = navigator, searcher
            pipeline = self.pipeline
            pipeline.navigator, pipeline.searcher = navigator, searcher
            if navigator is not None:
                self.post(Status("navigation", "ready", "offline maps" if not
                                 self.settings.navigation.online else "online maps"))
            self.post(self._drive_update())
            self._skills_ready.set()

        try:
            navigator, searcher = build_skills(self.settings, notice)
        finally:
            self._on_loop(attach)

    def load_speech_out(self) -> None:
        """Blocking (starts the speech engine's process): the speaker."""
        if self.speaker is not None:
            return  # already loaded (unmuting only reconnects it)
        if self.muted:
            self.post(Status("speech_out", "off", "Speech is muted."))
            return
        from .audio.playback import AudioPlayer
        from .frontend import Cues
        from .tts.speaker import Speaker

        self.post(Status("speech_out", "loading", "Starting the voice…"))
        try:
            player = AudioPlayer(self.settings.speech.output_device, echo_gate=self.echo_gate)
            speaker = Speaker(player=player, on_problem=self._speech_problem)
        except Exception as exc:  # the engine or device: keep going as text
            log.warning("speech output unavailable", exc_info=True)
            self.post(Status("speech_out", "problem", f"Speech is unavailable: {exc}. Replies "
                             "are shown as text; check `companion devices`."))
            return
        speaker.volume = self.volume

        def attach() -> None:
            if self._closed or self.muted:
                speaker.close()
                return
            self.speaker = speaker
            self.pipeline.speaker = speaker
            self.cues = Cues(speaker, self.settings.speech.earcons)
            self.post(Status("speech_out", "ready", "Speech on"))

        self._on_loop(attach)

    def _speech_problem(self, message: str) -> None:
        self.post(Status("speech_out", "problem", message))

    def load_speech_in(self) -> None:
        """Blocking (loads the recogniser's model): the listener on the microphone, or on
        `audio_in`. Failing is a Status problem: typing still works."""
        from .stt.factory import create_listener

        self._core_loaded.wait(30)
        old, self.listener = self.listener, None
        if old is not None:
            old.stop()
        speech = self.settings.speech
        self.post(Status("speech_in", "loading", "Loading speech recognition…"))
        try:
            listener, notice = create_listener(speech, self._on_listener_event, self.audio_in)
        except Exception as exc:  # engine, model, device or file problem
            log.info("voice input unavailable", exc_info=True)
            self.post(Status("speech_in", "problem",
                             f"Voice input is off: {redact(str(exc))} Typing still works."))
            return
        if speech.barge_in and speech.listen_mode != "push_to_talk":
            listener.echo_gate = self.echo_gate
        if self._closed:
            return
        self.listener = listener
        listener.start()
        ready = f"{listener.engine.description} · {speech.listen_mode.replace('_', ' ')}"
        self.post(Status("speech_in", "ready", ready + (f" · {notice}" if notice else "")))

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
        """Typed words (or a tapped choice): a new turn, interrupting any reply."""
        text = text.strip()
        if not text:
            return
        self.barge_in("typed")
        self._drop_guess()
        self._start(lambda: self.pipeline.run_turn(text))

    def pick_persona(self, persona_id: str) -> None:
        self.barge_in("picker")
        self._start(lambda: self.pipeline.pick_persona(persona_id))

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
        """Stop talking now (Escape): silence and cancel the turn."""
        self.barge_in("stop")

    def barge_in(self, why: str) -> None:
        """From any thread: stop the reply at once (speaker now, turn on its loop)."""
        if not self.busy():
            return
        guess = self._guess
        if guess is not None and guess.task is self._turn and not guess.confirmed.is_set():
            return  # an unconfirmed guess is silent: nothing to interrupt
        if self.speaker is not None:
            self.speaker.stop()
        task = self._turn
        if task is not None and not task.done():
            self._on_loop(task.cancel)
        log.info("barge-in (%s)", why)

    def _start(self, make: Callable[[], Awaitable[Any]], guess: _Guess | None = None) -> None:
        coro = self._run(make, guess)
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
        if guess is not None and guess.dropped:
            return None
        if self._skills_ready is not None and not self._skills_ready.is_set():
            # The first request can come before the data files are read (well under a
            # second); it waits for them rather than going to the persona.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._skills_ready.wait(), 10)
        try:
            if self.reload_cast is not None and guess is None:
                self.reload_cast()
            return await make()
        finally:
            if self._turn is me:
                self._turn = None

    def _on_event(self, event: Event) -> None:
        """The pipeline's events (on the loop)."""
        self.post(event)
        if isinstance(event, TurnError):
            self.cues("error")
        elif isinstance(event, ActionTaken) and event.skill == "navigation":
            self.post(self._drive_update())

    # --- the microphone ----------------------------------------------------------------------

    def _on_listener_event(self, event: ListenerEvent) -> None:
        """On the listener's thread: barge-in here, turns on the loop, everything shown (first,
        so the screen knows the words before a turn on them starts)."""
        self.post(event)
        mode = self.settings.speech.listen_mode
        by_voice = self.settings.speech.barge_in and mode != "push_to_talk"
        if isinstance(event, SpeechStarted):
            if by_voice and mode == "hands_free":
                self.barge_in("voice")
        elif isinstance(event, EndOfSpeechLikely):
            self._on_loop(self._speculate, event.text)
        elif isinstance(event, FinalTranscript):
            self.cues("got_it")
            self._on_loop(self._heard, event.text)
        elif isinstance(event, WakePhraseHeard):
            self.barge_in("wake_phrase")
            self.cues("listening")
        elif isinstance(event, ListenerState):
            if event.state == "listening" and mode == "push_to_talk":
                self.cues("listening")
        elif isinstance(event, (NothingHeard, InputProblem)):
            self._on_loop(self._drop_guess)
            if isinstance(event, InputProblem):
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
        guess = self._guess = _Guess(text, confirmed)
        self._start(lambda: self.pipeline.run_turn(text, confirmed), guess)

    def _heard(self, text: str) -> None:
        """The final transcript: confirm the guess if it had these words, else a new turn."""
        guess, self._guess = self._guess, None
        if guess is not None and not guess.dropped and same_words(guess.text, text):
            guess.confirmed.set()
            return
        if guess is not None:
            self._cancel_guess(guess)
        if text.strip():
            self._start(lambda: self.pipeline.run_turn(text.strip()))

    def _drop_guess(self) -> None:
        guess, self._guess = self._guess, None
        if guess is not None:
            self._cancel_guess(guess)

    def _cancel_guess(self, guess: _Guess) -> None:
        guess.dropped = True
        if guess.task is not None and not guess.task.done() and not guess.confirmed.is_set():
            guess.task.cancel()  # leaves no trace (see TurnPipeline.run_turn)

    # --- the car -----------------------------------------------------------------------------

    def tick(self, seconds: float = 1.0) -> None:
        """On the loop, once a second: the simulated drive moves on."""
        nav = self.settings.navigation
        simulated = seconds * nav.sim_speedup
        navigator = self.navigator
        if navigator is not None and nav.simulate_drive:
            speed = navigator.trip.speed_kmh
            for event in navigator.advance(simulated):
                self.post(Notice(event.describe()))
            self.car.drive(simulated, speed if navigator.trip.active else 0.0)
        if self.pipeline is not None:
            self.pipeline.speed_kmh = self.car.speed_kmh
        guess = self._guess
        if guess is not None and time.monotonic() - guess.started > SPECULATION_TIMEOUT_S:
            self._drop_guess()
        self.post(self._drive_update())

    def _drive_update(self) -> DriveUpdate:
        car = self.car
        trip = self.navigator.snapshot() if self.navigator is not None else None
        return DriveUpdate(car.speed_kmh, car.gear, car.battery_percent, car.range_km,
                           car.outside_c, car.climate_c, trip)

    def set_climate(self, celsius: float) -> float:
        value = self.car.set_climate(celsius)
        self.post(self._drive_update())
        return value

    # --- settings from the screen ------------------------------------------------------------

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
            from .frontend import Cues

            self.pipeline.speaker = self.speaker
            self.cues = Cues(self.speaker, self.settings.speech.earcons)
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
            what = ("Kids mode is on" if session.kids_mode else "Mature content is off")
            text = f"{what}, so {took_over.name} takes over. {took_over.greeting}"
            self.barge_in("safety")
            self._start(lambda: self.pipeline.announce(text, switched_to=took_over))

    def set_listen_mode(self, mode: str) -> None:
        """Blocking (restarts the listener): call from a worker thread."""
        self.settings.speech.listen_mode = mode
        self.load_speech_in()

    # --- shutting down -----------------------------------------------------------------------

    def close_blocking(self) -> None:
        """Blocking: stop the listener and the speaker (from a thread, or at exit)."""
        self._closed = True
        if self.listener is not None:
            self.listener.stop()
        if self.speaker is not None:
            self.speaker.close()

    async def aclose(self) -> None:
        self._drop_guess()
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()
            await asyncio.wait({self._turn})
        await asyncio.to_thread(self.close_blocking)
        if self.client is not None:
            await self.client.aclose()
        for skill in (self.navigator, self.searcher):
            if skill is not None:
                await skill.aclose()
