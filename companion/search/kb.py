"""The offline knowledge base: Markdown documents indexed in SQLite FTS5.

Each `## ` section of each `.md` file under the knowledge folders is one searchable entry
(title + body, porter-stemmed). Built in memory when the assistant starts: the shipped
documents index in a few milliseconds, so there is no stale index to rebuild.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from ..resources import ASSETS

BUNDLED_KNOWLEDGE = ASSETS / "knowledge"

_STOPWORDS = frozenset(
    "a an and are as at be by can could did do does for from had has have how i if in into is "
    "it its me my of on or our please should so than that the their them then there these they "
    "this to was we were what when where which who why will with would you your tell about "
    "look up search find out know".split()
)


@dataclass(frozen=True)
class SearchResult:
    """One hit. `source` says where it came from: 'owner's manual: Charging' or a URL."""

    title: str
    snippet: str
    source: str
    origin: str  # kb | web


def first_sentences(text: str, count: int = 2) -> str:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])", " ".join(text.split()))
    return " ".join(parts[:count]).strip()


def _terms(query: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", query.lower())
    return [w for w in words if w not in _STOPWORDS and len(w) > 1]


class KnowledgeBase:
    def __init__(self, folders: list[Path] | None = None) -> None:
        self.folders = [f for f in (folders if folders is not None else [BUNDLED_KNOWLEDGE])]
        self._lock = threading.Lock()  # one connection, used from worker threads
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE entries USING fts5("
            "title, body, doc UNINDEXED, tokenize='porter unicode61')"
        )
        self.sections = 0
        for folder in self.folders:
            for path in sorted(folder.glob("*.md")):
                if path.name.lower() != "readme.md":
                    self._index(path)

    def _index(self, path: Path) -> None:
        text = path.read_text(encoding="utf-8", errors="replace")
        doc = path.stem.replace("_", " ").title()
        heading = re.match(r"#\s+(.+)", text)
        if heading:
            doc = heading.group(1).strip()
        for block in re.split(r"^##\s+", text, flags=re.MULTILINE)[1:]:
            title, _, body = block.partition("\n")
            body = body.strip()
            if body:
                self._db.execute("INSERT INTO entries VALUES (?, ?, ?)", (title.strip(), body, doc))
                self.sections += 1

    def search(self, query: str, limit: int = 3) -> list[SearchResult]:
        """Best sections first. Only sections that share at least half of the query's
        meaningful words, one of them in the title, count (a lone common word is no answer)."""
        terms = _terms(query)
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)
        with self._lock:
            rows = self._db.execute(
                "SELECT title, body, doc FROM entries WHERE entries MATCH ? "
                "ORDER BY bm25(entries, 4.0, 1.0) LIMIT ?",
                (match, limit * 3),
            ).fetchall()
            stemmed = {
                t: self._db.execute(
                    "SELECT count(*) FROM entries WHERE entries MATCH ?", (f'"{t}"',)
                ).fetchone()[0]
                for t in terms
            }
        known = [t for t in terms if stemmed[t]]  # words the manual uses at all
        results = []
        for title, body, doc in rows:
            text = f"{title} {body}".lower()
            hit = sum(1 for t in known if t[:5] in text)
            # Titles are the questions a section answers: one of the query's words must be
            # there too ("opening hours of the Louvre" is not "feel tired ... two hours").
            if hit * 2 < len(terms) or not any(t[:5] in title.lower() for t in known):
                continue
            results.append(
                SearchResult(title, first_sentences(body), f"owner's manual: {doc}", "kb")
            )
            if len(results) == limit:
                break
        return results
