"""Errors the language-model client raises, one class per thing a caller can act on.

Each error carries two texts: `spoken`, one or two short sentences fit to be read aloud while
driving, and `detail`, the actionable hint for the screen and the log. Neither may contain a
secret; the client builds them only from the provider name, the base URL and status codes.
"""

from __future__ import annotations


class LLMError(Exception):
    """Base class for everything the LLM client raises."""

    kind = "llm"

    def __init__(self, spoken: str, detail: str) -> None:
        super().__init__(detail)
        self.spoken = spoken
        self.detail = detail


class NotConfiguredError(LLMError):
    """No language model backend is configured at all."""

    kind = "not_configured"


class AuthenticationError(LLMError):
    """The server rejected the API key (HTTP 401/403)."""

    kind = "authentication"


class RateLimitError(LLMError):
    """HTTP 429. `retry_after` is in seconds when the server said so, else None."""

    kind = "rate_limit"

    def __init__(self, spoken: str, detail: str, retry_after: float | None) -> None:
        super().__init__(spoken, detail)
        self.retry_after = retry_after


class ModelNotFoundError(LLMError):
    """HTTP 404: the server does not know the configured model (or the URL is wrong)."""

    kind = "model_not_found"


class BadRequestError(LLMError):
    """HTTP 400/422: the server refused the request itself."""

    kind = "bad_request"


class ServerError(LLMError):
    """HTTP 5xx, or an error object sent inside the stream."""

    kind = "server"


class NetworkUnreachableError(LLMError):
    """The server could not be reached at all (refused, DNS, no route)."""

    kind = "unreachable"


class ConnectionLostError(LLMError):
    """The connection dropped after the reply had started."""

    kind = "connection_lost"


class LLMTimeoutError(LLMError):
    """Connecting took longer than the connect timeout, or the stream stalled past the read one."""

    kind = "timeout"


class MalformedStreamError(LLMError):
    """The server answered with something that is not an OpenAI-style event stream."""

    kind = "malformed_stream"
