"""The wake word served over Wyoming, side by side with the local one: how long after the wake
word ends the listener hears of it, and whether the detection's timestamp puts the end of the
wake word where the local detector hears it (what keeps the request that follows whole).

    python benchmarks/wyoming_wake.py [--runs 3] [--write docs/PERFORMANCE.md]

"Hey Jarvis, <request>" is said by Piper (requests from SLURP devel when ../shared/data is
present) after 2.5 s of silence, streamed at the microphone's pace, 20 ms frames, to:
  - local: openWakeWord in-process (pyopen-wakeword), the reference for where the word ends;
  - ours: `companion serve wyoming --no-stt --no-tts` on loopback;
  - wyoming-openwakeword 1.8.2 (Home Assistant's), from .venv/services, made by .ci/setup.
Delay: wall time from pushing the frame where the local detector fires to `push()` returning
True. Word-end error: |(frame pushed at the detection − behind_s) − the local end|.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, pct, publish  # noqa: E402

from tests.helpers import free_port, wait_listening  # noqa: E402

HEADING = "## Wake words over Wyoming (benchmarks/wyoming_wake.py)"
FRAME = 320  # 20 ms at 16 kHz, what the listener pushes
OWW = ROOT / ".venv" / "services" / "wyoming-openwakeword" / "bin" / "python"


def requests(n: int) -> list[str]:
    slurp = ROOT.parent / "shared" / "data" / "slurp_devel.jsonl"
    lines = []
    if slurp.is_file():
        lines = [json.loads(row)["sentence"] for row in slurp.read_text().splitlines()]
    lines = [s for s in lines if "jarvis" not in s.lower() and 3 <= len(s.split()) <= 9]
    if not lines:
        lines = ["take me to the nearest charger", "how long until we get there"] * n
    random.Random(21).shuffle(lines)
    return lines[:n]


def start_services() -> dict[str, tuple[subprocess.Popen, str]]:
    services = {}
    ours = subprocess.Popen(
        [sys.executable, "-m", "companion", "serve", "wyoming", "--uri", "tcp://127.0.0.1:0"]
        + ["--no-stt", "--no-tts"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert ours.stderr is not None
    line = ours.stderr.readline()
    port = int(re.search(r":(\d+)\s*$", line.strip()).group(1))  # type: ignore[union-attr]
    services["ours (companion serve wyoming)"] = (ours, f"wyoming://127.0.0.1:{port}/hey_jarvis")
    if OWW.exists():
        port = free_port()
        oww = subprocess.Popen(
            [str(OWW), "-m", "wyoming_openwakeword", "--uri", f"tcp://127.0.0.1:{port}"]
            + ["--preload-model", "hey_jarvis"],
            stderr=subprocess.DEVNULL,
        )
        wait_listening(port, 30)
        services["wyoming-openwakeword 1.8.2"] = (oww, f"wyoming://127.0.0.1:{port}/hey_jarvis")
    return services


def local_end(clip: np.ndarray) -> tuple[float | None, float]:
    """Where the local detector fires (seconds of audio), and its compute per 20 ms frame."""
    from companion.audio.wakeword import WakeWordDetector

    detector = WakeWordDetector("hey_jarvis")
    fired, started = None, time.perf_counter()
    for i in range(0, len(clip), FRAME):
        if detector.push(clip[i : i + FRAME]) and fired is None:
            fired = (i + FRAME) / 16000
    per_frame = (time.perf_counter() - started) / (len(clip) / FRAME)
    detector.close()
    return fired, per_frame


def served(uri: str, clip: np.ndarray, reference: float) -> tuple[float | None, float | None]:
    """Stream `clip` at the microphone's pace; (delay after the reference frame, word-end
    error), both in seconds, or None when it did not wake."""
    from companion.wyoming.client import WyomingWakeWord

    detector = WyomingWakeWord(uri)
    result: tuple[float | None, float | None] = (None, None)
    started = time.monotonic()
    for i in range(0, len(clip), FRAME):
        # A microphone hands over each frame when it has been spoken.
        time.sleep(max(0.0, started + (i + FRAME) / 16000 - time.monotonic()))
        fired = detector.push(clip[i : i + FRAME])
        if fired and result[0] is None:
            end = (i + FRAME) / 16000 - detector.behind_s
            result = (time.monotonic() - (started + reference), abs(end - reference))
    detector.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()

    import soxr

    from companion.tts.piper_engine import PiperSynthesizer

    synth = PiperSynthesizer(variation=True)
    services = start_services()
    delays: dict[str, list[float]] = {name: [] for name in services}
    errors: dict[str, list[float]] = {name: [] for name in services}
    woke = {name: 0 for name in services}
    local_compute: list[float] = []
    tries = 0
    try:
        for run in range(args.runs):
            for text in requests(args.clips):
                audio = synth.synthesize(f"Hey Jarvis, {text}")
                voice = soxr.resample(audio.samples.astype(np.float32), audio.rate, 16000)
                # 2.5 s before it: the listener's connection is open long before the driver
                # speaks (wyoming-openwakeword hears nothing in a stream's first ~2 s).
                lead = np.zeros(int(2.5 * 16000))
                clip = np.concatenate([lead, voice, np.zeros(16000)]).astype(np.int16)
                reference, per_frame = local_end(clip)
                local_compute.append(per_frame)
                if reference is None:
                    continue  # the local detector missed it: nothing to compare against
                tries += 1
                for name, (_, uri) in services.items():
                    delay, error = served(uri, clip, reference)
                    if delay is not None and error is not None:
                        woke[name] += 1
                        delays[name].append(delay)
                        errors[name].append(error)
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    finally:
        synth.close()
        for process, _ in services.values():
            process.send_signal(signal.SIGINT)
            process.wait(10)

    lines = [
        HEADING,
        "",
        f"{datetime.date.today()}, {machine()}. `python benchmarks/wyoming_wake.py "
        f'--runs {args.runs} --clips {args.clips}`: {tries} times "Hey Jarvis, <request>" '
        "(Piper, with its natural variation; SLURP devel requests) after 2.5 s of silence, "
        "streamed in 20 ms frames at the microphone's pace, each to every detector in turn. "
        "Delay: wall time from the frame "
        "where the local detector fires to the served detection reaching the listener. Word-end "
        "error: how far the detection's timestamp puts the end of the wake word from where the "
        "local detector hears it (the listener hands the audio since then to the request).",
        "",
        "| wake word | woke | delay median | delay p90 | word-end error median | p90 |",
        "|---|---|---|---|---|---|",
        f"| local (openWakeWord in-process) | {tries} of {tries} (the reference) | "
        f"{statistics.median(local_compute) * 1000:.2f} ms per frame (compute) | "
        f"{pct(local_compute, 0.9) * 1000:.2f} ms | 0 | 0 |",
    ]
    for name in services:
        d, e = delays[name], errors[name]
        if not d:
            lines.append(f"| {name} | 0 of {tries} | – | – | – | – |")
            continue
        lines.append(
            f"| {name} | {woke[name]} of {tries} | {statistics.median(d) * 1000:.0f} ms | "
            f"{pct(d, 0.9) * 1000:.0f} ms | {statistics.median(e) * 1000:.0f} ms | "
            f"{pct(e, 0.9) * 1000:.0f} ms |"
        )
    lines += [
        "",
        "The served delay is one frame: the listener picks a detection up when it pushes the "
        "next 20 ms. Loopback only: a service on another machine adds the network's round "
        "trip to the "
        "delay; the word-end error does not grow with it (it comes from the timestamps). "
        "wyoming-openwakeword hears nothing in the first ~2 s of a new stream (its feature "
        "windows start empty); the listener keeps one stream open for the drive.",
    ]
    publish(lines, args.write, HEADING)


if __name__ == "__main__":
    main()
