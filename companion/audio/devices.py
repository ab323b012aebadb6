"""Finding audio devices through PortAudio (sounddevice), with errors a user can act on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


class AudioDeviceError(Exception):
    """No usable device (or no PortAudio); the message says what to do."""


def sounddevice_module() -> Any:
    """Import sounddevice, turning a missing PortAudio library into an actionable error."""
    try:
        import sounddevice
    except OSError as exc:  # the Python package is there but libportaudio is not
        raise AudioDeviceError(
            f"PortAudio is not installed ({exc}). On Debian/Ubuntu: "
            "sudo apt-get install libportaudio2"
        ) from None
    _quiet_alsa()
    return sounddevice


_alsa_handler: Any = None


def _quiet_alsa() -> None:
    """ALSA prints its own messages ("underrun occurred", probing errors) straight to the
    terminal, over our UI. Send them to our log instead (debug level)."""
    global _alsa_handler
    if _alsa_handler is not None:
        return
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("asound")
    if not name:
        _alsa_handler = False
        return
    try:
        alsa = ctypes.CDLL(name)
        handler_type = ctypes.CFUNCTYPE(
            None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
        )

        def to_log(file: bytes, line: int, function: bytes, err: int, fmt: bytes) -> None:
            log.debug(
                "ALSA %s: %s",
                (function or b"").decode(errors="replace"),
                (fmt or b"").decode(errors="replace"),
            )

        _alsa_handler = handler_type(to_log)  # kept alive: ALSA holds the pointer
        alsa.snd_lib_error_set_handler(_alsa_handler)
    except (OSError, AttributeError):
        _alsa_handler = False


def refresh_devices(sd: Any) -> None:
    """Make PortAudio enumerate the devices again (only safe with no stream open)."""
    try:
        sd._terminate()
        sd._initialize()
    except Exception:
        log.debug("PortAudio rescan failed", exc_info=True)


def open_with_rescan(sd: Any, open_stream: Callable[[], Any]) -> Any:
    """`open_stream()`, retried once after a device rescan: PortAudio lists devices once,
    when it starts, so a device plugged in (or a sound server started) since then is only
    found after a rescan. The second failure propagates."""
    try:
        return open_stream()
    except (sd.PortAudioError, ValueError):
        refresh_devices(sd)
        return open_stream()


def parse_device(spec: str) -> int | str | None:
    """A device setting: '' is the default, digits an index, anything else a name substring."""
    spec = str(spec).strip()
    if not spec:
        return None
    return int(spec) if spec.isdigit() else spec


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    inputs: int
    outputs: int
    default_rate: float
    is_default_input: bool
    is_default_output: bool

    def describe(self) -> str:
        marks = []
        if self.is_default_input:
            marks.append("default input")
        if self.is_default_output:
            marks.append("default output")
        mark = f"  [{', '.join(marks)}]" if marks else ""
        return (
            f"{self.index:>3}  {self.name}  (in {self.inputs}, out {self.outputs}, "
            f"{self.default_rate:g} Hz){mark}"
        )


def list_devices() -> list[DeviceInfo]:
    sd = sounddevice_module()
    refresh_devices(sd)
    try:
        devices = sd.query_devices()
        default_in, default_out = sd.default.device
    except sd.PortAudioError as exc:
        raise AudioDeviceError(f"PortAudio could not list devices: {exc}") from None
    out = []
    for info in devices:
        out.append(
            DeviceInfo(
                index=int(info["index"]),
                name=str(info["name"]),
                inputs=int(info["max_input_channels"]),
                outputs=int(info["max_output_channels"]),
                default_rate=float(info["default_samplerate"]),
                is_default_input=info["index"] == default_in,
                is_default_output=info["index"] == default_out,
            )
        )
    return out
