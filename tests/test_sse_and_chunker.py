"""Pure logic: the SSE decoder and the sentence chunker."""

from __future__ import annotations

import pytest

from companion.llm.sse import SSEDecoder
from companion.tts.chunker import SentenceChunker, speakable


def decode(lines: list[str]) -> list[str]:
    decoder = SSEDecoder()
    out = [d for line in lines if (d := decoder.feed(line)) is not None]
    tail = decoder.flush()
    return out + ([tail] if tail is not None else [])


def test_sse_events_comments_multiline_and_missing_final_blank_line():
    lines = [
        ": keep-alive",
        "",
        "event: message",
        'data: {"a": 1}',
        "",
        "data:x",
        "data: y",
        "",
        "id: 7",
        "retry: 10",
        "data: [DONE]",
    ]
    assert decode(lines) == ['{"a": 1}', "x\ny", "[DONE]"]


def test_sse_ignores_blank_lines_without_data():
    assert decode(["", "", ": ping", ""]) == []


def chunk_stream(text: str, step: int = 3) -> tuple[list[str], list[int]]:
    """Feed `text` a few characters at a time; return the sentences and where each came out."""
    chunker, sentences, at = SentenceChunker(), [], []
    for i in range(0, len(text), step):
        for sentence in chunker.feed(text[i : i + step]):
            sentences.append(sentence)
            at.append(i + step)
    sentences += chunker.flush()
    return sentences, at


def test_sentences_come_out_as_soon_as_they_are_complete():
    text = "Turn left in 200 meters. Then keep right! Are we there yet? Almost."
    sentences, at = chunk_stream(text)
    assert sentences == [
        "Turn left in 200 meters.",
        "Then keep right!",
        "Are we there yet?",
        "Almost.",
    ]
    # The first sentence is out right after the space that follows its full stop.
    assert at[0] <= text.index("Then") + 3


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Dr. Smith lives on Main St. near the U.S. border. Nice.",
            ["Dr. Smith lives on Main St. near the U.S. border.", "Nice."],
        ),
        ("Pi is about 3.14 and e is 2.72. Fun.", ["Pi is about 3.14 and e is 2.72.", "Fun."]),
        ("Bring snacks, e.g. apples. Done.", ["Bring snacks, e.g. apples.", "Done."]),
        ('He said "stop!" Then left.', ['He said "stop!"', "Then left."]),
        ("Wait... what? Okay.", ["Wait...", "what?", "Okay."]),
    ],
)
def test_no_split_at_abbreviations_decimals_or_initials(text, expected):
    assert chunk_stream(text)[0] == expected


def test_long_first_clause_is_spoken_early_at_a_comma():
    text = (
        "If you want the scenic route through the hills and along the coast, "
        "we can take Highway 1 instead of the interstate today. "
    )
    sentences, _ = chunk_stream(text)
    assert sentences[0].endswith("coast,")
    assert len(sentences) == 2


def test_markdown_lists_split_per_line_and_are_cleaned():
    text = "Here are options:\n- **Blue Bottle** 0.5 mi\n- [Peet's](https://peets.com) 2 mi\n"
    sentences, _ = chunk_stream(text)
    assert sentences == ["Here are options:", "Blue Bottle 0.5 miles", "Peet's 2 miles"]


def test_speakable_strips_urls_emoji_and_spells_units():
    assert speakable("See https://example.com/x?y=1 now 🚗✨") == "See now"
    assert speakable("It's 21°C, battery at 80%, going 65 mph.") == (
        "It's 21 degrees Celsius, battery at 80 percent, going 65 miles per hour."
    )
    assert speakable("***") == ""
