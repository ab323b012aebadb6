"""Voice-to-voice latency: from the end of the driver's speech to the first sound of the reply.

    python benchmarks/voice_to_voice.py [--rounds 3] [--per-round 10] [--write docs/PERFORMANCE.md]

What runs: `companion listen`, a front end of the same assistant core as the car screen
(companion/assistant.py: microphone, PocketSphinx, speculation, router, skills, persona, HTTP
streaming LLM client, chunker, pyttsx3/espeak-ng, sounddevice playback), on a virtual sound
card (PulseAudio null sinks), against the scripted LLM server with a fixed time to first token
and token rate. The benchmark plays ten spoken requests of mixed length (benchmarks/audio/,
made by benchmarks/make_speech.py; none of them was used to tune the recogniser, the
end-of-speech detection or speculation) into the car's microphone and records both the
microphone and the speaker:

- end of speech: the last loud sample of the utterance in the *microphone* signal;
- reply onset: the first loud sample in the *speaker* signal after it;
- both recordings are put on the monotonic clock the same way (pacat raw streams; a stream's
  origin is the smallest "arrival time - samples so far / rate" over the recording, since data
  never arrives early), so their difference does not depend on how either was started.

The same utterances then go through the naive sequential pipeline (`--naive-speech`: wait for
the whole reply, synthesise it in one piece, then play it), alternating with the streaming one
round by round so both see the same machine load. The stage breakdown comes from the events
`companion listen --timings` writes (monotonic times).

Pipeline overhead = voice-to-voice minus the LLM's own time to its first sentence (request sent
→ first complete sentence streamed), i.e. everything that is ours.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, replace_section  # noqa: E402

from companion.llm.scripted_server import ScriptedLLMServer, ScriptedReply  # noqa: E402
from tests.helpers import read_events, wait_for_event  # noqa: E402
from tests.soundcard import start_sound_card, stop_sound_card  # noqa: E402

RATE = 16000
AUDIO = ROOT / "benchmarks" / "audio"
FIXTURES = ROOT / "tests" / "fixtures" / "audio"  # for the barge-in trials
UTTERANCES = list(json.loads((AUDIO / "manifest.json").read_text()))  # short to long
REPLY = (
    "Sure, the nearest fast charger is about two miles ahead on the right. "
    "It has four stalls and two are free right now. "
    "I have added it as your next stop."
)
TTFT, TOKENS_PER_SECOND = 0.2, 30.0
LOUD = 600  # sample magnitude that counts as sound


class Tap:
    """Records a PulseAudio source as raw 16 kHz mono, with every sample on the monotonic
    clock."""

    def __init__(self, env: dict, device: str) -> None:
        self.process = subprocess.Popen(
            [
                "pacat",
                "--record",
                "--raw",
                f"--device={device}",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=1",
                "--latency-msec=10",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.data = bytearray()
        self.origin = float("inf")
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := self.process.stdout.read1(640):  # type: ignore[attr-defined]
            now = time.monotonic()
            with self._lock:
                self.data += chunk
                self.origin = min(self.origin, now - (len(self.data) // 2) / RATE)

    def samples(self) -> np.ndarray:
        with self._lock:
            raw = bytes(self.data[: len(self.data) // 2 * 2])
        return np.frombuffer(raw, dtype="<i2")

    def time_of(self, index: int) -> float:
        return self.origin + index / RATE

    def index_at(self, t: float) -> int:
        return max(0, int((t - self.origin) * RATE))

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=5)
        self._thread.join(timeout=5)


def last_loud(samples: np.ndarray, start: int) -> int | None:
    loud = np.flatnonzero(np.abs(samples[start:].astype(np.int32)) > LOUD)
    return start + int(loud[-1]) if len(loud) else None


def first_loud(samples: np.ndarray, start: int) -> int | None:
    loud = np.flatnonzero(np.abs(samples[start:].astype(np.int32)) > LOUD)
    return start + int(loud[0]) if len(loud) else None


@contextlib.contextmanager
def running_listen(card, base_url: str | None, timings: Path, *extra: str, checkout=None):
    """`companion listen` on the virtual sound card, with the microphone and speaker tapped;
    yields the taps once it is listening and has said its greeting. `checkout`: run that
    source tree's companion instead (another commit, for a side-by-side comparison)."""
    command = [
        sys.executable,
        "-m",
        "companion",
        "listen",
        "--no-earcons",
        *(["--llm-base-url", base_url] if base_url else ["--provider", "local"]),
        "--timings",
        str(timings),
        *extra,
    ]
    # Navigation and search are off so that every request takes the path measured here: the
    # persona's (scripted) language model answers it.
    persona_only = {"COMPANION_NAVIGATION_ENABLED": "false", "COMPANION_SEARCH_ENABLED": "false"}
    source = {"PYTHONPATH": str(checkout)} if checkout else {}
    listen = subprocess.Popen(
        command,
        env={**os.environ, **card.client_env, **persona_only, **source},
        cwd=checkout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    mic, speaker = Tap(card.env, "car_mic.monitor"), Tap(card.env, "car_speaker.monitor")
    try:
        if wait_for_event(timings, lambda e: e.get("state") == "waiting", 60) is None:
            raise RuntimeError("companion listen did not start listening")
        time.sleep(4.0)  # the greeting
        yield mic, speaker
    finally:
        listen.send_signal(signal.SIGTERM)
        try:
            listen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            listen.kill()
        mic.close()
        speaker.close()


def run_block(
    card,
    server,
    naive: bool,
    names: list[str],
    workdir: Path,
    local: bool = False,
    checkout: Path | None = None,
) -> list[dict]:
    """Start `companion listen`, speak each utterance, measure, stop it."""
    timings = workdir / f"timings-{'naive' if naive else 'streaming'}-{time.monotonic_ns()}.jsonl"
    results = []
    extra = ("--naive-speech",) if naive else ()
    url = None if local else server.base_url
    with running_listen(card, url, timings, *extra, checkout=checkout) as (mic, speaker):
        for turn, name in enumerate(names, start=1):
            before = mic.samples().size
            subprocess.run(
                ["paplay", "--device=car_mic", str(AUDIO / f"{name}.wav")],
                env=card.env,
                check=True,
                timeout=30,
            )
            done = wait_for_event(timings, lambda e: e["event"] == "ReplyDone", 30, nth=turn)
            time.sleep(0.3)
            if done is None:
                print(f"  {name}: no reply", file=sys.stderr)
                continue
            end_index = last_loud(mic.samples(), before)
            if end_index is None:
                continue
            speech_end = mic.time_of(end_index)
            onset_index = first_loud(speaker.samples(), speaker.index_at(speech_end))
            if onset_index is None:
                print(f"  {name}: reply not heard", file=sys.stderr)
                continue
            onset = speaker.time_of(onset_index)
            try:
                results.append(breakdown(read_events(timings), turn, speech_end, onset, name))
            except (KeyError, IndexError, StopIteration):  # e.g. the model sent no text
                print(f"  {name}: the turn has no model answer to time", file=sys.stderr)
    return results


def run_barge_in(card, trials: int, workdir: Path) -> list[dict]:
    """Interrupt a long reply by speaking; measure how fast the speaker goes quiet."""
    long_reply = " ".join(f"Here is sentence number {n} about the road ahead." for n in range(30))
    replies = [
        ScriptedReply("About ten minutes.", match="how long"),
        ScriptedReply(long_reply, match="."),
    ]
    timings = workdir / f"timings-barge-{time.monotonic_ns()}.jsonl"
    results = []
    server = ScriptedLLMServer(replies, ttft=TTFT, tokens_per_second=TOKENS_PER_SECOND)
    with server, running_listen(card, server.base_url, timings) as (mic, speaker):
        for trial in range(1, trials + 1):
            subprocess.run(
                ["paplay", "--device=car_mic", str(FIXTURES / "navigate_charger.wav")],
                env=card.env,
                check=True,
                timeout=30,
            )
            # Each trial has two replies: the long one (interrupted) and the short answer.
            if (
                wait_for_event(
                    timings, lambda e: e.get("stage") == "playback_started", 20, nth=2 * trial - 1
                )
                is None
            ):
                continue
            time.sleep(1.0 + 0.37 * trial % 1.5)  # somewhere in the reply
            before = mic.samples().size
            subprocess.run(
                ["paplay", "--device=car_mic", str(FIXTURES / "how_long.wav")],
                env=card.env,
                check=True,
                timeout=30,
            )
            done = wait_for_event(
                timings,
                lambda e: e["event"] == "ReplyDone" and e["text"] == "About ten minutes.",
                20,
                nth=trial,
            )
            time.sleep(0.3)
            events = read_events(timings)
            barges = [e for e in events if e["event"] == "BargeIn"]
            if done is None or len(barges) < trial:
                print(f"  barge-in trial {trial}: no barge-in", file=sys.stderr)
                continue
            trigger = barges[trial - 1]["t"]
            onset_index = first_loud(mic.samples(), before)
            out = speaker.samples()
            # The last sound before the speaker goes quiet for at least 300 ms.
            start = speaker.index_at(trigger - 0.5)
            loud = np.abs(out[start : speaker.index_at(trigger + 1.0)].astype(np.int32)) > LOUD
            idx = np.flatnonzero(loud)
            stop_at = None
            for a, b in zip(idx, [*idx[1:], len(loud) + RATE], strict=True):
                if b - a > 0.3 * RATE and speaker.time_of(start + a) > trigger - 0.2:
                    stop_at = speaker.time_of(start + a)
                    break
            if onset_index is None or stop_at is None:
                continue
            onset = mic.time_of(onset_index)
            results.append(
                {
                    "trigger_to_silence": round((stop_at - trigger) * 1000),
                    "speech_to_silence": round((stop_at - onset) * 1000),
                    "speech_to_trigger": round((trigger - onset) * 1000),
                }
            )
            print(f"barge-in  trial {trial}: " + json.dumps(results[-1]))
    return results


def breakdown(events: list[dict], turn: int, speech_end: float, onset: float, name: str) -> dict:
    """Each stage as the time it happened, counted from the end of speech (so stages that
    overlap, like a speculative LLM request before the final transcript, read naturally)."""
    final = [e for e in events if e["event"] == "FinalTranscript"][turn - 1]
    started = [e for e in events if e["event"] == "TurnStarted"][turn - 1]
    turn_id = started["turn_id"]
    marks = {
        e["stage"]: e["t"] for e in events if e["event"] == "TimingMark" and e["turn_id"] == turn_id
    }
    routed = next(
        e["t"] for e in events if e["event"] == "IntentRecognized" and e["turn_id"] == turn_id
    )
    ms = lambda t: round((t - speech_end) * 1000)  # noqa: E731
    result = {
        "utterance": name,
        "voice_to_voice": ms(onset),
        "endpoint_decided": ms(final["endpoint_at"]),
        "final_transcript": ms(final["t"]),
        "turn_started": ms(started["t"]),
        "intent_decided": ms(routed),
        "llm_request": ms(marks["llm_request"]),
        "llm_first_token": ms(marks["llm_first_token"]),
        "first_sentence": ms(marks["first_sentence"]),
        "tts_first_audio": ms(marks["tts_first_audio"]),
        "playback_started": ms(marks["playback_started"]),
        "llm_to_first_sentence": round((marks["first_sentence"] - marks["llm_request"]) * 1000),
        "speculative": started["t"] < final["t"],
    }
    result["overhead"] = result["voice_to_voice"] - result["llm_to_first_sentence"]
    return result


def summarize(rows: list[dict]) -> dict:
    out = {}
    for key in rows[0]:
        if key in ("utterance", "speculative"):
            continue
        values = sorted(r[key] for r in rows)
        out[key] = {
            "median": statistics.median(values),
            "p90": values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))],
        }
    return out


def round_names(args, round_: int) -> list[str]:
    """The utterances of one round: the next `per_round` of them, wrapping around."""
    return [
        UTTERANCES[(round_ * args.per_round + i) % len(UTTERANCES)] for i in range(args.per_round)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--per-round", type=int, default=len(UTTERANCES), help="utterances per block"
    )
    parser.add_argument(
        "--barge-in", type=int, default=6, metavar="N", help="barge-in trials (0: skip)"
    )
    parser.add_argument("--write", type=Path, help="update this PERFORMANCE.md")
    parser.add_argument(
        "--local",
        action="store_true",
        help="the installed local model instead of the naive pipeline, beside the scripted one",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="CHECKOUT",
        help="another commit's source tree: its streaming pipeline beside this one's",
    )
    args = parser.parse_args()
    if args.local:
        return main_local(args)
    if args.baseline:
        return main_baseline(args)

    workdir = Path(tempfile.mkdtemp(prefix="companion-bench-"))
    card = start_sound_card(workdir / "pulse")
    rows: dict[str, list[dict]] = {"streaming": [], "naive": []}
    try:
        reply = ScriptedReply(REPLY, match=".")
        with ScriptedLLMServer([reply], ttft=TTFT, tokens_per_second=TOKENS_PER_SECOND) as server:
            for round_ in range(args.rounds):
                names = round_names(args, round_)
                order = ("streaming", "naive") if round_ % 2 == 0 else ("naive", "streaming")
                for mode in order:
                    block = run_block(card, server, mode == "naive", names, workdir)
                    rows[mode] += block
                    for r in block:
                        print(
                            f"{mode:9} {r['utterance']:17} voice-to-voice "
                            f"{r['voice_to_voice']:5} ms  overhead {r['overhead']:5} ms"
                        )
        barge = run_barge_in(card, args.barge_in, workdir) if args.barge_in else []
    finally:
        stop_sound_card(card)
    if not rows["streaming"] or not rows["naive"]:
        sys.exit("no measurements: see the messages above")
    summary = {mode: summarize(r) for mode, r in rows.items()}
    ratio = (
        summary["naive"]["voice_to_voice"]["median"]
        / summary["streaming"]["voice_to_voice"]["median"]
    )
    for label, keep in (("confirmed", True), ("not confirmed", False)):
        subset = [r for r in rows["streaming"] if r["speculative"] is keep]
        if subset:
            summary[f"streaming, guess {label}"] = summarize(subset)
    print(json.dumps(summary, indent=1))
    print(f"naive / streaming voice-to-voice (medians): {ratio:.2f}")
    barge_summary = summarize(barge) if barge else None
    if barge_summary:
        print("barge-in", json.dumps(barge_summary))
    if args.write:
        write_section(args.write, summary, rows, ratio, args, barge_summary, len(barge))


def main_baseline(args) -> None:
    """This tree's streaming pipeline and another commit's (`--baseline CHECKOUT`), alternating
    blocks so both see the same machine load; the overheads side by side and their ratio."""
    workdir = Path(tempfile.mkdtemp(prefix="companion-bench-"))
    card = start_sound_card(workdir / "pulse")
    rows: dict[str, list[dict]] = {"this": [], "baseline": []}
    try:
        reply = ScriptedReply(REPLY, match=".")
        with ScriptedLLMServer([reply], ttft=TTFT, tokens_per_second=TOKENS_PER_SECOND) as server:
            for round_ in range(args.rounds):
                names = round_names(args, round_)
                order = ("this", "baseline") if round_ % 2 == 0 else ("baseline", "this")
                for mode in order:
                    tree = args.baseline if mode == "baseline" else None
                    block = run_block(card, server, False, names, workdir, checkout=tree)
                    rows[mode] += block
                    for r in block:
                        print(
                            f"{mode:9} {r['utterance']:17} voice-to-voice "
                            f"{r['voice_to_voice']:5} ms  overhead {r['overhead']:5} ms"
                        )
    finally:
        stop_sound_card(card)
    if not rows["this"] or not rows["baseline"]:
        sys.exit("no measurements: see the messages above")
    summary = {mode: summarize(r) for mode, r in rows.items()}
    for key in ("voice_to_voice", "overhead"):
        this, base = summary["this"][key], summary["baseline"][key]
        print(
            f"{key}: this {this['median']:.0f} ms (p90 {this['p90']:.0f}), baseline "
            f"{base['median']:.0f} ms (p90 {base['p90']:.0f}), ratio of medians "
            f"{this['median'] / base['median']:.2f} ({len(rows['this'])} and "
            f"{len(rows['baseline'])} utterances)"
        )


def main_local(args) -> None:
    """The streaming pipeline with the scripted model and with the real local model (the tiny
    one here), alternating blocks; the local model's server starts on each block's first
    question (its start is in that turn's figure)."""
    workdir = Path(tempfile.mkdtemp(prefix="companion-bench-"))
    card = start_sound_card(workdir / "pulse")
    rows: dict[str, list[dict]] = {"scripted": [], "local": []}
    try:
        reply = ScriptedReply(REPLY, match=".")
        with ScriptedLLMServer([reply], ttft=TTFT, tokens_per_second=TOKENS_PER_SECOND) as server:
            for round_ in range(args.rounds):
                names = round_names(args, round_)
                order = ("scripted", "local") if round_ % 2 == 0 else ("local", "scripted")
                for mode in order:
                    block = run_block(card, server, False, names, workdir, mode == "local")
                    for i, r in enumerate(block):
                        r["first_in_block"] = i == 0
                    rows[mode] += block
                    for r in block:
                        print(
                            f"{mode:9} {r['utterance']:17} voice-to-voice "
                            f"{r['voice_to_voice']:5} ms"
                        )
    finally:
        stop_sound_card(card)
    if not rows["scripted"] or not rows["local"]:
        sys.exit("no measurements: see the messages above")
    warm = [r for r in rows["local"] if not r["first_in_block"]]
    cold = [r for r in rows["local"] if r["first_in_block"]]
    table = {
        "scripted model (200 ms to first token)": summarize(
            [{k: v for k, v in r.items() if k != "first_in_block"} for r in rows["scripted"]]
        ),
        "tiny local model, server running": summarize(
            [{k: v for k, v in r.items() if k != "first_in_block"} for r in warm]
        ),
    }
    print(json.dumps(table, indent=1))
    print("first question of a block (server start included):", [r["voice_to_voice"] for r in cold])
    if args.write:
        lines = [
            "## Voice to voice with the tiny local model",
            "",
            f"Measured {date.today().isoformat()} on {machine()}, the same rig as above "
            "(PulseAudio null sinks, PocketSphinx, espeak-ng), streaming pipeline only, "
            "alternating blocks. Command: `python benchmarks/voice_to_voice.py --local "
            f"--rounds {args.rounds} --per-round {args.per_round} --write docs/PERFORMANCE.md`.",
            "",
            "| brain | utterances | voice to voice, median (p90) | LLM request → first "
            "sentence, median (p90) |",
            "| --- | --- | --- | --- |",
        ]
        counts = {
            "scripted model (200 ms to first token)": len(rows["scripted"]),
            "tiny local model, server running": len(warm),
        }
        for label, s in table.items():
            v, f = s["voice_to_voice"], s["llm_to_first_sentence"]
            lines.append(
                f"| {label} | {counts[label]} | {v['median']:.0f} ms ({v['p90']:.0f}) | "
                f"{f['median']:.0f} ms ({f['p90']:.0f}) |"
            )
        lines += [
            "",
            "The first question of each local block also starts the model's server: "
            + ", ".join(f"{r['voice_to_voice']} ms" for r in cold)
            + f" voice to voice. {len(rows['local'])} of {args.rounds * args.per_round} "
            "requests to the local model could be timed (a request spoken while its previous "
            "reply is still playing interrupts it and has no clean onset). The tiny model's "
            "replies are weak (see On-board language models); these figures are about speed.",
        ]
        replace_section(args.write, "## Voice to voice with the tiny local model", "\n".join(lines))


# What the numbers mean (written under the table; update it with the code).
NOTE = (
    "When the partial guess at the pause is right, the request leaves at the pause (150 ms "
    "after the VAD's last voiced frame, which trails the last loud sample by ~80 ms) and "
    "the overhead is that plus synthesis and output (~250-300 ms). When PocketSphinx's "
    "final pass changes the words, the second guess waits for that pass (run 40 ms after "
    "the first guess; 30-300 ms, holding the GIL): ~400-600 ms for the longer requests. The"
    " early final pass took this from 422 ms median / 707 ms p90 (the same ten requests "
    "through the same core, measured the same day before it) to the figures above. Still "
    "missing: the pause and the VAD's tail alone are ~230 ms before the request can leave; "
    "a recogniser whose partial results are its final ones (Vosk; no English model can be "
    "downloaded on this machine) and one that decodes outside the Python process (so its "
    "final pass does not stall the loop) are the next steps."
)

STAGES = [
    ("turn_started", "turn started (on the guess, before the final transcript, when it held)"),
    ("intent_decided", "intent decided by the router"),
    ("llm_request", "LLM request sent"),
    ("endpoint_decided", "end of utterance decided (350 ms trailing silence)"),
    ("final_transcript", "final transcript"),
    ("llm_first_token", "LLM first token (scripted: 200 ms after the request)"),
    ("first_sentence", "first complete sentence streamed"),
    ("tts_first_audio", "its audio synthesised"),
    ("playback_started", "handed to the output stream"),
]


def write_section(
    path: Path, summary: dict, rows: dict, ratio: float, args, barge: dict | None, trials: int
) -> None:
    s, n = summary["streaming"], summary["naive"]
    lines = [
        "## Voice to voice (speech in → speech out)",
        "",
        f"Measured {date.today().isoformat()} on {machine()}, PulseAudio null sinks, "
        f"PocketSphinx, espeak-ng via pyttsx3. Command: `python benchmarks/voice_to_voice.py "
        f"--rounds {args.rounds} --per-round {args.per_round} --barge-in {args.barge_in} "
        f"--write docs/PERFORMANCE.md` "
        f"({len(rows['streaming'])} utterances per pipeline, alternating blocks). Scripted LLM: "
        f"{int(TTFT * 1000)} ms to first token, {TOKENS_PER_SECOND:.0f} tokens/s, a "
        f"three-sentence reply.",
        "",
        "Times are counted from the end of the driver's speech (the last loud sample of the "
        "utterance in the microphone signal).",
        "",
        "| | streaming (ours) median | p90 | naive sequential median | p90 |",
        "|---|---|---|---|---|",
        "| **voice to voice** (end of speech → first sound) "
        f"| **{s['voice_to_voice']['median']:.0f} ms** | {s['voice_to_voice']['p90']:.0f} ms "
        f"| {n['voice_to_voice']['median']:.0f} ms "
        f"| {n['voice_to_voice']['p90']:.0f} ms |",
        f"| **pipeline overhead** (minus LLM request → first sentence) "
        f"| **{s['overhead']['median']:.0f} ms** | {s['overhead']['p90']:.0f} ms "
        f"| {n['overhead']['median']:.0f} ms | {n['overhead']['p90']:.0f} ms |",
    ]
    for key, label in STAGES:
        lines.append(
            f"| {key}: {label} | {s[key]['median']:.0f} ms | {s[key]['p90']:.0f} ms "
            f"| {n[key]['median']:.0f} ms | {n[key]['p90']:.0f} ms |"
        )
    lines += [
        "",
        "Split by whether the recogniser's guess at the 150 ms pause matched the final "
        "transcript (the reply then started during the pause):",
        "",
        "| streaming turns | count | voice to voice median | pipeline overhead median | p90 |",
        "|---|---|---|---|---|",
    ]
    for label, keep in (("guess confirmed", True), ("guess not confirmed", False)):
        subset = [r for r in rows["streaming"] if r["speculative"] is keep]
        if subset:
            sub = summarize(subset)
            lines.append(
                f"| {label} | {len(subset)} | {sub['voice_to_voice']['median']:.0f} ms "
                f"| {sub['overhead']['median']:.0f} ms | {sub['overhead']['p90']:.0f} ms |"
            )
    lines += [
        "",
        f"Naive / streaming voice-to-voice, medians measured side by side: **{ratio:.2f}×**. "
        "The naive pipeline also starts its request only after the final transcript and "
        "synthesises the whole reply after the last token. Speculative starts confirmed by the "
        f"final transcript: {sum(r['speculative'] for r in rows['streaming'])} of "
        f"{len(rows['streaming'])} streaming turns.",
        "",
    ]
    overhead, p90 = s["overhead"]["median"], s["overhead"]["p90"]
    met = overhead <= 200 and p90 <= 300
    lines += [
        f"Against the target (pipeline overhead ≤ 200 ms median, ≤ 300 ms p90): "
        f"{'met' if met else 'missed'} at {overhead:.0f} ms median, {p90:.0f} ms p90. " + NOTE,
        "",
    ]
    if barge:
        lines += [
            f'**Barge-in** ({trials} trials: a long reply interrupted by "how long until we '
            'get there" spoken into the microphone, at a different point each time):',
            "",
            "| | median | p90 |",
            "|---|---|---|",
            f"| barge-in decided → speaker silent | **{barge['trigger_to_silence']['median']:.0f}"
            f" ms** | {barge['trigger_to_silence']['p90']:.0f} ms |",
            f"| driver starts speaking → barge-in decided (VAD: 100 ms of voice) "
            f"| {barge['speech_to_trigger']['median']:.0f} ms "
            f"| {barge['speech_to_trigger']['p90']:.0f} ms |",
            "| driver starts speaking → speaker silent "
            f"| {barge['speech_to_silence']['median']:.0f} ms "
            f"| {barge['speech_to_silence']['p90']:.0f} ms |",
            "",
            '"Speaker silent" is the last loud sample before the speaker stays quiet for 300 ms; '
            "the two recordings are aligned to about ±10 ms (pacat's 10 ms latency), so a few ms "
            'means "within one output callback", and a negative value means the reply was in a '
            "pause when the driver spoke. The stop itself is immediate (the player drops its "
            "buffer and the next device callback plays silence); the ~90 ms before it is the VAD "
            "needing 100 ms of voice within 200 ms to call it speech.",
            "",
        ]
    replace_section(path, "## Voice to voice", "\n".join(lines))


if __name__ == "__main__":
    main()
