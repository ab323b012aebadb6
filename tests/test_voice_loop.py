"""The full voice loop (`companion listen`, `companion chat --voice`) on a virtual sound card:
replies are audible, sentences follow without gaps, the driver interrupts by voice or button,
the assistant's own voice does not interrupt it, and failing speech never costs a turn."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from companion.memory import INTERRUPTED_NOTE

from .conftest import start_sound_card, stop_sound_card
from .helpers import read_events, reply
from .helpers import wait_for_event as find_event
from .soundcard import longest_gap, loud_segments, wait_until_recording
from .speech_helpers import (
    AUDIO,
    MANIFEST,
    REAL_TIME_MAX_WER,
    heard_at_rest,
    voice_turn,
    word_error_rate,
    words,
)
from .test_cli import Repl

# These tests are about the streaming LLM path (barge-in, echo, speech): the spoken requests
# are navigation ones, so the skills are off and the persona's model answers them.
PERSONA_ONLY = {"COMPANION_NAVIGATION_ENABLED": "false", "COMPANION_SEARCH_ENABLED": "false"}

LONG_REPLY = " ".join(f"Here is sentence number {n} about the road ahead." for n in range(1, 21))


def wait_for_event(path: Path, predicate, timeout: float = 30) -> dict:
    event = find_event(path, predicate, timeout)
    assert event is not None, "no such event in the timings:\n" + "\n".join(
        json.dumps(e)[:160] for e in read_events(path)
    )
    return event


def answered(scripted, events: list[dict], turn: int):
    """The LLM request that answered the driver's `turn`-th final transcript (a wrong
    speculative guess may have sent others before it). The turn may have been read from one
    of the recogniser's alternatives (router.heard): those words are the request then."""
    final = [e for e in events if e["event"] == "FinalTranscript"][turn - 1]
    readings = [final["text"], *final.get("alternatives", [])]
    return [r for r in scripted.requests if r.last_user_message in readings][-1]


# These tests time speech against speech (barge-in, gaps, echo) on a shared two-core CI
# machine: they run the recogniser's general model only, without the driver model's second
# pass (`speech.driver_model = false`, 40 % less recognition CPU), so its load can't decide a
# race. The driver pass on a live microphone is exercised by tests/test_voice_chat.py, and
# what it hears by tests/test_understanding.py and the audio dialogues.
TIMING_ONLY = {"COMPANION_SPEECH_DRIVER_MODEL": "false"}


def listen(card, scripted, timings: Path, *extra: str, env: dict | None = None) -> Repl:
    session = Repl(
        "--llm-base-url",
        scripted.base_url,
        "--timings",
        str(timings),
        *extra,
        env={**card.client_env, **PERSONA_ONLY, **TIMING_ONLY, **(env or {})},
        command="listen",
    )
    session.wait_for("just speak", timeout=30)
    # The greeting has been spoken whole (turn 0's sentence): the driver speaks after it.
    wait_for_event(timings, lambda e: e["event"] == "SentenceSpoken" and e["turn_id"] == 0)
    return session


def stop(session: Repl) -> str:
    session.process.terminate()  # SIGTERM quits, even mid-reply
    assert session.process.wait(timeout=20) == 0
    session._reader.join(timeout=5)
    err = session.err()
    assert "Traceback" not in session.out + err
    assert "ALSA lib" not in err  # ALSA's own chatter goes to the log
    return session.out


@pytest.mark.slow
def test_reply_is_audible_and_its_sentences_follow_without_gaps(sound_card, scripted, tmp_path):
    sentences = [
        "The nearest charger is two miles ahead on the right.",
        "It has four fast chargers and two of them are free.",
        "I will guide you there now.",
        "The drive takes about six minutes.",
    ]
    # Standing rules, not queued replies: a wrong speculative guess must not use them up.
    scripted.add(reply(" ".join(sentences), ttft=0.2, tokens_per_second=40, match="."))
    timings, recording = tmp_path / "timings.jsonl", tmp_path / "speaker.wav"
    session = listen(sound_card, scripted, timings, "--no-earcons")
    recorder = sound_card.record_speaker(recording, 0)
    wait_until_recording(recording)
    sound_card.play_into_microphone(AUDIO / "navigate_charger.wav")
    wait_for_event(timings, lambda e: e["event"] == "ReplyDone", timeout=40)
    assert wait_for_event(  # its last sentence has left the speaker
        timings, lambda e: e["event"] == "SentenceSpoken" and e["text"] == sentences[-1]
    )
    wait_until_recording(recording, 0.3)  # the recorder has caught up with the speaker
    recorder.terminate()
    recorder.wait()
    out = stop(session)
    voice_turn(out, "navigate to the nearest charger")

    segments = loud_segments(recording, split_s=1.0)
    assert segments, "nothing reached the car's speaker"
    start, end = segments[-1]  # the reply: more than a second after the driver stopped
    what = [
        (e["event"], e.get("text") or e.get("why") or e.get("state"))
        for e in read_events(timings)
        if e["event"]
        in (
            "FinalTranscript",
            "TurnStarted",
            "BargeIn",
            "ReplyDone",
            "SpeechStarted",
            "EndOfSpeechLikely",
            "NothingHeard",
        )
    ]
    assert end - start > 6.0, f"reply audio only {end - start:.1f} s long: {segments} {what}"
    gap = longest_gap(recording, start, end)
    # 100 ms between sentences; Piper's soft sentence edges read as ~60 ms more at this level.
    # A sentence that waited for its synthesis would add its synthesis time (300 ms or more
    # here) to that: 460 ms. The bound sits between the two, with room for a busy machine's
    # scheduling, so it fails on the fault and not on the load.
    assert gap < 0.35, f"a {gap * 1000:.0f} ms silence inside the reply"
    spoken = [e for e in read_events(timings) if e["event"] == "SentenceSpoken"]
    assert [e["text"] for e in spoken][-4:] == sentences and not any(e["stopped"] for e in spoken)
    # The turn started during the driver's pause on the recogniser's guess if the final words
    # confirmed it (the LLM's wait then overlaps the end-of-speech wait); a wrong guess left
    # no trace and the turn started on the final words.
    events = read_events(timings)
    guess = [e for e in events if e["event"] == "EndOfSpeechLikely"][-1]
    final = next(e for e in events if e["event"] == "FinalTranscript")
    started = [e for e in events if e["event"] == "TurnStarted"]
    assert len(started) == 1 and started[0]["text"] == final["text"]
    if guess["text"] == final["text"]:
        assert started[0]["t"] < final["t"]
    else:
        assert started[0]["t"] >= final["t"]


@pytest.mark.slow
def test_speaking_during_a_reply_stops_it_and_the_new_request_is_heard_whole(
    sound_card, scripted, tmp_path
):
    scripted.add(
        reply("About ten minutes.", ttft=0.2, match="get there|long"),
        reply(LONG_REPLY, ttft=0.2, tokens_per_second=25, match="."),
    )
    timings, recording = tmp_path / "timings.jsonl", tmp_path / "speaker.wav"
    session = listen(sound_card, scripted, timings, "--no-earcons")
    recorder = sound_card.record_speaker(recording, 0)
    recording_started = wait_until_recording(recording)
    sound_card.play_into_microphone(AUDIO / "navigate_charger.wav")
    started = wait_for_event(timings, lambda e: e.get("stage") == "playback_started")
    # Barge in once the first sentence has been heard whole (the second is playing): waiting
    # for that event, not a fixed time, so a slow machine can't make the driver interrupt
    # before anything was said.
    assert wait_for_event(
        timings,
        lambda e: (
            e["event"] == "SentenceSpoken"
            and "sentence number 1 " in e["text"]
            and not e["stopped"]
        ),
    )
    spoke_at = time.monotonic() - recording_started  # in the recording's time
    sound_card.play_into_microphone(AUDIO / "how_long.wav")
    done = wait_for_event(
        timings,
        lambda e: e["event"] == "ReplyDone" and e["text"] == "About ten minutes.",
        timeout=30,
    )
    assert wait_for_event(
        timings,
        lambda e: e["event"] == "SentenceSpoken" and e["text"] == "About ten minutes.",
    )
    wait_until_recording(recording, 0.3)  # the recorder has caught up with the speaker
    recorder.terminate()
    recorder.wait()
    out = stop(session)
    events = read_events(timings)

    # (A slow start can have the first request interrupt the greeting: that is a barge-in too.)
    # (One request can be heard as two utterances when a pause or the sink's click splits it;
    # each barges in. What matters is that the first did, by voice, and the words arrived.)
    barge = [e for e in events if e["event"] == "BargeIn" and e["t"] > started["t"]]
    assert barge and {e["why"] for e in barge} == {"voice"}
    # Stopped at once: every sentence of the long reply reported after the barge-in was cut
    # off, none played on to its end (by order of events, not by a clock: how soon the sound
    # stopped is measured on the recording below).
    after_barge = [
        e
        for e in events
        if e["event"] == "SentenceSpoken"
        and "sentence number" in e["text"]
        and barge[0]["t"] <= e["t"] < done["t"]
    ]
    assert after_barge and all(e["stopped"] for e in after_barge), after_barge
    first_done = next(e for e in events if e["event"] == "ReplyDone")
    assert first_done["interrupted"] and "[stopped]" in out

    # The LLM stream was cancelled, and the new request was transcribed from its first word.
    first, second = answered(scripted, events, 1), answered(scripted, events, 2)
    assert first.client_disconnected and not first.finished
    heard = [
        (e["event"], e.get("text") or e.get("why") or e.get("reason"))
        for e in events
        if e["event"]
        in ("SpeechStarted", "EndOfSpeechLikely", "FinalTranscript", "NothingHeard", "BargeIn")
    ]
    # Real-time capture over a barge-in on a busy machine is not the same samples twice:
    # compared by word error rate, as every real-time test is (tests/speech_helpers.py; it
    # once heard "on until we get there"). A request cut at its start (no pre-roll) loses its
    # first words, not one sound of them: at most one word fewer than said.
    said = "how long until we get there"
    got = second.last_user_message
    assert word_error_rate(said, got) <= 0.34 and len(words(got)) >= len(words(said)) - 1, heard
    # The history keeps what the driver heard, marked as interrupted.
    heard = second.body["messages"][-2]
    assert heard["role"] == "assistant" and heard["content"].endswith(INTERRUPTED_NOTE)
    assert "sentence number 1 " in heard["content"]
    assert "sentence number 20" not in heard["content"]

    # On the speaker: the first reply was heard before the driver spoke, and two seconds after
    # the driver started (the words begin 0.5 s into the recording) only the short answer is
    # left: without the barge-in the long reply would play on for half a minute. Measured on
    # the recording itself, not on event times, whose offset from the sound varies with the
    # sound server's latency and the machine's load.
    segments = loud_segments(recording, split_s=1.0)
    assert any(a < spoke_at for a, _ in segments), f"no reply heard: {segments}"
    after = sum(b - max(a, spoke_at + 2.0) for a, b in segments if b > spoke_at + 2.0)
    assert after < 2.0, f"{after:.1f} s of sound after the driver spoke: {segments}"


@pytest.mark.slow
def test_pressing_to_talk_during_a_reply_stops_it(sound_card, scripted, tmp_path):
    # Streamed slowly (about 18 s): the press certainly comes while the reply is still
    # arriving, however long a busy machine takes to start speaking it.
    scripted.add(reply(LONG_REPLY, ttft=0.2, tokens_per_second=10), reply("Adding it."))
    timings = tmp_path / "timings.jsonl"
    repl = Repl(
        "--voice",
        "--listen-mode",
        "push_to_talk",
        "--llm-base-url",
        scripted.base_url,
        "--timings",
        str(timings),
        env={**sound_card.client_env, **PERSONA_ONLY},
    )
    repl.wait_for("press Enter on an empty line to talk", timeout=30)
    repl.send("tell me about the road")
    # Pressed while the reply is being heard (and still streaming).
    wait_for_event(timings, lambda e: e.get("stage") == "playback_started" and e["turn_id"] == 1)
    repl.send("")  # press: interrupts at once, and the microphone opens
    repl.wait_for("[stopped]", timeout=5)
    repl.wait_for("listening… press Enter to stop")
    sound_card.play_into_microphone(AUDIO / "add_stop.wav")
    repl.wait_for("Adding it.", timeout=30)
    assert scripted.requests[0].client_disconnected
    heard = scripted.requests[1].last_user_message  # the pressed request, as a new turn
    # What the recogniser hears at rest, or (when the turn was read from one of its
    # alternatives: router.heard) closer still to the words said.
    said = MANIFEST["add_stop"]["text"]
    error = min(word_error_rate(heard_at_rest("add_stop"), heard), word_error_rate(said, heard))
    assert error <= REAL_TIME_MAX_WER, heard
    code, _, err = repl.finish()
    assert code == 0 and "Traceback" not in err


@pytest.mark.slow
def test_the_assistants_own_voice_does_not_interrupt_it_but_the_driver_can(scripted, tmp_path):
    """A loopback from the car's speaker into its microphone stands in for the cabin's echo."""
    card = start_sound_card(tmp_path / "pulse")
    try:
        subprocess.run(
            [
                "pactl",
                "load-module",
                "module-loopback",
                "source=car_speaker.monitor",
                "sink=car_mic",
                "latency_msec=30",
            ],
            env=card.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        sentences = " ".join(
            f"Here is sentence number {n} about the road ahead." for n in range(1, 6)
        )
        # The first two requests get their replies in order, whatever the recogniser made of
        # them on a busy machine (it once heard "navigate to the mirror structure"), so no
        # speculative start may use one up.
        scripted.add(
            reply("About ten minutes.", ttft=0.2, match="get there|long"),
            reply(sentences, ttft=0.2, tokens_per_second=30),
            reply(LONG_REPLY, ttft=0.2, tokens_per_second=25),
        )
        timings = tmp_path / "timings.jsonl"
        no_guess = {"COMPANION_SPEECH_SPECULATE_AFTER_MS": "0"}
        session = listen(card, scripted, timings, env=no_guess)
        card.play_into_microphone(AUDIO / "navigate_charger.wav")
        done = wait_for_event(timings, lambda e: e["event"] == "ReplyDone", timeout=40)
        first = wait_for_event(timings, lambda e: e["event"] == "TurnStarted")
        # Echo as loud as the playback itself: heard, but not taken for the driver.
        assert not done["interrupted"]
        assert not [
            e for e in read_events(timings) if e["event"] == "BargeIn" and e["t"] > first["t"]
        ]
        assert len([e for e in read_events(timings) if e["event"] == "TurnStarted"]) == 1

        # A quieter echo (a cabin, not a loopback cable): the driver talks over it.
        inputs = subprocess.run(
            ["pactl", "list", "short", "sink-inputs"],
            env=card.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        loopback = next(line.split()[0] for line in inputs.splitlines() if "loopback" in line)
        subprocess.run(
            ["pactl", "set-sink-input-volume", loopback, "30%"], env=card.env, check=True
        )
        card.play_into_microphone(AUDIO / "add_stop.wav")
        # The driver talks over the reply once a sentence of it has been heard whole (the echo
        # is in the air, and the gate has had it to learn from).
        wait_for_event(
            timings,
            lambda e: e["event"] == "SentenceSpoken" and e["turn_id"] == 2 and not e["stopped"],
        )
        card.play_into_microphone(AUDIO / "how_long.wav")
        wait_for_event(
            timings,
            lambda e: e["event"] == "ReplyDone" and e["text"] == "About ten minutes.",
            timeout=30,
        )
        stop(session)
    finally:
        stop_sound_card(card)
    assert [
        e["why"] for e in read_events(timings) if e["event"] == "BargeIn" and e["t"] > first["t"]
    ] == ["voice"]
    # The canceller takes the echo out (it follows the 22 kHz player: tests/test_cabin.py), but
    # the driver's first word or two, said over the echo before the reply stops, can come out
    # garbled while it adapts to both talking at once (PocketSphinx heard "so long" and "all
    # on" for "how long"); the request itself gets through.
    assert words(answered(scripted, read_events(timings), 3).last_user_message)[-3:] == [
        "we",
        "get",
        "there",
    ]


def test_without_an_output_device_replies_are_text_and_every_turn_is_answered(scripted):
    session = Repl(
        "--audio-in",
        str(AUDIO / "two_requests.wav"),
        "--output-device",
        "no-such-speaker",
        "--llm-base-url",
        scripted.base_url,
        command="listen",
    )
    session.wait_for("We're not navigating anywhere right now.", timeout=60)
    code = session.process.wait(timeout=30)  # the recording ended: listen ends
    out = session.out
    assert code == 0 and "Traceback" not in out
    assert "No usable output device 'no-such-speaker'" in out and "text only" in out
    assert out.count("No usable output device") == 1
    assert "you (voice)> find a coffee shop" in out
    assert "coffee places nearby" in out


def test_a_failing_speech_engine_leaves_the_text_and_the_next_turn_works(scripted, tmp_path):
    folder = tmp_path / "personas"
    folder.mkdir()
    (folder / "robot.toml").write_text(
        'name = "Robot"\ndescription = "Speaks with a voice espeak-ng does not have."\n'
        'system_prompt = "You are a robot."\ngreeting = "Beep."\n'
        '[voice]\nid = "no-such-voice"\n'
    )
    config = tmp_path / "config.toml"
    config.write_text(f'[persona]\ndefault = "robot"\ndir = "{folder}"\n')
    session = Repl(
        "--config",
        str(config),
        "--audio-in",
        str(AUDIO / "two_requests.wav"),
        "--llm-base-url",
        scripted.base_url,
        "--tts",
        "pyttsx3",  # eSpeak's voices are what the persona names (Piper would ignore it)
        command="listen",
    )
    session.wait_for("We're not navigating anywhere right now.", timeout=60)
    assert session.process.wait(timeout=30) == 0
    out = session.out
    assert "Speech is unavailable" in out and "no-such-voice" in out
    assert "Robot: Three coffee places nearby" in out and "Traceback" not in out
