"""Assistant control, answered locally without the language model: stop, repeat, cancel,
louder, quieter (the master volume of the real speaker)."""

from __future__ import annotations

import numpy as np

from companion.events import ReplyDone
from companion.tts.output import MIN_VOLUME
from companion.tts.speaker import Speaker
from companion.tts.synth import Audio

from .nav_helpers import Drive, llm_client


async def test_repeat_cancel_and_stop_need_no_model(tmp_path, scripted):
    drive = Drive(tmp_path, client=llm_client(scripted.base_url))
    assert await drive.say("repeat that") == "I haven't said anything yet."
    said = await drive.say("take me to QuickFuel")
    assert await drive.say("say that again") == said
    await drive.say("find me a coffee shop")
    assert drive.navigator.pending is not None
    assert await drive.say("never mind") == "Okay, never mind."  # answers the question
    assert drive.navigator.pending is None
    assert await drive.say("never mind") == "Okay."  # nothing open: just acknowledged
    done = await drive.pipeline.run_turn("stop")
    assert isinstance(done, ReplyDone) and done.text == ""
    assert scripted.requests == []
    await drive.close()


async def test_louder_and_quieter_change_the_speakers_master_volume(tmp_path):
    speaker = Speaker()  # the real one; no sound card here, so playback reports a problem
    try:
        drive = Drive(tmp_path)
        drive.pipeline.speaker = speaker
        assert speaker.volume == 1.0
        assert await drive.say("louder") == "That's as loud as I go."
        assert await drive.say("turn it down") == "Quieter."
        assert await drive.say("quieter") == "Quieter."
        assert speaker.volume == 0.6
        for _ in range(3):
            await drive.say("volume down")
        assert speaker.volume == MIN_VOLUME == 0.1  # the one minimum, keys and voice alike
        assert await drive.say("quieter") == "That's as quiet as I go."
        assert await drive.say("speak up") == "Louder."
        assert speaker.volume == 0.3
        await drive.close()
    finally:
        speaker.close()
    # What the volume does to the samples the player gets.
    audio = Audio(np.full(1600, 10000, dtype=np.int16), 16000)
    assert int(np.abs(audio.scaled(0.4).samples).max()) == 4000


async def test_without_speech_louder_says_so(tmp_path):
    drive = Drive(tmp_path)
    assert await drive.say("louder") == "Speech is off, so there's nothing to turn up."
    await drive.close()
