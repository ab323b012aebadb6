"""The places the car knows by name, as the router reads them in an utterance.

The navigator keeps one `KnownPlaces`: the bundled sample places, the places found online in
this session and (when they exist) the driver's saved places. The router finds a name in the
words, exactly or as the recogniser may have mangled it ("blue bird coffee", "the daily
grind", "beanstock coffee"), and the intent model reads it as one `<place>` word: "take me to
<place>", "how far is <place>" are navigation whatever the name, and the name's own words
("coffee", "grind") can't pull the request elsewhere.
"""

from __future__ import annotations

import difflib
import functools
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..text import normalize

PLACE = "<place>"
# A name heard slightly wrong is still the name when its letters agree this well; only
# names of at least FUZZY_MIN_CHARS letters (shorter ones are too alike to call a near miss).
FUZZY_RATIO = 0.84
FUZZY_MIN_CHARS = 8
_LEADING = ("the ", "a ", "an ")


def name_key(name: str) -> str:
    """How a name is compared: the router's normal form without a leading article."""
    key = normalize(name)
    for article in _LEADING:
        key = key.removeprefix(article)
    return key


@dataclass(frozen=True)
class PlaceMatch:
    start: int  # index of the first word of the name in the utterance's words
    end: int  # one past the last
    name: str  # the place's own name ("Bluebird Coffee")
    exact: bool


class KnownPlaces:
    """Names the car can navigate to by name. Thread-safe: the navigator adds places found
    online while the router reads."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}  # key -> the name as written
        self._version = 0
        self._index: _Index | None = None
        for name in names:
            self.add(name)

    def add(self, name: str) -> None:
        key = name_key(name)
        if not key or key in self._names or len(key) < 3:
            return
        with self._lock:
            self._names[key] = name.strip()
            self._version += 1

    def update(self, names: Iterable[str]) -> None:
        for name in names:
            self.add(name)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name_key(name) in self._names

    @property
    def names(self) -> list[str]:
        return list(self._names.values())

    def find(self, words: Sequence[str]) -> PlaceMatch | None:
        """The longest known name in `words` (normal-form words), exact first, then near."""
        index = self._index
        if index is None or index.version != self._version:
            with self._lock:
                index = self._index = _build(tuple(self._names.items()), self._version)
        return _find(tuple(words), index)


@functools.lru_cache(maxsize=256)
def _find(words: tuple[str, ...], index: _Index) -> PlaceMatch | None:
    """(Cached: the router asks for each utterance twice, for its features and its slots.)"""
    best: PlaceMatch | None = None
    for i in range(len(words)):
        for key, n in index.by_first.get(words[i], ()):
            if words[i : i + n] == key and (best is None or n > best.end - best.start):
                best = PlaceMatch(i, i + n, index.names[key], True)
    if best is not None:
        return best
    return _near(words, index)


@dataclass(frozen=True, eq=False)  # hashed by identity: one per version of the names
class _Index:
    version: int
    names: dict[tuple[str, ...], str]
    by_first: dict[str, list[tuple[tuple[str, ...], int]]]
    # Names of FUZZY_MIN_CHARS letters or more by their first two letters: (letters without
    # spaces, word count, name). A near miss must start right; the rest may be misheard.
    squeezed: dict[str, list[tuple[str, int, str]]]


def _build(items: tuple[tuple[str, str], ...], version: int) -> _Index:
    names: dict[tuple[str, ...], str] = {}
    by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    squeezed: dict[str, list[tuple[str, int, str]]] = {}
    for key, name in items:
        words = tuple(key.split())
        names[words] = name
        by_first.setdefault(words[0], []).append((words, len(words)))
        letters = "".join(words)
        if len(letters) >= FUZZY_MIN_CHARS:
            squeezed.setdefault(letters[:2], []).append((letters, len(words), name))
    return _Index(version, names, by_first, squeezed)


def _near(words: Sequence[str], index: _Index) -> PlaceMatch | None:
    """A name heard with a sound or a word boundary wrong ("blue bird coffee", "beanstock
    coffee"): spans of about the name's length whose letters agree with it closely."""
    best: tuple[float, PlaceMatch] | None = None
    for i in range(len(words)):
        start = words[i] if len(words[i]) >= 2 else "".join(words[i : i + 2])
        for letters, count, name in index.squeezed.get(start[:2], ()):
            matcher = difflib.SequenceMatcher(None, b=letters, autojunk=False)
            for n in (count - 1, count, count + 1):
                if n < 1 or i + n > len(words):
                    continue
                span = "".join(words[i : i + n])
                if abs(len(span) - len(letters)) > len(letters) * (1 - FUZZY_RATIO) * 2:
                    continue
                matcher.set_seq1(span)
                if matcher.real_quick_ratio() < FUZZY_RATIO or matcher.quick_ratio() < FUZZY_RATIO:
                    continue
                ratio = matcher.ratio()
                if ratio >= FUZZY_RATIO and (best is None or ratio > best[0]):
                    best = (ratio, PlaceMatch(i, i + n, name, False))
    return best[1] if best else None


def mark(words: list[str], places: KnownPlaces | None) -> tuple[list[str], PlaceMatch | None]:
    """`words` with a known place's name replaced by one PLACE word, and the match."""
    if not places:
        return words, None
    found = places.find(words)
    if found is None:
        return words, None
    return [*words[: found.start], PLACE, *words[found.end :]], found


@functools.cache
def sample_places() -> KnownPlaces:
    """The bundled sample places' names (what the car knows with no trip and no network)."""
    import tomllib

    from ..resources import ASSETS

    path = ASSETS / "geodata" / "sample_places.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return KnownPlaces()  # the navigator reports a broken file; the router just knows less
    return KnownPlaces(str(p.get("name", "")) for p in data.get("place", []) if isinstance(p, dict))
