"""The trained intent model: a linear classifier over word and character n-grams.

The weights are trained by `benchmarks/nlu_training/` (`python benchmarks/train_nlu.py`)
and shipped as `intent_model.npz` inside the package. Prediction is a sparse dot product in
NumPy, so the router needs no machine-learning library at run time and loads in milliseconds.
The features are computed by `features()` below, the one function both training and
prediction use, so the two can never disagree.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..text import Utterance, normalize
from .places import PLACE, KnownPlaces, mark

MODEL_FILE = "intent_model.npz"
MAX_CHARS = 300  # a request longer than this is not a car command; only its start is read


PERSONA = "<persona>"


def persona_names(names: Iterable[str]) -> frozenset[str]:
    """Persona names and aliases in the router's normal form, without a leading article."""
    out = set()
    for name in names:
        spoken = normalize(name)
        spoken = spoken.removeprefix("the ").removeprefix("a ")
        if spoken and len(spoken.split()) <= 4:
            out.add(spoken)
    return frozenset(out)


FUZZY_MIN_LENGTH = 6  # shorter words are too alike to call a near miss a name
FUZZY_RATIO = 0.88


@functools.lru_cache(maxsize=4096)
def _near_name(word: str, names: frozenset[str]) -> bool:
    """A one-word name heard or typed slightly wrong ("unhindged", "storyteler")."""
    if len(word) < FUZZY_MIN_LENGTH:
        return False
    matcher = difflib.SequenceMatcher(None, word)
    for name in names:
        if (
            " " in name
            or name[0] != word[0]
            or abs(len(name) - len(word)) > 2
            or len(name) < FUZZY_MIN_LENGTH
        ):
            continue
        matcher.set_seq2(name)
        if matcher.real_quick_ratio() >= FUZZY_RATIO and matcher.ratio() >= FUZZY_RATIO:
            return True
    return False


def _mark_personas(words: list[str], names: frozenset[str]) -> list[str]:
    """Words with every persona name (longest first; split in two or slightly misspelt too)
    replaced by one <persona> token, so the model learns the words around a name ("be
    <persona>", "play <persona> songs") for any cast, the one a designer writes tomorrow
    included."""
    if not names:
        return words
    out, i = [], 0
    while i < len(words):
        for n in (4, 3, 2, 1):
            if i + n <= len(words) and " ".join(words[i : i + n]) in names:
                break
        else:
            n = 0
            if i + 1 < len(words) and words[i] + words[i + 1] in names:
                n = 2  # "un hinged"
            elif _near_name(words[i], names):
                n = 1
        if n:
            out.append(PERSONA)
            i += n
        else:
            out.append(words[i])
            i += 1
    return out


def features(
    text: str | Utterance,
    names: frozenset[str] = frozenset(),
    places: KnownPlaces | None = None,
) -> list[str]:
    """The model's input: word 1-2-grams (with start and end marks; a persona's name is one
    <persona> word, a place the car knows one <place> word), character 2-5-grams inside the
    other words, and a length bucket. `text` is raw (it is normalised here) or an Utterance
    (normalised already). `names`: the cast's names, from `persona_names()`; `places`: the
    names the car knows (`places.KnownPlaces`)."""
    raw = text.raw if isinstance(text, Utterance) else text
    if isinstance(text, Utterance) and len(raw) <= MAX_CHARS * 2:
        t = text.normal[:MAX_CHARS]  # the same as below: the whole text was short enough
    else:
        t = normalize(raw[: MAX_CHARS * 2])[:MAX_CHARS]
    words, _ = mark(t.split(), places)
    marked_words = _mark_personas(words, names)
    out = [f"w:{w}" for w in marked_words]
    marked = ["<s>", *marked_words, "</s>"]
    out += [f"b:{a} {b}" for a, b in zip(marked, marked[1:], strict=False)]
    for w in words:
        if w == PLACE:
            continue
        padded = f" {w} "
        for n in (2, 3, 4, 5):
            out += [f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    n = len(words)
    out.append(
        "len:0"
        if n == 0
        else "len:1"
        if n == 1
        else "len:2-3"
        if n <= 3
        else "len:4-7"
        if n <= 7
        else "len:8+"
    )
    return out


@dataclass(frozen=True)
class Prediction:
    """The model's answer: the best label, its probability, and every label's probability."""

    label: str
    probability: float
    probabilities: dict[str, float]


class IntentModel:
    """Loaded weights: `predict(text)` gives the intent label and its probability."""

    def __init__(
        self,
        vocabulary: list[str],
        weights: np.ndarray,
        bias: np.ndarray,
        labels: list[str],
        fingerprint: str = "",
    ) -> None:
        self.index = {feature: i for i, feature in enumerate(vocabulary)}
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.labels = labels
        self.fingerprint = fingerprint  # of the training data (training.fingerprint)

    @classmethod
    def load(cls, path: Path | None = None) -> IntentModel:
        source = path or resources.files(__package__).joinpath(MODEL_FILE)
        with source.open("rb") as f, np.load(f, allow_pickle=False) as data:
            fingerprint = str(data["fingerprint"]) if "fingerprint" in data.files else ""
            return cls(
                data["vocabulary"].tolist(),
                data["weights"],
                data["bias"],
                data["labels"].tolist(),
                fingerprint,
            )

    def scores(
        self,
        text: str | Utterance,
        names: frozenset[str] = frozenset(),
        places: KnownPlaces | None = None,
    ) -> np.ndarray:
        present = set(features(text, names, places))
        known = [self.index[f] for f in present if f in self.index]
        total = self.bias.copy()
        if known:
            # Binary features scaled to unit length, exactly as in training.
            total += self.weights[known].sum(axis=0) / math.sqrt(len(present))
        return total

    def predict(
        self,
        text: str | Utterance,
        names: frozenset[str] = frozenset(),
        places: KnownPlaces | None = None,
    ) -> Prediction:
        """`names`: the cast's names (`persona_names()`), so a name reads as a name; `places`:
        the places the car knows, so a place's name reads as a place."""
        scores = self.scores(text, names, places)
        exp = np.exp(scores - scores.max())
        probs = exp / exp.sum()
        best = int(probs.argmax())
        return Prediction(
            self.labels[best],
            float(probs[best]),
            {label: float(p) for label, p in zip(self.labels, probs, strict=True)},
        )


@functools.cache
def shipped_model() -> IntentModel:
    """The model that ships with companion, loaded once per process."""
    return IntentModel.load()
