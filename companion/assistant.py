"""The assistant: the one core every front end drives (the screen, `chat`, `listen`, the
dialogue runner, the benchmarks).

It puts the parts together and hands each job to the piece that owns it:

- building the parts from the settings: `companion.parts` (a test hands in its own `Parts`);
- taking turns (one at a time, guesses on the recogniser's words, barge-in, pausing the
  microphone): `companion.turns.taking.TurnTaker`; each turn is a `companion.turns.Turn`;
- the speaker, its volume and mute: `companion.tts.output.SpeechOutput`;
- the simulated car and drive: `companion.drive.SimulatedDrive`;
- persona and safety: `companion.personas.session.PersonaSession`;
- what is kept between drives (preferences, saved places, memory): `companion.store`.

A front end feeds it text (`say`, `ask`), key presses (`press`, `release`, `stop`) and
settings, and renders the typed events (`companion.events`) handed to `post`. `post` may be
called from any thread; the front end hops to its own.

It runs on one asyncio loop (`start()` on that loop). The blocking loaders (`load_*`) are
meant for worker threads, so the first frame never waits for a model.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import parts as build
from .config import Settings
from .drive import SimulatedDrive
from .events import (
    ActionTaken,
    AnyEvent,
    Notice,
    SafetyChanged,
    SentenceSpoken,
    Status,
    TurnError,
)
from .navigation.saved import PlaceBook
from .parts import Parts
from .personas.session import PersonaSession
from .redaction import ReplyStreams, redact
from .store.keeper import Keeper
from .tts.output import SpeakerLike, SpeechOutput
from .turns.taking import ListenerLike, TurnTaker
from .untrusted import shown_event

if TYPE_CHECKING:
    from .audio.echo import EchoGate
    from .llm.client import ChatClient
    from .navigation.navigator import Navigator
    from .search import Searcher

log = logging.getLogger(__name__)

__all__ = ["Assistant", "Parts"]

Post = Callable[[AnyEvent], None]
Spawn = Callable[[Coroutine[Any, Any, Any]], None]


class _Greeting:
    """The greeting's sentence reports: turn 0, so its end is an event like any sentence's (a
    front end or a test waits for it, never for the clock)."""

    def __init__(self, post: Post) -> None:
        self.post = post

    def spoken(self, text: str, stopped: bool, played: float) -> None:
        self.post(SentenceSpoken(0, text, stopped))

    def progress(self, stage: str, text: str) -> None:
        pass


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
        self.recorder = None
        if record is not None:  # --record FILE: every event also goes to the recording
            from .recording import SessionRecorder, session_header

            self.recorder = SessionRecorder(record, session_header(settings, session))
        self._front_end = post
        self.post: Post = self._post
        self.audio_in = audio_in
        self.parts = parts or Parts()
        self.clock = self.parts.clock
        self.tick_s = tick_s
        self.greet = greet
        self.streaming_speech = streaming_speech
        self.output = SpeechOutput(self.post, muted=settings.speech.mute)
        self.turns = TurnTaker(
            settings.speech,
            self.post,
            self.output,
            clock=self.clock,
            spawn=spawn,
            before_turn=reload_cast,
        )
        self.drive_sim = SimulatedDrive(settings.navigation, self.post, settings.car)
        self.client: ChatClient | None = None
        self.navigator: Navigator | None = None
        self.searcher: Searcher | None = None
        self.echo_gate: EchoGate | None = None
        self.closed = False
        self._greeted = False
        self._core_loaded = threading.Event()  # the echo gate exists (the listener needs it)
        self._streams = ReplyStreams()  # replies being streamed, redacted across pieces
        self.keeper = Keeper.open(settings, self.parts.store)  # what is kept between drives
        self.keeper.restore(settings, session, self.output, self.drive_sim)

    def _post(self, event: AnyEvent) -> None:
        for out in self._streams.through(event):  # no key, even split across pieces
            out = shown_event(out)  # the one redaction and sanitising path: untrusted.py
            self.keeper.observe(out)
            if self.recorder is not None:
                self.recorder.write(out)
            self._front_end(out)

    # --- the parts, as the other pieces own them ---------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:  # the core's (once `start()` ran)
        return self.turns.loop

    @property
    def speaker(self) -> SpeakerLike | None:
        return self.output.speaker

    @property
    def listener(self) -> ListenerLike | None:
        return self.turns.listener

    # --- start-up ----------------------------------------------------------------------------

    def start(self) -> None:
        """On the loop, instantly: remember the loop, start the drive (then the `load_*`)."""
        self.turns.start()
        self.drive_sim.start(self.tick_s, self.tick)
        for event in self.keeper.news:  # a damaged database kept aside, in one line
            self.post(event)

    def load(self, voice: bool = False) -> None:
        """Blocking: every part in order, attached on the loop (front ends without a frame)."""
        self.load_core()
        if voice:
            self.load_speech_in()
        self.sync()

    def sync(self) -> None:  # blocking: wait until what the loaders handed the loop is done
        loop = self.loop
        if loop is not None and not loop.is_closed():
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(timeout=30)

    def load_core(self) -> None:
        """Blocking (a worker thread): the LLM client, the pipeline, skills, then the voice."""
        try:
            self._load_core()
        except Exception as exc:  # a broken install: say so, keep the front end up
            log.exception("the assistant could not start")
            self._core_loaded.set()
            self._on_loop(self._ready)  # requests waiting for the core give up now
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
        from .turns import TurnPipeline

        if self.settings.speech.barge_in:
            self.echo_gate = EchoGate()  # its canceller comes with the microphone
        client, news = build.build_client(self.settings, self.parts)
        pipeline = TurnPipeline(
            self.session,
            client,
            None,
            self._on_turn_event,
            offer_tools=self.settings.llm.tools,
            tool_hub=build.tool_hub(self.settings),
            streaming_speech=self.streaming_speech,
            speed=lambda: self.drive_sim.speed_kmh,
            output=self.output,
        )

        def attach() -> None:
            self.client, self.turns.pipeline = client, pipeline

        self._on_loop(attach)
        self._core_loaded.set()
        for event in news:
            self.post(event)
        self.load_skills()
        self.load_speech_out()

    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        self.turns.on_loop(fn, *args)

    def load_skills(self) -> None:  # blocking (reads data files): navigation and search
        navigator = searcher = None

        def attach() -> None:
            self.navigator, self.searcher = navigator, searcher
            self.drive_sim.navigator = navigator
            store = self.keeper.store
            if navigator is not None and store is not None:
                navigator.attach(PlaceBook(store.places))
            if self.turns.pipeline is not None:  # attached by load_core, just before
                self.turns.pipeline.set_skills(navigator, searcher, self.drive_sim, store)
            if navigator is not None:
                online = self.settings.navigation.online
                self.post(
                    Status("navigation", "ready", "online maps" if online else "offline maps")
                )
            self.post(self.drive_sim.update())
            self._ready()

        try:
            if self.parts.skills is not None:
                navigator, searcher = self.parts.skills
            else:
                navigator, searcher = build.build_skills(self.settings, self._problem)
        finally:
            self._on_loop(attach)

    def _ready(self) -> None:
        if self.turns.ready is not None:
            self.turns.ready.set()

    def _problem(self, part: str, text: str) -> None:
        self.post(Status(part, "problem", text))

    def load_speech_out(self) -> None:
        """Blocking (starts the speech engine's process): the speaker."""
        if self.speaker is not None:
            return  # already loaded (unmuting only reconnects it)
        if self.output.muted:
            self.post(Status("speech_out", "off", "Speech is muted."))
            return
        self.post(Status("speech_out", "loading", "Starting the voice…"))
        try:
            make = self.parts.make_speaker or build.default_speaker(self.settings)
            speaker = make(self.echo_gate, lambda text: self._problem("speech_out", text))
        except Exception as exc:  # the engine or device: keep going as text
            log.warning("speech output unavailable", exc_info=True)
            self._problem(
                "speech_out",
                f"Speech is unavailable: {exc}. Replies are shown as text; "
                "check `companion devices`.",
            )
            return
        speaker.volume = self.output.volume
        self._on_loop(self._attach_speaker, speaker)

    def _attach_speaker(self, speaker: Any) -> None:
        if self.closed or self.output.muted:
            speaker.close()
            return
        self.output.speaker = speaker
        self.turns.cues = build.cues(speaker, self.settings.speech.earcons)
        self.post(Status("speech_out", "ready", "Speech on"))
        if self.greet and not self._greeted:
            self._greeted = True
            if not self.turns.running:
                persona = self.session.active
                speaker.say(persona.greeting, persona.voice, _Greeting(self.post))

    def load_speech_in(self) -> None:
        """Blocking: the listener (microphone or `audio_in`); failing is a Status, typing works."""
        self._core_loaded.wait(30)
        gate = self.echo_gate
        if gate is not None and gate.canceller is None:
            # Only a microphone needs it: typed and muted sessions never load WebRTC's binding
            # (a third of a second of start-up).
            gate.canceller = build.echo_canceller(self.settings)
        old, self.turns.listener = self.turns.listener, None
        if old is not None:
            old.stop()
        speech = self.settings.speech
        self.post(Status("speech_in", "loading", "Loading speech recognition…"))
        try:
            make = self.parts.make_listener or build.default_listener(self.settings, self.audio_in)
            listener, notice = make(self.turns.on_listener_event)
        except Exception as exc:  # engine, model, device or file problem
            log.info("voice input unavailable", exc_info=True)
            why = redact(str(exc))
            self._problem("speech_in", f"Voice input is off: {why} Typing still works.")
            return
        if self.turns.barge_in_by_voice:
            listener.echo_gate = self.echo_gate
        if self.closed:
            return
        if notice:
            self.post(Notice(notice))
        self.turns.listener = listener
        listener.start()
        description = getattr(getattr(listener, "engine", None), "description", "listening")
        mode = speech.listen_mode.replace("_", " ")
        self.post(Status("speech_in", "ready", f"{description} · {mode}"))

    def _on_turn_event(self, event: AnyEvent) -> None:
        """The turns' events (on the loop)."""
        self.post(event)
        if isinstance(event, TurnError):
            self.turns.cues("error")
        elif isinstance(event, ActionTaken) and event.skill == "navigation":
            self.post(self.drive_sim.update())

    # --- talking: the turn taker's ------------------------------------------------------------

    def busy(self) -> bool:  # a reply is being generated or spoken
        return self.turns.busy()

    @property
    def speaking(self) -> bool:
        return self.turns.speaking

    def say(self, text: str) -> None:
        self.turns.say(text)

    async def ask(self, text: str, alternatives: tuple[str, ...] = ()) -> Any:
        return await self.turns.ask(text, alternatives)

    def pick_persona(self, persona_id: str) -> None:
        self.turns.pick_persona(persona_id)

    def press(self) -> None:
        self.turns.press()

    def release(self) -> None:
        self.turns.release()

    def stop(self) -> None:  # Escape, Ctrl+C: silence and cancel the turn (any thread)
        self.turns.barge_in("stop")

    def barge_in(self, why: str) -> None:
        self.turns.barge_in(why)

    # --- the car: the simulated drive's --------------------------------------------------------

    def tick(self, seconds: float = 1.0) -> None:
        """Once a second (on the loop): the drive, stale guesses, a due low-range warning."""
        self.drive_sim.tick(seconds)
        self.turns.drop_stale_guess()
        self.turns.news_when_idle(self.drive_sim.range_warning)

    # --- settings from the front end ---------------------------------------------------------

    def set_muted(self, muted: bool) -> None:  # text only; the speaker stays ready
        self.output.set_muted(muted)
        speaker = self.speaker
        if muted:
            self.turns.cues = lambda name: None
            self.post(Status("speech_out", "off", "Speech is muted."))
        elif speaker is not None:
            self.turns.cues = build.cues(speaker, self.settings.speech.earcons)
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
            self.turns.announce(text, took_over)

    def set_listen_mode(self, mode: str) -> None:  # blocking: from a worker thread
        self.settings.speech.listen_mode = mode
        self.keeper.keep("listen_mode", mode)
        self.load_speech_in()

    # --- shutting down -----------------------------------------------------------------------

    def close_blocking(self) -> None:
        """Blocking: stop the listener and the speaker (from a thread, or at exit)."""
        self.closed = True
        if self.recorder is not None:
            self.recorder.close()
        if self.listener is not None:
            self.listener.stop()
        if self.speaker is not None:
            self.speaker.close()

    async def aclose(self) -> None:
        """On the loop: cancel and await every task of ours, then close every part."""
        self.closed = True
        await self.turns.aclose()
        await self.drive_sim.aclose()
        await asyncio.to_thread(self.close_blocking)
        if self.client is not None:
            await self.client.aclose()
        for skill in (self.navigator, self.searcher):
            if skill is not None:
                await skill.aclose()
        self.keeper.close()
