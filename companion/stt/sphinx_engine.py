"""PocketSphinx, the fallback: its PyPI wheel ships a US-English model, so it works with no
download at all. Less accurate than a Vosk model; the UI says so once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .base import SttError, Transcript, Word

FRAME_RATE = 100  # pocketsphinx segments count 10 ms frames
# The n-best list is read from the utterance's lattice (about a millisecond): this many
# different readings at most, from the first N_BEST_SCAN paths.
N_BEST = 5
N_BEST_SCAN = 20
# What a driver says to the car, as word trigrams (built by benchmarks/train_nlu.py from the
# router's templates): a second decoder hears each utterance with it, and its reading is the
# first alternative. The transcript itself stays the general model's, so free speech keeps it.
DRIVER_LM = Path(__file__).resolve().parent / "driver.lm.bin"
DRIVER_DICT = DRIVER_LM.with_name("driver.dict")  # its words' pronunciations (CMU dict)


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
        # Hear each utterance with the driver model too (alternatives for the router).
        self.driver_lm = DRIVER_LM.exists()
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

    def _driver_decoder(self) -> Any:
        """A decoder with the driver language model, or None (no model file, or it fails)."""
        if not self.driver_lm:
            return None
        try:
            if DRIVER_DICT.exists():
                return self._ps.Decoder(loglevel="FATAL", lm=str(DRIVER_LM), dict=str(DRIVER_DICT))
            return self._ps.Decoder(loglevel="FATAL", lm=str(DRIVER_LM))
        except Exception:
            return None  # the general model alone still works

    def stream(self, phrases: Sequence[str] | None = None) -> SphinxStream:
        decoder, self._first = self._first or self._decoder(), None
        if not phrases:
            return SphinxStream(decoder, self.name, self._driver_decoder())
        known = [
            p.lower() for p in phrases if all(decoder.lookup_word(w.lower()) for w in p.split())
        ]
        if not known:
            raise SttError(f"None of the phrases {list(phrases)} are in the dictionary.")
        decoder.add_keyphrase("spot", known[0])
        decoder.activate_search("spot")
        return SphinxStream(decoder, self.name)


class SphinxStream:
    def __init__(self, decoder: Any, engine: str, driver: Any = None) -> None:
        self._d = decoder
        self._driver = driver  # the driver-language decoder (None: not available)
        self._engine = engine
        self._in_utt = False
        self._offset = 0.0  # seconds of audio in earlier utterances of this stream
        self._fed = 0  # samples fed in the current utterance

    def accept(self, pcm: bytes) -> None:
        if not self._in_utt:
            self._d.start_utt()
            if self._driver is not None:
                self._driver.start_utt()
            self._in_utt = True
        self._d.process_raw(pcm, False, False)
        if self._driver is not None:
            self._driver.process_raw(pcm, False, False)
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
        driver = ""
        if self._driver is not None:
            self._driver.end_utt()
            driven = self._driver.hyp()
            driver = _words(driven.hypstr) if driven is not None else ""
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
        text = hyp.hypstr if hyp is not None else ""
        return Transcript(text, words, self._engine, self._alternatives(text, driver))

    def _alternatives(self, best: str, driver: str) -> tuple[str, ...]:
        """The driver model's reading first, then the general model's n-best list."""
        out: list[str] = [driver] if driver and driver != best else []
        try:
            for i, path in enumerate(self._d.nbest()):
                if i >= N_BEST_SCAN or len(out) >= N_BEST:
                    break
                text = _words(path.hypstr)
                if text and text != best and text not in out:
                    out.append(text)
        except Exception:  # no lattice (nothing heard): no alternatives
            return ()
        return tuple(out)


def _filler(word: str) -> bool:
    return word in ("<s>", "</s>", "<sil>") or word.startswith("[") or word.startswith("++")


def _word(word: str) -> str:
    return word.split("(")[0]  # alternate pronunciations are spelled "word(2)"


def _words(hypstr: str) -> str:
    return " ".join(_word(w) for w in hypstr.split() if not _filler(w))
