"""Navigation through the real pipeline: every action, disambiguation, confirmation, no match,
trip state and the simulated drive. Offline data (the test places file, GeoNames cities,
IATA airports); the online providers are in test_online_providers.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from companion.events import IntentRecognized, ReplyDelta
from companion.navigation import Gazetteer, LatLon
from companion.navigation.geo import distance_m, say_distance, say_duration
from companion.navigation.places import SAMPLE_PLACES, load_sample_places
from companion.navigation.routing import estimate_route
from companion.schema import DataFileError

from .nav_helpers import PALO_ALTO, Drive


@pytest.fixture
async def drive(tmp_path: Path):
    d = Drive(tmp_path)
    yield d
    await d.close()


async def test_go_to_a_named_place_starts_a_labelled_estimated_route(drive):
    said = await drive.say("Navigate to Luigi's Trattoria")
    assert drive.intent().intent == "navigation.start"
    assert said.startswith("Navigating to Luigi's Trattoria on Main Street")
    assert "about" in said and "minute" in said
    assert drive.trip.destination.name == "Luigi's Trattoria"
    action = drive.action()
    assert action.action == "route_started" and action.data["source"] == "sample"
    assert action.data["trip"]["estimated"] is True
    assert "(est.)" in action.summary and action.summary.startswith("Navigating to Luigi")


async def test_two_places_with_one_name_are_offered_and_the_second_one_picked(drive):
    said = await drive.say("take me to Beanstalk Coffee")
    assert said.startswith("Two Beanstalk Coffee nearby: Main Street, 0.5 miles, or Oak Avenue")
    assert said.endswith("Which one?")
    assert not drive.trip.active
    assert drive.action().data["choices"] == [
        "Beanstalk Coffee on Main Street",
        "Beanstalk Coffee on Oak Avenue",
    ]
    said = await drive.say("the second one")
    assert drive.intent().intent == "navigation.choose"
    assert said.startswith("Navigating to Beanstalk Coffee on Oak Avenue")
    assert drive.trip.destination.address == "900 Oak Avenue"


@pytest.mark.parametrize(
    "answer, street",
    [
        ("the first one", "Main Street"),
        ("number two", "Oak Avenue"),
        ("the one on Oak Avenue", "Oak Avenue"),
        ("the closest one", "Main Street"),
        ("the last one", "Oak Avenue"),
        ("let's do two", "Oak Avenue"),
        ("I'll take the first one, please", "Main Street"),
    ],
)
async def test_a_choice_can_be_answered_many_ways(tmp_path, answer, street):
    drive = Drive(tmp_path)
    await drive.say("navigate to beanstalk coffee")
    await drive.say(answer)
    assert drive.trip.destination is not None, answer
    assert drive.trip.destination.label.endswith(street)
    await drive.close()


async def test_neither_drops_the_question_and_other_talk_moves_on(drive):
    await drive.say("find me a coffee shop")
    assert drive.action().action == "choices"
    assert await drive.say("neither") == "Okay, never mind."
    assert not drive.trip.active and drive.navigator.pending is None
    await drive.say("find me a coffee shop")
    await drive.say("tell me a joke")  # conversation: the open question is dropped
    assert drive.navigator.pending is None
    await drive.say("the second one")  # no longer an answer to anything
    assert drive.intent().intent != "navigation.choose"


@pytest.mark.parametrize(
    "utterance, category, name",
    [
        ("take me to the nearest charger", "charger", "Voltpoint Charging Hub"),
        ("I need a gas station", "gas_station", "QuickFuel"),
        ("closest grocery store avoiding heavy traffic", "grocery", "FreshMart Grocery"),
    ],
)
async def test_nearest_of_a_category(tmp_path, utterance, category, name):
    drive = Drive(tmp_path)
    said = await drive.say(utterance)
    intent = drive.intent()
    assert intent.intent == "navigation.find_nearby" and intent.slots["category"] == category
    assert drive.trip.destination.name == name, said
    assert name in said
    await drive.close()


@pytest.mark.parametrize(
    "utterance, many",
    [
        ("somewhere to eat", None),
        ("give me directions to a place to sleep", "hotels"),
    ],
)
async def test_implicit_requests_find_places(tmp_path, utterance, many):
    drive = Drive(tmp_path)
    said = await drive.say(utterance)
    if many:
        assert said.startswith(f"Two {many} nearby: Riverside Inn")
    else:  # one place to eat in the test data: no question, straight there
        assert drive.trip.destination.name == "Luigi's Trattoria", said
    await drive.close()


async def test_a_new_destination_asks_before_replacing_the_route(drive):
    await drive.say("take me to QuickFuel")
    said = await drive.say("navigate to Riverside Inn")
    assert said == (
        "We're on the way to QuickFuel on Highway 9. Go to Riverside Inn on "
        "River Road instead, or add it as a stop?"
    )
    assert drive.trip.destination.name == "QuickFuel"  # nothing changed yet
    assert await drive.say("no, keep it") == "Okay, keeping the route to QuickFuel on Highway 9."
    assert drive.trip.destination.name == "QuickFuel"

    await drive.say("navigate to Riverside Inn")
    said = await drive.say("add it as a stop")
    assert said.startswith("Adding a stop at Riverside Inn on River Road. We'll reach QuickFuel")
    assert [s.name for s in drive.trip.stops] == ["Riverside Inn"]

    await drive.say("navigate to Grand Plaza Hotel")
    said = await drive.say("yes, go there instead")
    assert said.startswith("Navigating to Grand Plaza Hotel")
    assert drive.trip.destination.name == "Grand Plaza Hotel" and drive.trip.stops == []


async def test_add_a_stop_by_category_and_by_name(drive):
    await drive.say("navigate to Grand Plaza Hotel")
    before = drive.trip.route.distance_m
    said = await drive.say("add a stop at a gas station")
    assert drive.intent().intent == "navigation.add_stop"
    assert said.startswith("Adding a stop at QuickFuel on Highway 9")
    assert [s.name for s in drive.trip.stops] == ["QuickFuel"]
    assert drive.trip.route.distance_m >= before * 0.99
    assert len(drive.trip.route.leg_ends_m) == 2
    said = await drive.say("add a stop at Luigi's Trattoria on the way")
    assert "Luigi's Trattoria" in said, said
    assert [s.name for s in drive.trip.stops] == ["QuickFuel", "Luigi's Trattoria"]
    said = await drive.say("how long until we get there")
    assert "First we stop at QuickFuel" in said


async def test_add_a_stop_without_a_route_goes_there(drive):
    said = await drive.say("add a stop at a charging station")
    assert said.startswith("There's no route yet, so navigating to Voltpoint Charging Hub")
    assert drive.trip.destination.name == "Voltpoint Charging Hub"


async def test_cancel(drive):
    assert await drive.say("cancel the route") == "There's no route to cancel."
    await drive.say("take me to QuickFuel")
    assert await drive.say("cancel navigation") == "Navigation to QuickFuel on Highway 9 cancelled."
    assert not drive.trip.active
    assert drive.action().data["trip"]["destination"] is None


async def test_eta_and_distance_follow_the_simulated_drive(drive):
    assert (
        await drive.say("how long until we get there") == "We're not navigating anywhere right now."
    )
    await drive.say("navigate to Grand Plaza Hotel")
    total_m, total_s = drive.trip.remaining_m, drive.trip.remaining_s
    first = await drive.say("how long till we get there")
    assert first == (
        f"About {say_duration(total_s)} to Grand Plaza Hotel on Plaza Way, "
        f"{say_distance(total_m)} to go (estimated)."
    )
    start = drive.trip.position
    drive.navigator.advance(total_s / 2)
    assert drive.trip.remaining_m == pytest.approx(total_m / 2, rel=0.01)
    assert 1500 < distance_m(start, drive.trip.position) < 2500  # moved along the 4 km road
    assert drive.trip.speed_kmh > 20
    halfway = await drive.say("how far is it")
    assert (
        halfway == f"About {say_distance(total_m / 2)} to Grand Plaza Hotel on Plaza Way "
        "(estimated)."
    )
    events = drive.navigator.advance(total_s)
    assert [e.kind for e in events] == ["arrived"] and not drive.trip.active
    assert drive.trip.speed_kmh == 0


async def test_stops_are_reached_in_order(drive):
    await drive.say("navigate to Grand Plaza Hotel")
    await drive.say("add a stop at Luigi's Trattoria")
    leg1 = drive.trip.route.leg_ends_m[0]
    events = drive.navigator.advance(leg1 / drive.trip.route.speed_mps + 1)
    assert [(e.kind, e.place.name) for e in events] == [("reached_stop", "Luigi's Trattoria")]
    assert drive.trip.stops == [] and drive.trip.active


async def test_where_am_i(drive):
    assert await drive.say("where am I") == "We're in Palo Alto, California."
    await drive.say("take me to San Jose")
    drive.navigator.advance(drive.trip.remaining_s * 0.5)
    said = await drive.say("where are we")
    assert said.startswith("We're") and "to San Jose, California." in said


@pytest.mark.parametrize(
    "utterance, reply",
    [
        ("drive to San Francisco", "Navigating to San Francisco, California"),
        ("take me to SFO", "Navigating to San Francisco International Airport"),
        ("navigate to 900 Oak Avenue", "Navigating to Beanstalk Coffee on Oak Avenue"),
        ("navigate to Portland", "Navigating to Portland, Oregon"),  # far bigger than Maine's
        ("navigate to Paris", "Navigating to Paris, France"),  # ~9000 km away, still the one
    ],
)
async def test_cities_airports_and_addresses(drive, utterance, reply):
    said = await drive.say(utterance)
    assert said.startswith(reply), said


async def test_the_airport_offers_the_big_ones_nearby(drive):
    said = await drive.say("get me to the airport")
    assert said.startswith("Three airports nearby: Mineta San Jose International Airport")
    await drive.say("the first one")
    assert drive.trip.destination.extra["iata"] == "SJC"


async def test_an_unknown_place_is_said_back(drive):
    said = await drive.say("navigate to Zorblax Quuxville")
    assert said == "I couldn't find a place called zorblax quuxville."
    assert drive.action().action == "no_match" and not drive.trip.active


async def test_home_needs_a_setting(tmp_path):
    drive = Drive(tmp_path)
    assert (
        await drive.say("take me home")
        == 'I don\'t know where home is yet. Say "set my home to" and the address.'
    )
    drive.navigator.gazetteer.home = "37.40,-122.10"
    said = await drive.say("take me home")
    assert said.startswith("Navigating to home")
    await drive.close()


async def test_the_start_location_is_configurable(tmp_path):
    berlin = LatLon(52.5200, 13.4050)
    drive = Drive(tmp_path, start=berlin)
    assert await drive.say("where am I") == "We're in Berlin, Germany."
    await drive.say("take me to the nearest charger")
    place = drive.trip.destination
    assert place.name == "Voltpoint Charging Hub" and distance_m(berlin, place.pos) < 1500
    await drive.close()


async def test_a_navigation_guess_waits_for_the_final_words(drive):
    """Speculative start: nothing changes (no trip, no reply) until the words are confirmed,
    and an unconfirmed guess that is cancelled leaves no trace."""
    confirmed = asyncio.Event()
    task = asyncio.create_task(drive.pipeline.run_turn("take me to QuickFuel", confirmed))
    await asyncio.sleep(0.3)
    assert not drive.trip.active and not task.done() and drive.events == []
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not drive.trip.active and drive.events == []
    confirmed = asyncio.Event()
    task = asyncio.create_task(drive.pipeline.run_turn("take me to QuickFuel", confirmed))
    await asyncio.sleep(0.1)
    confirmed.set()
    await task
    assert drive.trip.destination.name == "QuickFuel"
    assert any(isinstance(e, ReplyDelta) for e in drive.events)
    assert [e.intent for e in drive.events if isinstance(e, IntentRecognized)] == [
        "navigation.start"
    ]


async def test_navigation_exchanges_are_remembered_for_the_persona(drive):
    await drive.say("take me to QuickFuel")
    last = drive.session.memory.exchanges[-1]
    assert last.user == "take me to QuickFuel" and last.assistant.startswith("Navigating")


def test_the_shipped_sample_places_cover_every_category_and_are_labelled():
    places = load_sample_places(SAMPLE_PLACES, PALO_ALTO)
    needed = {
        "charger",
        "coffee",
        "restaurant",
        "grocery",
        "parking",
        "hotel",
        "hospital",
        "gas_station",
    }
    assert needed <= {p.category for p in places}
    assert all(p.source == "sample" for p in places)
    assert all(distance_m(PALO_ALTO, p.pos) < 15_000 for p in places)
    assert "SAMPLE" in SAMPLE_PLACES.read_text().splitlines()[0]


def test_a_broken_places_file_names_the_file_and_line(tmp_path):
    bad = tmp_path / "places.toml"
    bad.write_text(
        '[[place]]\nname = "A"\ncategory = "coffee"\neast_m = 1\nnorth_m = 2\n\n'
        '[[place]]\nname = "B"\ncategory = "coffee"\neast_m = "far"\nnorth_m = 2\n'
    )
    with pytest.raises(DataFileError) as info:
        load_sample_places(bad, PALO_ALTO)
    message = str(info.value)
    assert message.startswith(f"{bad}:") and "east_m" in message and "a number" in message
    assert info.value.line == 10
    bad.write_text('[[place]]\nname = "A"\ncategory = "coffee"\neast_m = 1\n')
    with pytest.raises(DataFileError, match=r"has no \"north_m\"; add it") as info:
        load_sample_places(bad, PALO_ALTO)
    assert info.value.line == 1


def test_offline_estimates_are_plausible():
    """Across town ~30-40 km/h, long trips up to highway speed; 25 % road factor."""
    sf = LatLon(37.7749, -122.4194)
    route = estimate_route([PALO_ALTO, sf])
    straight = distance_m(PALO_ALTO, sf)
    assert route.distance_m == pytest.approx(straight * 1.25)
    assert 25 * 60 < route.duration_s < 75 * 60 and route.estimated
    assert distance_m(route.position_at(route.distance_m), sf) < 1
    assert (
        distance_m(
            route.position_at(route.distance_m / 2),
            LatLon((PALO_ALTO.lat + sf.lat) / 2, (PALO_ALTO.lon + sf.lon) / 2),
        )
        < 500
    )


def test_city_lookups_rank_big_and_near_first():
    g = Gazetteer(PALO_ALTO, sample_file=None)
    assert g.find("portland maine", PALO_ALTO)[0].region == "Maine, US"
    assert g.find("paris", PALO_ALTO)[0].region == "France"
    assert g.find("paris", LatLon(33.0, -95.5))[0].region == "Texas, US"  # from next door
    assert g.find("LHR", PALO_ALTO)[0].extra["iata"] == "LHR"
    assert g.find("nowhere at all", PALO_ALTO) == []


def test_the_city_index_is_built_once_and_survives_a_bad_cache(tmp_path):
    from companion.navigation.cities import CityIndex, index_path

    folder = tmp_path / "cache"
    index = CityIndex(folder)
    path = index_path(folder)
    assert index.path == path and path.exists()
    assert {c[4] for c in index.named("portland")} >= {"Oregon, US", "Maine, US"}
    built = path.stat().st_mtime_ns
    assert CityIndex(folder).path == path and path.stat().st_mtime_ns == built  # reused
    path.write_bytes(b"not a database")  # a damaged file is rebuilt
    assert CityIndex(folder).named("berlin")
    assert path.stat().st_mtime_ns != built
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")  # cannot be written: in memory
    fallback = CityIndex(blocked)
    assert fallback.path is None and fallback.named("paris")
    assert any(c[0] == "Berlin" for c in fallback.near(52.52, 13.40, 0.2, 0.3))
