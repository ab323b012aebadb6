"""Generate the earcons in this folder: `python assets/sounds/make_earcons.py`.

Short, soft sounds that tell the driver what the assistant is doing without words:
- listening.wav: two rising notes (the microphone is open; speak now)
- got_it.wav: one short bright note (heard you; working on it)
- error.wav: two low falling notes (something went wrong; the reply says what)

Sine partials with smooth attack and release, 22050 Hz mono 16-bit (the speech engine's
rate, so the output stream never has to be reopened between an earcon and a sentence).
Deterministic: running it again gives the same bytes, and a test checks that the shipped
files match this script.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 22050
HERE = Path(__file__).resolve().parent


def note(freq: float, seconds: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    tone = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(2 * np.pi * 2 * freq * t)
    attack, release = int(0.008 * RATE), int(0.06 * RATE)
    envelope = np.ones_like(t)
    envelope[:attack] = np.linspace(0, 1, attack)
    envelope[-release:] = np.linspace(1, 0, release) ** 2
    return level * tone / 1.3 * envelope


def gap(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE))


EARCONS = {
    "listening": lambda: np.concatenate([note(660, 0.09), gap(0.02), note(990, 0.12)]),
    "got_it": lambda: note(1320, 0.09, level=0.22),
    "error": lambda: np.concatenate([note(392, 0.13), gap(0.03), note(262, 0.2)]),
}


def render(name: str) -> bytes:
    samples = np.round(EARCONS[name]() * 32767).astype("<i2")
    return samples.tobytes()


def write(folder: Path = HERE) -> list[Path]:
    paths = []
    for name in EARCONS:
        path = folder / f"{name}.wav"
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(render(name))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write():
        print(written)
