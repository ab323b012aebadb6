"""Reading audio files (WAV, FLAC, OGG, any rate, any channel count) as 16-bit mono at the rate
the recogniser wants, streamed block by block so a long recording never sits in memory whole.

Decoding is libsndfile's (the `soundfile` package) and resampling libsoxr's (`soxr`): both
handle every common format and rate correctly, which a hand-written reader would not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class AudioFileError(Exception):
    """A file that cannot be used as audio input; the message names the file and the fix."""


@dataclass(frozen=True)
class AudioFileInfo:
    path: Path
    rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def seconds(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


_FIX = "Use a WAV, FLAC or OGG recording (for example: sox input.mp3 -r 16000 -c 1 out.wav)."


def probe(path: Path | str) -> AudioFileInfo:
    """What the file holds, or AudioFileError saying why it cannot be used."""
    import soundfile

    path = Path(path)
    if not path.exists():
        raise AudioFileError(f"{path}: no such file.")
    if path.is_dir():
        raise AudioFileError(f"{path}: is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: the file is empty (0 bytes). {_FIX}")
    try:
        info = soundfile.info(str(path))
    except Exception as exc:  # soundfile raises its own LibsndfileError/RuntimeError
        reason = str(exc).split(":")[-1].strip() or type(exc).__name__
        raise AudioFileError(f"{path}: not a readable audio file ({reason}). {_FIX}") from None
    if info.frames <= 0:
        raise AudioFileError(f"{path}: the file holds no audio samples. {_FIX}")
    return AudioFileInfo(
        path,
        int(info.samplerate),
        int(info.channels),
        int(info.frames),
        str(info.format),
        str(info.subtype),
    )


def to_mono_int16(block: np.ndarray) -> np.ndarray:
    """Float or int samples, (frames,) or (frames, channels) → int16 mono (channels averaged)."""
    if block.ndim == 2:
        block = block.mean(axis=1)
    if block.dtype.kind == "f":
        return np.clip(block * 32767.0, -32768, 32767).astype(np.int16)
    return block.astype(np.int16)


class Resampler:
    """Streaming resampler to int16 mono; a pass-through when the rates already match."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate, self.out_rate = int(in_rate), int(out_rate)
        self._stream = None
        if self.in_rate != self.out_rate:
            import soxr

            self._stream = soxr.ResampleStream(self.in_rate, self.out_rate, 1, dtype="float32")

    def __call__(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        mono = to_mono_int16(samples)
        if self._stream is None:
            return mono
        out = self._stream.resample_chunk(mono.astype(np.float32) / 32768.0, last=last)
        resampled: np.ndarray = np.clip(out * 32768.0, -32768, 32767).astype(np.int16)
        return resampled


def iter_blocks(path: Path | str, rate: int, block_seconds: float = 0.1) -> Iterator[np.ndarray]:
    """Yield int16 mono blocks at `rate`, about `block_seconds` each."""
    import soundfile

    info = probe(path)
    resample = Resampler(info.rate, rate)
    block = max(1, int(info.rate * block_seconds))
    try:
        with soundfile.SoundFile(str(info.path)) as f:
            while True:
                data = f.read(block, dtype="float32", always_2d=True)
                last = len(data) < block
                out = resample(data, last=last)
                if len(out):
                    yield out
                if last:
                    break
    except AudioFileError:
        raise
    except Exception as exc:
        raise AudioFileError(f"{info.path}: reading failed part way ({exc}). {_FIX}") from None


def read_audio(path: Path | str, rate: int) -> np.ndarray:
    """The whole file as int16 mono at `rate` (for short clips; use iter_blocks for long ones)."""
    blocks = list(iter_blocks(path, rate))
    return np.concatenate(blocks) if blocks else np.zeros(0, np.int16)


def write_wav(path: Path | str, samples: np.ndarray, rate: int) -> None:
    """Write int16 mono samples as a 16-bit PCM WAV file."""
    import soundfile

    soundfile.write(str(path), np.asarray(samples, dtype=np.int16), rate, subtype="PCM_16")
