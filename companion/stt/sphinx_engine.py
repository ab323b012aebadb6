"""PocketSphinx, the fallback: its PyPI wheel ships a US-English model, so it works with no
download at all. Less accurate than a Vosk model; the UI says so once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import SttError, Transcript, Word

FRAME_RATE = 100  # pocketsphinx segments count 10 ms frames


def _pocketsphinx() -> Any:
    try:
        import pocketsphinx
    except ImportError as exc:
        raise SttError(
            f"The pocketsphinx package is not installed ({exc}): pip install pocketsphinx"
        ) from None
    return pocketsphinx


class PocketsphinxEngine:
    name = "pocketsphinx"
    language = "en-us"
    description = "PocketSphinx (built-in US English model; less accurate than Vosk)"
    # Its final result comes from further passes over the utterance (more accurate than the
    # partial results, and often different): the listener runs them at the speculation pause.
    final_pass = True

    def __init__(self) -> None:
        self._ps = _pocketsphinx()
        # Load once up front so a broken install fails here, not on the driver's first word.
        self._first: Any = self._decoder()

    def _decoder(self) -> Any:
        try:
            # kws_threshold only matters once a keyphrase search is activated (spotting).
            return self._ps.Decoder(loglevel="FATAL", kws_threshold=1e-20)
        except Exception as exc:
            raise SttError(
                f"PocketSphinx could not load its model ({exc}); reinstall it: "
                "pip install --force-reinstall pocketsphinx"
            ) from None

    def stream(self, phrases: Sequence[str] | None = None) -> SphinxStream:
        decoder, self._first = self._first or self._decoder(), None
        if phrases:
            known = [
                p.lower() for p in phrases if all(decoder.lookup_word(w.lower()) for w in p.split())
            ]
            if not known:
                raise SttError(f"None of the phrases {list(phrases)} are in the dictionary.")
            decoder.add_keyphrase("spot", known[0])
            decoder.activate_search("spot")
        return SphinxStream(decoder, self.name)


class SphinxStream:
    def __init__(self, decoder: Any, engine: str) -> None:
        self._d = decoder
        self._engine = engine
        self._in_utt = False
        self._offset = 0.0  # seconds of audio in earlier utterances of this stream
        self._fed = 0  # samples fed in the current utterance

    def accept(self, pcm: bytes) -> None:
        if not self._in_utt:
            self._d.start_utt()
            self._in_utt = True
        self._d.process_raw(pcm, False, False)
        self._fed += len(pcm) // 2

    def partial(self) -> str:
        if not self._in_utt:
            return ""
        hyp = self._d.hyp()
        return hyp.hypstr if hyp is not None else ""

    def finish(self) -> Transcript:
        if not self._in_utt:
            return Transcript("", (), self._engine)
        self._d.end_utt()
        self._in_utt = False
        hyp = self._d.hyp()
        words = tuple(
            Word(
                _word(seg.word),
                self._offset + seg.start_frame / FRAME_RATE,
                self._offset + (seg.end_frame + 1) / FRAME_RATE,
                float(seg.prob),
            )
            for seg in (self._d.seg() or ())
            if not _filler(seg.word)
        )
        self._offset += self._fed / 16000
        self._fed = 0
        return Transcript(hyp.hypstr if hyp is not None else "", words, self._engine)


def _filler(word: str) -> bool:
    return word in ("<s>", "</s>", "<sil>") or word.startswith("[") or word.startswith("++")


def _word(word: str) -> str:
    return word.split("(")[0]  # alternate pronunciations are spelled "word(2)"
