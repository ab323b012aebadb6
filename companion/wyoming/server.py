"""`companion serve wyoming`: our speech to text, text to speech and wake words (the
openWakeWord models that ship with pyopen-wakeword) as one Wyoming service, so Home Assistant
(Settings → Devices & services → Wyoming Protocol), a Wyoming satellite or any Wyoming client
can use them.

Each connection gets its own handler. The recogniser is loaded once and shared; each
utterance gets its own recogniser stream, created, fed and finished on one worker thread
(the native recognisers are not thread-safe). Synthesis uses the engine `speech.tts` picks
(Piper or eSpeak), one request at a time. A wake-word connection (`detect`, then audio) gets
its own detectors, fed on the connection's worker thread; each detection is sent with the
timestamp of the chunk it fired on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from typing import Any

from ..stt.base import SpeechEngine
from ..tts.factory import Synthesizer

log = logging.getLogger(__name__)


class Services:
    """What the server offers: the shared recogniser and synthesiser, and their workers."""

    def __init__(
        self,
        engine: SpeechEngine | None,
        synth: Synthesizer | None,
        synth_name: str,
        voices: list[str],
        wake_words: list[str] | None = None,
    ) -> None:
        self.engine = engine
        self.synth = synth
        self.wake_words = list(wake_words or [])
        from .handler import service_info

        self.info = service_info(engine, synth_name if synth else "", voices, self.wake_words)
        self.synth_worker = concurrent.futures.ThreadPoolExecutor(1, "wyoming-tts")
        self.max_utterance_s = 30.0  # audio per request to transcribe (--max-utterance)


def handler_factory(services: Services) -> Any:
    """For the Wyoming server: a new handler for each connection."""
    from functools import partial

    from .handler import ServiceHandler

    return partial(ServiceHandler, services)


async def serve(
    uri: str, services: Services, ready: Any = None, announce_as: str | None = None
) -> None:
    """Run until cancelled. `ready(port, announced_as)` is called once the socket listens
    (and, with `announce_as`, the zeroconf record is out: its name, or "" if it could not be)."""
    from wyoming.server import AsyncServer, AsyncTcpServer

    from .discovery import Announcement

    server = AsyncServer.from_uri(uri)
    factory = handler_factory(services)
    await server.start(factory)
    port = 0
    listening: Any = getattr(server, "_server", None)
    if isinstance(server, AsyncTcpServer) and listening is not None:
        port = listening.sockets[0].getsockname()[1]
    announcement = None
    if announce_as and isinstance(server, AsyncTcpServer):
        announcement = Announcement(announce_as, server.host, port)
        await announcement.start()
    if ready is not None:
        ready(port, announcement.announced_as if announcement else "")
    try:
        await asyncio.Event().wait()
    finally:
        if announcement is not None:
            await announcement.close()
        await server.stop()
        services.synth_worker.shutdown(wait=False)
