"""Shared plumbing for the online services (maps, routing, web search): one httpx client
per provider, one error type, and JSON that is checked before anything trusts it."""

from __future__ import annotations

import json
from typing import Any

import httpx

USER_AGENT = "companion/0.1 (open-source in-car assistant prototype)"


class ServiceError(Exception):
    """An online provider failed. `kind`: network | http | malformed | not_found.
    The message never contains an API key (none of these providers takes one in the URL)."""

    def __init__(self, provider: str, kind: str, detail: str) -> None:
        self.provider, self.kind, self.detail = provider, kind, detail
        super().__init__(f"{provider}: {kind}: {detail}")


class JSONService:
    """GET `base_url + path` and return parsed JSON, or raise ServiceError."""

    name = "provider"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 6.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # What messages and logs show: never the user:password a private instance may need.
        url = httpx.URL(self.base_url)
        self.shown = (
            str(url.copy_with(username=None, password=None)) if url.userinfo else self.base_url
        )
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
            follow_redirects=True,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        url = self.base_url + path
        shown = self.shown
        try:
            response = await self._http.get(url, params=params)
        except httpx.TimeoutException:
            raise ServiceError(self.name, "network", f"{shown} timed out") from None
        except httpx.HTTPError as exc:
            raise ServiceError(
                self.name, "network", f"cannot reach {shown} ({type(exc).__name__})"
            ) from None
        if response.status_code >= 400:
            raise ServiceError(self.name, "http", f"{shown} answered HTTP {response.status_code}")
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise ServiceError(
                self.name, "malformed", f"{shown} did not answer with JSON"
            ) from None


def number(value: Any) -> float:
    """A JSON number or numeric string (Nominatim sends "37.44") -> float, else ValueError."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    result = float(value)
    if result != result or result in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return result
