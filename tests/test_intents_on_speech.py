"""The router on what the recogniser actually hears: each spoken request in the fixtures is
transcribed by the real `companion transcribe` (PocketSphinx here), and the intent and place
category from the transcript must match those from the words that were spoken."""

from __future__ import annotations

import json
import subprocess

from .helpers import companion_cmd
from .speech_helpers import AUDIO

# The rest of the spoken fixtures (charger, storyteller, gas station, how long) are played
# through the same recogniser and router by the audio dialogues in tests/dialogues/.
REQUESTS = ["weather", "add_stop", "long_sentence", "two_requests"]


def nlu(lines: list[str]) -> list[dict]:
    done = subprocess.run(
        companion_cmd("nlu", "--jsonl"),
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_intents_survive_speech_recognition():
    manifest = json.loads((AUDIO / "manifest.json").read_text())
    done = subprocess.run(
        companion_cmd(
            "transcribe",
            "--json",
            "--engine",
            "pocketsphinx",
            *(str(AUDIO / f"{name}.wav") for name in REQUESTS),
        ),
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    heard, said = [], []
    for name, line in zip(REQUESTS, done.stdout.splitlines(), strict=True):
        utterances = [u["text"] for u in json.loads(line)["utterances"]]
        spoken = manifest[name]["text"].replace("? ", "?|").replace(". ", ".|").split("|")
        assert len(utterances) == len(spoken), (name, utterances)
        heard += utterances
        said += spoken
    for truth, asr in zip(nlu(said), nlu(heard), strict=True):
        assert asr["intent"] == truth["intent"], (truth["text"], asr["text"])
        assert asr["slots"].get("category") == truth["slots"].get("category"), (
            truth["text"],
            asr["text"],
        )
