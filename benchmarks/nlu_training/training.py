"""Training the intent model: data, labels, cross-validation and the shipped artefact.

    python benchmarks/train_nlu.py            # trains, cross-validates, writes intent_model.npz

This is not part of the runtime package (nor of the wheel): the car only loads the artefact.

Data (see `../shared/data/README.md` for sources and licences):
- KVRET dev (Stanford in-car dialogues): the driver's first request of each dialogue,
  labelled by the dialogue's task (navigate / weather / schedule);
- SLURP devel (CC BY 4.0): 2,033 ordinary home-assistant requests, labelled from their
  scenario and intent (alarms, music, lights, email... are what the car can't do);
- our own templated requests: sentence templates as data (`sentences/*.toml`, read by
  `sentences.py`), some filled from KVRET's entity lists.

Deterministic: a fixed seed for the templates and the folds, and a deterministic solver, so
the same data gives byte-identical weights. Needs scikit-learn (`pip install -e '.[train]'`);
the car itself never imports it.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from companion.personas import load_personas
from companion.resources import BUNDLED_PERSONAS
from companion.router.model import MODEL_FILE, IntentModel, features, persona_names
from companion.router.places import KnownPlaces, sample_places
from companion.router.slots import (
    CATEGORIES,
    CUISINES,
    category_of,
    is_proper_place,
    named_place,
    place_kind,
)

from . import sentences

SEED = 20261202
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
MODEL_PATH = ROOT / "companion" / "router" / MODEL_FILE

LABELS = (
    "navigation.start",
    "navigation.find_nearby",
    "navigation.add_stop",
    "navigation.cancel",
    "navigation.eta",
    "navigation.distance",
    "navigation.where_am_i",
    "search.weather",
    "search.lookup",
    "car.status",
    "car.climate",
    "car.range",
    "control.stop",
    "control.repeat",
    "control.louder",
    "control.quieter",
    "control.cancel",
    "persona.switch",
    "places.save",
    "places.list",
    "places.forget",
    "places.rename",
    "memory.remember",
    "memory.recall",
    "memory.forget",
    "memory.forget_all",
    "conversation",
    "out_of_scope.media",
    "out_of_scope.alarm",
    "out_of_scope.smart_home",
    "out_of_scope.messages",
    "out_of_scope.calendar",
    "out_of_scope.lists",
    "out_of_scope.orders",
    "out_of_scope.transport",
)


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    source: str  # kvret | slurp | template
    group: str  # examples of one group (a dialogue, a SLURP recording) stay in one fold
    gold_place: str | None = None  # KVRET's annotated place type, for category accuracy
    slurp_intent: str | None = None


# --- labels for the public corpora --------------------------------------------------------------

_SLURP_SCENARIO = {
    "alarm": "out_of_scope.alarm",
    "calendar": "out_of_scope.calendar",
    "email": "out_of_scope.messages",
    "social": "out_of_scope.messages",
    "iot": "out_of_scope.smart_home",
    "lists": "out_of_scope.lists",
    "music": "out_of_scope.media",
    "play": "out_of_scope.media",
    "takeaway": "out_of_scope.orders",
    "weather": "search.weather",
    "qa": "search.lookup",
    "news": "search.lookup",
    "cooking": "search.lookup",
    "general": "conversation",
    "datetime": "conversation",
    "recommendation": "conversation",
}
_SLURP_INTENT = {
    "audio_volume_up": "control.louder",
    "audio_volume_down": "control.quieter",
    "audio_volume_mute": "control.stop",
    "audio_volume_other": "out_of_scope.media",
    "recommendation_locations": "navigation.find_nearby",
    "transport_taxi": "out_of_scope.transport",
    "transport_ticket": "out_of_scope.transport",
    "transport_traffic": "out_of_scope.transport",
}
# Public transport, not driving: "when is the next train to Boston".
_TRANSIT = re.compile(
    r"\b(trains?|tickets?|bus|buses|flights?|amtrak|septa|rail|subway|metro|"
    r"taxi|uber|lyft|schedule\w*|timetable)\b"
)

# SLURP intents that ask for a place (navigation is right for them); the rest of SLURP must
# never become navigation.
PLACE_INTENTS = frozenset({"recommendation_locations", "transport_query"})


def nav_label(text: str) -> str:
    """navigation.start for a named place (or home, a friend's), else find_nearby."""
    category = category_of(text)
    place = named_place(text)
    if category in ("home", "friend") or (place and is_proper_place(place)):
        return "navigation.start"
    return "navigation.find_nearby" if category else "navigation.start"


def slurp_label(row: dict[str, Any]) -> str:
    intent, text = row["intent"], row["sentence"]
    if intent == "transport_query":
        return "out_of_scope.transport" if _TRANSIT.search(text) else nav_label(text)
    if intent in _SLURP_INTENT:
        return _SLURP_INTENT[intent]
    return _SLURP_SCENARIO.get(row["scenario"], "conversation")


def kvret_examples(path: Path) -> list[Example]:
    out = []
    for number, dialogue in enumerate(json.loads(path.read_text())):
        turns = dialogue["dialogue"]
        driver = [t["data"]["utterance"] for t in turns if t["turn"] == "driver"]
        if not driver:
            continue
        text = " ".join(driver[0].split())
        task = dialogue["scenario"]["task"]["intent"]
        slots = (
            next((t["data"].get("slots") for t in turns if t["turn"] == "assistant"), None) or {}
        )
        gold = slots.get("poi_type") or slots.get("poi")
        label = {"navigate": nav_label(text), "weather": "search.weather"}.get(
            task, "out_of_scope.calendar"
        )
        out.append(Example(text, label, "kvret", f"kvret-{number}", gold))
    return out


def slurp_examples(path: Path) -> list[Example]:
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(
                Example(
                    row["sentence"],
                    slurp_label(row),
                    "slurp",
                    f"slurp-{row['slurp_id']}",
                    slurp_intent=row["intent"],
                )
            )
    return out


def corpus_examples(data_dir: Path = DEFAULT_DATA) -> list[Example]:
    """The public corpora, labelled. Raises FileNotFoundError naming what is missing."""
    kvret, slurp = data_dir / "kvret_dev_public.json", data_dir / "slurp_devel.jsonl"
    for path in (kvret, slurp):
        if not path.exists():
            raise FileNotFoundError(
                f"{path}: training data not found; pass --data DIR with "
                "kvret_dev_public.json and slurp_devel.jsonl"
            )
    return kvret_examples(kvret) + slurp_examples(slurp)


def template_examples(seed: int = SEED, data_dir: Path | None = DEFAULT_DATA) -> list[Example]:
    """Our templated requests (sentences/*.toml), with those filled from KVRET's entity lists
    when `data_dir` has them."""
    grammar = templates(seed)
    available: set[str] = set()
    entities = data_dir / "kvret_entities.json" if data_dir else None
    if entities is not None and entities.exists():
        grammar.grammar.lists.update(kvret_lists(json.loads(entities.read_text())))
        available.add("kvret")
    out = [
        Example(text, label, "template", f"template-{i}")
        for i, (text, label) in enumerate(grammar.generate(frozenset(available)))
    ]
    # The kinds of place alone are requests too ("Gas station."), except home and friend.
    out += [
        Example(word, "navigation.find_nearby", "template", f"category-{category}-{word}")
        for category, words in CATEGORIES.items()
        if category not in ("home", "friend")
        for word in words[:3]
    ]
    return out + heard_examples()


HEARD = Path(__file__).resolve().parent / "heard.jsonl"


# A heard phrasing is trained on only when the recogniser kept the gist: at most this share of
# its words wrong. Beyond it the words are noise, and a label on noise teaches the router to
# find requests in noise.
MAX_HEARD_WER = 0.5


def heard_examples(path: Path = HEARD) -> list[Example]:
    """Template phrasings as the recogniser heard them (`benchmarks/hear_training.py`): the
    noisy channel the router meets in the car. Each keeps its template's label; what was
    heard as nothing, as the very words said, or as mostly other words is left out."""
    from .speech import wer

    if not path.exists():
        return []
    out = []
    for number, line in enumerate(path.read_text().splitlines()):
        row = json.loads(line)
        heard = " ".join(row["heard"].split())
        if heard and 0 < wer([(row["text"], heard)]) <= MAX_HEARD_WER:
            out.append(Example(heard, row["label"], "heard", f"heard-{number}"))
    return out


def templates(seed: int = SEED) -> sentences.Sentences:
    """The sentence templates, with the router's own cuisine words as `{cuisine}`."""
    loaded = sentences.load(seed=seed)
    loaded.grammar.lists["cuisine"] = sorted({w for words in CUISINES.values() for w in words[:2]})
    return loaded


def kvret_lists(entities: dict[str, Any]) -> dict[str, list[str]]:
    """KVRET's entity lists (kvret_entities.json) as template lists (`kvret_*`)."""
    pois = [p for p in entities.get("poi", []) if isinstance(p, dict) and p.get("poi")]
    kinds = [t for t in entities.get("poi_type", []) if isinstance(t, str)]
    return {
        "kvret_poi": [str(p["poi"]) for p in pois],
        "kvret_poi_at": [f"{p['poi']}, the one at {p.get('address', '')}" for p in pois],
        "kvret_poi_type": [
            t for t in kinds if t not in ("home", "friends house", "certain address")
        ],
        "kvret_location": [str(x) for x in entities.get("location", [])] or ["here"],
        "kvret_weather": [str(x) for x in entities.get("weather_attribute", [])] or ["rain"],
        "kvret_when": [str(x) for x in entities.get("weekly_time", [])] or ["today"],
        "kvret_event": [str(x) for x in entities.get("event", [])] or ["meeting"],
        "kvret_party": [str(x) for x in entities.get("party", [])] or ["my boss"],
        "kvret_distance": [str(x) for x in entities.get("distance", [])] or ["5 miles"],
    }


# --- training -----------------------------------------------------------------------------------


def training_names() -> frozenset[str]:
    """The persona names training marks as <persona>: the shipped cast's names and aliases, and
    the invented characters of the templates."""
    cast = load_personas(BUNDLED_PERSONAS)[0].values()
    invented = templates().grammar.lists["persona_name"]
    return persona_names([*invented, *(n for p in cast for n in p.spoken_names)])


def training_places() -> KnownPlaces:
    """The names training reads as <place>: the templates' named places and the bundled
    sample places. The templates' invented names and KVRET's places stay words, as a name
    the car doesn't know does at run time, so the model learns both."""
    lists = templates().grammar.lists
    return KnownPlaces([*lists["place_name"], *lists["place_name_common"], *sample_places().names])


def _matrix(rows_of_features: Sequence[set[str]], index: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix

    rows, cols, values = [], [], []
    for row, present in enumerate(rows_of_features):
        known = sorted(index[f] for f in present if f in index)
        rows += [row] * len(known)
        cols += known
        values += [1.0 / np.sqrt(len(present))] * len(known)
    return csr_matrix(
        (values, (rows, cols)), shape=(len(rows_of_features), len(index)), dtype=np.float64
    )


TEMPLATE_WEIGHT = 0.3  # real requests count more: templates are many and alike
# A heard phrasing counts this share of a template: it is a noisier copy of one.
HEARD_SHARE = 0.5


def train(
    examples: Sequence[Example], *, c: float = 20.0, template_weight: float = TEMPLATE_WEIGHT
) -> IntentModel:
    """Fit a multinomial logistic regression (deterministic L-BFGS) on `examples`."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    names, places = training_names(), training_places()
    present = [set(features(e.text, names, places)) for e in examples]
    vocabulary = sorted(set().union(*present))
    index = {f: i for i, f in enumerate(vocabulary)}
    x = _matrix(present, index)
    labels = [label for label in LABELS if any(e.label == label for e in examples)]
    y = np.array([labels.index(e.label) for e in examples])
    classifier = LogisticRegression(C=c, max_iter=3000, tol=1e-5)
    made = {"template": template_weight, "heard": template_weight * HEARD_SHARE}
    weight = np.array([made.get(e.source, 1.0) for e in examples])
    # One BLAS thread: L-BFGS on this sparse problem makes many small calls, and a pool of
    # spinning BLAS threads cost 3x the CPU for a slower fit (45 vs 16 CPU-s for a held-out
    # fold on 2 cores; the same model either way).
    with threadpool_limits(limits=1):
        classifier.fit(x, y, sample_weight=weight)
    weights = classifier.coef_.T.astype(np.float32)  # (features, labels)
    keep = np.abs(weights).max(axis=1) >= 1e-3  # features that move no score are dropped
    return IntentModel(
        [f for f, k in zip(vocabulary, keep, strict=True) if k],
        weights[keep].astype(np.float16).astype(np.float32),
        classifier.intercept_.astype(np.float32),
        labels,
    )


def fingerprint(
    examples: Sequence[Example], *, c: float = 20.0, template_weight: float = TEMPLATE_WEIGHT
) -> str:
    """A digest of everything training depends on (data, labels, features, settings): the
    shipped model records it, and a test fails when the model is older than its data."""
    digest = hashlib.sha256()
    sample = "|".join(features("Car, find me a Chinese restaurant within 5 miles!"))
    digest.update(f"{c}|{template_weight}|{HEARD_SHARE}|{','.join(LABELS)}|{sample}\n".encode())
    digest.update("|".join(sorted(training_names())).encode())
    digest.update("|".join(sorted(training_places().names)).encode())
    for e in sorted(examples, key=lambda e: (e.source, e.group, e.text, e.label)):
        digest.update(f"{e.source}\t{e.text}\t{e.label}\n".encode())
    return digest.hexdigest()


def save(model: IntentModel, path: Path = MODEL_PATH, *, data_fingerprint: str = "") -> None:
    """Write the model as a compressed .npz of plain arrays (no pickle), deterministically."""
    vocabulary = sorted(model.index, key=model.index.__getitem__)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        vocabulary=np.array(vocabulary),
        weights=model.weights.astype(np.float16),
        bias=model.bias.astype(np.float32),
        labels=np.array(model.labels),
        fingerprint=np.array(data_fingerprint),
    )
    # np.savez_compressed stamps the time into the zip; compress the members ourselves instead
    # so the same weights give the same bytes.
    raw = zipfile.ZipFile(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name in sorted(raw.namelist()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, raw.read(name))
    path.write_bytes(out.getvalue())


# --- evaluation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """What the issue measures, on examples the model did not see."""

    nav_recall: float  # KVRET navigate requests routed to navigation
    false_nav_incar: float  # KVRET weather/schedule requests routed to navigation
    false_nav_slurp: float  # SLURP non-place requests routed to navigation
    category: float  # KVRET navigate: category (and cuisine, when the gold names one) right
    switches: int  # SLURP requests that switched persona
    accuracy: float  # label accuracy on the corpora
    counts: dict[str, int]

    def lines(self) -> list[str]:
        return [
            f"in-car navigation recall   {self.nav_recall:.3f}  (KVRET navigate, "
            f"{self.counts['nav']})",
            f"in-car false navigation    {self.false_nav_incar:.3f}  (KVRET weather/schedule, "
            f"{self.counts['incar_other']})",
            f"non-place -> navigation    {self.false_nav_slurp:.4f}  (SLURP non-place, "
            f"{self.counts['slurp_other']})",
            f"category (cuisine kept)    {self.category:.3f}  ({self.counts['labelled']} labelled)",
            f"unrequested switches       {self.switches}  (SLURP, {self.counts['slurp']})",
            f"label accuracy             {self.accuracy:.3f}",
        ]


def score(examples: Iterable[Example], routed: Callable[[Example], Any]) -> Scores:
    """Score `routed(example)` (an `Intent`) on corpus examples."""
    nav = incar_other = slurp_other = slurp = labelled = 0
    hit = fp_in = fp_slurp = right_kind = switched = correct = total = 0
    for e in examples:
        intent = routed(e)
        is_nav = intent.name.partition(".")[0] == "navigation"
        total += 1
        correct += intent.name == e.label
        if e.source == "kvret":
            if e.label.startswith("navigation."):
                nav += 1
                hit += is_nav
                if e.gold_place:
                    category, cuisine = place_kind(e.gold_place)
                    if category:
                        labelled += 1
                        right_kind += intent.slots.get("category") == category and (
                            cuisine is None or intent.slots.get("cuisine") == cuisine
                        )
            else:
                incar_other += 1
                fp_in += is_nav
        elif e.source == "slurp":
            slurp += 1
            switched += intent.name == "persona.switch"
            if e.slurp_intent not in PLACE_INTENTS:
                slurp_other += 1
                fp_slurp += is_nav
    return Scores(
        hit / max(nav, 1),
        fp_in / max(incar_other, 1),
        fp_slurp / max(slurp_other, 1),
        right_kind / max(labelled, 1),
        switched,
        correct / max(total, 1),
        {
            "nav": nav,
            "incar_other": incar_other,
            "slurp_other": slurp_other,
            "slurp": slurp,
            "labelled": labelled,
        },
    )


def folds(examples: Sequence[Example], k: int, seed: int = SEED) -> list[list[Example]]:
    """`k` folds of the corpus examples by group, stratified by label, shuffled with `seed`."""
    by_label: dict[str, list[Example]] = {}
    for e in examples:
        by_label.setdefault(e.label, []).append(e)
    rng = random.Random(seed)
    out: list[list[Example]] = [[] for _ in range(k)]
    offset = 0
    for label in sorted(by_label):
        group = sorted(by_label[label], key=lambda e: e.group)
        rng.shuffle(group)
        for i, e in enumerate(group):
            out[(i + offset) % k].append(e)
        offset += len(group)
    return out


def cross_validate(
    corpus: Sequence[Example],
    templates: Sequence[Example],
    cast: list[Any],
    *,
    k: int = 5,
    c: float = 20.0,
    template_weight: float = TEMPLATE_WEIGHT,
) -> tuple[Scores, list[tuple[Example, Any]]]:
    """Train on the templates and k-1 folds of the corpora, route the held-out fold through
    the real router with that model; every corpus example is held out once."""
    from companion.router import route

    results: list[tuple[Example, Any]] = []
    parts = folds(corpus, k)
    for i, held_out in enumerate(parts):
        seen = [e for j, part in enumerate(parts) if j != i for e in part]
        model = train([*templates, *seen], c=c, template_weight=template_weight)
        results += [(e, route(e.text, cast, model=model)) for e in held_out]
    routed = dict((id(e), intent) for e, intent in results)
    return score([e for e, _ in results], lambda e: routed[id(e)]), results


# --- the hand-written car request sets (benchmarks/nlu_eval/, never trained on) -----------------

EVAL = ROOT / "benchmarks" / "nlu_eval"


def set_scores(path: Path, family: str, routed: Callable[[str], Any]) -> dict[str, Any]:
    """One hand-written set (`car_*.toml`, `places_*.toml`) routed by `routed(text)` (an
    `Intent`). Each block expects an intent of `family` (`car.range`: right when it is that
    one), the family itself (`navigation`: any of it is right), or `not <family>` (look-alikes
    that must stay out). Returns the share of requests routed into the family (`to_family`)
    and to the right intent (`right`), how many look-alikes went in, and every miss as (text,
    intent)."""
    import tomllib

    total = inside = right = alikes = alikes_inside = 0
    misses = []
    for block in tomllib.loads(path.read_text())["set"]:
        expect = block["expect"]
        for text in block["requests"]:
            name = routed(text).name
            is_in = name.startswith(f"{family}.")
            if expect == f"not {family}":
                alikes += 1
                alikes_inside += is_in
                wrong = is_in
            else:
                total += 1
                inside += is_in
                wrong = not (name == expect or (expect == family and is_in))
                right += not wrong
            if wrong:
                misses.append((text, name))
    return {
        "requests": total,
        "to_family": inside / max(total, 1),
        "right": right / max(total, 1),
        "alikes": alikes,
        "alikes_to_family": alikes_inside,
        "misses": misses,
    }
