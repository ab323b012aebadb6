"""Running the real listener over fixture recordings, for the speech tests and benchmarks."""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path

from companion.audio.capture import FileSource
from companion.events import FinalTranscript, ListenerEvent
from companion.stt.listener import Listener, ListenerSettings

AUDIO = Path(__file__).resolve().parent / "fixtures" / "audio"
MANIFEST = json.loads((AUDIO / "manifest.json").read_text())


def words(text: str) -> list[str]:
    return re.sub(r"[^\w' ]", " ", text.lower()).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / max(1, len(ref))


# Speech captured through the virtual sound card in real time is not the same samples from
# run to run (where capture starts shifts the recogniser's frames; a loaded machine may make
# the test's own player underrun), so the recogniser may hear a word differently. Exact
# transcripts are checked on files (tests/test_speech_in.py); here, how close the words are.
REAL_TIME_MAX_WER = 0.5


def voice_turn(out: str, expected: str, max_wer: float = REAL_TIME_MAX_WER) -> str:
    """The words of the `you (voice)> ...` line in `out` closest to `expected`, which must be
    within `max_wer` of it."""
    heard = [
        line.split("you (voice)> ", 1)[1] for line in out.splitlines() if "you (voice)> " in line
    ]
    assert heard, f"no voice turn in: {out[-2000:]}"
    best = min(heard, key=lambda text: word_error_rate(expected, text))
    assert word_error_rate(expected, best) <= max_wer, f"heard {heard}, expected {expected!r}"
    return best


def listen(
    engine: object,
    name_or_path: str | Path,
    settings: ListenerSettings | None = None,
    realtime: bool = False,
    during: Callable[[Listener, FileSource], None] | None = None,
    timeout: float = 60,
) -> list[ListenerEvent]:
    """All events the listener reports for one recording (a fixture name or a path)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = AUDIO / f"{name_or_path}.wav"
    events: list[ListenerEvent] = []
    source = FileSource(path, realtime=realtime)
    listener = Listener(
        engine, source, settings or ListenerSettings(mode="hands_free"), events.append
    )  # type: ignore[arg-type]
    listener.start()
    if during is not None:
        threading.Thread(target=during, args=(listener, source), daemon=True).start()
    assert listener.finished.wait(timeout), "the listener did not finish"
    return events


def finals(events: list[ListenerEvent]) -> list[FinalTranscript]:
    return [e for e in events if isinstance(e, FinalTranscript)]


@functools.cache
def heard_at_rest(name: str) -> str:
    """What the recogniser the voice tests get (the product's own choice for en-us) makes of a
    fixture recording decoded as fast as it goes. A real-time test compares what it heard
    with this, within REAL_TIME_MAX_WER: what capture on a busy machine adds, without
    counting a word the recogniser mishears from the file itself (PocketSphinx hears "add a
    stop at a coffee shop" as "at a stop the coffee shop")."""
    from companion.stt.models import load_engine

    engine, _ = load_engine("auto", "en-us")
    return " ".join(f.text for f in finals(listen(engine, name)))
