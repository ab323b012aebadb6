"""A virtual sound card for tests and benchmarks: PulseAudio with two null sinks.

`car_mic`: play into it and it is what the car's microphone hears (its monitor is the default
source). `car_speaker`: the default output; record its monitor to hear what the car played.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import wave
from pathlib import Path

import numpy as np


class SoundCardError(Exception):
    pass


# The driver's voice and the cabin's ear are physics: they never starve. On a busy machine
# (other test workers, the flake loop's load) the sound server, paplay and parecord run at
# the priority the product asks for its own audio (companion/audio/priority.py), where the
# system allows; elsewhere `nice` says it could not and runs them as they are. A car's sound
# server runs in real time too (PulseAudio asks for nice -11 itself, `--high-priority`).
REAL_TIME = ["nice", "-n", "-10"]


class VirtualSoundCard:
    """PulseAudio with null sinks: `car_speaker` is the default output; record its monitor."""

    def __init__(self, runtime: Path, session_scoped: bool = False) -> None:
        self.env = {
            **os.environ,
            # tests/processes.py: a card a session-scoped fixture keeps is checked at the end
            **({"TESTS_SESSION_SCOPED": "1"} if session_scoped else {}),
            "XDG_RUNTIME_DIR": str(runtime),
            "PULSE_RUNTIME_PATH": str(runtime / "pulse"),
            # Small client buffers (30 ms), as a car's audio stack has. With PulseAudio's
            # defaults, repeated runs of the slow tests on this 2-core machine sometimes
            # heard ~2 s of silence inside a sentence (the null sink stalling, before and
            # after the one-core change alike); with 30 ms it did not happen in 3 runs of 3.
            "PULSE_LATENCY_MSEC": "30",
        }

    @property
    def client_env(self) -> dict[str, str]:
        """What a client process needs to find this sound server."""
        return {
            key: self.env[key]
            for key in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH", "PULSE_LATENCY_MSEC")
        }

    def play_into_microphone(self, path: Path) -> None:
        """Play a recording into the car's microphone (blocks until it has played)."""
        # A deep buffer (paplay's own, not the car's 30 ms): a driver's voice never has holes,
        # however busy the machine that plays it.
        subprocess.run(
            [*REAL_TIME, "paplay", "--latency-msec=250", "--device=car_mic", str(path)],
            env=self.env,
            check=True,
            timeout=60,
        )

    def record_speaker(self, path: Path, seconds: float) -> subprocess.Popen:
        """Start recording what the car's speaker plays, as 16 kHz mono WAV."""
        return subprocess.Popen(
            [
                *REAL_TIME,
                "parecord",
                "--device=car_speaker.monitor",
                "--rate=16000",
                "--channels=1",
                "--format=s16le",
                "--file-format=wav",
                str(path),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def wait_until_recording(path: Path, seconds: float = 0.1, timeout: float = 20) -> float:
    """Block until `parecord` has written `seconds` more sound to `path` than it had when
    called: it is running (its start-up varies with the machine's load), or it has caught up
    with what was just played. Not a blind sleep. Returns when the file's first sample was
    captured, on `time.monotonic()`'s clock, estimated from how much it has written."""

    def written() -> int:
        try:
            return max(0, path.stat().st_size - 44)  # after the WAV header
        except OSError:
            return 0

    target = written() + int(seconds * 32000)  # 16 kHz, 16-bit mono
    deadline = time.monotonic() + timeout
    while (now := written()) < target:
        if time.monotonic() > deadline:
            raise SoundCardError(f"parecord did not write {seconds} s more to {path} in time")
        time.sleep(0.02)
    return time.monotonic() - now / 32000


def wait_until_heard(
    path: Path, seconds: float, threshold: int = 1000, timeout: float = 30
) -> None:
    """Block until the recording at `path` (being written) holds `seconds` of sound louder
    than `threshold`: what was played has been heard, however late it started."""

    def loud() -> float:
        try:
            data = path.read_bytes()[44:]
        except OSError:
            return 0.0
        samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
        blocks = samples[: len(samples) // 160 * 160].reshape(-1, 160)
        return float((np.abs(blocks.astype(np.int32)).max(axis=1) > threshold).sum()) / 100

    deadline = time.monotonic() + timeout
    while loud() < seconds:
        if time.monotonic() > deadline:
            raise SoundCardError(f"{path} holds no {seconds} s of sound after {timeout} s")
        time.sleep(0.05)


def start_sound_card(runtime: Path, session_scoped: bool = False) -> VirtualSoundCard:
    """Start a PulseAudio daemon with the car's null sinks in its own runtime folder."""
    if not shutil.which("pulseaudio"):
        raise SoundCardError("pulseaudio is not installed; run `bash .ci/setup` (it installs it)")
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    card = VirtualSoundCard(runtime, session_scoped)
    subprocess.run(
        [
            *REAL_TIME,
            "pulseaudio",
            "--daemonize=yes",
            "--high-priority=yes",
            "--exit-idle-time=-1",
            "-n",
            "--load=module-native-protocol-unix",
            "--load=module-null-sink sink_name=car_mic rate=16000 channels=1",
            "--load=module-null-sink sink_name=car_speaker channels=1",
            "--load=module-always-sink",
        ],
        env=card.env,
        check=True,
        timeout=30,
    )
    deadline = time.monotonic() + 10
    while subprocess.run(["pactl", "info"], env=card.env, capture_output=True).returncode:
        if time.monotonic() > deadline:
            stop_sound_card(card)
            raise SoundCardError("PulseAudio did not come up")
        time.sleep(0.1)
    subprocess.run(["pactl", "set-default-sink", "car_speaker"], env=card.env, check=True)
    subprocess.run(["pactl", "set-default-source", "car_mic.monitor"], env=card.env, check=True)
    return card


def stop_sound_card(card: VirtualSoundCard) -> None:
    subprocess.run(["pulseaudio", "--kill"], env=card.env, timeout=30)


def sound_blocks(path: Path, threshold: int = 600, min_ms: int = 30) -> np.ndarray:
    """Which 10 ms blocks of a 16 kHz WAV hold sound. A blip shorter than `min_ms` is not
    sound: an output stream that opens can click, and on a busy machine the click comes a
    few hundred milliseconds before the sentence it opens for, which read as a gap."""
    with wave.open(str(path)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    blocks = samples[: len(samples) // 160 * 160].reshape(-1, 160)
    loud = np.abs(blocks.astype(np.int32)).max(axis=1) > threshold
    edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(np.int8), [0]])))
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if (end - start) * 10 < min_ms:
            loud[start:end] = False
    return loud


def loud_segments(path: Path, split_s: float, threshold: int = 600) -> list[tuple[float, float]]:
    """(start, end) seconds of sound in a 16 kHz WAV, joining gaps shorter than `split_s`."""
    segments: list[list[float]] = []
    for index in np.flatnonzero(sound_blocks(path, threshold)):
        start, end = index / 100, (index + 1) / 100
        if segments and start - segments[-1][1] < split_s:
            segments[-1][1] = end
        else:
            segments.append([start, end])
    return [(a, b) for a, b in segments]


def longest_gap(path: Path, start: float, end: float, threshold: int = 600) -> float:
    longest = run = 0
    for is_loud in sound_blocks(path, threshold)[int(start * 100) : int(end * 100)]:
        run = 0 if is_loud else run + 1
        longest = max(longest, run)
    return longest / 100
