"""Wyoming streaming, side by side with the one-shot requests, on our own service.

    python benchmarks/wyoming_streaming.py [--runs 5] [--write docs/PERFORMANCE.md]

`companion serve wyoming` (PocketSphinx, Piper with the joe voice) on loopback, and the wyoming
package's own client, as Home Assistant uses it:
  - text to speech: a three-sentence reply. One-shot: `synthesize` with the whole text; time
    to the first audio chunk. Streamed: `synthesize-start`, the text in word-sized chunks as a
    language model sends them (all at once, and at 30 tokens per second), `synthesize-stop`;
    time to the first audio chunk after the first word was sent.
  - speech to text: a recorded request streamed at the microphone's pace (20 ms frames);
    when the first transcript chunk comes (seconds after the audio began) and how long the
    final transcript takes after audio-stop, with chunks on.
Medians and p90 over the runs, on this machine (noisy: both cores are shared).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, median_p90_ms, publish  # noqa: E402

HEADING = "## Wyoming streaming (benchmarks/wyoming_streaming.py)"
REPLY = (
    "The nearest charger is Voltpoint on Elm Street, about two miles ahead. "
    "It has four fast chargers, and two are free right now. "
    "Shall I add it as a stop on the way?"
)
FRAME = 320  # 20 ms at 16 kHz


def start() -> tuple[subprocess.Popen, int]:
    service = subprocess.Popen(
        [sys.executable, "-m", "companion", "serve", "wyoming", "--uri", "tcp://127.0.0.1:0"]
        + ["--engine", "pocketsphinx", "--no-wake", "--no-zeroconf", "--tts", "piper"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert service.stderr is not None
    for line in service.stderr:
        found = re.search(r"listening on tcp://127\.0\.0\.1:(\d+)", line)
        if found:
            return service, int(found.group(1))
    raise SystemExit("the service did not start")


async def first_audio(port: int, streamed: bool, tokens_per_second: float | None) -> float:
    from wyoming.audio import AudioChunk
    from wyoming.client import AsyncTcpClient
    from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

    async with AsyncTcpClient("127.0.0.1", port) as client:
        started = time.perf_counter()

        async def send() -> None:
            if not streamed:
                if tokens_per_second:  # the whole reply first, as the model writes it
                    await asyncio.sleep(len(REPLY.split()) / tokens_per_second)
                await client.write_event(Synthesize(text=REPLY).event())
                return
            await client.write_event(SynthesizeStart().event())
            for word in re.findall(r"\S+\s*", REPLY):
                await client.write_event(SynthesizeChunk(text=word).event())
                if tokens_per_second:
                    await asyncio.sleep(1 / tokens_per_second)
            await client.write_event(Synthesize(text=REPLY).event())
            await client.write_event(SynthesizeStop().event())

        sending = asyncio.create_task(send())
        while not AudioChunk.is_type((await client.read_event()).type):
            pass
        took = time.perf_counter() - started
        await sending
        return took


async def transcribe(port: int, samples) -> tuple[float | None, float]:
    from wyoming.asr import Transcribe, Transcript, TranscriptChunk
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient

    async with AsyncTcpClient("127.0.0.1", port) as client:
        first: list[float] = []
        stopped = [0.0]
        began = time.perf_counter()

        async def read() -> float:
            while True:
                event = await client.read_event()
                if TranscriptChunk.is_type(event.type) and not first:
                    first.append(time.perf_counter() - began)
                if Transcript.is_type(event.type):
                    return time.perf_counter() - stopped[0]

        reading = asyncio.create_task(read())
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
        for i in range(0, len(samples), FRAME):
            await asyncio.sleep(max(0.0, began + (i + FRAME) / 16000 - time.perf_counter()))
            chunk = samples[i : i + FRAME].tobytes()
            await client.write_event(
                AudioChunk(rate=16000, width=2, channels=1, audio=chunk).event()
            )
        stopped[0] = time.perf_counter()
        await client.write_event(AudioStop().event())
        final = await reading
        return (first[0] if first else None), final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    from companion.audio.files import read_audio

    samples = read_audio(ROOT / "tests" / "fixtures" / "audio" / "navigate_charger.wav", 16000)
    service, port = start()
    try:
        asyncio.run(first_audio(port, False, None))  # the voice loaded
        modes = {
            "one-shot, text all there": (False, None),
            "streamed, text all there": (True, None),
            "one-shot, reply written at 30 tok/s (waits for all of it)": (False, 30.0),
            "streamed, reply written at 30 tok/s": (True, 30.0),
        }
        tts: dict[str, list[float]] = {name: [] for name in modes}
        stt_first: list[float] = []
        stt_final: list[float] = []
        for _ in range(args.runs):  # interleaved: the same load for each
            for name, (streamed, rate) in modes.items():
                tts[name].append(asyncio.run(first_audio(port, streamed, rate)))
            first, final = asyncio.run(transcribe(port, samples))
            if first is not None:
                stt_first.append(first)
            stt_final.append(final)
    finally:
        service.send_signal(signal.SIGINT)
        service.wait(10)
    length = len(samples) / 16000
    lines = [
        HEADING,
        "",
        f"{machine()}; {datetime.date.today()}; {args.runs} runs, interleaved; median / p90.",
        "",
        f"Text to speech, a three-sentence reply ({len(REPLY)} characters), Piper (joe), time "
        "to the first audio chunk:",
        "",
        "| request | first audio |",
        "|---|---|",
        *(f"| {name} | {median_p90_ms(values)} |" for name, values in tts.items()),
        "",
        f"Speech to text, a {length:.1f} s request streamed at the microphone's pace "
        "(PocketSphinx):",
        "",
        "| | median / p90 |",
        "|---|---|",
        f"| first transcript chunk, after the audio began | {median_p90_ms(stt_first)} "
        f"({len(stt_first)} of {args.runs} runs had one before the end) |",
        f"| final transcript after audio-stop | {median_p90_ms(stt_final)} |",
        "",
        "Our service synthesises a one-shot `synthesize` a sentence at a time too, inside one "
        "audio-start/stop (before this change it made the whole text first: 886 ms / 918 ms "
        "to the first audio here, same text, 7 runs). Streaming's gain is that the text need "
        "not be complete: while a model writes the reply, the first sentence is spoken once "
        "its last word arrives instead of after the whole reply.",
    ]
    publish(lines, args.write, HEADING)


if __name__ == "__main__":
    main()
