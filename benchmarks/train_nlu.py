"""Train the router's intent model: one reproducible command.

    python benchmarks/train_nlu.py [--data ../shared/data] [--folds 5] [--c 10] [--no-write]

Cross-validates first (templates + k-1 folds of the public corpora for training, the held-out
fold routed through the real `route()`), prints the scores, then trains on everything and writes
`companion/router/intent_model.npz` (the artefact that ships in the package). Deterministic:
the same data gives the same bytes. Needs scikit-learn: `pip install -e '.[train]'`.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from nlu_training import driver_lm, training  # noqa: E402

from companion.config import BUNDLED_PERSONAS  # noqa: E402
from companion.personas import load_personas  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=training.DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5, help="0: skip cross-validation")
    parser.add_argument("--c", type=float, default=20.0, help="inverse regularisation")
    parser.add_argument("--out", type=Path, default=training.MODEL_PATH)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--errors", action="store_true", help="list held-out mistakes")
    args = parser.parse_args()
    try:
        corpus = training.corpus_examples(args.data)
    except FileNotFoundError as exc:
        sys.exit(str(exc))
    templates = training.template_examples(data_dir=args.data)
    cast = list(load_personas(BUNDLED_PERSONAS)[0].values())
    print(f"examples: {len(corpus)} from the corpora, {len(templates)} templated")
    if args.folds:
        started = time.perf_counter()
        scores, results = training.cross_validate(corpus, templates, cast, k=args.folds, c=args.c)
        print(f"{args.folds}-fold cross-validation ({time.perf_counter() - started:.0f} s):")
        for line in scores.lines():
            print("  " + line)
        if args.errors:
            for e, intent in results:
                wrong_nav = intent.name.startswith("navigation.") != e.label.startswith(
                    "navigation."
                )
                if wrong_nav or intent.name == "persona.switch" != (e.label == intent.name):
                    print(f"  {e.source:6} {e.label:24} -> {intent.name:24} {e.text}")
    if args.no_write:
        return
    model = training.train([*templates, *corpus], c=args.c)
    training.save(
        model, args.out, data_fingerprint=training.fingerprint([*templates, *corpus], c=args.c)
    )
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()[:16]
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB, "
        f"{len(model.index)} features, {len(model.labels)} labels, sha256 {digest}…)"
    )
    count = driver_lm.build(driver_lm.requests(templates))
    lm = driver_lm.DRIVER_LM
    print(f"wrote {lm} ({lm.stat().st_size / 1024:.0f} KiB, {count} phrasings)")


if __name__ == "__main__":
    main()
