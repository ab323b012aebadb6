"""A pipeline with the navigation and search skills, for driving whole conversations."""

from __future__ import annotations

from pathlib import Path

from companion.config import BUNDLED_PERSONAS
from companion.events import ActionTaken, Event, IntentRecognized, ReplyDone, TurnStarted
from companion.llm.client import ChatClient, LLMEndpoint
from companion.navigation import Gazetteer, LatLon, Navigator
from companion.personas.loader import load_personas
from companion.personas.session import PersonaSession
from companion.redaction import Secret
from companion.search import KnowledgeBase, Searcher
from companion.turns import TurnPipeline

PALO_ALTO = LatLon(37.4419, -122.1430)

# Test places (offsets in metres from the start), independent of the shipped sample file.
TEST_PLACES = """
[[place]]
name = "Beanstalk Coffee"
category = "coffee"
address = "100 Main Street"
east_m = 600
north_m = 0

[[place]]
name = "Beanstalk Coffee"
category = "coffee"
address = "900 Oak Avenue"
east_m = 0
north_m = 3000

[[place]]
name = "Bluebird Coffee"
category = "coffee"
address = "12 Elm Street"
east_m = -1500
north_m = 0

[[place]]
name = "Voltpoint Charging Hub"
category = "charger"
address = "5 Station Road"
east_m = 800
north_m = 800

[[place]]
name = "Greenline Chargers"
category = "charger"
address = "77 Park Boulevard"
east_m = 3000
north_m = 3000

[[place]]
name = "FreshMart Grocery"
category = "grocery"
address = "40 Market Street"
east_m = 500
north_m = -500

[[place]]
name = "QuickFuel"
category = "gas_station"
address = "300 Highway 9"
east_m = 2000
north_m = 0

[[place]]
name = "Riverside Inn"
category = "hotel"
address = "8 River Road"
east_m = 1000
north_m = 1000

[[place]]
name = "Grand Plaza Hotel"
category = "hotel"
address = "1 Plaza Way"
east_m = 4000
north_m = 0

[[place]]
name = "Luigi's Trattoria"
category = "restaurant"
address = "21 Main Street"
east_m = 300
north_m = 300
"""


def places_file(tmp_path: Path) -> Path:
    path = tmp_path / "places.toml"
    path.write_text(TEST_PLACES)
    return path


def unreachable_llm() -> ChatClient:
    """An endpoint nothing listens on: the 'no LLM' case."""
    return ChatClient(
        LLMEndpoint(
            provider="custom",
            label="nothing",
            base_url="http://127.0.0.1:9/v1",
            model="m",
            api_key=Secret(""),
            key_env=None,
            setup_hint="start a server",
            read_timeout=2.0,
        )
    )


def endpoint_for(
    base_url: str, read_timeout: float = 3.0, label: str = "test server"
) -> LLMEndpoint:
    """A keyless OpenAI-compatible endpoint (the scripted server's)."""
    return LLMEndpoint(
        provider="custom",
        label=label,
        base_url=base_url,
        model="m",
        api_key=Secret(""),
        key_env=None,
        setup_hint="start the server",
        read_timeout=read_timeout,
    )


def llm_client(base_url: str) -> ChatClient:
    return ChatClient(endpoint_for(base_url))


class Drive:
    """A conversation through the real pipeline with navigation and search."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        client: ChatClient | None = None,
        start: LatLon = PALO_ALTO,
        geocoder=None,
        router=None,
        web=None,
        knowledge: list[Path] | None = None,
        **session_kw,
    ) -> None:
        self.events: list[Event] = []
        gazetteer = Gazetteer(start, places_file(tmp_path))
        self.navigator = Navigator(gazetteer, geocoder=geocoder, router=router)
        self.searcher = Searcher(KnowledgeBase(knowledge), web)
        cast, errors = load_personas(BUNDLED_PERSONAS)
        assert not errors
        self.session = PersonaSession(cast, "assistant", **session_kw)
        self.pipeline = TurnPipeline(
            self.session,
            client or unreachable_llm(),
            None,
            self.events.append,
            navigator=self.navigator,
            searcher=self.searcher,
        )

    async def say(self, text: str) -> str:
        done = await self.pipeline.run_turn(text)
        return done.text if isinstance(done, ReplyDone) else done.spoken

    def turn_events(self) -> list[Event]:
        starts = [i for i, e in enumerate(self.events) if isinstance(e, TurnStarted)]
        return self.events[starts[-1] :]

    def intent(self) -> IntentRecognized:
        return next(e for e in self.turn_events() if isinstance(e, IntentRecognized))

    def action(self) -> ActionTaken | None:
        return next((e for e in self.turn_events() if isinstance(e, ActionTaken)), None)

    @property
    def trip(self):
        return self.navigator.trip

    async def close(self) -> None:
        await self.pipeline.client.aclose()
        await self.navigator.aclose()
        await self.searcher.aclose()
