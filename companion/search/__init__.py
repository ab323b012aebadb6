"""Search: the offline knowledge base (SQLite FTS5 over `assets/knowledge/`) and an optional
web search provider (SearXNG's JSON API). `searcher.Searcher` picks between them; the pipeline
has the persona summarise what it found, treating every result as untrusted quoted data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .kb import BUNDLED_KNOWLEDGE, KnowledgeBase, SearchResult
from .searcher import Searcher, SearchOutcome, summary_request
from .web import SearxngClient

if TYPE_CHECKING:
    from ..config import Settings

__all__ = [
    "KnowledgeBase",
    "SearchOutcome",
    "SearchResult",
    "Searcher",
    "SearxngClient",
    "build_searcher",
    "summary_request",
]


def build_searcher(settings: Settings) -> Searcher:
    folders = [BUNDLED_KNOWLEDGE]
    if settings.search.knowledge_dir:
        extra = Path(settings.search.knowledge_dir).expanduser()
        if not extra.is_dir():
            raise ValueError(
                f"search.knowledge_dir {extra} is not a folder; create it or clear the setting."
            )
        folders.append(extra)
    url = settings.search.searxng_url
    return Searcher(KnowledgeBase(folders), SearxngClient(url) if url else None)
