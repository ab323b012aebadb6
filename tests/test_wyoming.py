"""Wyoming as it is now spoken (wyoming 1.7+, Home Assistant 2025.7+): our service streams both
ways and says so in `describe`, announces itself by zeroconf, and our client reads events that
arrive together. Checked with the wyoming package's own client (what Home Assistant runs) and
python-zeroconf's own browser."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from companion.audio.files import read_audio
from companion.wyoming.client import Connection
from tests.speech_helpers import AUDIO, MANIFEST, word_error_rate
from tests.test_voices import Service, recognise, start_ours

pytest.importorskip("piper", reason="the cabin extra is not installed")

EVENT_TIMEOUT_S = 30  # a bound for a broken service, not a timing: events are awaited


@pytest.fixture
def streaming() -> Iterator[Service]:
    service = start_ours("--engine", "pocketsphinx")
    yield service
    service.process.send_signal(signal.SIGINT)
    service.process.wait(10)


def test_a_wyoming_client_gets_transcript_chunks_before_the_final_transcript(streaming):
    from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.info import Describe, Info

    samples = read_audio(AUDIO / "navigate_charger.wav", 16000)
    half = len(samples) * 3 // 5

    async def send(client: AsyncTcpClient, audio: np.ndarray) -> None:
        for i in range(0, len(audio), 1024):
            chunk = audio[i : i + 1024].tobytes()
            await client.write_event(
                AudioChunk(rate=16000, width=2, channels=1, audio=chunk).event()
            )

    async def session() -> tuple[Info, list[str], list[str], str]:
        async with AsyncTcpClient("127.0.0.1", streaming.port) as client:
            await client.write_event(Describe().event())
            info = Info.from_event(await client.read_event())
        async with AsyncTcpClient("127.0.0.1", streaming.port) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
            await send(client, samples[:half])
            kinds, chunks = [], []
            while not chunks:  # the words so far, while the driver is still speaking
                event = await asyncio.wait_for(client.read_event(), EVENT_TIMEOUT_S)
                kinds.append(event.type)
                if TranscriptChunk.is_type(event.type):
                    chunks.append(TranscriptChunk.from_event(event).text)
            await send(client, samples[half:])
            await client.write_event(AudioStop().event())
            while not TranscriptStop.is_type(kinds[-1]):
                event = await asyncio.wait_for(client.read_event(), EVENT_TIMEOUT_S)
                kinds.append(event.type)
                if TranscriptChunk.is_type(event.type):
                    chunks.append(TranscriptChunk.from_event(event).text)
                elif Transcript.is_type(event.type):
                    final = Transcript.from_event(event).text
        assert TranscriptStart.is_type(kinds[0])
        return info, kinds, chunks, final

    info, kinds, chunks, final = asyncio.run(session())
    assert info.asr[0].supports_transcript_streaming
    assert info.tts[0].supports_synthesize_streaming
    assert final == MANIFEST["navigate_charger"]["text"].lower().rstrip(".")
    assert (
        kinds.index("transcript-chunk") < kinds.index("transcript") < kinds.index("transcript-stop")
    )
    streamed = "".join(chunks).split()
    assert streamed and final.split()[: len(streamed)] == streamed  # the words, in order


def test_a_wyoming_client_gets_audio_for_text_sent_in_chunks_from_the_first_sentence(streaming):
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.tts import (
        Synthesize,
        SynthesizeChunk,
        SynthesizeStart,
        SynthesizeStop,
        SynthesizeStopped,
    )

    pieces = [
        "Take me to the nearest",
        " gas station, please.",
        " How long until",
        " we get there?",
    ]

    async def session() -> tuple[list[str], list[bytes], int]:
        async with AsyncTcpClient("127.0.0.1", streaming.port) as client:
            await client.write_event(SynthesizeStart().event())
            for piece in pieces[:3]:
                await client.write_event(SynthesizeChunk(text=piece).event())
            # The first sentence is complete (the next one has begun): its audio starts
            # before the rest of the text is sent.
            first = await asyncio.wait_for(client.read_event(), EVENT_TIMEOUT_S)
            kinds, sentences = [first.type], [b""]
            for piece in pieces[3:]:
                await client.write_event(SynthesizeChunk(text=piece).event())
            await client.write_event(Synthesize(text="".join(pieces)).event())  # as HA sends it
            await client.write_event(SynthesizeStop().event())
            while not SynthesizeStopped.is_type(kinds[-1]):
                event = await asyncio.wait_for(client.read_event(), EVENT_TIMEOUT_S)
                kinds.append(event.type)
                if AudioChunk.is_type(event.type):
                    sentences[-1] += AudioChunk.from_event(event).audio
                elif AudioStop.is_type(event.type):
                    sentences.append(b"")
                elif AudioStart.is_type(event.type):
                    rate = AudioStart.from_event(event).rate
        return kinds, sentences[:-1], rate

    kinds, sentences, rate = asyncio.run(session())
    assert kinds[0] == "audio-start"
    assert kinds.count("audio-start") == kinds.count("audio-stop") == 2  # a sentence each, once
    heard = [recognise(np.frombuffer(audio, np.int16), rate) for audio in sentences]
    assert word_error_rate("take me to the nearest gas station please", heard[0]) <= 0.5, heard
    assert word_error_rate("how long until we get there", heard[1]) <= 0.5, heard


def test_two_events_in_one_write_are_both_ready_at_once():
    """The client's old bug: it looked at the socket for readiness but read through a
    buffered file, so the second of two events that came in one packet sat unseen."""
    from wyoming.asr import TranscriptChunk
    from wyoming.event import write_event

    listener = socket.create_server(("127.0.0.1", 0))
    sent = threading.Event()

    def serve() -> None:
        peer, _ = listener.accept()
        with peer:
            import io

            out = io.BytesIO()
            write_event(TranscriptChunk(text="take me").event(), out)
            write_event(TranscriptChunk(text=" home").event(), out)
            peer.sendall(out.getvalue())  # one write
            sent.set()
            peer.recv(1)  # until the client closes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    conn = Connection(f"wyoming://127.0.0.1:{listener.getsockname()[1]}")
    try:
        first = conn.receive()
        assert TranscriptChunk.from_event(first).text == "take me"
        assert sent.wait(10)  # the one write is done (on loopback: all of it is here)
        assert conn.ready()  # the second one is here: no more bytes are coming
        assert TranscriptChunk.from_event(conn.receive()).text == " home"
        assert not conn.ready()
    finally:
        conn.close()
        listener.close()
        thread.join(5)


def test_the_service_is_announced_by_zeroconf_and_found_by_its_browser():
    from wyoming.client import AsyncTcpClient
    from wyoming.info import Describe, Info
    from zeroconf import IPVersion, ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    wanted = f"companion-test-{uuid.uuid4().hex[:8]}"
    service = start_ours("--engine", "pocketsphinx", "--zeroconf-name", wanted, announce=True)
    try:
        said = "".join(service.lines)
        if "could not announce" in said:
            pytest.skip(f"this machine's network has no multicast: {said.strip()[-200:]}")
        assert f"Announced as {wanted}" in said

        async def browse() -> tuple[list[str], int, str]:
            zc = AsyncZeroconf(ip_version=IPVersion.V4Only)
            found = asyncio.get_running_loop().create_future()

            def seen(zeroconf, service_type, name, state_change) -> None:  # by keyword
                added = state_change is ServiceStateChange.Added
                if added and name.startswith(f"{wanted}.") and not found.done():
                    found.set_result(name)

            browser = AsyncServiceBrowser(zc.zeroconf, "_wyoming._tcp.local.", handlers=[seen])
            try:
                full = await asyncio.wait_for(found, EVENT_TIMEOUT_S)
                info = AsyncServiceInfo("_wyoming._tcp.local.", full)
                assert await info.async_request(zc.zeroconf, 5000)
                addresses, port = info.parsed_addresses(), info.port or 0
            finally:
                await browser.async_cancel()
                await zc.async_close()
            async with AsyncTcpClient(addresses[0], port) as client:
                await client.write_event(Describe().event())
                described = Info.from_event(await client.read_event())
            return addresses, port, described.asr[0].name

        addresses, port, program = asyncio.run(browse())
        assert addresses == ["127.0.0.1"] and port == service.port
        assert program == "companion-stt"
    finally:
        service.process.send_signal(signal.SIGINT)
        service.process.wait(10)
    assert "Traceback" not in service.stderr()
