"""A recording through the live listening path: what `companion transcribe` prints and what a
dialogue test's `audio = "..."` turn hears, by one function."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..audio.capture import FileSource
from ..audio.files import probe
from ..events import FinalTranscript, InputProblem, ListenerEvent, PartialTranscript
from .base import SttError
from .factory import listener_settings
from .listener import Listener

if TYPE_CHECKING:
    from ..config import SpeechSettings


def transcribe_file(
    engine: Any,
    path: Path,
    speech: SpeechSettings,
    grammar: tuple[str, ...] = (),
    mode: str = "hands_free",
    answer_window_s: float = 0.0,
) -> dict[str, Any]:
    """Run a file through the live listening path (hands-free segmentation by default, or
    `mode`; as fast as it decodes) and collect what it reports. A file that can't be read
    raises AudioFileError; one the listener reports a problem with, SttError."""
    info = probe(path)
    events: list[ListenerEvent] = []
    listener = Listener(
        engine,
        FileSource(path, realtime=False),
        listener_settings(speech, mode=mode, grammar=grammar),
        events.append,
    )
    if answer_window_s > 0:  # the assistant just asked: the answer needs no wake phrase
        listener.expect_answer(answer_window_s)
    started = time.perf_counter()
    listener.start()
    listener.finished.wait()
    elapsed = time.perf_counter() - started
    problems = [e for e in events if isinstance(e, InputProblem)]
    if problems:
        raise SttError(problems[0].message)
    utterances: list[dict[str, Any]] = []
    partials: list[str] = []
    for event in events:
        if isinstance(event, PartialTranscript):
            partials.append(event.text)
        elif isinstance(event, FinalTranscript):
            utterances.append(
                {
                    "text": event.text,
                    "reason": event.reason,
                    "alternatives": list(event.alternatives),
                    "partials": partials,
                    "words": [
                        {
                            "word": w.text,
                            "start": w.start,
                            "end": w.end,
                            "confidence": round(w.confidence, 3),
                        }
                        for w in event.words
                    ],
                }
            )
            partials = []
    return {
        "file": str(path),
        "engine": engine.name,
        "engine_description": engine.description,
        "text": " ".join(u["text"] for u in utterances),
        "utterances": utterances,
        "audio_seconds": round(info.seconds, 3),
        "processing_seconds": round(elapsed, 3),
    }
