"""Streaming chat client for OpenAI-compatible servers (xAI Grok, OpenAI, Ollama, llama.cpp).

`ChatClient.stream_chat()` is an async generator of reply text pieces. Close it (or cancel the
task consuming it) and the HTTP response is closed at once, which drops the connection, so the
server stops generating. Every failure surfaces as one `LLMError` subclass from `errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import httpx

from ..redaction import redact
from ..text import clean, clean_data
from . import errors
from .endpoint import LLMEndpoint, Message
from .sse import iter_sse_data

__all__ = ["ChatClient", "LLMEndpoint", "Message", "ToolCall"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolCall:
    """The model asked to call a tool (OpenAI `tool_calls`), arguments already parsed."""

    name: str
    arguments: dict[str, Any]
    id: str = ""


TOOL_ARGUMENTS_LIMIT = 64 * 1024  # characters of one tool call's JSON arguments

OFFLINE_SPOKEN = (
    "I can't reach my language model right now. "
    "To chat, set an xAI API key, or start Ollama on this computer."
)
# Said when the model that *is* configured does not answer: names what the driver set up,
# never a provider they did not choose (the screen's banner has the details).
UNREACHABLE_SPOKEN = {
    "xai": "I can't reach xAI right now. Check the internet connection and try again.",
    "openai": "I can't reach OpenAI right now. Check the internet connection and try again.",
    "ollama": OFFLINE_SPOKEN,
    "llamacpp": "I can't reach the llama.cpp server right now. Check that it is running.",
    "custom": "I can't reach the language model server you set up. Check that it is running.",
}


def _loopback(host: str) -> bool:
    return host in ("localhost", "::1", "") or host.startswith("127.")


class ChatClient:
    """One long-lived HTTP client per endpoint; call `aclose()` when done."""

    def __init__(
        self, endpoint: LLMEndpoint, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.endpoint = endpoint
        self.tools_supported = True  # until the server rejects a request that offers tools
        timeout = httpx.Timeout(
            connect=endpoint.connect_timeout,
            read=endpoint.read_timeout,
            write=endpoint.connect_timeout,
            pool=endpoint.connect_timeout,
        )
        # A key in the URL's query (`?api_key=...`, some gateways want it so) goes with every
        # request as a parameter, not into the middle of the request's path.
        base, params = endpoint.base_url, None
        if base:
            url = httpx.URL(base)
            params = url.params or None
            base = str(url.copy_with(query=None)).rstrip("/") + "/"
        # HTTP(S)_PROXY / NO_PROXY are honoured as every httpx user expects, except for a
        # server on this machine (Ollama, llama.cpp, the local model), which no proxy can reach.
        # Nor is a connection to such a server kept for the next turn: llama.cpp's server may
        # close an idle one just as it is reused ("disconnected without sending a response",
        # about one request in twenty here), and connecting on loopback costs nothing.
        loopback = _loopback(httpx.URL(base).host if base else "")
        self._http = httpx.AsyncClient(
            base_url=base or "",
            params=params,
            timeout=timeout,
            transport=transport,
            trust_env=not loopback,
            limits=httpx.Limits(max_keepalive_connections=0) if loopback else httpx.Limits(),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        top_p: float | None = None,
        tools: list[dict[str, Any]] | None = None,
    ) -> AsyncGenerator[str | ToolCall, None]:
        """Yield the reply's text as it streams in, then any `ToolCall`s the model made (only
        when `tools` are offered). A server that rejects tools (HTTP 400/422) is asked again
        without them, and not offered tools again. Raises an `LLMError` on any failure."""
        ep = self.endpoint
        if not ep.configured:
            raise errors.NotConfiguredError(
                OFFLINE_SPOKEN,
                f"No language model is configured: {self._setup_advice(hosted=True)}",
            )
        body: dict[str, Any] = {"model": ep.model, "messages": list(messages), "stream": True}
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if top_p is not None:
            body["top_p"] = top_p
        if tools and self.tools_supported:
            body["tools"] = tools
            body["tool_choice"] = "auto"
        headers = {"Accept": "text/event-stream"}
        if ep.api_key:
            headers["Authorization"] = f"Bearer {ep.api_key.reveal()}"

        retried = False
        while True:
            try:
                # aclosing: a consumer that stops early (aclose) closes the HTTP stream now,
                # not whenever the inner generator is garbage-collected.
                async with contextlib.aclosing(self._one_request(body, headers)) as pieces:
                    async for piece in pieces:
                        yield piece
                return
            except errors.BadRequestError:
                if "tools" not in body:
                    raise
                log.info("%s refused a request with tools; continuing without them", ep.label)
                self.tools_supported = False
                body = {k: v for k, v in body.items() if k not in ("tools", "tool_choice")}
            except errors.RateLimitError as exc:
                wait = exc.retry_after
                if retried or wait is None or wait > ep.max_retry_wait:
                    raise
                retried = True
                log.info("rate limited by %s; retrying in %.1f s as asked", ep.label, wait)
                await asyncio.sleep(wait)

    async def _one_request(
        self, body: dict[str, Any], headers: dict[str, str]
    ) -> AsyncGenerator[str | ToolCall, None]:
        ep = self.endpoint
        started = False
        try:
            async with self._http.stream(
                "POST", "chat/completions", json=body, headers=headers
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise self._status_error(response)
                content_type = response.headers.get("content-type", "")
                if content_type.startswith("application/json"):
                    # Some servers ignore `stream: true` and answer in one piece.
                    await response.aread()
                    yield self._whole_reply(response)
                    return
                if "text/event-stream" not in content_type:
                    raise self._malformed(f"the answer's content type was {content_type!r}")
                finished = False
                calls: dict[int, dict[str, str]] = {}
                # Both generators are closed here, not when the garbage collector finds them:
                # a reply stopped mid-stream must not leave an aclose task behind for a loop
                # that may already be shutting down ("Task was destroyed but it is pending").
                # httpx's aiter_lines is an async generator, typed as a plain iterator.
                lines = cast(AsyncGenerator[str, None], response.aiter_lines())
                events = iter_sse_data(lines)
                async with contextlib.aclosing(lines), contextlib.aclosing(events):
                    async for data in events:
                        if data.strip() == "[DONE]":
                            finished = True
                        else:
                            text, finished = self._parse_chunk(data, calls)
                            if text:
                                started = True
                                yield text
                        if finished:
                            for call in self._tool_calls(calls):
                                yield call
                            return
                        started = started or bool(calls)
                    if not started:
                        raise self._malformed("the stream ended before any reply")
                    raise errors.ConnectionLostError(
                        "The connection to my language model dropped in the middle of the reply.",
                        f"{ep.label} at {ep.base_url} ended the stream without finishing"
                        " the reply.",
                    )
        except httpx.ConnectTimeout as exc:
            raise errors.LLMTimeoutError(
                "My language model isn't answering. Please try again in a moment.",
                f"Connecting to {ep.label} at {ep.base_url} took longer than "
                f"{ep.connect_timeout:g} s (llm.connect_timeout).",
            ) from exc
        except httpx.TimeoutException as exc:
            raise errors.LLMTimeoutError(
                "My language model stopped answering. Please try again.",
                f"{ep.label} at {ep.base_url} sent nothing for {ep.read_timeout:g} s "
                "(llm.read_timeout); the request was abandoned.",
            ) from exc
        except httpx.ConnectError as exc:
            raise errors.NetworkUnreachableError(
                self._spoken_unreachable(),
                f"Could not connect to {ep.label} at {ep.base_url} ({_reason(exc)}). "
                f"{self._setup_advice()}",
            ) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            if started:
                raise errors.ConnectionLostError(
                    "The connection to my language model dropped in the middle of the reply.",
                    f"{ep.label} at {ep.base_url} closed the connection mid-reply "
                    f"({_reason(exc)}).",
                ) from exc
            raise errors.NetworkUnreachableError(
                self._spoken_unreachable(),
                f"{ep.label} at {ep.base_url} closed the connection before answering "
                f"({_reason(exc)}). {self._setup_advice()}",
            ) from exc

    def _tool_calls(self, calls: dict[int, dict[str, str]]) -> list[ToolCall]:
        found = []
        for _, call in sorted(calls.items()):
            try:
                arguments = clean_data(json.loads(call["arguments"] or "{}"))
            except (json.JSONDecodeError, RecursionError):
                log.info(
                    "tool call %s had arguments that are not JSON: %.200r",
                    call["name"],
                    call["arguments"],
                )
                continue
            if isinstance(arguments, dict) and call["name"]:
                found.append(ToolCall(clean(call["name"]), arguments, clean(call["id"])))
        return found

    def _parse_chunk(
        self, data: str, calls: dict[int, dict[str, str]] | None = None
    ) -> tuple[str, bool]:
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError:
            raise self._malformed(f"an event was not JSON: {_preview(data)}") from None
        if not isinstance(chunk, dict):
            raise self._malformed(f"an event was not a JSON object: {_preview(data)}")
        if "error" in chunk:
            raise errors.ServerError(
                "My language model ran into a problem. Please try again.",
                f"{self.endpoint.label} reported an error mid-stream: {_server_message(chunk)}",
            )
        text, finished = [], False
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if isinstance(content, str):
                text.append(clean(content))
            for part in delta.get("tool_calls") or []:  # streamed in pieces, by index
                if calls is None or not isinstance(part, dict):
                    continue
                call = calls.setdefault(
                    int(part.get("index") or 0), {"id": "", "name": "", "arguments": ""}
                )
                call["id"] = str(part.get("id") or call["id"])
                function = part.get("function") or {}
                call["name"] += str(function.get("name") or "")
                call["arguments"] += str(function.get("arguments") or "")
                if len(call["arguments"]) > TOOL_ARGUMENTS_LIMIT:
                    raise self._malformed(
                        f"a tool call's arguments grew past {TOOL_ARGUMENTS_LIMIT // 1024} KB "
                        "(no tool of ours takes anything that long)"
                    )
            if choice.get("finish_reason"):
                finished = True
        return "".join(text), finished

    def _whole_reply(self, response: httpx.Response) -> str:
        try:
            payload = response.json()
            return clean(str(payload["choices"][0]["message"]["content"] or ""))
        except (ValueError, KeyError, IndexError, TypeError):
            raise self._malformed(
                f"a JSON answer without a reply: {_preview(response.text)}"
            ) from None

    def _malformed(self, what: str) -> errors.MalformedStreamError:
        ep = self.endpoint
        return errors.MalformedStreamError(
            "My language model sent an answer I couldn't read.",
            f"{ep.label} at {ep.base_url} did not speak the OpenAI streaming protocol: {what}. "
            "Check that llm.base_url points at an OpenAI-compatible /v1 endpoint.",
        )

    def _status_error(self, response: httpx.Response) -> errors.LLMError:
        ep = self.endpoint
        status = response.status_code
        where = f"{ep.label} at {ep.base_url} answered HTTP {status}"
        message = _server_message(_json_or_none(response))
        said = f" ({message})" if message else ""
        if status in (401, 403):
            fix = f"check {ep.key_env}" if ep.key_env else "check llm.api_key in your config file"
            return errors.AuthenticationError(
                "My language model rejected the API key.", f"{where}{said}: {fix}."
            )
        if status == 429:
            retry_after = _parse_retry_after(response.headers.get("retry-after"))
            when = f"in {max(1, round(retry_after))} seconds" if retry_after is not None else "soon"
            return errors.RateLimitError(
                f"My language model is busy. Please try again {when}.",
                f"{where}{said}: rate limited"
                + (f"; it asked to wait {retry_after:g} s." if retry_after is not None else "."),
                retry_after,
            )
        if status == 404:
            return errors.ModelNotFoundError(
                f"The model {ep.model} isn't available on that server.",
                f"{where}{said}: the model {ep.model!r} or the URL is unknown there. "
                "Set llm.model (or --model) to a model the server has"
                + (", e.g. `ollama pull " + ep.model + "`." if ep.provider == "ollama" else "."),
            )
        if status in (400, 413, 422):
            return errors.BadRequestError(
                "My language model refused the request.",
                f"{where}{said}. Check llm.model and the persona's generation settings.",
            )
        if status >= 500:
            return errors.ServerError(
                "My language model ran into a problem. Please try again.",
                f"{where}{said}: a server-side error; try again, or another provider.",
            )
        return errors.ServerError("My language model gave an unexpected answer.", f"{where}{said}.")

    def _spoken_unreachable(self) -> str:
        return UNREACHABLE_SPOKEN.get(self.endpoint.provider, UNREACHABLE_SPOKEN["custom"])

    def _setup_advice(self, hosted: bool = False) -> str:
        ep = self.endpoint
        # The hosted alternative is offered only where nothing, or the local fallback, was
        # chosen: not to someone who set up their own server.
        hosted = hosted or ep.provider == "ollama"
        other = "; or set XAI_API_KEY to use xAI Grok" if hosted else ""
        return (
            f"To chat, {ep.setup_hint}{other}. "
            "`companion config show` prints the effective settings."
        )


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _server_message(payload: Any) -> str:
    """The human message inside an OpenAI-style error body, redacted and shortened."""
    if not isinstance(payload, dict):
        return ""
    error = payload.get("error", payload)
    message = error.get("message") if isinstance(error, dict) else error
    return _preview(redact(str(message))) if message else ""


def _preview(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(exc: Exception) -> str:
    return redact(str(exc)) or type(exc).__name__
