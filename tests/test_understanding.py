"""Understanding what the driver actually says: places the car knows by name (exactly or as
the recogniser mangles them), trips to places nobody knows, "how far is X", and the
recogniser's alternatives (its n-best list and the driver language model's reading)."""

from __future__ import annotations

import json
import subprocess

import pytest

from companion.config import BUNDLED_PERSONAS
from companion.personas import load_personas
from companion.router import going_to, route
from companion.router.heard import route_heard
from companion.router.places import KnownPlaces, sample_places
from companion.stt import sphinx_engine
from companion.text import normalize

from .helpers import companion_cmd
from .speech_helpers import AUDIO


@pytest.fixture(scope="module")
def cast():
    return list(load_personas(BUNDLED_PERSONAS)[0].values())


def found(places: KnownPlaces, text: str) -> str | None:
    match = places.find(normalize(text).split())
    return match.name if match else None


def test_known_places_are_found_exactly_with_or_without_the_article():
    places = KnownPlaces(["The Daily Grind", "Bluebird Coffee", "QuickFuel"])
    assert found(places, "take me to the daily grind") == "The Daily Grind"
    assert found(places, "take me to daily grind please") == "The Daily Grind"
    assert found(places, "is bluebird coffee open") == "Bluebird Coffee"
    assert found(places, "take me to a coffee shop") is None


def test_known_places_are_found_as_the_recogniser_mishears_them():
    places = KnownPlaces(["Bluebird Coffee", "Beanstalk Coffee", "QuickFuel", "Golden Wok"])
    assert found(places, "take me to blue bird coffee") == "Bluebird Coffee"  # a word too many
    assert found(places, "how far is bean stock coffee") == "Beanstalk Coffee"  # a sound wrong
    assert found(places, "navigate to quick fuel") == "QuickFuel"
    assert found(places, "go to the golden walk") == "Golden Wok"
    assert found(places, "i had a blue bird in my garden") is None
    assert found(places, "quick fix") is None  # too short a span to be the name


def test_the_sample_places_are_known_to_the_router_out_of_the_box():
    names = sample_places().names
    assert "Bluebird Coffee" in names and "The Daily Grind" in names and len(names) >= 20


@pytest.mark.parametrize(
    "text, place",
    [
        ("take me to the Bluebird Coffee", "Bluebird Coffee"),
        ("i want to go to the daily grind", "The Daily Grind"),
        ("let's head over to Sakura Sushi", "Sakura Sushi"),
        ("can we go to riverside inn tonight", "Riverside Inn"),
        ("take me to blue bird coffee", "Bluebird Coffee"),
    ],
)
def test_a_known_place_said_any_everyday_way_is_navigation_to_it(cast, text, place):
    intent = route(text, cast)
    assert intent.name == "navigation.start", (text, intent)
    assert intent.slots["place"] == place


@pytest.mark.parametrize(
    "text, name, place",
    [
        ("how far is Beanstalk Coffee", "navigation.distance", "Beanstalk Coffee"),
        ("how far away is the daily grind from here", "navigation.distance", "The Daily Grind"),
        ("how long to Golden Wok", "navigation.eta", "Golden Wok"),
        ("how long does it take to get to Riverside Inn", "navigation.eta", "Riverside Inn"),
    ],
)
def test_how_far_or_how_long_to_a_known_place_is_a_navigation_question(cast, text, name, place):
    intent = route(text, cast)
    assert (intent.name, intent.slots.get("place")) == (name, place), (text, intent)


def test_the_trip_s_own_questions_name_no_place(cast):
    for text in ("how far is it", "how long until we get there", "how much further"):
        intent = route(text, cast)
        assert intent.name in ("navigation.distance", "navigation.eta"), (text, intent)
        assert "place" not in intent.slots, (text, intent)


def test_a_place_found_online_this_session_becomes_a_name_the_router_knows(cast):
    places = KnownPlaces(sample_places().names)
    text = "is the Zephyrine Noodle Bar far from here"
    before = route(text, cast, places=places)
    places.add("Zephyrine Noodle Bar")
    after = route(text, cast, places=places)
    assert after.name == "navigation.distance", (before, after)
    assert after.slots["place"] == "Zephyrine Noodle Bar"


@pytest.mark.parametrize(
    "text",
    [
        "take me to Zorbly Pancake House",
        "navigate to Mount Kessel",
        "directions to the Copper Kettle Tearoom",
        "please drive me to Hollis Creek Farm",
        "can you get me to Quarry Lane",
    ],
)
def test_a_trip_to_a_name_nobody_knows_is_still_navigation(cast, text):
    intent = route(text, cast)
    assert intent.name == "navigation.start", (text, intent)
    assert intent.slots.get("place"), intent


@pytest.mark.parametrize(
    "text",
    [
        "i took a golden walk in the park this morning",
        "take me to the huffington post website",
        "go to my favorite radio channel",
        "how far is the moon",
        "how long does it take to boil an egg",
    ],
)
def test_what_is_not_a_place_does_not_become_a_trip(cast, text):
    assert not route(text, cast).name.startswith("navigation."), text
    assert going_to("take me to the settings page") is None


def test_an_alternative_reading_the_car_acts_on_replaces_a_conversational_best(cast):
    intent, words = route_heard(["medicaid owned", "navigate home", "meditate on"], cast)
    assert (intent.name, words) == ("navigation.start", "navigate home")
    intent, words = route_heard(["by the coffee shop", "find a coffee shop"], cast)
    assert intent.name == "navigation.find_nearby" and words == "find a coffee shop"


def test_the_best_reading_stands_when_the_car_acts_on_it_or_no_alternative_is_sure(cast):
    intent, words = route_heard(["find a coffee shop", "navigate home"], cast)
    assert (intent.name, words) == ("navigation.find_nearby", "find a coffee shop")
    story = "tell me a story about a dragon"
    intent, words = route_heard([story, "tell me a story about a wagon"], cast)
    assert (intent.name, words) == ("conversation", story)


def test_a_persona_switch_is_never_taken_from_an_alternative(cast):
    intent, words = route_heard(["which is the story teller", "switch to the storyteller"], cast)
    assert intent.name != "persona.switch" and words == "which is the story teller"


def test_the_recogniser_gives_its_alternatives_with_the_driver_model_s_reading_first():
    assert sphinx_engine.DRIVER_LM.exists(), "the driver language model ships in the package"
    done = subprocess.run(
        companion_cmd(
            "transcribe", "--json", "--engine", "pocketsphinx", str(AUDIO / "add_stop.wav")
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    (utterance,) = json.loads(done.stdout)["utterances"]
    # The general model hears "at a stop the coffee shop"; the driver model hears the words.
    assert utterance["text"] != "add a stop at a coffee shop"
    assert utterance["alternatives"][0] == "add a stop at a coffee shop"
    assert 2 <= len(utterance["alternatives"]) <= 1 + sphinx_engine.N_BEST


def test_companion_nlu_weighs_the_alternatives_companion_transcribe_prints():
    heard = subprocess.run(
        companion_cmd("transcribe", "--json", str(AUDIO / "how_far_bluebird.wav")),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    done = subprocess.run(
        companion_cmd("nlu", "--jsonl"),
        input=heard + "how far is it\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    spoken, typed = (json.loads(line) for line in done.stdout.splitlines())
    assert spoken["text"] != "how far is bluebird coffee"  # what the general model heard
    assert spoken["reading"] == "how far is bluebird coffee"
    assert (spoken["intent"], spoken["destination"]) == ("navigation.distance", "Bluebird Coffee")
    assert typed["intent"] == "navigation.distance" and "reading" not in typed
