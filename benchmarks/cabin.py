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
import concurrent.futures
import contextlib
import functools
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, publish  # noqa: E402

from companion.audio import aec  # noqa: E402
from companion.audio.cabin import Cabin, CabinSource, onset_s  # noqa: E402
from companion.audio.echo import EchoGate  # noqa: E402
from companion.audio.files import read_audio  # noqa: E402
from companion.audio.vad import EndpointSettings  # noqa: E402
from companion.events import FinalTranscript  # noqa: E402
from companion.stt.listener import Listener, ListenerSettings  # noqa: E402
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


@contextlib.contextmanager
def recogniser_hears(version: str):
    """Side by side: make the listener feed the recogniser one version of the cancelled
    signal whatever the road ("linear" or "suppressed"); "chosen" leaves the choice to it."""
    chooser = Listener._road_is_loud
    if version != "chosen":
        Listener._road_is_loud = lambda self: version == "suppressed"  # type: ignore[method-assign]
    try:
        yield
    finally:
        Listener._road_is_loud = chooser  # type: ignore[method-assign]


def noisy(engine, clips, snr: float | None, vad: str, version: str) -> dict:
    """(c) The driver alone with road noise, after 3 s of the road: WER, how often the
    listener chose noise suppression, and how long after the driver's last word the
    utterance was closed (end-of-speech delay, audio time). `version`: "raw" (no canceller),
    or what the recogniser hears (`recogniser_hears`)."""
    pairs, delays, suppressed = [], [], []
    for k, (clip, text) in enumerate(clips):
        at = 3.0
        cabin = Cabin(seconds=at + len(clip) / 16000 + 1.5, snr_db=snr, seed=300 + k)
        cabin.say(at, clip)
        with recogniser_hears("chosen" if version == "raw" else version):
            outcome = run(cabin, engine, cancel=version != "raw", settings=settings(vad))
        finals = [f for t, f in _finals(outcome) if t >= at - 0.3]
        pairs.append((text, " ".join(f.text for f in finals)))
        suppressed += outcome.suppressed[-len(finals) :] if finals else []
        if finals:
            end_of_words = at + _speech_end(clip)
            closed = [t - outcome.t0 for t, e in outcome.events if e is finals[-1]][0]
            delays.append((closed - end_of_words) * 1000)
    return {
        "wer": corpus_wer(pairs),
        "eos_median": statistics.median(delays) if delays else 0,
        "suppressed": sum(suppressed) / len(suppressed) if suppressed else 0.0,
    }


def _finals(outcome) -> list:
    """(seconds into the scene, FinalTranscript) of each final: the road alone may open an
    utterance before the driver speaks (a false start at 0 dB SNR); it is not the request."""
    return [(t - outcome.t0, e) for t, e in outcome.events if isinstance(e, FinalTranscript)]


def _speech_end(clip: np.ndarray) -> float:
    reversed_onset = onset_s(clip[::-1].copy())
    return len(clip) / 16000 - reversed_onset


def erle(story, runs: int) -> dict:
    """Echo return loss enhancement of each signal the canceller gives, and the canceller's
    CPU (all of its stages: with the linear filter, without it)."""
    configs = (
        ("AEC3 on the microphone (VAD)", False, "listen"),
        ("speexdsp MDF alone (quick barge-in, recogniser)", True, "linear"),
        ("speexdsp MDF, then AEC3 (recogniser on a loud road)", True, "suppressed"),
    )
    out = {}
    for name, linear, version in configs:
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
                clean.append(getattr(cleaned, version))
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


def wake_word_false_accepts(speech_minutes: float, model: str = "hey_jarvis") -> dict:
    """(6) The wake word's false accepts per hour: ordinary requests and in-car dialogue
    (SLURP devel and KVRET dev lines from ../shared/data when present, else the story),
    spoken by Piper with its natural variation, with pauses, under the road at four levels
    (quiet, 20, 10 and 0 dB SNR): `speech_minutes` of speech heard four times. Also how many
    of 20 "hey jarvis, <request>" said at 10 dB SNR it hears (it must still wake)."""
    import random

    import soxr

    from companion.audio.cabin import at_level, road_noise
    from companion.audio.wakeword import WakeWordDetector
    from companion.tts.piper_engine import PiperSynthesizer

    word = model.replace("_", " ").split()[-1]
    lines = _ordinary_lines(word)
    rng = random.Random(7)
    rng.shuffle(lines)
    synth = PiperSynthesizer(variation=True)

    def say(text: str) -> np.ndarray:
        audio = synth.synthesize(text)
        x = soxr.resample(audio.samples.astype(np.float32), audio.rate, 16000)
        return at_level(x, -26.0)

    pieces, total = [], 0
    for text in lines:
        if total >= speech_minutes * 60 * 16000:
            break
        voice = say(text)
        pause = np.zeros(int(rng.uniform(0.3, 1.5) * 16000))
        pieces += [voice, pause]
        total += len(voice) + len(pause)
    speech = np.concatenate(pieces)
    accepts, heard_seconds = {}, 0.0
    for k, snr in enumerate((None, 20.0, 10.0, 0.0)):
        mic = speech.copy()
        if snr is not None:
            noise = road_noise(len(mic) / 16000, seed=900 + k)
            mic += noise * 32768 * 10 ** ((-26.0 - snr) / 20)
        mic = np.clip(mic, -32768, 32767).astype(np.int16)
        detector = WakeWordDetector(model)
        fired = sum(detector.push(mic[i : i + 1600]) for i in range(0, len(mic), 1600))
        detector.close()
        accepts["quiet" if snr is None else f"{snr:.0f} dB"] = fired
        heard_seconds += len(mic) / 16000
    # It must still wake: the wake word said before a request, at 10 dB SNR.
    woke = 0
    requests_ = [text for text in lines[-20:]]
    for k, text in enumerate(requests_):
        clip = np.concatenate([np.zeros(8000), say(f"{model.replace('_', ' ')}, {text}")])
        noise = road_noise(len(clip) / 16000 + 1, seed=950 + k)[: len(clip)]
        mic = np.clip(clip + noise * 32768 * 10 ** (-36.0 / 20), -32768, 32767).astype(np.int16)
        detector = WakeWordDetector(model)
        woke += any(detector.push(mic[i : i + 1600]) for i in range(0, len(mic), 1600))
        detector.close()
    synth.close()
    return {
        "model": model,
        "speech_minutes": len(speech) / 16000 / 60,
        "hours": heard_seconds / 3600,
        "accepts": accepts,
        "per_hour": sum(accepts.values()) / (heard_seconds / 3600),
        "woke": woke,
        "tries": len(requests_),
    }


def _ordinary_lines(avoid: str) -> list[str]:
    """Lines people say in cars that are not the wake word: SLURP's requests and KVRET's
    dialogue turns (../shared/data), or the story's sentences when that data is absent."""
    data = ROOT.parent / "shared" / "data"
    lines: list[str] = []
    slurp = data / "slurp_devel.jsonl"
    if slurp.is_file():
        for row in slurp.read_text().splitlines():
            lines.append(json.loads(row)["sentence"])
    kvret = data / "kvret_dev_public.json"
    if kvret.is_file():
        for dialogue in json.loads(kvret.read_text()):
            lines += [turn["data"]["utterance"] for turn in dialogue["dialogue"]]
    if not lines:
        from tests.cabin_helpers import STORY

        lines = [s.strip() + "." for s in STORY.split(".") if s.strip()]
    return [line for line in lines if avoid not in line.lower() and line.strip()]


def gain_control(engine, clips, driver_dbfs: float, agc: bool) -> float:
    """AGC, side by side: WER when the recogniser hears the noise-suppressed signal with or
    without AEC3's automatic gain control, the driver at `driver_dbfs`, road at 10 dB SNR."""
    pairs = []
    with recogniser_hears("suppressed"):
        for k, (clip, text) in enumerate(clips):
            cabin = Cabin(
                seconds=3.0 + len(clip) / 16000 + 1.5,
                snr_db=10.0,
                seed=400 + k,
                driver_dbfs=driver_dbfs,
            )
            cabin.say(3.0, clip)
            outcome = run(cabin, engine, settings=settings("silero"), gain_control=agc)
            finals = [f for t, f in _finals(outcome) if t >= 2.7]
            pairs.append((text, " ".join(f.text for f in finals)))
    return corpus_wer(pairs)


def _job(job: tuple) -> dict:
    """One row's measurement, in a worker process (the recogniser, the story and the
    requests are loaded once per worker)."""
    kind, *params = job
    engine = _engine()
    story = assistant_speech("piper", 60.0)
    if kind == "a":
        vad, level = params
        return barge_in(engine, story, requests(), level, vad=vad)
    if kind == "b":
        vad, snr, seeds, cancel = params
        return alone(engine, story, vad, snr, seeds, cancel=cancel)
    snr, vad, version = params
    return noisy(engine, requests(), snr, vad, version)


@functools.lru_cache(maxsize=1)
def _engine():
    return load_engine("pocketsphinx", "en-us")[0]


SNRS = (None, 10.0, 5.0, 0.0)
VERSIONS = ("raw", "linear", "suppressed", "chosen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument(
        "--wake-minutes", type=float, default=15.0, help="speech for the wake word (× 4 roads)"
    )
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    started = time.monotonic()
    seeds = tuple(range(1, 1 + max(1, args.runs // 2)))
    jobs: list[tuple] = [("a", "silero", 6.0), ("a", "webrtc", 6.0), ("a", "silero", 0.0)]
    jobs += [
        ("b", vad, snr, seeds, True) for vad in ("silero", "webrtc") for snr in (20.0, 10.0, 0.0)
    ]
    jobs += [("b", "webrtc", 10.0, seeds, False)]
    jobs += [("c", snr, "silero", version) for snr in SNRS for version in VERSIONS]
    jobs += [("c", snr, "webrtc", version) for snr in SNRS for version in ("raw", "chosen")]
    spawn = multiprocessing.get_context("spawn")  # LiveKit's native threads and fork don't mix
    with concurrent.futures.ProcessPoolExecutor(args.workers, mp_context=spawn) as pool:
        results = dict(zip(jobs, pool.map(_job, jobs), strict=True))
    for job, result in results.items():
        print(job, result, flush=True)
    # Alone, on an idle machine: the canceller's CPU and Piper's first audio are timings.
    story = assistant_speech("piper", 60.0)
    e = erle(story, args.runs)
    p = piper_first_audio(args.runs)
    print(e, p, flush=True)
    w = wake_word_false_accepts(args.wake_minutes)
    print(w, flush=True)
    g = {
        (level, on): gain_control(_engine(), requests(), level, on)
        for level in (-26.0, -40.0)
        for on in (False, True)
    }
    print(g, flush=True)
    took = time.monotonic() - started
    clips = requests()

    def snr_name(snr):
        return "quiet" if snr is None else f"{snr:.0f} dB"

    lines = [
        HEADING,
        "",
        f"{machine()}; {time.strftime('%Y-%m-%d')}; "
        f"`python benchmarks/cabin.py --runs {args.runs}` ({took / 60:.0f} min, "
        f"{args.workers} processes). The virtual "
        "cabin (`companion/audio/cabin.py`): the story in Piper's voice through a cabin "
        "response (delay 30/60/120 ms, RT60 80 ms), "
        f"{len(clips)} recorded requests (tests/fixtures/audio, benchmarks/audio: Piper's joe "
        "voice; no other English voice is reachable here), tyre rumble at the given SNR. "
        "PocketSphinx recognises; times are audio time (the listener runs faster than real "
        "time), so they are the detector's delay, not this machine's load.",
        "",
        "**(a) The driver talks over the assistant** (17 requests × delays 30/60/120 ms, road "
        "at 20 dB SNR; the speakers stop at the barge-in, as the core does; WER of the same "
        "scenes without the assistant talking beside it):",
        "",
        "| VAD | echo at the microphone | scenes | barge-in after the first sound: median | p90 "
        "| ≤ 50 ms | missed | WER with echo | WER without |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for vad, level in (("silero", 6.0), ("webrtc", 6.0), ("silero", 0.0)):
        r = results[("a", vad, level)]
        label = "6 dB louder than the driver" if level else "as loud as the driver"
        lines.append(
            f"| {vad} | {label} | {r['scenes']} | {r['latency_median']:.0f} ms "
            f"| {r['latency_p90']:.0f} ms | {r['within_50']} | {r['missed']} "
            f"| {r['wer_echo']:.1%} | {r['wer_clean']:.1%} |"
        )
    r = results[("a", "silero", 6.0)]
    lines += [
        "",
        f"The target was ≤ 50 ms and WER within 5 points of the same request without echo: "
        f"median {r['latency_median']:.0f} ms (p90 {r['latency_p90']:.0f} ms), WER gap "
        f"{(r['wer_echo'] - r['wer_clean']) * 100:.1f} points (default VAD). Barge-in is judged "
        "on the linear canceller's output (AEC3's suppressor holds back the first 30-50 ms of "
        "a voice said over a loud echo: 80 ms median when it was judged on AEC3's output), and "
        "the recogniser hears that output too (it heard linear→AEC3 before: 24.3% with echo, "
        "18.6% without).",
    ]
    minutes = results[("b", "silero", 20.0, seeds, True)]["minutes"]
    lines += [
        "",
        "**(b) The assistant talks alone for a minute** (echo 6 dB louder than a driver at "
        f"-26 dBFS; {minutes} minutes per row: seeds × delays 30 and 120 ms):",
        "",
        "| VAD | road noise (SNR to the driver) | false barge-ins | self-transcripts "
        "| listener CPU per audio second |",
        "| --- | --- | --- | --- | --- |",
    ]
    for vad in ("silero", "webrtc"):
        for snr in (20.0, 10.0, 0.0):
            r = results[("b", vad, snr, seeds, True)]
            lines.append(
                f"| {vad} | {snr_name(snr)} | {r['starts']} | {r['finals']} "
                f"| {r['cpu_per_s'] * 1000:.0f} ms |"
            )
    r = results[("b", "webrtc", 10.0, seeds, False)]
    lines.append(
        f"| webrtc, no canceller (the gate alone) | 10 dB | {r['starts']} "
        f"| {r['finals']} | {r['cpu_per_s'] * 1000:.0f} ms |"
    )
    lines += [
        "",
        "**(c) The driver alone, with road noise** (after 3 s of the road): corpus WER by what "
        "the recogniser hears, side by side; the listener's own choice, and how often it chose "
        "noise suppression; end-of-speech delay from the last word to the utterance closing "
        "(350 ms of silence being the setting):",
        "",
        "| road noise | VAD | raw microphone | linear canceller output | + AEC3 noise "
        "suppression | as the listener chooses | chose suppression | end-of-speech delay "
        "(median) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for snr in SNRS:
        for vad in ("silero", "webrtc"):
            got = {v: results.get(("c", snr, vad, v)) for v in VERSIONS}
            cells = [f"{got[v]['wer']:.1%}" if got[v] else "-" for v in VERSIONS]
            chosen = got["chosen"]
            assert chosen is not None
            lines.append(
                f"| {snr_name(snr)} | {vad} | {' | '.join(cells)} "
                f"| {chosen['suppressed']:.0%} | {chosen['eos_median']:.0f} ms |"
            )
    lines += [
        "",
        "The listener chooses noise suppression when the road's noise floor (as the linear "
        "output holds it) comes within 10 dB of the driver's level learned from their "
        "utterances (`aec.SUPPRESS_BELOW_SNR_DB`). Without a canceller (the raw column) the "
        "VAD also judges the raw microphone, so its utterances are cut differently: compare "
        "the other columns with each other. WER moves by up to ~1.5 points between runs: "
        "PocketSphinx carries its cepstral mean from one utterance to the next, and the rows "
        "share two worker processes in no fixed order.",
        "",
        "**AGC** (AEC3's automatic gain control on the noise-suppressed signal, 17 requests at "
        "10 dB SNR; Silero):",
        "",
        "| driver at the microphone | without AGC | with AGC |",
        "| --- | --- | --- |",
    ]
    for level in (-26.0, -40.0):
        lines.append(f"| {level:.0f} dBFS | {g[(level, False)]:.1%} | {g[(level, True)]:.1%} |")
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
    lines += [
        "",
        f"**The wake word** (openWakeWord's `{w['model']}`, threshold 0.5): "
        f"{w['speech_minutes']:.0f} minutes of ordinary requests and in-car dialogue (SLURP "
        "devel, KVRET dev; none says the wake word) spoken by Piper with pauses, heard under "
        f"four roads ({w['hours']:.1f} hours in all); no music recording is available here:",
        "",
        "| road | false accepts |",
        "| --- | --- |",
    ]
    for road, n in w["accepts"].items():
        lines.append(f"| {road} | {n} |")
    lines += [
        "",
        f"False accepts per hour: **{w['per_hour']:.1f}**. It still wakes: "
        f'{w["woke"]} of {w["tries"]} "{w["model"].replace("_", " ")}, <request>" said at '
        "10 dB SNR.",
    ]
    publish(lines, args.write, HEADING)


if __name__ == "__main__":
    main()
