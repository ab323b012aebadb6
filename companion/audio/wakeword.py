"""A neural wake word: openWakeWord's models through pyopen-wakeword (TensorFlow Lite; the
runtime and the models ship in the package). The code is Apache-2.0, but openWakeWord's
pre-trained models are CC BY-NC-SA 4.0: no commercial use (`LICENCE`, shown by
`companion voices list` and in the Wyoming service's description). Off by default; with
`speech.wake_word` set (a model name such as "hey_jarvis", or a .tflite file) the wake-phrase
mode listens for it instead of asking the recogniser to spot `speech.wake_phrase`. Set to
wyoming://HOST:PORT/MODEL, a Wyoming wake-word service listens instead (wyoming/client.py;
`stt.listener.open_wake_word` picks).

The models that ship are "alexa", "hey_jarvis", "hey_mycroft", "hey_rhasspy" and
"okay_nabu"; openWakeWord's tools train others (a "hey companion" model is not made yet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

LICENCE = "models CC BY-NC-SA 4.0, non-commercial use only"
CHUNK = 160  # openWakeWord's features take 10 ms of 16 kHz audio at a time


def phrase_of(name: str) -> str:
    """What the driver says for a wake-word model: "hey_jarvis", "Hey Jarvis", a file
    "hey_jarvis.tflite" and openWakeWord's versioned stem "hey_jarvis_v0.1" all say "hey
    jarvis". Also how names are matched loosely (the Wyoming client and server)."""
    key = Path(name).stem if name.endswith(".tflite") else name
    key = key.lower().replace("_", " ").strip()
    head, _, tail = key.rpartition(" v")
    return head if head and tail.replace(".", "").isdigit() else key


def builtin_models() -> list[str]:
    try:
        from pyopen_wakeword import Model
    except ImportError:
        return []
    return [m.value for m in Model]


class WakeWord(Protocol):
    """What the listener asks of a wake word, local or served."""

    @property
    def phrase(self) -> str:
        """What the driver says, for the screen and the WakePhraseHeard event."""

    @property
    def behind_s(self) -> float:
        """At a detection: how much audio was pushed after the wake word ended."""

    def push(self, samples: np.ndarray) -> bool: ...

    def close(self) -> None: ...


class WakeWordDetector:
    """Feed 16 kHz int16 audio; `push()` is True on the frame where the wake word ends."""

    behind_s = 0.0  # detected on the frame itself

    def __init__(self, model: str, threshold: float = 0.5, refractory_s: float = 2.0) -> None:
        try:
            from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures
        except ImportError:
            raise ValueError(
                f'speech.wake_word = "{model}" needs pyopen-wakeword: '
                "pip install 'companion[cabin]'"
            ) from None
        if model.endswith(".tflite"):
            path = Path(model).expanduser()
            if not path.is_file():
                raise ValueError(f"speech.wake_word: no such model file {path}")
            self._oww = OpenWakeWord.from_model(path)
            self.name = path.stem
        else:
            names = [m.value for m in Model]
            if model not in names:
                raise ValueError(
                    f'speech.wake_word "{model}" is not a model that ships with openWakeWord '
                    f"({', '.join(names)}); give one of those or a .tflite file."
                )
            self._oww = OpenWakeWord.from_builtin(Model(model))
            self.name = model
        self._features = OpenWakeWordFeatures.from_builtin()
        self.threshold = threshold
        self._refractory = int(refractory_s * 100)  # in 10 ms chunks
        self._quiet_for = self._refractory
        self._pending = np.zeros(0, np.int16)
        self.probability = 0.0

    @property
    def phrase(self) -> str:
        return phrase_of(self.name)

    def push(self, samples: np.ndarray) -> bool:
        pending = np.concatenate([self._pending, samples.astype(np.int16)])
        fired = False
        while len(pending) >= CHUNK:
            chunk, pending = pending[:CHUNK], pending[CHUNK:]
            self._quiet_for += 1
            for features in self._features.process_streaming(chunk.tobytes()):
                for probability in self._oww.process_streaming(features):
                    self.probability = probability
                    if probability >= self.threshold and self._quiet_for >= self._refractory:
                        fired, self._quiet_for = True, 0
        self._pending = pending
        return fired

    def close(self) -> None:
        self._oww.close()
