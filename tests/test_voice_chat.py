"""`companion chat --voice`: transcripts become turns beside the keyboard, through a recording
or the real microphone path on a virtual sound card, and losing the microphone never ends
the conversation."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from .conftest import start_sound_card, stop_sound_card
from .helpers import read_events, reply, run_companion, wait_for_event
from .speech_helpers import AUDIO, voice_turn
from .test_cli import Repl


def user_texts(scripted) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in scripted.requests]


def test_a_recording_stands_in_for_the_microphone(scripted):
    """Two spoken requests, recognised from a recording and answered by the navigator (no
    language model needed for either)."""
    repl = Repl(
        "--audio-in",
        str(AUDIO / "two_requests.wav"),
        "--listen-mode",
        "hands_free",
        "--mute",
        "--llm-base-url",
        scripted.base_url,
    )
    repl.wait_for("We're not navigating anywhere right now.", timeout=60)
    code, out, err = repl.finish()
    assert code == 0, err
    assert "was destroyed but it is pending" not in err and "Traceback" not in err
    assert "you (voice)> find a coffee shop" in out
    assert "you (voice)> how long until we get there" in out
    assert out.index("coffee places nearby") < out.index("you (voice)> how long")
    assert "Which one?" in out
    assert scripted.requests == []
    assert "using PocketSphinx" in out and "companion models install" in out  # said once
    assert out.count("using PocketSphinx") == 1


def test_no_microphone_means_typing_still_works(scripted):
    scripted.add(reply("Typed and heard."))
    repl = Repl(
        "--voice",
        "--input-device",
        "no-such-microphone",
        "--mute",
        "--llm-base-url",
        scripted.base_url,
    )
    repl.wait_for("No usable input device 'no-such-microphone'", timeout=30)
    repl.send("hello")
    repl.wait_for("Typed and heard.")
    code, out, err = repl.finish()
    assert code == 0 and "Traceback" not in out + err
    assert "companion devices" in out


def test_a_broken_recording_is_reported_and_typing_goes_on(scripted, tmp_path):
    bad = tmp_path / "voice.wav"
    bad.write_text("not audio")
    scripted.add(reply("Still here."))
    repl = Repl("--audio-in", str(bad), "--mute", "--llm-base-url", scripted.base_url)
    repl.wait_for("not a readable audio file", timeout=30)
    repl.send("are you there")
    repl.wait_for("Still here.")
    code, out, _ = repl.finish()
    assert code == 0 and str(bad) in out


def test_listen_without_its_recording_says_why_and_exits_1(scripted, tmp_path):
    """`companion listen` has no keyboard: when its only input fails, a script running it
    learns so from the exit status (chat, above, goes on with typing and exits 0)."""
    bad = tmp_path / "voice.wav"
    bad.write_text("not audio")
    for recording in (bad, tmp_path / "missing.wav"):
        args = ("listen", "--audio-in", str(recording), "--mute", "--no-earcons")
        result = run_companion(*args, "--llm-base-url", scripted.base_url)
        assert result.returncode == 1, result.stdout + result.stderr
        assert str(recording) in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert not scripted.requests  # nothing was heard, so nothing was asked


@pytest.mark.slow
def test_hands_free_through_the_real_microphone(scripted, sound_card):
    # No speculative start here (tests/test_voice_loop.py covers it).
    repl = Repl(
        "--voice",
        "--listen-mode",
        "hands_free",
        "--mute",
        "--llm-base-url",
        scripted.base_url,
        env={**sound_card.client_env, "COMPANION_SPEECH_SPECULATE_AFTER_MS": "0"},
    )
    repl.wait_for("just speak", timeout=30)
    time.sleep(0.5)
    sound_card.play_into_microphone(AUDIO / "navigate_charger.wav")
    repl.wait_for("The nearest charger is Voltpoint Charging Hub", timeout=30)
    voice_turn(repl.out, "navigate to the nearest charger")
    assert scripted.requests == []  # answered by the navigator, not the language model
    repl.process.stdin.close()  # no keyboard: the microphone keeps the chat alive ...
    time.sleep(0.5)
    assert repl.process.poll() is None
    repl.process.send_signal(signal.SIGINT)  # ... until Ctrl+C
    assert repl.process.wait(timeout=20) == 0


@pytest.mark.slow
def test_push_to_talk_through_the_real_microphone(scripted, sound_card):
    repl = Repl(
        "--voice",
        "--listen-mode",
        "push_to_talk",
        "--mute",
        "--llm-base-url",
        scripted.base_url,
        env=sound_card.client_env,
    )
    repl.wait_for("press Enter on an empty line to talk", timeout=30)
    sound_card.play_into_microphone(AUDIO / "how_long.wav")  # not pressed: ignored
    time.sleep(1.0)
    assert "you (voice)>" not in repl.out
    repl.send("")  # press
    repl.wait_for("listening… press Enter to stop")
    sound_card.play_into_microphone(AUDIO / "add_stop.wav")
    # "Add a stop at a coffee shop" (PocketSphinx hears "at a stop the coffee shop"); with
    # no route yet the navigator goes to the nearest coffee place.
    repl.wait_for("There's no route yet, so navigating to Beanstalk Coffee", timeout=30)
    assert scripted.requests == []
    code, out, err = repl.finish()
    assert code == 0, err


@pytest.mark.slow
def test_unplugging_the_microphone_mid_sentence_keeps_what_was_heard(scripted, tmp_path):
    """The sound server disappears while the driver is talking: the words so far still make
    a turn, the driver is told what happened, and typing carries on."""
    card = start_sound_card(tmp_path / "pulse")
    timings = tmp_path / "timings.jsonl"
    try:
        scripted.add(
            reply("Typed reply.", match="still there"),  # rules are tried in order
            reply("Looking for Italian places.", match="."),  # whatever the words so far
        )
        repl = Repl(
            "--voice",
            "--listen-mode",
            "hands_free",
            "--mute",
            "--llm-base-url",
            scripted.base_url,
            "--timings",
            str(timings),
            env={**card.client_env, "COMPANION_SPEECH_SPECULATE_AFTER_MS": "0"},
        )
        repl.wait_for("just speak", timeout=30)
        player = subprocess.Popen(
            ["paplay", "--device=car_mic", str(AUDIO / "long_sentence.wav")], env=card.env
        )
        # Unplugged mid-sentence: once the recogniser has heard its first three words,
        # whatever it made of them (an event, not a time: a busy machine hears them later;
        # not exact words: real-time capture is not the same samples twice), seconds before
        # "parking".
        assert wait_for_event(
            timings,
            lambda e: e["event"] == "PartialTranscript" and len(e["text"].split()) >= 3,
            timeout=30,
        ), read_events(timings)
    finally:
        stop_sound_card(card)
    player.wait(timeout=10)
    repl.wait_for("stopped delivering audio (unplugged?)", timeout=15)
    repl.wait_for("you (voice)> ", timeout=30)
    heard = repl.out.split("you (voice)> ", 1)[1].split("\n", 1)[0]
    assert len(heard.split()) >= 3, heard  # the words before the unplug make the turn ...
    assert "parking" not in heard  # ... and only those
    # Answered: by the persona, or by the navigator when the words so far ask for a place.
    deadline = time.monotonic() + 30
    while "Assistant: " not in repl.out.split("you (voice)> ", 1)[1]:
        assert time.monotonic() < deadline, repl.out
        time.sleep(0.05)
    repl.send("are you still there")
    repl.wait_for("Typed reply.")
    code, out, err = repl.finish()
    assert code == 0 and "Traceback" not in out + err
