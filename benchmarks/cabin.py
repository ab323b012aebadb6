"""The virtual cabin: barge-in, false barge-ins, WER by road noise, VADs, echo cancellers,
Piper's first audio. Everything through the real listener, canceller, VAD and recogniser
(tests/cabin_helpers.py, companion/audio/cabin.py); no sound card.

    python benchmarks/cabin.py [--runs 5] [--write docs/PERFORMANCE.md]

The driver's requests are the recordings in tests/fixtures/audio and benchmarks/audio (20
requests); the assistant tells a story in Piper's voice. Scenes vary the request, where in
the story it falls, the echo delay (30/60/120 ms) and the seed of the room and the road.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, replace_section  # noqa: E402

from companion.audio import aec  # noqa: E402
from companion.audio.cabin import Cabin, CabinSource, onset_s  # noqa: E402
from companion.audio.echo import EchoGate  # noqa: E402
from companion.audio.files import read_audio  # noqa: E402
from companion.audio.vad import EndpointSettings  # noqa: E402
from companion.stt.listener import ListenerSettings  # noqa: E402
from companion.stt.models import load_engine  # noqa: E402
from tests.cabin_helpers import assistant_speech, run  # noqa: E402
from tests.speech_helpers import AUDIO, MANIFEST, word_error_rate, words  # noqa: E402

HEADING = "## The cabin: echo cancellation, barge-in, VAD, Piper"


def requests() -> list[tuple[np.ndarray, str]]:
    out = []
    for folder, manifest in (
        (AUDIO, MANIFEST),
        (
            ROOT / "benchmarks" / "audio",
            json.loads((ROOT / "benchmarks/audio/manifest.json").read_text()),
        ),
    ):
        for name, info in manifest.items():
            if info.get("language", "en-us") != "en-us" or not info.get("text"):
                continue
            if name in ("wake_only", "wake_command", "two_requests"):
                continue
            out.append((read_audio(folder / f"{name}.wav", 16000), info["text"]))
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def corpus_wer(pairs: list[tuple[str, str]]) -> float:
    errors = sum(word_error_rate(ref, hyp) * len(words(ref)) for ref, hyp in pairs)
    return errors / max(1, sum(len(words(ref)) for ref, _ in pairs))


def settings(vad: str = "webrtc") -> ListenerSettings:
    return ListenerSettings(mode="hands_free", endpoint=EndpointSettings(vad=vad))


def barge_in(
    engine, story, clips, echo_over_driver_db: float, snr: float = 20.0, vad: str = "silero"
) -> dict:
    """(a) The driver talks over the story; the same scene without the story for WER."""
    latencies, with_echo, without = [], [], []
    missed = 0
    for k, (clip, text) in enumerate(clips):
        onset = onset_s(clip)
        for j, delay in enumerate((30, 60, 120)):
            at = 3.0 + ((k * 3 + j) * 2.9) % 50
            seconds = at + len(clip) / 16000 + 1.0
            scene = dict(seconds=seconds, delay_ms=delay, snr_db=snr, seed=100 + k * 3 + j)
            scene["echo_dbfs"] = -26.0 + echo_over_driver_db
            cabin = Cabin(**scene)
            cabin.play(0.0, story[: int(seconds * 16000)])
            cabin.say(at, clip)
            outcome = run(cabin, engine, settings=settings(vad))
            starts = [s for s in outcome.starts() if s >= at - 0.3]
            if starts:
                latencies.append((starts[0] - (at + onset)) * 1000)
            else:
                missed += 1
            with_echo.append((text, " ".join(f.text for f in outcome.finals())))
            quiet = Cabin(**scene)
            quiet.say(at, clip)
            alone = run(quiet, engine, settings=settings(vad))
            without.append((text, " ".join(f.text for f in alone.finals())))
    return {
        "scenes": len(with_echo),
        "latency_median": statistics.median(latencies),
        "latency_p90": pct(latencies, 90),
        "within_50": sum(x <= 50 for x in latencies),
        "missed": missed,
        "wer_echo": corpus_wer(with_echo),
        "wer_clean": corpus_wer(without),
    }


def alone(engine, story, vad: str, snr: float | None, seeds: tuple[int, ...], cancel=True) -> dict:
    """(b) The assistant talks for 60 s; nobody else. Counts false barge-ins and
    self-transcripts; times the listener (CPU per second of audio)."""
    starts = finals = 0
    cpu = 0.0
    for seed in seeds:
        for delay in (30, 120):
            cabin = Cabin(seconds=60.0, delay_ms=delay, snr_db=snr, seed=seed)
            cabin.play(0.0, story)
            t = time.process_time()
            outcome = run(cabin, engine, cancel=cancel, settings=settings(vad), barge_in=False)
            cpu += time.process_time() - t
            starts += len(outcome.starts())
            finals += len(outcome.finals())
    minutes = len(seeds) * 2
    return {
        "minutes": minutes,
        "starts": starts,
        "finals": finals,
        "cpu_per_s": cpu / (minutes * 60),
    }


def noisy(engine, clips, snr: float | None, vad: str, cancel: bool) -> dict:
    """(c) The driver alone with road noise: WER, and how long after the driver's last word
    the utterance was closed (end-of-speech delay, audio time)."""
    pairs, delays = [], []
    for k, (clip, text) in enumerate(clips):
        at = 1.0
        cabin = Cabin(seconds=at + len(clip) / 16000 + 1.5, snr_db=snr, seed=300 + k)
        cabin.say(at, clip)
        outcome = run(cabin, engine, cancel=cancel, settings=settings(vad))
        finals = outcome.finals()
        pairs.append((text, " ".join(f.text for f in finals)))
        if finals:
            end_of_words = at + _speech_end(clip)
            closed = [t - outcome.t0 for t, e in outcome.events if e is finals[-1]][0]
            delays.append((closed - end_of_words) * 1000)
    return {"wer": corpus_wer(pairs), "eos_median": statistics.median(delays) if delays else 0}


def _speech_end(clip: np.ndarray) -> float:
    reversed_onset = onset_s(clip[::-1].copy())
    return len(clip) / 16000 - reversed_onset


def erle(story, runs: int) -> dict:
    """Echo return loss enhancement and CPU of the canceller alone, per configuration."""
    out = {}
    for name, linear in (("AEC3 (for listening)", False), ("speexdsp MDF + AEC3", True)):
        gains, cpu = [], []
        for r in range(runs):
            cabin = Cabin(seconds=20.0, delay_ms=(30, 60, 120)[r % 3], snr_db=None, seed=500 + r)
            cabin.play(0.0, story[: 20 * 16000])
            gate = EchoGate()
            gate.canceller = aec.EchoCanceller(linear=linear)
            source = CabinSource(cabin, gate)
            raw, clean = [], []
            t = time.process_time()
            for _ in range(2000):
                block = source.read(0)
                cleaned = gate.canceller.process(block.samples, block.t)
                raw.append(block.samples)
                clean.append(cleaned.words if linear else cleaned.listen)
            cpu.append((time.process_time() - t) / 20.0)
            a = np.concatenate(raw)[5 * 16000 :].astype(np.float64)
            b = np.concatenate(clean)[5 * 16000 :].astype(np.float64)
            gains.append(10 * np.log10(np.mean(a**2) / (np.mean(b**2) + 1e-9)))
        out[name] = (statistics.median(gains), pct(gains, 10), statistics.median(cpu))
    return out


def piper_first_audio(runs: int) -> dict:
    from companion.tts.piper_engine import PiperSynthesizer
    from companion.tts.synth import Pyttsx3Synthesizer

    out = {}
    for name, synth in (
        ("Piper (en_US-joe-medium)", PiperSynthesizer()),
        ("eSpeak (pyttsx3)", Pyttsx3Synthesizer()),
    ):
        synth.warm_up()
        times = []
        for _ in range(runs * 4):
            t = time.perf_counter()
            synth.synthesize("Sure thing.")
            times.append((time.perf_counter() - t) * 1000)
        synth.close()
        out[name] = (statistics.median(times), pct(times, 90), len(times))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    engine = load_engine("pocketsphinx", "en-us")[0]
    story = assistant_speech("piper", 60.0)
    clips = requests()
    started = time.monotonic()
    a6 = barge_in(engine, story, clips, 6.0)
    a0 = barge_in(engine, story, clips, 0.0)
    print("barge-in", a6, a0, flush=True)
    seeds = tuple(range(1, 1 + max(1, args.runs // 2)))
    b = {
        (vad, snr): alone(engine, story, vad, snr, seeds)
        for vad in ("webrtc", "silero")
        for snr in (20.0, 10.0, 0.0)
    }
    b_gate = alone(engine, story, "webrtc", 10.0, seeds, cancel=False)
    print("alone", b, b_gate, flush=True)
    c = {
        (snr, vad, cancel): noisy(engine, clips, snr, vad, cancel)
        for snr in (None, 10.0, 0.0)
        for vad in ("webrtc", "silero")
        for cancel in (False, True)
    }
    print("noisy", c, flush=True)
    e = erle(story, args.runs)
    p = piper_first_audio(args.runs)
    print(e, p, flush=True)
    took = time.monotonic() - started

    def snr_name(snr):
        return "quiet" if snr is None else f"{snr:.0f} dB"

    lines = [
        HEADING,
        "",
        f"{machine()}; {time.strftime('%Y-%m-%d')}; "
        f"`python benchmarks/cabin.py --runs {args.runs}` ({took / 60:.0f} min). The virtual "
        "cabin (`companion/audio/cabin.py`): the story in Piper's voice through a cabin "
        "response (delay 30/60/120 ms, RT60 80 ms), "
        f"{len(clips)} recorded requests (tests/fixtures/audio, benchmarks/audio: Piper's joe "
        "voice; no other English voice is reachable here), tyre rumble at the given SNR. "
        "PocketSphinx recognises; times are audio time (the listener runs faster than real "
        "time), so they are the detector's delay, not this machine's load.",
        "",
        "**(a) The driver talks over the assistant** (speakers stop at the barge-in, as the "
        "core does; WER of the same scenes without the assistant talking beside it):",
        "",
        "| echo at the microphone | scenes | barge-in after the first sound: median | p90 "
        "| ≤ 50 ms | missed | WER with echo | WER without |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, r in (("6 dB louder than the driver", a6), ("as loud as the driver", a0)):
        lines.append(
            f"| {label} | {r['scenes']} | {r['latency_median']:.0f} ms "
            f"| {r['latency_p90']:.0f} ms | {r['within_50']} | {r['missed']} "
            f"| {r['wer_echo']:.1%} | {r['wer_clean']:.1%} |"
        )
    minutes = b[("webrtc", 20.0)]["minutes"]
    lines += [
        "",
        "**(b) The assistant talks alone for a minute** (echo 6 dB louder than a driver at "
        f"-26 dBFS; {minutes} minutes per row: seeds × delays 30 and 120 ms):",
        "",
        "| VAD | road noise (SNR to the driver) | false barge-ins | self-transcripts "
        "| listener CPU per audio second |",
        "| --- | --- | --- | --- | --- |",
    ]
    for (vad, snr), r in b.items():
        lines.append(
            f"| {vad} | {snr_name(snr)} | {r['starts']} | {r['finals']} "
            f"| {r['cpu_per_s'] * 1000:.0f} ms |"
        )
    lines.append(
        f"| webrtc, no canceller (the gate alone) | 10 dB | {b_gate['starts']} "
        f"| {b_gate['finals']} | {b_gate['cpu_per_s'] * 1000:.0f} ms |"
    )
    lines += [
        "",
        "**(c) The driver alone, with road noise**: corpus WER, and the end-of-speech delay "
        "(from the last word to the utterance closing; 350 ms of silence is the setting):",
        "",
        "| road noise | VAD | without processing | with the canceller's processing (noise "
        "suppression, high-pass) | end-of-speech delay (median) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for snr in (None, 10.0, 0.0):
        for vad in ("webrtc", "silero"):
            raw, proc = c[(snr, vad, False)], c[(snr, vad, True)]
            lines.append(
                f"| {snr_name(snr)} | {vad} | {raw['wer']:.1%} | {proc['wer']:.1%} "
                f"| {proc['eos_median']:.0f} ms |"
            )
    lines += [
        "",
        f"**Echo cancellers** ({args.runs} scenes of 20 s, after the first 5 s; CPU per "
        "audio second):",
        "",
        "| canceller | echo removed (median) | 10th percentile | CPU per audio second |",
        "| --- | --- | --- | --- |",
    ]
    for name, (median, p10, cpu) in e.items():
        lines.append(f"| {name} | {median:.1f} dB | {p10:.1f} dB | {cpu * 1000:.1f} ms |")
    lines += [
        "",
        '**Time to first audio for "Sure thing."** (synthesis of the whole sentence, warm engine):',
        "",
        "| engine | median | p90 | runs |",
        "| --- | --- | --- | --- |",
    ]
    for name, (median, p90, n) in p.items():
        lines.append(f"| {name} | {median:.0f} ms | {p90:.0f} ms | {n} |")
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        replace_section(args.write, HEADING, section)


if __name__ == "__main__":
    main()
