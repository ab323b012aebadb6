"""Online maps against local servers that speak Nominatim's and OSRM's real formats: the
answers use them (no "estimated" label), and every way they can fail falls back to the
offline data without losing the request."""

from __future__ import annotations

import pytest

from companion.navigation.geo import offset
from companion.navigation.online import NominatimGeocoder, OSRMRouter

from .nav_helpers import PALO_ALTO, Drive
from .provider_servers import ProviderServer, nominatim_place, osrm_route

MALL = offset(PALO_ALTO, 1200, 2600)


def routed(path: str, query: dict) -> dict:
    """OSRM: a route through the requested coordinates (lon,lat;lon,lat)."""
    pairs = path.rsplit("/", 1)[1].split(";")
    points = [(float(p.split(",")[1]), float(p.split(",")[0])) for p in pairs]
    return osrm_route(points, distance=3380.0, duration=420.0)


@pytest.fixture
def maps():
    with ProviderServer() as server:
        yield server


async def make_drive(tmp_path, maps) -> Drive:
    return Drive(tmp_path, geocoder=NominatimGeocoder(maps.url), router=OSRMRouter(maps.url))


async def test_a_named_place_and_route_come_from_the_online_providers(tmp_path, maps):
    maps.answers["/search"] = [
        nominatim_place("Stanford Shopping Center", MALL.lat, MALL.lon, "mall")
    ]
    maps.answers["/route/v1/driving/"] = routed
    drive = await make_drive(tmp_path, maps)
    said = await drive.say("navigate to Stanford Shopping Center")
    assert said == "Navigating to Stanford Shopping Center on Test Street, 2.1 miles, 7 minutes."
    assert not drive.trip.estimated and drive.trip.route.source == "online"
    assert drive.trip.next_instruction() == "Turn left onto Oak Avenue"
    assert "(est.)" not in drive.action().summary
    eta = await drive.say("how long until we get there")
    assert eta.startswith("7 minutes to Stanford Shopping Center") and "estimated" not in eta

    geocode = next(r for r in maps.requests if r[0] == "/search")
    assert geocode[1]["q"] == ["stanford shopping center"]
    assert geocode[1]["format"] == ["jsonv2"]
    assert geocode[2]["User-Agent"].startswith("companion/")  # Nominatim's usage policy
    route = next(r for r in maps.requests if r[0].startswith("/route/"))
    assert route[0].endswith(
        f"{PALO_ALTO.lon:.6f},{PALO_ALTO.lat:.6f};{MALL.lon:.6f},{MALL.lat:.6f}"
    )  # OSRM wants lon,lat
    assert route[1]["geometries"] == ["geojson"] and route[1]["steps"] == ["true"]
    await drive.close()


async def test_the_nearest_category_is_searched_around_the_car(tmp_path, maps):
    far, near = offset(PALO_ALTO, 5000, 0), offset(PALO_ALTO, 300, 300)
    maps.answers["/search"] = [
        nominatim_place("Far Charger", far.lat, far.lon, "charging_station"),
        nominatim_place("Near Charger", near.lat, near.lon, "charging_station"),
    ]
    maps.answers["/route/v1/driving/"] = routed
    drive = await make_drive(tmp_path, maps)
    said = await drive.say("take me to the nearest charger")
    assert said.startswith("The nearest charger is Near Charger"), said
    query = maps.requests[0][1]
    assert query["q"] == ["charging station"] and query["bounded"] == ["1"]
    west, north, east, south = map(float, query["viewbox"][0].split(","))
    assert west < PALO_ALTO.lon < east and south < PALO_ALTO.lat < north
    await drive.close()


GARBAGE_GEOCODER = [
    pytest.param((200, b"<html>Service unavailable</html>"), id="html-not-json"),
    pytest.param((500, {"error": "internal"}), id="http-500"),
    pytest.param({"places": []}, id="object-not-list"),
    pytest.param([{"name": "No coordinates"}], id="missing-lat-lon"),
    pytest.param([{"name": "Bad", "lat": "north", "lon": "-122"}], id="lat-not-a-number"),
    pytest.param([{"name": "Off", "lat": "123.0", "lon": "-122"}], id="lat-out-of-range"),
    pytest.param([], id="nothing-found"),
]


@pytest.mark.parametrize("answer", GARBAGE_GEOCODER)
async def test_a_failing_geocoder_falls_back_to_offline_places(tmp_path, maps, answer):
    maps.answers["/search"] = answer
    maps.answers["/route/v1/driving/"] = routed
    drive = await make_drive(tmp_path, maps)
    said = await drive.say("navigate to QuickFuel")
    assert said.startswith("Navigating to QuickFuel on Highway 9"), said
    assert drive.trip.destination.source == "sample"
    if answer != []:
        assert "geocoder" in drive.action().data["fallback"]
    await drive.close()


GARBAGE_ROUTER = [
    pytest.param({"code": "NoRoute", "message": "Impossible route between points"}, id="no-route"),
    pytest.param({"code": "Ok", "routes": []}, id="no-routes"),
    pytest.param(
        {
            "code": "Ok",
            "routes": [{"distance": 10, "duration": 5, "geometry": {"coordinates": [[1]]}}],
        },
        id="bad-geometry",
    ),
    pytest.param(
        {"code": "Ok", "routes": [{"distance": "far", "duration": 5}]}, id="distance-not-a-number"
    ),
    pytest.param({"code": "InvalidUrl"}, id="error-code"),
    pytest.param((503, b"busy"), id="http-503"),
    pytest.param((200, b"\x00\xff garbage"), id="garbage-bytes"),
]


@pytest.mark.parametrize("answer", GARBAGE_ROUTER)
async def test_a_failing_router_falls_back_to_an_estimate(tmp_path, maps, answer):
    maps.answers["/search"] = []
    maps.answers["/route/v1/driving/"] = answer
    drive = await make_drive(tmp_path, maps)
    said = await drive.say("navigate to QuickFuel")
    assert said.startswith("Navigating to QuickFuel on Highway 9") and "about" in said, said
    assert drive.trip.estimated
    assert "router" in drive.action().data["fallback"]
    assert "estimated" in await drive.say("how far is it")
    await drive.close()


async def test_unreachable_providers_fall_back_and_say_nothing_of_it(tmp_path):
    drive = Drive(
        tmp_path,
        geocoder=NominatimGeocoder("http://127.0.0.1:9"),
        router=OSRMRouter("http://127.0.0.1:9"),
    )
    said = await drive.say("take me to the nearest charger")
    assert said.startswith("The nearest charger is Voltpoint Charging Hub")
    assert "network" in drive.action().data["fallback"]
    await drive.close()


async def test_provider_errors_never_show_credentials_in_the_url(tmp_path, maps):
    """A private SearXNG or Nominatim behind basic auth: the password stays out of messages."""
    maps.answers["/search"] = (500, {"error": "boom"})
    host = maps.url.removeprefix("http://")
    geocoder = NominatimGeocoder(f"http://driver:s3cret-pass@{host}")
    drive = Drive(tmp_path, geocoder=geocoder)
    said = await drive.say("navigate to QuickFuel")
    assert said.startswith("Navigating to QuickFuel")
    fallback = drive.action().data["fallback"]
    assert "HTTP 500" in fallback and host in fallback
    assert "s3cret" not in fallback and "driver" not in fallback
    assert maps.requests[0][2]["Authorization"].startswith("Basic ")  # it was still sent
    await drive.close()


async def test_home_set_to_the_word_home_is_no_loop(tmp_path):
    drive = Drive(tmp_path)
    drive.navigator.gazetteer.home = "home"
    assert (
        await drive.say("take me home")
        == 'I don\'t know where home is yet. Say "set my home to" and the address.'
    )
    await drive.close()
