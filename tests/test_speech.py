"""Speech out: pyttsx3 renders real audio; the speaker plays it on a (virtual) sound card."""

from __future__ import annotations

import threading
import time
import wave

import numpy as np
import pytest

from companion.audio.playback import AudioOutputError, AudioPlayer
from companion.personas import Voice
from companion.tts.speaker import Speaker
from companion.tts.synth import Pyttsx3Synthesizer, read_wav, write_wav

from .soundcard import longest_gap, loud_segments, wait_until_heard, wait_until_recording


@pytest.fixture(scope="module")
def synthesizer():
    synth = Pyttsx3Synthesizer()
    yield synth
    synth.close()


def test_pyttsx3_renders_a_sentence_to_non_silent_audio(synthesizer, tmp_path):
    audio = synthesizer.synthesize("Turn left at the next light.")
    assert audio.rate > 8000
    assert 0.8 < audio.seconds < 5
    assert audio.peak() > 3000  # real speech, not silence
    # Round trip through a WAV file, as the fixtures and tools use it.
    write_wav(tmp_path / "s.wav", audio)
    again = read_wav(tmp_path / "s.wav")
    assert np.array_equal(again.samples, audio.samples)


def test_voice_settings_change_the_audio_every_time(synthesizer):
    # pyttsx3's own espeak engine applied settings late (9 of 12 alternating requests came out
    # at the previous rate); the worker now drives espeak-ng synchronously. Alternate, so a
    # setting that lags one request behind fails.
    for _ in range(4):
        slow = synthesizer.synthesize("This is a test of the voice rate.", Voice(rate=110))
        fast = synthesizer.synthesize("This is a test of the voice rate.", Voice(rate=260))
        assert slow.seconds > 1.5 * fast.seconds
        low = synthesizer.synthesize("Pitch check.", Voice(pitch=10))
        high = synthesizer.synthesize("Pitch check.", Voice(pitch=90))
        assert not np.array_equal(low.samples[:2000], high.samples[:2000])
    quiet = synthesizer.synthesize("Volume check.", Voice(volume=0.2))
    loud = synthesizer.synthesize("Volume check.", Voice(volume=1.0))
    assert 0.15 * loud.peak() < quiet.peak() < 0.25 * loud.peak()


def test_engine_silence_is_trimmed_so_the_first_sound_comes_at_once(synthesizer):
    audio = synthesizer.synthesize("Okay.")
    loud = np.flatnonzero(np.abs(audio.samples.astype(np.int32)) > 200)
    assert loud[0] / audio.rate <= 0.021
    assert (len(audio.samples) - loud[-1]) / audio.rate <= 0.021


def test_an_unknown_voice_is_an_error_naming_the_voice_and_the_next_sentence_works(synthesizer):
    from companion.tts.synth import SynthesisError

    with pytest.raises(SynthesisError, match="no-such-voice.*espeak-ng --voices"):
        synthesizer.synthesize("Hello.", Voice(id="no-such-voice"))
    assert synthesizer.synthesize("Hello again.").seconds > 0.3


def test_a_hung_engine_is_restarted_and_the_speaker_reports_it_once():
    """A wedged engine process (stopped with SIGSTOP, so it really never answers) costs one
    short wait: the reply's other sentences are skipped, the driver is told speech is
    unavailable, and the next reply is spoken by a fresh engine process."""
    import os
    import signal

    synthesizer = Pyttsx3Synthesizer(timeout=1.0)
    problems: list[str] = []
    spoken: list[tuple[str, bool]] = []
    speaker = Speaker(
        synthesizer,
        AudioPlayer("no such device anywhere"),
        on_problem=problems.append,
        on_spoken=lambda text, stopped, played: spoken.append((text, stopped)),
    )
    try:
        synthesizer.warm_up()
        hung = synthesizer._process.pid
        os.kill(hung, signal.SIGSTOP)
        started = time.monotonic()
        for n in range(4):
            speaker.say(f"Sentence {n} of a reply nobody will hear.")
        assert speaker.wait_until_done(timeout=20)
        assert time.monotonic() - started < 5  # one timeout, not one per sentence
        assert any("Speech is unavailable" in p and "restarted" in p for p in problems)
        assert all(stopped for _, stopped in spoken)
        audio = synthesizer.synthesize("The next reply works.")
        assert audio.seconds > 0.5 and synthesizer._process.pid != hung
    finally:
        speaker.close()


def test_the_engine_keeps_working_after_many_sentences(synthesizer):
    # Some pyttsx3 versions wedge after the first utterance; ours runs it in a worker process.
    lengths = [synthesizer.synthesize(f"Sentence number {n}.").seconds for n in range(8)]
    assert all(length > 0.5 for length in lengths)


def test_a_missing_output_device_is_reported_once_and_the_speaker_carries_on():
    problems: list[str] = []
    spoken: list[tuple[str, bool]] = []
    speaker = Speaker(
        player=AudioPlayer("no such device anywhere"),
        on_problem=problems.append,
        on_spoken=lambda text, stopped, played: spoken.append((text, stopped)),
    )
    try:
        speaker.say("One.")
        speaker.say("Two.")
        assert speaker.wait_until_done(timeout=20)
    finally:
        speaker.close()
    assert len(problems) == 1 and "--output-device" in problems[0]
    assert [text for text, _ in spoken] == ["One.", "Two."]


def test_player_error_names_the_fix():
    with pytest.raises(AudioOutputError, match="--mute"):
        AudioPlayer("no such device anywhere").play(np.zeros(100, np.int16), 16000)


def loud_seconds(path, threshold=1000) -> tuple[float | None, float]:
    """(time of the first loud sample, seconds of loud audio) in a 16 kHz mono WAV."""
    with wave.open(str(path)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if not len(loud):
        return None, 0.0
    blocks = np.unique(loud // 160)  # 10 ms blocks with sound in them
    return loud[0] / 16000, len(blocks) / 100


@pytest.mark.slow
def test_speaker_plays_sentences_on_the_sound_card_and_stop_cuts_them_off(
    sound_card, tmp_path, monkeypatch
):
    for key, value in sound_card.client_env.items():
        monkeypatch.setenv(key, value)
    speaker = Speaker()
    try:
        recording = tmp_path / "full.wav"
        recorder = sound_card.record_speaker(recording, 0)
        wait_until_recording(recording)
        speaker.say("The first sentence is spoken now.")
        speaker.say("And the second one follows without a gap.")
        assert speaker.wait_until_done(timeout=30)
        wait_until_recording(recording, 0.3)  # the recorder has caught up with the speaker
        recorder.terminate()
        recorder.wait()
        first, full = loud_seconds(recording)
        assert first is not None and full > 1.5, "nothing audible reached the speaker"

        # Sentences follow each other in the player itself: a listener that is slow to take
        # a sentence's report (a busy screen, a loaded machine that wakes the speaker's
        # thread late) must not hold the next sentence back. Half a second of it would show
        # as a 0.6 s silence; the pause between sentences is 0.1 s.
        reported = []

        def slow_listener(text: str, stopped: bool, played: float) -> None:
            reported.append((text, stopped))
            time.sleep(0.5)  # a listener that takes its time, not a wait for the test

        speaker.on_spoken = slow_listener
        recording = tmp_path / "slow_listener.wav"
        recorder = sound_card.record_speaker(recording, 0)
        wait_until_recording(recording)
        sentences = ["Charging has started.", "It will be full in forty minutes."]
        for sentence in sentences:
            speaker.say(sentence)
        assert speaker.wait_until_done(timeout=30)
        wait_until_recording(recording, 0.3)
        recorder.terminate()
        recorder.wait()
        assert reported == [(sentence, False) for sentence in sentences]
        segments = loud_segments(recording, split_s=1.0)
        assert len(segments) == 1, f"the two sentences were heard apart: {segments}"
        gap = longest_gap(recording, *segments[0])
        assert gap < 0.35, f"a {gap * 1000:.0f} ms silence between the sentences"
        speaker.on_spoken = None

        recording = tmp_path / "stopped.wav"
        recorder = sound_card.record_speaker(recording, 0)
        wait_until_recording(recording)
        playing = threading.Event()
        speaker.on_progress = lambda stage, text: stage == "playing" and playing.set()
        speaker.say(
            "This is a much longer sentence that will be cut off long before it ends, "
            "because the driver pressed the button to talk."
        )
        assert playing.wait(30), "the sentence never started playing"
        wait_until_heard(recording, 0.5)  # half a second of it has been heard
        speaker.stop()
        assert speaker.wait_until_done(timeout=5)
        wait_until_recording(recording, 1.0)  # what would have followed, had it not stopped
        recorder.terminate()
        recorder.wait()
        _, cut = loud_seconds(recording)
        assert 0.2 < cut < 2.0, f"{cut:.2f} s of sound after stop(): playback did not stop"
        assert speaker.enabled
    finally:
        speaker.close()
