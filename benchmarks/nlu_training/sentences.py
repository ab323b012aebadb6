"""Sentence templates as data: the router's templated training requests, read from the TOML
files in `sentences/` and expanded with a seeded random generator.

The grammar (a small cousin of Home Assistant's hassil):

- `{list}`: one item of a list (`[lists]` in any file); items are templates themselves.
- `{var}`: the value bound to `var` for this sentence (see `bind` below).
- `{list:mod}` / `{var:mod}`: the item changed by `a` ("a charger", "an ATM"), `plural`
  ("chargers", "pharmacies") or `title` ("Willowcrest").
- `(a|b|c)`: one of the alternatives; `[words]`: the words or nothing.
- a repeated item in a list weighs it more (`["", "", "please "]`).

Each `[[generate]]` table makes up to `count` different sentences for its `label`: a random
`sentences` template, with `prefix` before it and `suffix` after it (templates too), and
`bind` variables picked once per sentence. `[[fixed]]` tables list sentences said as they
are, each also after every one of its `prefixes`.
"""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SENTENCES = Path(__file__).resolve().parent / "sentences"
PLURALS = {
    "pharmacy": "pharmacies",
    "place to eat": "places to eat",
    "place to stay": "places to stay",
    "place to park": "places to park",
}
GENERATE_KEYS = {"label", "count", "sentences", "prefix", "suffix", "bind", "requires"}
_TOKEN = re.compile(r"\{([a-z_0-9]+)(?::([a-z]+))?\}|[()\[\]|]|[^{}()\[\]|]+")


class TemplateError(ValueError):
    pass


def plural(phrase: str) -> str:
    if phrase in PLURALS:
        return PLURALS[phrase]
    if phrase.endswith(("s", "sh", "ch")):
        return phrase + "es"
    if phrase.endswith("y") and not phrase.endswith(("ay", "ey", "oy")):
        return phrase[:-1] + "ies"
    return phrase + "s"


def _modified(text: str, mod: str | None) -> str:
    if mod is None or not text:
        return text
    if mod == "plural":
        return plural(text)
    if mod == "title":
        return text.title()
    if mod == "a":
        if (text[0].isupper() and not text.isupper()) or text.startswith("the "):
            return text  # a name ("Bluebird Coffee") or "the ..." takes no article
        return ("an " if text[0].lower() in "aeiou" else "a ") + text
    raise TemplateError(f"unknown modifier :{mod} (a, plural or title)")


@dataclass
class Grammar:
    lists: dict[str, list[str]] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    def expand(self, template: str, bound: dict[str, str] | None = None) -> str:
        tokens = [m.group(0) for m in _TOKEN.finditer(template)]
        out, rest = self._sequence(tokens, 0, bound or {}, template)
        if rest != len(tokens):
            raise TemplateError(f"unbalanced brackets in {template!r}")
        return out

    def _sequence(
        self, tokens: list[str], i: int, bound: dict[str, str], template: str
    ) -> tuple[str, int]:
        """Expand from tokens[i] up to a closing bracket or `|` (not consumed)."""
        out: list[str] = []
        while i < len(tokens) and tokens[i] not in (")", "]", "|"):
            token = tokens[i]
            if token == "(":
                choices, i = self._group(tokens, i + 1, ")", bound, template)
                out.append(self.rng.choice(choices))
            elif token == "[":
                choices, i = self._group(tokens, i + 1, "]", bound, template)
                out.append(choices[0] if self.rng.random() < 0.5 else "")
            elif token.startswith("{"):
                name, _, mod = token[1:-1].partition(":")
                out.append(_modified(self._item(name, bound, template), mod or None))
                i += 1
            else:
                out.append(token)
                i += 1
        return "".join(out), i

    def _group(
        self, tokens: list[str], i: int, close: str, bound: dict[str, str], template: str
    ) -> tuple[list[str], int]:
        """The alternatives of a (..) or [..] group, each expanded; returns past `close`."""
        choices = []
        while True:
            text, i = self._sequence(tokens, i, bound, template)
            choices.append(text)
            if i >= len(tokens):
                raise TemplateError(f"missing {close!r} in {template!r}")
            if tokens[i] == "|":
                i += 1
                continue
            if tokens[i] != close:
                raise TemplateError(f"{tokens[i]!r} closes a group in {template!r}")
            return choices, i + 1

    def _item(self, name: str, bound: dict[str, str], template: str) -> str:
        if name in bound:
            return bound[name]
        if name == "number":
            return str(self.rng.randint(1, 9999))
        items = self.lists.get(name)
        if not items:
            raise TemplateError(f"unknown list {{{name}}} in {template!r}")
        return self.expand(items[self.rng.randrange(len(items))], bound)


@dataclass(frozen=True)
class Generator:
    label: str
    count: int
    sentences: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""
    bind: tuple[tuple[str, str], ...] = ()
    requires: str = ""  # lists the training code adds ("kvret"): left out without them

    def make(self, grammar: Grammar) -> str:
        bound: dict[str, str] = {}
        for var, list_name in self.bind:
            bound[var] = grammar.expand(f"{{{list_name}}}", bound)
        sentence = grammar.rng.choice(self.sentences)
        text = grammar.expand(self.prefix + sentence + self.suffix, bound)
        return " ".join(text.split())


@dataclass
class Sentences:
    grammar: Grammar
    generators: list[Generator]
    fixed: list[tuple[str, tuple[str, ...], tuple[str, ...]]]  # label, sentences, prefixes

    def generate(self, available: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
        """(text, label) pairs, different within each generator, in a reproducible order.
        Generators that require something not `available` are left out."""
        for generator in self.generators:
            if generator.requires and generator.requires not in available:
                continue
            seen: set[str] = set()
            for _ in range(generator.count * 3):
                if len(seen) >= generator.count:
                    break
                text = generator.make(self.grammar)
                if text not in seen:
                    seen.add(text)
                    yield text, generator.label
        for label, texts, prefixes in self.fixed:
            for text in texts:
                for prefix in prefixes:
                    yield prefix + text, label


def load(folder: Path = SENTENCES, seed: int = 0) -> Sentences:
    """Every `*.toml` in `folder`, in name order."""
    lists: dict[str, list[str]] = {}
    generators: list[Generator] = []
    fixed: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    for path in sorted(folder.glob("*.toml")):
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        for table in data.get("generate", []):
            unknown = set(table) - {
                "label",
                "count",
                "sentences",
                "prefix",
                "suffix",
                "bind",
                "requires",
            }
            if unknown:
                raise TemplateError(f"{path.name}: unknown keys {sorted(unknown)} in [[generate]]")
        for name, items in data.get("lists", {}).items():
            if name in lists:
                raise TemplateError(f"{path.name}: list {name} is defined twice")
            lists[name] = [str(item) for item in items]
        for table in data.get("generate", []):
            generators.append(
                Generator(
                    table["label"],
                    int(table["count"]),
                    tuple(table["sentences"]),
                    table.get("prefix", ""),
                    table.get("suffix", ""),
                    tuple(table.get("bind", {}).items()),
                    table.get("requires", ""),
                )
            )
        for table in data.get("fixed", []):
            prefixes = tuple(table.get("prefixes", [""]))
            fixed.append((table["label"], tuple(table["sentences"]), prefixes))
    return Sentences(Grammar(lists, random.Random(seed)), generators, fixed)
