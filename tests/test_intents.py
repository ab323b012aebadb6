"""The router's in-car intents: measured on real driver requests (KVRET) through
`companion nlu --jsonl`, and checked on phrasings written here, not taken from KVRET.
(The KVRET dev split is part of the model's training data, so the first test is a training-set
check; `tests/test_router_model.py` measures on requests the model never saw.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from companion.router import route
from companion.router.slots import category_of

from .helpers import companion_cmd, run_in_process

KVRET = Path(__file__).resolve().parents[2] / "shared" / "data" / "kvret_dev_public.json"


def first_driver_utterances() -> list[tuple[str, str, str | None]]:
    """(task, first driver utterance, gold place label) for every KVRET dev dialogue."""
    out = []
    for dialogue in json.loads(KVRET.read_text()):
        turns = dialogue["dialogue"]
        driver = [t for t in turns if t["turn"] == "driver"]
        if not driver:
            continue
        slots = (
            next((t["data"].get("slots") for t in turns if t["turn"] == "assistant"), None) or {}
        )
        gold = slots.get("poi_type") or slots.get("poi")
        out.append((dialogue["scenario"]["task"]["intent"], driver[0]["data"]["utterance"], gold))
    return out


@pytest.mark.skipif(not KVRET.exists(), reason=f"{KVRET} is not here (shared data)")
def test_kvret_navigation_recall_false_positives_and_category_meet_the_targets():
    rows = first_driver_utterances()
    assert len(rows) >= 290  # the whole dev split, not a sample
    stdin = "\n".join(" ".join(text.split()) for _, text, _ in rows) + "\n"
    done = subprocess.run(
        companion_cmd("nlu", "--jsonl"), input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(rows)

    nav = [
        (r, gold) for (task, _, gold), r in zip(rows, results, strict=True) if task == "navigate"
    ]
    other = [r for (task, _, _), r in zip(rows, results, strict=True) if task != "navigate"]
    recall = sum(r["intent"].startswith("navigation.") for r, _ in nav) / len(nav)
    false_positives = sum(r["intent"].startswith("navigation.") for r in other) / len(other)
    # The gold label is the annotators' place phrase ("takeout Chinese food", "friends house"),
    # mapped onto our categories; every gold label must map to one.
    labelled = [(r, category_of(gold)) for r, gold in nav if gold]
    assert all(category is not None for _, category in labelled)
    category = sum(r["slots"].get("category") == c for r, c in labelled) / len(labelled)
    weather = [r for (task, _, _), r in zip(rows, results, strict=True) if task == "weather"]
    weather_as_search = sum(r["intent"] == "search.weather" for r in weather) / len(weather)

    assert recall >= 0.95, recall
    assert false_positives <= 0.03, false_positives
    assert category >= 0.90, category
    assert weather_as_search >= 0.90, weather_as_search


# Written for this test, not from KVRET: what drivers say, with the intent and category.
NAVIGATION = [
    ("take me to the nearest charger", "navigation.find_nearby", "charger"),
    ("I'm running low, find a supercharger", "navigation.find_nearby", "charger"),
    ("somewhere to eat around here", "navigation.find_nearby", "restaurant"),
    ("give me directions to a place to sleep", "navigation.find_nearby", "hotel"),
    ("closest grocery store avoiding heavy traffic", "navigation.find_nearby", "grocery"),
    ("where can I park", "navigation.find_nearby", "parking"),
    ("is there a pharmacy nearby", "navigation.find_nearby", "pharmacy"),
    ("I need an ATM", "navigation.find_nearby", "bank"),
    ("add a stop at a coffee shop", "navigation.add_stop", "coffee"),
    ("let's stop for gas on the way", "navigation.add_stop", "gas_station"),
    ("take me home", "navigation.start", "home"),
    ("navigate to San Francisco International Airport", "navigation.start", "airport"),
    ("drive me to 1600 Amphitheatre Parkway", "navigation.start", None),
    ("navigate to Stanford Shopping Center", "navigation.start", "shopping"),
]
NOT_NAVIGATION = [
    ("tell me a story about a dragon", "conversation"),
    ("I'm hungry for a good joke", "conversation"),
    ("how are you today", "conversation"),
    ("what's the weather like in Palo Alto tomorrow", "search.weather"),
    ("will it rain this afternoon", "search.weather"),
    ("look up the opening hours of the Computer History Museum", "search.lookup"),
    ("when does the Stanford library open", "search.lookup"),
    ("remind me to call mom at five", "out_of_scope.alarm"),
    ("what time is my dentist appointment", "out_of_scope.calendar"),
    ("I need a break from all this driving talk", "conversation"),
]
OTHERS = [
    ("how long until we get there", "navigation.eta"),
    ("what's our ETA", "navigation.eta"),
    ("how far is it", "navigation.distance"),
    ("where am I", "navigation.where_am_i"),
    ("cancel the route", "navigation.cancel"),
    ("stop", "control.stop"),
    ("repeat that", "control.repeat"),
    ("turn the volume up", "control.louder"),
    ("quieter please", "control.quieter"),
]


@pytest.mark.parametrize(("text", "intent", "category"), NAVIGATION)
def test_navigation_requests(text, intent, category):
    found = route(text, [])
    assert found.name == intent, found
    assert found.slots.get("category") == category


def test_modifiers_become_slots():
    found = route("Car, quickest route to the nearest gas station, and avoid heavy traffic", [])
    assert found.slots == {
        "category": "gas_station",
        "nearest": True,
        "fastest": True,
        "avoid_traffic": True,
    }
    found = route("is there a chinese restaurant within 5 miles of here", [])
    assert found.name == "navigation.find_nearby"
    assert found.slots["category"] == "restaurant" and found.slots["cuisine"] == "chinese"
    assert round(found.slots["within_m"]) == 8047 and found.slots["distance"] == "5 miles"
    assert route("drive me to 1600 Amphitheatre Parkway", []).slots["place"] == (
        "1600 amphitheatre parkway"
    )


@pytest.mark.parametrize(("text", "intent"), NOT_NAVIGATION + OTHERS)
def test_other_requests(text, intent):
    assert route(text, []).name == intent


def test_nlu_command_prints_intent_and_slots():
    done = run_in_process("nlu", "find", "me", "a", "hotel", "nearby")
    assert done.returncode == 0
    assert done.stdout.startswith("navigation.find_nearby") and "category=hotel" in done.stdout
    done = run_in_process("nlu")
    assert done.returncode == 2 and "--jsonl" in done.stderr
