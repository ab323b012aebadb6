"""Make the router's noisy-channel training data: template phrasings spoken and heard.

    pip install -e '.[fixtures,train]'
    python benchmarks/hear_training.py [--count 1200]     # then: python benchmarks/train_nlu.py

A seeded sample of the templated training requests (`nlu_training/sentences/`, never the
evaluation corpora), stratified by label, is spoken by Piper's joe voice with variation and
heard by the project's recogniser (`nlu_training/speech.py`), half in a quiet cabin and half
with cabin noise. What was heard, with its template's label, is written to
`nlu_training/heard.jsonl` (committed), which training adds to the templates: the router
learns "i need guess" and "medicaid home" as the requests they were. The seeds differ from the
measurement's (`spoken_nlu.py`), so no rendering is both trained on and measured.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from nlu_training import speech, training  # noqa: E402

CONDITIONS = (
    speech.Condition("train quiet", seed=303),
    speech.Condition("train cabin noise", seed=404, snr_db=10.0),
)
# Navigation and the car's own requests are what speech must not lose; they get more.
SHARE = {"navigation": 0.4, "car": 0.15}


def sample(count: int) -> list[tuple[str, str]]:
    """(text, label) template phrasings, by family, seeded."""
    examples = [e for e in training.template_examples() if e.source == "template"]
    families: dict[str, list[training.Example]] = {}
    for e in examples:
        families.setdefault(e.label.split(".")[0], []).append(e)
    rest = [f for f in families if f not in SHARE]
    rng = random.Random(training.SEED + 34)
    chosen: list[tuple[str, str]] = []
    for family, group in sorted(families.items()):
        share = SHARE.get(family, (1 - sum(SHARE.values())) / len(rest))
        group = sorted(group, key=lambda e: e.text)
        rng.shuffle(group)
        chosen += [(e.text, e.label) for e in group[: round(count * share)]]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1200)
    parser.add_argument("--out", type=Path, default=training.HEARD)
    args = parser.parse_args()
    chosen = sample(args.count)
    by_condition: dict[speech.Condition, list[tuple[str, str]]] = {c: [] for c in CONDITIONS}
    for text, label in chosen:
        pick = hashlib.sha256(text.encode()).digest()[0] % len(CONDITIONS)
        by_condition[CONDITIONS[pick]].append((text, label))
    rows = []
    for condition, items in by_condition.items():
        heard = speech.hear([t for t, _ in items], condition, alternatives=False)
        rows += [
            {"text": t, "label": label, "heard": h.heard, "condition": condition.name}
            for (t, label), h in zip(items, heard, strict=True)
        ]
    rows.sort(key=lambda r: (r["label"], r["text"]))
    args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pairs = [(r["text"], r["heard"]) for r in rows]
    print(f"wrote {len(rows)} heard phrasings to {args.out} (WER {speech.wer(pairs):.3f})")


if __name__ == "__main__":
    main()
