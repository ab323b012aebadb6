"""The recogniser's driver language model: what a driver says to the car, as word trigrams.

PocketSphinx's own language model is general English, so "I need gas" comes out "i mean yes"
and "navigate home" "medicaid home". A second decoder with this model (`stt/sphinx_engine.py`)
hears the same audio as the in-car request it most sounds like; its reading is offered to
the router as an alternative, never as the transcript, so free speech is heard as before.

Built from the router's own templated requests for what the car does itself (navigation, the
car, control, weather: `sentences/*.toml`, the heard ones left out) and the names of the
places the car knows, with words the recogniser's dictionary has.
A trigram model with absolute discounting and back-off, written as ARPA text and converted to
PocketSphinx's binary format. Deterministic: the same templates give the same bytes.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from companion.router.heard import ACTING
from companion.router.places import sample_places
from companion.stt.sphinx_engine import DRIVER_DICT, DRIVER_LM
from companion.text import normalize

ORDER = 3
DISCOUNT = 0.7
# Ways of asking for a place by name, for the sample places (the templates name others).
PLACE_FRAMES = ("take me to {}", "navigate to {}", "how far is {}", "directions to {}", "{}")

Gram = tuple[str, ...]


def arpa(sentences: Iterable[Sequence[str]], order: int = ORDER, d: float = DISCOUNT) -> str:
    """An ARPA back-off n-gram model of `sentences` (lists of words)."""
    counts: list[Counter[Gram]] = [Counter() for _ in range(order + 1)]
    for words in sentences:
        padded = ("<s>", *words, "</s>")
        for n in range(1, order + 1):
            for i in range(len(padded) - n + 1):
                gram = padded[i : i + n]
                if gram != ("<s>",):
                    counts[n][gram] += 1
    total = sum(counts[1].values())
    probs: list[dict[Gram, float]] = [{}, {g: c / total for g, c in counts[1].items()}]
    probs[1][("<s>",)] = 0.0
    for n in range(2, order + 1):
        seen: Counter[Gram] = Counter()
        for g, c in counts[n].items():
            seen[g[:-1]] += c
        probs.append({g: (c - d) / seen[g[:-1]] for g, c in counts[n].items()})
    backoff: dict[Gram, float] = {}

    def lower(g: Gram) -> float:
        if len(g) == 1:
            return probs[1].get(g, 0.0)
        if g in probs[len(g)]:
            return probs[len(g)][g]
        return backoff.get(g[:-1], 1.0) * lower(g[1:])

    for n in range(1, order):
        children: defaultdict[Gram, list[Gram]] = defaultdict(list)
        for g in probs[n + 1]:
            children[g[:-1]].append(g)
        for history, grams in children.items():
            left = 1 - sum(probs[n + 1][g] for g in grams)
            low = 1 - sum(lower(g[1:]) for g in grams)
            backoff[history] = left / max(low, 1e-9)
    out = ["\\data\\", *(f"ngram {n}={len(probs[n])}" for n in range(1, order + 1))]
    for n in range(1, order + 1):
        out += ["", f"\\{n}-grams:"]
        for g, p in sorted(probs[n].items()):
            line = f"{math.log10(p) if p > 0 else -99.0:.4f} {' '.join(g)}"
            if n < order:
                line += f" {math.log10(max(backoff.get(g, 1.0), 1e-99)):.4f}"
            out.append(line)
    return "\n".join([*out, "", "\\end\\", ""])


def requests(examples: Iterable[Any]) -> list[str]:
    """The templated requests the car acts on itself (the intents `router.heard` may take
    from an alternative), not the heard ones: what the driver model should expect."""
    return [
        e.text
        for e in examples
        if e.source == "template" and (e.label in ACTING or e.label.partition(".")[0] in ACTING)
    ]


def phrasings(texts: Iterable[str], known: object) -> list[list[str]]:
    """Normal-form word lists of `texts` whose every word the recogniser knows."""
    out = []
    for text in texts:
        words = normalize(text).split()
        if words and all(known(w) for w in words):  # type: ignore[operator]
            out.append(words)
    return out


def build(template_texts: Iterable[str], path: Path = DRIVER_LM) -> int:
    """Write the binary driver model to `path`; returns how many phrasings it holds."""
    import pocketsphinx

    decoder = pocketsphinx.Decoder(loglevel="FATAL")
    places = [frame.format(name) for name in sample_places().names for frame in PLACE_FRAMES]
    sentences = phrasings([*template_texts, *places], decoder.lookup_word)
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "driver.arpa"
        text.write_text(arpa(sentences))
        model = pocketsphinx.NGramModel(decoder.config, decoder.logmath, str(text))
        model.write(str(path), pocketsphinx.NGramModel.str_to_type("bin"))
    # Its own pronouncing dictionary: the model's words only, so the decoder loads in
    # ~20 ms instead of ~0.6 s for the whole CMU dictionary (it searches the same words).
    vocabulary = {w for words in sentences for w in words}
    with open(decoder.config["dict"], encoding="utf-8") as full:
        entries = [line for line in full if line.split(" ", 1)[0].split("(")[0] in vocabulary]
    path.with_name(DRIVER_DICT.name).write_text("".join(entries), encoding="utf-8")
    return len(sentences)
