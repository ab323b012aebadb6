"""The steps each sentence of a model's reply passes (companion/turns/chain.py), one at a
time and chained."""

from __future__ import annotations

import asyncio

from companion.limits import KIDS_CHANGE_OF_SUBJECT
from companion.turns.chain import (
    KidsGate,
    RepeatStop,
    ReplyChain,
    SentenceCap,
    StillThinking,
    Verdict,
)


def test_the_repeat_stop_ends_the_reply_at_the_first_repeat_whatever_its_case():
    step = RepeatStop()
    assert step.check("The sky is blue.") == Verdict("The sky is blue.")
    assert step.check("Grass is green.") == Verdict("Grass is green.")
    assert step.check("the sky is BLUE") == Verdict(None, end=True)


def test_the_kids_gate_changes_the_subject_and_ends_the_reply():
    gate = KidsGate()
    assert gate.check("Octopuses have three hearts.") == Verdict("Octopuses have three hearts.")
    verdict = gate.check("Then they had sex in the car.")
    assert verdict == Verdict(KIDS_CHANGE_OF_SUBJECT, end=True)


def test_the_sentence_cap_lets_the_last_allowed_sentence_through_and_ends_there():
    cap = SentenceCap(2)
    assert cap.check("One.") == Verdict("One.")
    assert cap.check("Two.") == Verdict("Two.", end=True)
    assert cap.check("Three.") == Verdict(None, end=True)


def test_the_chain_runs_its_steps_in_order_and_says_nothing_once_ended():
    chain = ReplyChain.for_reply(kids_mode=True, max_sentences=3)
    assert chain.push("Hello there.") == "Hello there."
    assert chain.push("Hello there.") is None and chain.ended  # the repeat ended it
    assert chain.push("Anything else.") is None
    chain = ReplyChain.for_reply(kids_mode=True, max_sentences=3)
    assert chain.push("Sex is on TV.") == KIDS_CHANGE_OF_SUBJECT and chain.ended
    parked = ReplyChain.for_reply(kids_mode=False, max_sentences=None)
    said = [parked.push(f"Sentence {n}.") for n in range(50)]
    assert None not in said and not parked.ended  # parked and grown-up: no cap


def test_a_dropped_sentence_does_not_count_against_the_cap():
    chain = ReplyChain([RepeatStop(), SentenceCap(2)])
    assert chain.push("A.") == "A."
    assert chain.push("a") is None and chain.ended  # a repeat still ends the reply


async def test_the_still_thinking_cue_fires_once_unless_cancelled():
    fired: list[str] = []
    cue = StillThinking(0.01, lambda: fired.append("cue"))
    await asyncio.sleep(0.05)
    assert fired == ["cue"]
    cancelled = StillThinking(0.01, lambda: fired.append("late"))
    cancelled.cancel()
    await asyncio.sleep(0.05)
    assert fired == ["cue"]
    cue.cancel()  # cancelling after it fired is harmless
