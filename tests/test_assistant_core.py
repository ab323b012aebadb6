"""The assistant core (companion/assistant.py), the one turn-taker under every front end.

Speech in and out are fakes with the listener's and speaker's interfaces, driven step by step
from the test (so barge-in and speculation are deterministic, no sound card, no timing luck);
the language model is the scripted server speaking the real protocol over loopback HTTP, and
the clock is a fake one the test moves.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from companion.assistant import Assistant, Parts
from companion.config import BUNDLED_PERSONAS, Settings
from companion.events import (
    BargeIn,
    EndOfSpeechLikely,
    FinalTranscript,
    ListenerState,
    ReplyDone,
    SentenceReady,
    SpeechStarted,
    TurnStarted,
)
from companion.personas.loader import load_personas
from companion.personas.session import PersonaSession
from companion.turns.taking import SPECULATION_TIMEOUT_S

from .helpers import reply
from .nav_helpers import llm_client


class FakeSpeaker:
    """The Speaker's interface. With `hold`, `say` starts "playing" until the test calls
    `finish()`; without, every sentence has been played at once."""

    def __init__(self) -> None:
        self.hold = False
        self.said: list[str] = []
        self.stops = 0
        self.closed = False
        self.volume = 1.0
        self.on_spoken = self.on_progress = None
        self._idle = threading.Event()
        self._idle.set()

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    def say(self, text: str, voice: object = None, reports: object = None) -> None:
        self.said.append(text)
        if self.hold:
            self._idle.clear()

    def cue(self, audio: object, name: str = "") -> None:
        pass

    def stop(self) -> None:
        self.stops += 1
        self._idle.set()

    def finish(self) -> None:
        self._idle.set()

    def wait_until_done(self, timeout: float | None = None) -> bool:
        return self._idle.wait(timeout)

    def close(self) -> None:
        self.closed = True
        self._idle.set()


class FakeEngine:
    description = "fake recogniser"


class FakeListener:
    """The Listener's interface; `hear()` delivers events as the listener's thread would."""

    def __init__(self, on_event) -> None:
        self.on_event = on_event
        self.engine = FakeEngine()
        self.echo_gate = None
        self.finished = threading.Event()
        self.calls: list[str] = []

    def hear(self, *events) -> None:
        def deliver() -> None:
            for event in events:
                self.on_event(event)

        thread = threading.Thread(target=deliver)  # not the loop's thread, like the real one
        thread.start()
        thread.join()

    def __getattr__(self, name: str):
        if name in ("start", "stop", "press", "release", "pause", "resume", "expect_answer"):
            return lambda *a, **k: self.calls.append(name)
        raise AttributeError(name)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Core:
    """An Assistant with fake speech, the scripted model, and the events it posted."""

    def __init__(self, scripted, *, listen_mode="hands_free", barge_in=True) -> None:
        settings = Settings()
        settings.speech.listen_mode = listen_mode
        settings.speech.barge_in = barge_in
        settings.speech.earcons = False
        settings.llm.tools = False
        cast, problems = load_personas(BUNDLED_PERSONAS)
        assert not problems
        self.session = PersonaSession(cast, "assistant")
        self.events: list = []
        self.speaker = FakeSpeaker()
        self.listeners: list[FakeListener] = []
        self.clock = FakeClock()

        def make_listener(on_event):
            self.listeners.append(FakeListener(on_event))
            return self.listeners[-1], None

        self.assistant = Assistant(
            settings,
            self.session,
            self.events.append,
            tick_s=0,
            greet=False,
            parts=Parts(
                client=llm_client(scripted.base_url),
                skills=(None, None),
                make_listener=make_listener,
                make_speaker=lambda gate, problem: self.speaker,
                clock=self.clock,
            ),
        )

    async def start(self) -> Core:
        self.assistant.start()
        await asyncio.to_thread(self.assistant.load_core)
        await asyncio.to_thread(self.assistant.load_speech_in)
        await settle(lambda: self.assistant.speaker is not None and self.assistant.listener)
        return self

    @property
    def listener(self) -> FakeListener:
        return self.listeners[-1]

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]


async def settle(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


def final(text: str) -> FinalTranscript:
    return FinalTranscript(text, engine="fake")


LONG = (
    "Here is the first sentence of a long answer. Here is the second one. "
    "And a third sentence to keep talking."
)


async def test_speaking_over_a_reply_stops_it_and_the_new_request_is_heard_whole(scripted):
    scripted.add(reply(LONG), reply("Sunny all day.", match="weather"))
    core = await Core(scripted).start()
    core.speaker.hold = True
    core.listener.hear(final("tell me something long"))
    await settle(lambda: core.speaker.said)  # the reply is being spoken
    assert core.assistant.busy()
    core.speaker.hold = False

    core.listener.hear(SpeechStarted())  # the driver talks over it
    assert core.speaker.stops == 1 and [e.why for e in core.of(BargeIn)] == ["voice"]
    await settle(lambda: core.of(ReplyDone))
    assert core.of(ReplyDone)[0].interrupted

    core.listener.hear(final("what's the weather like in Berlin"))
    await settle(lambda: len(core.of(ReplyDone)) == 2)
    assert [e.text for e in core.of(TurnStarted)] == [
        "tell me something long",
        "what's the weather like in Berlin",
    ]
    asked = scripted.requests[-1].body["messages"][-1]["content"]
    assert asked == "what's the weather like in Berlin"  # the whole request, nothing cut
    history = core.session.memory.exchanges
    assert history[0].interrupted and history[-1].assistant == "Sunny all day."
    await core.assistant.aclose()


async def test_hands_free_without_barge_in_never_hears_itself(scripted):
    scripted.add(reply("One sentence. Then another."))
    core = await Core(scripted, barge_in=False).start()
    core.speaker.hold = True
    core.listener.hear(final("tell me a story"))
    await settle(lambda: core.speaker.said)
    assert core.listener.calls[-1] == "pause"  # the microphone is off while it answers
    core.listener.hear(SpeechStarted())  # its own voice, or the driver: no barge-in either way
    assert core.speaker.stops == 0 and not core.of(BargeIn)
    assert core.listener.calls[-1] == "pause"  # still speaking: still not listening
    await settle(lambda: len(core.speaker.said) == 2)  # the whole reply is with the speaker
    assert core.listener.calls[-1] == "pause"
    core.speaker.finish()
    await settle(lambda: core.of(ReplyDone))
    await settle(lambda: core.listener.calls[-1] == "resume")
    assert not core.of(ReplyDone)[0].interrupted
    await core.assistant.aclose()


async def test_a_guess_confirmed_by_the_final_words_speaks_without_asking_twice(scripted):
    scripted.add(reply("Why did the car go to school? To get a little smarter."))
    core = await Core(scripted).start()
    core.listener.hear(EndOfSpeechLikely("tell me a joke"))
    await settle(lambda: scripted.requests)  # the model is already asked ...
    await asyncio.sleep(0.3)  # ... and has answered by now
    assert not core.speaker.said and not core.of(TurnStarted)  # ... but nothing shows yet
    core.listener.hear(final("Tell me a joke."))
    await settle(lambda: core.of(ReplyDone))
    assert core.speaker.said[0].startswith("Why did the car go to school?")
    assert len(scripted.requests) == 1 and len(core.of(TurnStarted)) == 1
    await core.assistant.aclose()


async def test_a_wrong_guess_leaves_no_trace(scripted):
    scripted.add(
        reply("A guess reply.", match="^tell me$"), reply("The real reply.", match="about mars")
    )
    core = await Core(scripted).start()
    core.listener.hear(EndOfSpeechLikely("tell me"))
    await settle(lambda: scripted.requests)
    core.listener.hear(final("tell me about mars"))
    await settle(lambda: core.of(ReplyDone))
    assert [e.text for e in core.of(TurnStarted)] == ["tell me about mars"]
    assert core.of(TurnStarted)[0].turn_id == 1  # the guess did not use up a turn
    assert core.speaker.said == ["The real reply."]
    assert [x.user for x in core.session.memory.exchanges] == ["tell me about mars"]
    assert all(e.text != "A guess reply." for e in core.of(SentenceReady))
    await core.assistant.aclose()


async def test_a_guess_whose_final_words_never_come_is_dropped_on_the_clock(scripted):
    scripted.add(reply("Never heard.", ttft=0.2))
    core = await Core(scripted).start()
    core.listener.hear(EndOfSpeechLikely("navigate to"))
    await settle(lambda: scripted.requests)
    core.assistant.tick(1.0)
    assert core.assistant.turns.guessing  # still waiting for the final words
    core.clock.now += SPECULATION_TIMEOUT_S + 0.1
    core.assistant.tick(1.0)
    await settle(lambda: not core.assistant.busy())
    assert not core.of(TurnStarted) and not core.speaker.said
    assert list(core.session.memory.exchanges) == []
    await core.assistant.aclose()


async def test_switching_the_listener_mid_session_stops_the_old_one(scripted):
    scripted.add(reply("First."), reply("Second."))
    core = await Core(scripted).start()
    first = core.listener
    core.listener.hear(final("hello there"))
    await settle(lambda: core.of(ReplyDone))
    await asyncio.to_thread(core.assistant.set_listen_mode, "push_to_talk")
    second = core.listener
    assert second is not first and "stop" in first.calls and "start" in second.calls
    core.assistant.press()
    assert second.calls[-1] == "press" and "press" not in first.calls
    second.hear(ListenerState("listening", "push_to_talk"), final("and again"))
    await settle(lambda: len(core.of(ReplyDone)) == 2)
    assert core.speaker.said[-1] == "Second."
    await core.assistant.aclose()


async def test_shutting_down_during_a_reply_cancels_and_awaits_everything(scripted):
    scripted.add(reply(LONG, tokens_per_second=5))  # about fifteen seconds of streaming
    core = await Core(scripted).start()
    core.assistant.drive_sim.start(3600, core.assistant.tick)
    core.speaker.hold = True
    core.listener.hear(final("tell me something long"))
    await settle(lambda: core.of(SentenceReady))
    started = time.monotonic()
    await core.assistant.aclose()
    assert time.monotonic() - started < 3
    assert core.of(ReplyDone)[-1].interrupted
    assert core.speaker.closed and "stop" in core.listener.calls
    mine = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not mine and not t.done()] == []


@pytest.mark.parametrize("why", ["typed", "push_to_talk"])
async def test_typing_or_pressing_during_a_reply_interrupts_it(scripted, why):
    scripted.add(reply(LONG), reply("Okay, here you go."))
    core = await Core(scripted, listen_mode="push_to_talk").start()
    core.speaker.hold = True
    core.listener.hear(final("tell me something long"))
    await settle(lambda: core.speaker.said)
    core.speaker.hold = False
    if why == "typed":
        await core.assistant.ask("something else")
    else:
        core.assistant.press()
        assert core.listener.calls[-1] == "press"
    await settle(lambda: core.of(ReplyDone) and core.of(ReplyDone)[0].interrupted)
    assert [e.why for e in core.of(BargeIn)] == [why]
    await core.assistant.aclose()
