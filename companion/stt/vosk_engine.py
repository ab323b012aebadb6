"""Vosk (Kaldi) recognition: one shared Model, one KaldiRecognizer per stream."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .base import SAMPLE_RATE, SttError, Transcript, Word

log = logging.getLogger(__name__)

_load_lock = threading.Lock()


def _vosk() -> Any:
    try:
        import vosk
    except ImportError as exc:
        raise SttError(f"The vosk package is not installed ({exc}): pip install vosk") from None
    vosk.SetLogLevel(-2)  # Kaldi's warnings go to stderr, which would scribble over the UI
    return vosk


def check_model_dir(path: Path) -> None:
    """Raise SttError naming the path and the fix unless `path` looks like a Vosk model."""
    if not path.exists():
        raise SttError(
            f"Vosk model folder {path} does not exist. Install one with "
            "`companion models install NAME` (see `companion models list`) or fix the path."
        )
    if not path.is_dir():
        raise SttError(f"Vosk model path {path} is a file; point it at the unpacked folder.")
    has_am = (path / "am" / "final.mdl").exists() or (path / "final.mdl").exists()
    has_graph = (
        any((path / "graph" / name).exists() for name in ("HCLG.fst", "HCLr.fst"))
        or (path / "HCLG.fst").exists()
    )
    if not (has_am and has_graph):
        raise SttError(
            f"{path} is not a complete Vosk model (am/final.mdl and graph/HCLG.fst or "
            "graph/HCLr.fst are missing). Re-install it: `companion models install NAME`, or "
            "unpack the model zip again."
        )


class VoskEngine:
    name = "vosk"

    def __init__(self, model_path: Path | str, language: str = "") -> None:
        self.model_path = Path(model_path).expanduser()
        self.language = language or _language_from_name(self.model_path.name)
        check_model_dir(self.model_path)
        vosk = _vosk()
        self._vosk = vosk
        with _load_lock:
            try:
                self.model = vosk.Model(str(self.model_path))  # only ever given a path
            except Exception as exc:
                raise SttError(
                    f"Vosk could not load the model at {self.model_path} ({exc}); the files "
                    "are probably damaged. Re-install it with `companion models install NAME`."
                ) from None
        shown = self.model_path.name
        if shown == "model":  # a model shipped inside a Python package: name the package
            shown = self.model_path.parent.name
        self.description = f"Vosk, model {shown}"

    def stream(self, phrases: Sequence[str] | None = None) -> VoskStream:
        return VoskStream(self, phrases)

    def knows(self, word: str) -> bool:
        return bool(self.model.vosk_model_find_word(word) >= 0)


def _language_from_name(name: str) -> str:
    # vosk-model-small-en-us-0.15 -> en-us
    parts = name.lower().replace("vosk-model-", "").replace("small-", "").split("-")
    return "-".join(p for p in parts if not p[:1].isdigit()) or "unknown"


class VoskStream:
    def __init__(self, engine: VoskEngine, phrases: Sequence[str] | None) -> None:
        vosk = engine._vosk
        self._engine = engine
        if phrases:
            known = [p for p in phrases if all(engine.knows(w) for w in p.split())]
            if not known:
                raise SttError(
                    f"None of the phrases {list(phrases)} are in the vocabulary of "
                    f"{engine.model_path.name}; choose words the model knows."
                )
            grammar = json.dumps([*known, "[unk]"], ensure_ascii=False)
            self._rec = vosk.KaldiRecognizer(engine.model, SAMPLE_RATE, grammar)
        else:
            self._rec = vosk.KaldiRecognizer(engine.model, SAMPLE_RATE)
        self._rec.SetWords(True)
        self._segments: list[dict[str, Any]] = []  # results Vosk closed at a pause in our turn

    def accept(self, pcm: bytes) -> None:
        if self._rec.AcceptWaveform(pcm):
            self._segments.append(json.loads(self._rec.Result()))

    def partial(self) -> str:
        done = " ".join(s.get("text", "") for s in self._segments)
        current = json.loads(self._rec.PartialResult()).get("partial", "")
        return _clean(f"{done} {current}")

    def finish(self) -> Transcript:
        results = [*self._segments, json.loads(self._rec.FinalResult())]
        self._segments = []
        words = tuple(
            Word(w["word"], float(w["start"]), float(w["end"]), float(w.get("conf", 1.0)))
            for r in results
            for w in r.get("result", [])
            if w.get("word") != "[unk]"
        )
        text = _clean(" ".join(r.get("text", "") for r in results))
        return Transcript(text, words, self._engine.name)


def _clean(text: str) -> str:
    return " ".join(w for w in text.split() if w != "[unk]")
