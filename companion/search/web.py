"""Web search through a SearXNG instance's JSON API (`/search?q=...&format=json`).

The instance must have the JSON format enabled (`search.formats: [html, json]` in its
settings.yml). Results are untrusted text from the internet: they are cleaned and cut here,
and the pipeline hands them to the LLM only as quoted data.
"""

from __future__ import annotations

import logging
import re

from ..text import clean as without_surrogates
from ..webapi import JSONService, ServiceError
from .kb import SearchResult, first_sentences

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str, limit: int = 400) -> str:
    """Untrusted text made safe to show, speak and quote: no control or bidi characters, no
    markup, one line, bounded length."""
    text = _CONTROL.sub(" ", without_surrogates(str(text)))
    text = re.sub(r"<[^>]{0,200}>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


class SearxngClient(JSONService):
    name = "web search"

    async def search(self, query: str, limit: int = 3) -> list[SearchResult]:
        data = await self.get_json("/search", {"q": query, "format": "json", "safesearch": 2})
        if not isinstance(data, dict) or not isinstance(data.get("results", []), list):
            raise ServiceError(self.name, "malformed", "expected an object with results")
        results = []
        for answer in data.get("answers") or []:
            text = answer.get("answer") if isinstance(answer, dict) else answer
            if isinstance(text, str) and text.strip():
                url = answer.get("url", "") if isinstance(answer, dict) else ""
                results.append(SearchResult("Answer", clean(text), clean(url or "web", 200), "web"))
        for item in data.get("results") or []:
            if not isinstance(item, dict):
                continue
            content, title = item.get("content"), item.get("title")
            if not isinstance(content, str) or not content.strip():
                continue
            results.append(
                SearchResult(
                    clean(title if isinstance(title, str) else "", 120),
                    first_sentences(clean(content), 3),
                    clean(str(item.get("url") or "web"), 200),
                    "web",
                )
            )
            if len(results) >= limit:
                break
        if data.get("results") and not results:
            raise ServiceError(self.name, "malformed", "no usable result in the answer")
        return results[:limit]
