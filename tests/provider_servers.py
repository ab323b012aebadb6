"""Local scripted servers for the online providers: real HTTP on loopback, real response
formats (Nominatim `/search?format=jsonv2`, OSRM `/route/v1/driving/...`, SearXNG
`/search?format=json`). A test sets what each path answers; the server records requests."""

from __future__ import annotations

from companion.dialogue.scripted_web import ScriptedJSONServer

# The same scripted JSON server the dialogue runner uses for web search.
ProviderServer = ScriptedJSONServer


def nominatim_place(
    name: str, lat: float, lon: float, kind: str = "cafe", road: str = "Test Street"
) -> dict:
    """One result as Nominatim's jsonv2 format has it with addressdetails=1 (coordinates are
    strings)."""
    return {
        "place_id": 1234,
        "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
        "osm_type": "node",
        "osm_id": 5678,
        "lat": f"{lat:.7f}",
        "lon": f"{lon:.7f}",
        "category": "amenity",
        "type": kind,
        "place_rank": 30,
        "importance": 0.31,
        "addresstype": "amenity",
        "name": name,
        "display_name": f"{name}, 1, {road}, Palo Alto, Santa Clara County, California, "
        "94301, United States",
        "address": {
            "amenity": name,
            "house_number": "1",
            "road": road,
            "city": "Palo Alto",
            "county": "Santa Clara County",
            "state": "California",
            "postcode": "94301",
            "country": "United States",
            "country_code": "us",
        },
        "boundingbox": [str(lat - 0.001), str(lat + 0.001), str(lon - 0.001), str(lon + 0.001)],
    }


def osrm_route(points: list[tuple[float, float]], distance: float, duration: float) -> dict:
    """An OSRM /route answer (geometries=geojson, steps=true) along `points` (lat, lon)."""
    coords = [[lon, lat] for lat, lon in points]
    steps = [
        {
            "distance": distance * 0.3,
            "duration": duration * 0.3,
            "name": "Main Street",
            "maneuver": {"type": "depart", "location": coords[0], "bearing_after": 90},
        },
        {
            "distance": distance * 0.7,
            "duration": duration * 0.7,
            "name": "Oak Avenue",
            "maneuver": {"type": "turn", "modifier": "left", "location": coords[1]},
        },
        {
            "distance": 0,
            "duration": 0,
            "name": "Oak Avenue",
            "maneuver": {"type": "arrive", "location": coords[-1]},
        },
    ]
    return {
        "code": "Ok",
        "routes": [
            {
                "distance": distance,
                "duration": duration,
                "weight": duration,
                "weight_name": "routability",
                "geometry": {"type": "LineString", "coordinates": coords},
                "legs": [
                    {
                        "distance": distance,
                        "duration": duration,
                        "summary": "",
                        "steps": steps,
                        "weight": duration,
                    }
                ],
            }
        ],
        "waypoints": [
            {"name": "", "location": coords[0], "distance": 1.2},
            {"name": "", "location": coords[-1], "distance": 0.8},
        ],
    }


def searxng_answer(*results: tuple[str, str, str], answers: list | None = None) -> dict:
    """A SearXNG JSON answer; `results` are (title, url, content)."""
    return {
        "query": "q",
        "number_of_results": len(results),
        "results": [
            {
                "url": url,
                "title": title,
                "content": content,
                "engine": "duckduckgo",
                "engines": ["duckduckgo"],
                "score": 1.0,
                "category": "general",
                "parsed_url": ["https", url.split("/")[2] if "//" in url else "", "/", "", "", ""],
            }
            for title, url, content in results
        ],
        "answers": answers or [],
        "corrections": [],
        "infoboxes": [],
        "suggestions": [],
        "unresponsive_engines": [],
    }
