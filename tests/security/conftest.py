"""The red-team suite: a hostile language model, hostile files and leaky settings, each
checked by what the user would see, hear or find on disk."""

from __future__ import annotations

import pytest

from companion.llm.client import ChatClient
from companion.llm.endpoint import LLMEndpoint
from tests.nav_helpers import endpoint_for


def endpoint(base_url: str, read_timeout: float = 4.0) -> LLMEndpoint:
    return endpoint_for(base_url, read_timeout, label="hostile server")


@pytest.fixture
def client_for():
    """ChatClient factory; every client made is closed after the test."""
    made: list[ChatClient] = []

    def make(base_url: str, **kw) -> ChatClient:
        client = ChatClient(endpoint(base_url, **kw))
        made.append(client)
        return client

    yield make
    import asyncio

    async def close() -> None:
        for client in made:
            await client.aclose()

    asyncio.run(close())
