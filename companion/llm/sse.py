"""A small server-sent-events decoder (the subset of the WHATWG spec that LLM servers use)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable


class SSEDecoder:
    """Feed it lines one by one; it returns the `data` of each complete event.

    Follows the spec where servers differ in practice: comment lines (`: keep-alive`) are
    ignored, several `data:` lines in one event are joined with newlines, one space after the
    colon is dropped, unknown fields are ignored, and a blank line ends the event.
    """

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        line = line.rstrip("\r\n")
        if not line:
            if not self._data:
                return None
            data, self._data = "\n".join(self._data), []
            return data
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        return None

    def flush(self) -> str | None:
        """The event left over when the stream ended without a final blank line."""
        return self.feed("")


async def iter_sse_data(lines: AsyncIterable[str]) -> AsyncGenerator[str, None]:
    """Yield the data of each event in an async stream of lines."""
    decoder = SSEDecoder()
    async for line in lines:
        data = decoder.feed(line)
        if data is not None:
            yield data
    data = decoder.flush()
    if data is not None:
        yield data
