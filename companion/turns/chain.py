"""The steps every sentence of a model's reply passes before it is shown or spoken.

A reply streams in pieces; the chunker makes sentences of them; each sentence then goes
through a `ReplyChain` of small steps, in order. A step may let the sentence through, put
another in its place, drop it, and end the reply there (the model's stream is then closed,
which drops the connection). The steps:

- `RepeatStop`: a model stuck in a loop (small local models are prone to it) repeats a
  sentence; the first repeat ends the reply, parked or driving.
- `KidsGate`: in kids mode each sentence is read before it is shown or said; one that names
  adult content ends the reply with a kind change of subject.
- `SentenceCap`: while the car moves, the persona's style limit is a hard cap, not only an
  instruction: a model that rambles is cut off after its last allowed sentence.

Limits on the stream itself (pieces, characters, seconds) are `companion.limits.TurnLimits`;
the still-thinking cue is `StillThinking` below.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from ..limits import KIDS_CHANGE_OF_SUBJECT
from ..personas.content import unfit_for_children
from ..text import normalize

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """A step's decision: `text` goes on (None: dropped); `end`: the reply ends here."""

    text: str | None
    end: bool = False


class Step(Protocol):
    def check(self, sentence: str) -> Verdict: ...


class RepeatStop:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def check(self, sentence: str) -> Verdict:
        key = normalize(sentence)
        if key and key in self.seen:
            log.info("the model repeated a sentence; reply ended there")
            return Verdict(None, end=True)
        self.seen.add(key)
        return Verdict(sentence)


class KidsGate:
    def check(self, sentence: str) -> Verdict:
        if unfit_for_children(sentence):
            log.info("kids mode stopped a sentence of the reply")
            return Verdict(KIDS_CHANGE_OF_SUBJECT, end=True)
        return Verdict(sentence)


class SentenceCap:
    def __init__(self, most: int) -> None:
        self.most, self.passed = most, 0

    def check(self, sentence: str) -> Verdict:
        if self.passed >= self.most:
            return Verdict(None, end=True)
        self.passed += 1
        return Verdict(sentence, end=self.passed >= self.most)


class ReplyChain:
    """The steps in order; `push` gives what to say of a sentence (None: nothing)."""

    def __init__(self, steps: Iterable[Step]) -> None:
        self.steps = list(steps)
        self.ended = False

    @classmethod
    def for_reply(cls, *, kids_mode: bool, max_sentences: int | None) -> ReplyChain:
        steps: list[Step] = [RepeatStop()]
        if kids_mode:
            steps.append(KidsGate())
        if max_sentences is not None:
            steps.append(SentenceCap(max_sentences))
        return cls(steps)

    def push(self, sentence: str) -> str | None:
        if self.ended:
            return None
        text = sentence
        for step in self.steps:
            verdict = step.check(text)
            self.ended = self.ended or verdict.end
            if verdict.text is None:
                return None
            text = verdict.text
        return text


class StillThinking:
    """No first word after `after_s`: `cue()` is called once (cancel it when a word comes)."""

    def __init__(self, after_s: float, cue: Callable[[], None]) -> None:
        self._handle = asyncio.get_running_loop().call_later(after_s, cue)

    def cancel(self) -> None:
        self._handle.cancel()
