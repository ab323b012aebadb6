"""A virtual car cabin: what the microphone would hear, without a sound card.

The assistant's voice goes out through the speakers and comes back to the microphone through
the cabin (a room impulse response: a direct path after `delay_ms`, early reflections off the
glass and a short diffuse tail), mixed with the driver's voice and road noise at a chosen
signal-to-noise ratio. `CabinSource` plays that microphone signal to a `Listener` as fast as
it can be processed, on a simulated clock, and reports what "the speakers" play through the
same hook the real player uses (`playback.report_output`): the echo gate and the canceller
see exactly what they would see in the car. Tests and benchmarks (benchmarks/cabin.py) use it.

Everything is seeded: the same arguments give the same samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .capture import Block, InputEnded
from .echo import EchoGate
from .playback import report_output

RATE = 16000
BLOCK = RATE // 100  # 10 ms blocks: barge-in is timed to the block


def impulse_response(delay_ms: float, rt60_s: float = 0.08, seed: int = 0) -> np.ndarray:
    """A car cabin's response from speaker to microphone: silence for `delay_ms` (the trip
    plus whatever latency the audio path adds), a direct path, then reflections decaying to
    -60 dB in `rt60_s` (cars: 0.05-0.15 s). Unit energy."""
    rng = np.random.default_rng(seed)
    n = int(max(rt60_s, 0.02) * 1.5 * RATE)
    t = np.arange(n) / RATE
    tail = rng.normal(0.0, 1.0, n) * np.exp(-6.91 * t / rt60_s)
    tail[: int(0.001 * RATE)] = 0.0  # reflections arrive after the direct sound
    h = 0.5 * tail / math.sqrt(float(np.sum(tail**2)) or 1.0)
    h[0] = 1.0
    for _ in range(4):  # early reflections: windows, roof, seats
        h[int(rng.uniform(0.001, 0.006) * RATE)] += rng.uniform(-0.5, 0.5)
    h /= math.sqrt(float(np.sum(h**2)))
    return np.concatenate([np.zeros(int(delay_ms * RATE / 1000)), h])


def road_noise(seconds: float, seed: int = 0) -> np.ndarray:
    """Tyre and engine rumble (most energy under 300 Hz) with a little wind hiss; unit RMS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    spectrum = np.fft.rfft(rng.normal(0.0, 1.0, n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    shape = 1.0 / np.maximum(f, 20.0) ** 1.5  # brownish rumble
    shape += 6e-4 / np.maximum(f, 1000.0) ** 0.5 * (f > 1000)  # wind hiss, ~20 dB under
    shape[f < 20] = 0.0
    noise = np.fft.irfft(spectrum * shape, n)
    return noise / (np.sqrt(np.mean(noise**2)) or 1.0)


def active_rms(samples: np.ndarray) -> float:
    """RMS over the frames that carry speech (within 30 dB of the loudest 10 ms frame), so a
    clip's silence does not lower its level."""
    x = samples.astype(np.float64)
    frames = x[: len(x) // BLOCK * BLOCK].reshape(-1, BLOCK)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    if not len(rms) or rms.max() == 0:
        return 0.0
    loud = rms[rms >= rms.max() * 10 ** (-30 / 20)]
    return float(np.sqrt(np.mean(loud**2)))


def onset_s(samples: np.ndarray) -> float:
    """When speech starts in a clean clip: the first 10 ms frame within 30 dB of its loudest."""
    x = samples.astype(np.float64)
    frames = x[: len(x) // BLOCK * BLOCK].reshape(-1, BLOCK)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    first = int(np.flatnonzero(rms >= rms.max() * 10 ** (-30 / 20))[0])
    return first * BLOCK / RATE


def at_level(samples: np.ndarray, dbfs: float) -> np.ndarray:
    """`samples` scaled so their speech is at `dbfs` (RMS over speech frames)."""
    level = active_rms(samples)
    return samples.astype(np.float64) * (32768 * 10 ** (dbfs / 20) / level if level else 0.0)


@dataclass
class Cabin:
    """One scene: what the speakers play and when, the driver's words and when, the road.

    Levels are dBFS at the microphone, measured over speech: `echo_dbfs` is how loud the
    assistant's voice arrives, `driver_dbfs` the driver's voice; `snr_db` puts road noise
    that far under the driver (None: a quiet cabin, -75 dBFS of room tone).
    """

    seconds: float
    delay_ms: float = 60.0
    rt60_s: float = 0.08
    echo_dbfs: float = -20.0
    driver_dbfs: float = -26.0
    snr_db: float | None = None
    seed: int = 0
    played: list[tuple[float, np.ndarray]] = field(default_factory=list)  # (start s, 16 kHz)
    driver: list[tuple[float, np.ndarray]] = field(default_factory=list)

    def play(self, start_s: float, samples: np.ndarray) -> None:
        """The assistant says `samples` (16 kHz int16) from `start_s` on."""
        self.played.append((start_s, samples.astype(np.int16)))

    def say(self, start_s: float, samples: np.ndarray) -> None:
        """The driver says `samples` (16 kHz, any level) from `start_s` on."""
        self.driver.append((start_s, samples))

    def speaker_signal(self) -> np.ndarray:
        out = np.zeros(int(self.seconds * RATE), np.int16)
        for start, samples in self.played:
            i = int(start * RATE)
            part = samples[: max(0, len(out) - i)]
            out[i : i + len(part)] = part
        return out

    def echo_path(self) -> tuple[np.ndarray, float]:
        """(impulse response, gain): the speaker signal convolved with the response and
        scaled by the gain is the echo at the microphone."""
        speaker = self.speaker_signal()
        level = active_rms(speaker)
        gain = 32768 * 10 ** (self.echo_dbfs / 20) / level if level else 0.0
        return impulse_response(self.delay_ms, self.rt60_s, self.seed), gain

    def near_end(self) -> np.ndarray:
        """What the microphone hears besides the echo: the driver, the road, room tone."""
        n = int(self.seconds * RATE)
        mic = np.zeros(n)
        for start, samples in self.driver:
            voice = at_level(samples, self.driver_dbfs)
            i = int(start * RATE)
            part = voice[: max(0, n - i)]
            mic[i : i + len(part)] += part
        if self.snr_db is not None:
            noise_dbfs = self.driver_dbfs - self.snr_db
            mic += road_noise(self.seconds, self.seed + 1) * 32768 * 10 ** (noise_dbfs / 20)
        mic += np.random.default_rng(self.seed + 2).normal(0.0, 32768 * 10 ** (-75 / 20), n)
        return mic

    def microphone(self) -> np.ndarray:
        """The microphone signal, 16 kHz int16, if the assistant plays to the end."""
        n = int(self.seconds * RATE)
        h, gain = self.echo_path()
        echo = np.convolve(self.speaker_signal().astype(np.float64), h)[:n] * gain
        return np.clip(self.near_end() + echo, -32768, 32767).astype(np.int16)


class CabinSource:
    """An `AudioSource` playing a cabin's microphone signal on a simulated clock (as fast as
    the listener takes it), reporting the speakers' output to `echo_gate` as the player would.
    `now` is the simulated time of the block last read (the listener's events happen then).
    `stop_speaker()` is barge-in: the speakers fall silent from the next block on (what the
    player's `stop()` does at its next callback), and the echo fades with the room's tail."""

    def __init__(self, cabin: Cabin, echo_gate: EchoGate | None = None, t0: float = 1000.0):
        self.near = cabin.near_end()
        self.speaker = cabin.speaker_signal()
        self.h, self.gain = cabin.echo_path()
        self._echo = np.zeros(len(self.near) + len(self.h) + BLOCK)
        self.echo_gate = echo_gate
        self.t0 = t0
        self._i = 0
        self.now = t0
        self.stopped_at: float | None = None  # seconds into the scene

    def stop_speaker(self) -> None:
        if self.stopped_at is None:
            self.stopped_at = self._i / RATE

    def start(self) -> None:
        pass

    def read(self, timeout: float) -> Block | None:
        i = self._i
        if i >= len(self.near):
            raise InputEnded()
        self._i = i + BLOCK
        played = self.speaker[i : i + BLOCK]
        if self.stopped_at is not None:
            played = np.zeros_like(played)
        if played.any():  # its echo, from now on (overlap-add)
            echo = np.convolve(played.astype(np.float64), self.h) * self.gain
            self._echo[i : i + len(echo)] += echo
        if self.echo_gate is not None:  # the speakers play this block now
            report_output(self.echo_gate, played, RATE, self.t0 + i / RATE)
        self.now = self.t0 + self._i / RATE
        mic = self.near[i : i + BLOCK] + self._echo[i : i + len(played)]
        return Block(np.clip(mic, -32768, 32767).astype(np.int16), self.now)

    def close(self) -> None:
        pass
