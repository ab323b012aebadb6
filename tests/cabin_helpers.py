"""The virtual cabin bench (companion/audio/cabin.py) around the real listener, for the cabin
tests and benchmarks/cabin.py: the assistant talks through the speakers, its echo comes back
with a room response and delay, the driver talks over it, the road rumbles; the real echo
gate, canceller, VAD and recogniser decide."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from companion.audio import aec
from companion.audio.cabin import Cabin, CabinSource, onset_s
from companion.audio.echo import EchoGate
from companion.audio.files import read_audio
from companion.audio.vad import EndpointSettings
from companion.events import FinalTranscript, ListenerEvent, SpeechStarted
from companion.stt.listener import Listener, ListenerSettings
from tests.speech_helpers import AUDIO, MANIFEST

# What the assistant says in the bench: a story, as a persona would tell it.
STORY = (
    "Once upon a time, in a quiet village by the sea, there lived an old lighthouse keeper. "
    "Every night he climbed the winding stairs and lit the great lamp. "
    "Ships from far away followed its light safely into the harbour. "
    "One stormy evening, a small boat lost its way between the rocks. "
    "The keeper rang the bell again and again until the sailors heard it. "
    "In the morning the whole village came to thank him with bread and honey. "
    "He smiled, and said that the sea had always been his oldest friend. "
    "Years later, his granddaughter took over the lamp and kept it burning. "
    "And on quiet nights, people say you can still hear him singing to the waves. "
)


@dataclass
class Outcome:
    events: list[tuple[float, ListenerEvent]] = field(default_factory=list)  # (sim time, event)
    t0: float = 0.0
    suppressed: list[bool] = field(default_factory=list)  # per final: heard noise-suppressed?

    def starts(self) -> list[float]:
        """Seconds into the scene of each SpeechStarted (barge-in when the assistant talks)."""
        return [t - self.t0 for t, e in self.events if isinstance(e, SpeechStarted)]

    def finals(self) -> list[FinalTranscript]:
        return [e for _, e in self.events if isinstance(e, FinalTranscript)]


@functools.lru_cache(maxsize=4)
def assistant_speech(engine: str = "piper", seconds: float = 60.0) -> np.ndarray:
    """The assistant telling STORY (repeated to fill `seconds`), 16 kHz, with the Speaker's
    100 ms pause between sentences, rendered by our own speech engine."""
    import soxr

    from companion.tts.factory import Synthesizer

    synth: Synthesizer
    if engine == "piper":
        from companion.tts.piper_engine import PiperSynthesizer

        synth = PiperSynthesizer(variation=False)  # the same samples every run
    else:
        from companion.tts.synth import Pyttsx3Synthesizer

        synth = Pyttsx3Synthesizer()
    pieces: list[np.ndarray] = []
    total = 0
    try:
        sentences = [s.strip() + "." for s in STORY.split(".") if s.strip()]
        while total < seconds * 16000:
            for sentence in sentences:
                audio = synth.synthesize(sentence).padded(0.1)
                x = soxr.resample(audio.samples.astype(np.float32), audio.rate, 16000)
                pieces.append(np.clip(x, -32768, 32767).astype(np.int16))
                total += len(pieces[-1])
    finally:
        synth.close()
    return np.concatenate(pieces)[: int(seconds * 16000)]


def driver_clip(name: str) -> tuple[np.ndarray, str, float]:
    """(samples, text, onset seconds) of a fixture recording of the driver."""
    samples = read_audio(AUDIO / f"{name}.wav", 16000)
    return samples, MANIFEST[name]["text"], onset_s(samples)


def run(
    cabin: Cabin,
    engine: object,
    cancel: bool = True,
    vad: str = "webrtc",
    settings: ListenerSettings | None = None,
    barge_in: bool = True,
    gain_control: bool = False,
) -> Outcome:
    """The real hands-free listener (echo gate on; the canceller too if `cancel`) over the
    cabin's microphone, as fast as it goes. Events are stamped with the simulated time. With
    `barge_in`, the speakers stop when the listener hears speech start, as in the car.
    `gain_control`: the canceller's AGC on the recogniser's suppressed signal (the bench)."""
    gate = EchoGate()
    if cancel:
        gate.canceller = aec.EchoCanceller(gain_control=gain_control)
    source = CabinSource(cabin, gate)
    out = Outcome(t0=source.t0)

    def heard(event: ListenerEvent) -> None:
        out.events.append((source.now, event))
        if isinstance(event, FinalTranscript):
            out.suppressed.append(listener.suppressing)
        if isinstance(event, SpeechStarted) and barge_in:
            source.stop_speaker()  # what the assistant core does on barge-in

    listener = Listener(
        engine,  # type: ignore[arg-type]
        source,
        settings or ListenerSettings(mode="hands_free", endpoint=EndpointSettings(vad=vad)),
        heard,
    )
    listener.echo_gate = gate
    listener.start()
    assert listener.finished.wait(cabin.seconds * 4 + 30), "the listener did not finish"
    return out
