"""The streaming LLM client against the scripted server: real HTTP on loopback, every fault."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from companion.llm import errors
from companion.llm.client import ChatClient, LLMEndpoint
from companion.llm.providers import PRESETS
from companion.llm.scripted_server import ScriptedLLMServer, tokenize
from companion.redaction import Secret

from .helpers import reply

KEY = "xai-TopSecretTestKey-0123456789"
HELLO = [{"role": "user", "content": "hello"}]


def endpoint(base_url: str, **overrides: object) -> LLMEndpoint:
    options: dict = dict(
        provider="xai",
        label="xAI Grok",
        base_url=base_url,
        model="grok-test",
        api_key=Secret(KEY),
        key_env="XAI_API_KEY",
        setup_hint="export XAI_API_KEY=...",
        connect_timeout=2.0,
        read_timeout=1.0,
        max_retry_wait=2.0,
    )
    options.update(overrides)
    return LLMEndpoint(**options)


async def collect(client: ChatClient) -> tuple[list[str], list[float]]:
    pieces, times = [], []
    async with contextlib.aclosing(client.stream_chat(HELLO, temperature=0.3)) as stream:
        async for piece in stream:
            pieces.append(piece)
            times.append(time.monotonic())
    return pieces, times


async def test_reply_streams_token_by_token(scripted: ScriptedLLMServer):
    text = "Sure. The nearest charger is two miles ahead, on the right."
    scripted.add(reply(text, tokens_per_second=40))
    client = ChatClient(endpoint(scripted.base_url))
    try:
        pieces, times = await collect(client)
    finally:
        await client.aclose()
    assert "".join(pieces) == text
    assert pieces == tokenize(text)  # one piece per streamed token, not one blob at the end
    assert times[-1] - times[0] >= 0.5 * (len(pieces) - 1) / 40  # spread over time

    request = scripted.requests[0]
    assert request.body["stream"] is True
    assert request.body["model"] == "grok-test"
    assert request.body["temperature"] == 0.3
    assert request.headers["authorization"] == f"Bearer {KEY}"


FAULTS = [
    ("401", errors.AuthenticationError, "rejected the API key", "XAI_API_KEY"),
    ("404", errors.ModelNotFoundError, "grok-test", "llm.model"),
    ("500", errors.ServerError, "ran into a problem", "HTTP 500"),
    ("stall", errors.LLMTimeoutError, "stopped answering", "llm.read_timeout"),
    ("drop", errors.ConnectionLostError, "dropped", "mid-reply"),
    ("garbage", errors.MalformedStreamError, "couldn't read", "OpenAI streaming protocol"),
]


@pytest.mark.parametrize("fault, error_type, spoken, detail", FAULTS, ids=[f[0] for f in FAULTS])
async def test_each_fault_has_its_own_clear_error_and_the_next_turn_works(
    scripted: ScriptedLLMServer, fault, error_type, spoken, detail
):
    scripted.add(reply("One two three four five six seven.", fault=fault), reply("Back again."))
    client = ChatClient(endpoint(scripted.base_url))
    try:
        with pytest.raises(error_type) as caught:
            await collect(client)
        error = caught.value
        assert spoken in error.spoken
        assert detail in error.detail
        assert len(error.spoken.split(". ")) <= 2  # short enough to say aloud
        for text in (error.spoken, error.detail, str(error), repr(error)):
            assert KEY not in text
        # The conversation survives: the very next request works on the same client.
        pieces, _ = await collect(client)
        assert "".join(pieces) == "Back again."
    finally:
        await client.aclose()


async def test_rate_limit_waits_for_retry_after_then_succeeds(scripted: ScriptedLLMServer):
    scripted.add(reply(fault="429", retry_after=1), reply("Thanks for waiting."))
    client = ChatClient(endpoint(scripted.base_url))
    try:
        pieces, _ = await collect(client)
    finally:
        await client.aclose()
    assert "".join(pieces) == "Thanks for waiting."
    first, second = scripted.requests[:2]
    assert second.received_at - first.received_at >= 0.95  # it honoured Retry-After


async def test_rate_limit_with_a_long_wait_is_reported_with_the_wait(scripted):
    scripted.add(reply(fault="429", retry_after=30), reply("later"))
    client = ChatClient(endpoint(scripted.base_url))
    try:
        with pytest.raises(errors.RateLimitError) as caught:
            await collect(client)
    finally:
        await client.aclose()
    assert caught.value.retry_after == 30
    assert "30 seconds" in caught.value.spoken
    assert len(scripted.requests) == 1  # no retry storm


@pytest.mark.parametrize(
    ("provider", "names", "never"),
    [
        ("ollama", ["Ollama"], []),
        ("xai", ["xAI"], ["Ollama"]),
        # Someone who set --llm-base-url hears about their server, not about xAI or Ollama.
        ("custom", ["server you set up"], ["xAI", "Ollama"]),
    ],
)
async def test_unreachable_server_names_what_was_set_up(provider, names, never):
    hint = PRESETS[provider].setup_hint
    client = ChatClient(endpoint("http://127.0.0.1:9/v1", provider=provider, setup_hint=hint))
    try:
        with pytest.raises(errors.NetworkUnreachableError) as caught:
            await collect(client)
    finally:
        await client.aclose()
    assert "can't reach" in caught.value.spoken
    assert all(name in caught.value.spoken for name in names)
    assert not any(name in caught.value.spoken for name in never)
    assert "127.0.0.1:9" in caught.value.detail
    if provider == "custom":
        assert "XAI_API_KEY" not in caught.value.detail


async def test_no_backend_configured_says_how_to_configure_one():
    client = ChatClient(endpoint("", provider="custom"))
    with pytest.raises(errors.NotConfiguredError) as caught:
        await collect(client)
    await client.aclose()
    assert "XAI_API_KEY" in caught.value.detail


async def test_cancelling_mid_reply_closes_the_connection_at_once(scripted):
    words = " ".join(f"word{i}" for i in range(200)) + "."
    scripted.add(reply(words, tokens_per_second=50))
    client = ChatClient(endpoint(scripted.base_url))
    received: list[str] = []

    async def consume() -> None:
        async with contextlib.aclosing(client.stream_chat(HELLO)) as stream:
            async for piece in stream:
                received.append(piece)

    task = asyncio.create_task(consume())
    while len(received) < 5:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await client.aclose()
    request = scripted.wait_for_requests(1)[0]
    assert request.client_disconnected
    assert not request.finished
    assert request.tokens_sent < 50  # the server stopped generating long before the end
