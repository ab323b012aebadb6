"""Settings, layered: defaults < the user's config file < environment variables < flags.

The config file is TOML at `platformdirs.user_config_path("companion") / "config.toml"` (on
Linux `~/.config/companion/config.toml`), or wherever `COMPANION_CONFIG` / `--config` points.
Every setting `section.key` can be set in the environment as `COMPANION_SECTION_KEY`. API keys
are held as `Secret`s, so printing settings never shows them.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .car.state import TEMPERATURE_UNITS
from .llm.endpoint import LLMEndpoint
from .llm.providers import PROVIDER_NAMES
from .logs import LOG_BACKUPS, LOG_MAX_BYTES
from .mcp.servers import ServerEntry
from .mcp.servers import parse as parse_servers
from .navigation.geo import UNITS
from .personas.session import HISTORY_POLICIES
from .redaction import Secret, redact
from .resources import BUNDLED_PERSONAS, user_personas
from .schema import DataFileError, check_keys, expect_type, line_of, load_toml, suggest
from .stt.base import ENGINES, LISTEN_MODES, PUSH_STYLES, VADS

log = logging.getLogger(__name__)


TTS_CHOICES = ("auto", "piper", "pyttsx3")


def choice_or_wyoming(value: str, allowed: tuple[str, ...]) -> bool:
    """Is `value` one of `allowed`, or a Wyoming service's address (speech.engine, .tts)?"""
    return value in allowed or value.startswith("wyoming://")


CHOICES = {
    "speech.listen_mode": LISTEN_MODES,
    "speech.push_to_talk": PUSH_STYLES,
    "speech.engine": ENGINES,
    "speech.vad": VADS,
    "navigation.units": UNITS,
    "car.temperature": TEMPERATURE_UNITS,
    "ui.theme": ("auto", "night", "day"),
}


@dataclass
class LLMSettings:
    provider: str = "auto"  # auto | xai | openai | ollama | llamacpp | local | custom
    base_url: str = ""  # empty: the provider's preset
    model: str = ""  # empty: the provider's default model
    api_key: Secret = field(default_factory=lambda: Secret(""))
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_retry_wait: float = 5.0  # wait out a 429's Retry-After up to this many seconds
    tools: bool = True  # offer navigation/search tools in conversation (the long tail)
    local_model: str = ""  # provider local: "" the best installed, a name, a .gguf path, "none"
    local_threads: int = 0  # the local model's CPU threads; 0: every core but one (the listener's)


@dataclass
class MemorySettings:
    max_tokens: int = 3000  # budget for system prompt + examples + history, estimated
    max_turns: int = 20  # at most this many past exchanges are sent


@dataclass
class SpeechSettings:
    mute: bool = False
    output_device: str = ""  # sounddevice name or index; empty: the system default
    input_device: str = ""  # microphone: sounddevice name or index; empty: the system default
    listen_mode: str = "push_to_talk"  # push_to_talk | hands_free | wake_phrase
    push_to_talk: str = "toggle"  # toggle: press to start, press to stop | hold
    wake_phrase: str = "hey companion"
    # wake_phrase mode with a neural wake word instead (off: ""): an openWakeWord model that
    # ships (alexa, hey_jarvis, hey_mycroft, hey_rhasspy, okay_nabu), a .tflite file, or a
    # Wyoming wake-word service: wyoming://HOST:PORT/MODEL (e.g. wyoming-openwakeword)
    wake_word: str = ""
    engine: str = "auto"  # auto: Vosk if a model is installed, else PocketSphinx | vosk | ...
    language: str = "en-us"
    vosk_model: str = ""  # path to an unpacked Vosk model; wins over installed models
    model_list_url: str = "https://alphacephei.com/vosk/models/model-list.json"
    end_silence_ms: int = 350  # trailing silence that ends an utterance
    max_utterance_s: float = 15.0
    vad_aggressiveness: int = 2  # 0 (hears everything) .. 3 (strict; for noisy cabins)
    vad: str = "auto"  # auto: silero if installed (the cabin extra), else webrtc | webrtc | silero
    speculate_after_ms: int = 150  # start the reply after this pause, speak it once confirmed
    # after the assistant asks something ("Which one?"), the answer needs no wake phrase or
    # press for this long (silence closes it); 0: off
    answer_window_s: float = 6.0
    # PocketSphinx also hears each utterance with the driver language model, whose reading
    # the router may take (about 70 % more recognition CPU; off on a slow machine)
    driver_model: bool = True
    barge_in: bool = True  # hands-free: the driver's voice interrupts a reply (echo-gated)
    echo_cancellation: bool = True  # subtract our own voice from the mic (the cabin extra)
    # Speech out: auto (Piper if a voice is installed, else pyttsx3) | piper | pyttsx3 |
    # wyoming://host:port (any Wyoming text-to-speech service)
    tts: str = "auto"
    voice: str = ""  # the Piper voice for personas that name none ("" = first installed)
    earcons: bool = True  # short sounds for listening / got it / error

    @property
    def said_to_wake(self) -> str:
        """What the driver says to wake the assistant: the wake word's name, or the phrase."""
        if not self.wake_word:
            return self.wake_phrase
        from .audio.wakeword import phrase_of  # as the detectors' `phrase` says it

        name = self.wake_word
        if name.startswith("wyoming://"):  # wyoming://HOST:PORT/MODEL
            name = name[len("wyoming://") :].partition("/")[2]
            if not name:
                return "the wake word"  # the service's first model: known once connected
        return phrase_of(name)


@dataclass
class PersonaSettings:
    default: str = "assistant"
    dir: str = ""  # extra folder of persona files; they override the shipped ones by id
    history: str = "per_persona"  # per_persona: each keeps its own; reset: forget on switch


@dataclass
class SafetySettings:
    kids_mode: bool = False  # only kids_safe personas, kid-appropriate instructions
    mature_content: bool = False  # opt-in for mature personas; kids mode overrides it
    pin: Secret = field(default_factory=lambda: Secret(""))  # asked to turn kids mode off


@dataclass
class NavigationSettings:
    enabled: bool = True  # false: navigation requests go to the persona as conversation
    start: str = "37.4419,-122.1430"  # where the car starts: "lat,lon" or a city name
    home: str = ""  # "lat,lon", a city or a place name; empty: "take me home" asks for it
    units: str = "mi"  # mi | km
    online: bool = False  # use the geocoder and router below (offline data is the fallback)
    geocoder_url: str = "https://nominatim.openstreetmap.org"  # Nominatim-compatible
    router_url: str = "https://router.project-osrm.org"  # OSRM-compatible
    places_file: str = ""  # sample points of interest; empty: assets/geodata/sample_places
    places_cache: str = ""  # folder for the offline city index; empty: the user cache folder
    simulate_drive: bool = True  # move the car along the route over time
    sim_speedup: float = 1.0  # simulated seconds per real second (10 = ten times faster)


@dataclass
class CarSettings:
    temperature: str = "C"  # C | F: how temperatures are said and shown
    reserve_percent: float = 10.0  # "can I make it?" keeps this much of the battery in hand


@dataclass
class SearchSettings:
    enabled: bool = True  # false: questions go to the persona as conversation
    searxng_url: str = ""  # a SearXNG instance with the JSON API on; empty: offline only
    knowledge_dir: str = ""  # extra folder of .md documents for the offline knowledge base


@dataclass
class DriverSettings:
    """What is kept between drives, in one SQLite file (`companion places`, `companion memory`)."""

    profile: str = "default"  # whose places, preferences and memory: one per driver
    save: bool = True  # keep saved places, recent trips and preferences between drives
    database: str = ""  # the file; empty: the platform's data folder (companion.sqlite3)
    remember: bool = False  # opt-in: the persona may keep facts the driver asks it to
    remember_in_kids_mode: bool = False  # ... and while kids mode is on


@dataclass
class UISettings:
    theme: str = "auto"  # auto (night from 19:00 to 07:00) | night | day


@dataclass
class Settings:
    llm: LLMSettings = field(default_factory=LLMSettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    persona: PersonaSettings = field(default_factory=PersonaSettings)
    safety: SafetySettings = field(default_factory=SafetySettings)
    navigation: NavigationSettings = field(default_factory=NavigationSettings)
    car: CarSettings = field(default_factory=CarSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    driver: DriverSettings = field(default_factory=DriverSettings)
    ui: UISettings = field(default_factory=UISettings)
    # The driver's own tool servers: [mcp.servers.NAME] tables (companion.mcp.servers).
    mcp_servers: dict[str, ServerEntry] = field(default_factory=dict)
    config_file: Path | None = None
    config_file_found: bool = False
    sources: dict[str, str] = field(default_factory=dict)  # "llm.model" -> where it was set

    SECTIONS = (
        "llm",
        "memory",
        "speech",
        "persona",
        "safety",
        "navigation",
        "car",
        "search",
        "driver",
        "ui",
    )

    def items(self) -> list[tuple[str, str, Any]]:
        """(section, key, value) for every setting, in declaration order."""
        out = []
        for section in self.SECTIONS:
            for f in dataclasses.fields(getattr(self, section)):
                out.append((section, f.name, getattr(getattr(self, section), f.name)))
        return out


def persona_folders(settings: Settings) -> list[Path]:
    """Where personas are read from, later folders overriding earlier ones by id: the shipped
    cast, the user's own folder (if it exists), then `persona.dir`."""
    folders = [BUNDLED_PERSONAS]
    if user_personas().is_dir():
        folders.append(user_personas())
    if settings.persona.dir:
        folders.append(Path(settings.persona.dir).expanduser())
    return folders


def default_config_path() -> Path:
    return platformdirs.user_config_path("companion") / "config.toml"


def _field_type(section_obj: Any, key: str) -> type:
    value = getattr(section_obj, key)
    return Secret if isinstance(value, Secret) else type(value)


def _coerce(text: str, kind: type, name: str) -> Any:
    """Turn an environment or flag string into the setting's type."""
    if kind is Secret:
        return Secret(text)
    if kind is bool:
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{name} must be true or false, not {text!r}")
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise ValueError(f"{name} must be a number, not {text!r}") from None
    return text


def load_settings(
    *,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the effective settings. Raises `DataFileError` or `ValueError` with a clear message."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    for section, key, _ in settings.items():
        settings.sources[f"{section}.{key}"] = "default"

    explicit = config_path
    if explicit is None and environ.get("COMPANION_CONFIG"):
        explicit = Path(environ["COMPANION_CONFIG"])
    path = explicit or default_config_path()
    settings.config_file = path
    if path.exists():
        _apply_file(settings, path)
        settings.config_file_found = True
    elif explicit:
        raise DataFileError(path, "config file not found (given by --config or COMPANION_CONFIG)")

    for section, key, _ in settings.items():
        name = f"COMPANION_{section.upper()}_{key.upper()}"
        if environ.get(name) not in (None, ""):
            _set(settings, section, key, environ[name], f"env {name}")

    for dotted, value in (flags or {}).items():
        if value is None:
            continue
        section, key = dotted.split(".")
        if isinstance(value, str):
            _set(settings, section, key, value, "flag")
        else:
            setattr(getattr(settings, section), key, value)
            settings.sources[dotted] = "flag"
    _check_choices(settings)
    _check_wake_word(settings)
    return settings


def _check_choices(settings: Settings) -> None:
    """Every setting with a fixed set of values holds one of them."""
    if settings.persona.history not in HISTORY_POLICIES:
        raise ValueError(
            f"persona.history must be one of {', '.join(HISTORY_POLICIES)}, not "
            f'"{settings.persona.history}" (from {settings.sources["persona.history"]}).'
        )
    reserve = settings.car.reserve_percent
    if not 0 <= reserve <= 50:
        raise ValueError(
            f"car.reserve_percent {reserve:g} (from {settings.sources['car.reserve_percent']}) "
            "must be between 0 and 50 (percent of the battery kept in hand)."
        )
    if not settings.driver.profile.strip():
        raise ValueError(
            f"driver.profile (from {settings.sources['driver.profile']}) must name the driver, "
            'e.g. "default" or "alex".'
        )
    for dotted, allowed in CHOICES.items():
        section, key = dotted.split(".")
        value = getattr(getattr(settings, section), key)
        if dotted == "speech.engine" and choice_or_wyoming(str(value), ()):
            continue  # any Wyoming speech-to-text service
        if value not in allowed:
            raise ValueError(
                f'{dotted} "{value}" (from {settings.sources[dotted]}) is not one of '
                f"{', '.join(allowed)}.{suggest(str(value), allowed)}"
            )
    tts = settings.speech.tts
    if not choice_or_wyoming(tts, TTS_CHOICES):
        raise ValueError(
            f'speech.tts "{tts}" (from {settings.sources["speech.tts"]}) is not one of '
            f"{', '.join(TTS_CHOICES)} or wyoming://HOST:PORT.{suggest(tts, TTS_CHOICES)}"
        )
    if not 0 <= settings.speech.vad_aggressiveness <= 3:
        raise ValueError(
            "speech.vad_aggressiveness must be 0, 1, 2 or 3 "
            f"(from {settings.sources['speech.vad_aggressiveness']})."
        )
    provider = settings.llm.provider
    if provider not in PROVIDER_NAMES:
        raise ValueError(
            f'Unknown llm.provider "{provider}" (from {settings.sources["llm.provider"]}).'
            f"{suggest(provider, PROVIDER_NAMES)} Choose one of: {', '.join(PROVIDER_NAMES)}."
        )


def _check_wake_word(settings: Settings) -> None:
    """speech.wake_word: a Wyoming service's address, a model that ships or a .tflite file."""
    wake_word = settings.speech.wake_word
    if wake_word.startswith("wyoming://"):
        from .wyoming.client import WyomingError, parse_uri

        try:
            parse_uri(wake_word)
        except WyomingError as exc:
            raise ValueError(
                f"speech.wake_word (from {settings.sources['speech.wake_word']}): {exc}, "
                "with /MODEL after it to pick one of the service's wake words."
            ) from None
    elif wake_word and not wake_word.endswith(".tflite"):
        from .audio.wakeword import builtin_models

        models = builtin_models()
        if wake_word not in models:
            raise ValueError(
                f'speech.wake_word "{wake_word}" (from {settings.sources["speech.wake_word"]}) '
                + (
                    f"is not one of {', '.join(models)} or a .tflite file."
                    f"{suggest(wake_word, models)}"
                    if models
                    else "needs pyopen-wakeword: pip install 'companion[cabin]'"
                )
            )


def _set(settings: Settings, section: str, key: str, raw: str, source: str) -> None:
    obj = getattr(settings, section)
    setattr(obj, key, _coerce(raw, _field_type(obj, key), f"{section}.{key} ({source})"))
    settings.sources[f"{section}.{key}"] = source


def _apply_file(settings: Settings, path: Path) -> None:
    data, text = load_toml(path)
    check_keys(path, text, data, (*Settings.SECTIONS, "mcp"))
    if "mcp" in data:
        settings.mcp_servers = parse_servers(path, text, data.pop("mcp"))
        if any(s.holds_secrets for s in settings.mcp_servers.values()):
            _warn_if_readable(path)
    for section, table in data.items():
        if not isinstance(table, dict):
            raise DataFileError(
                path,
                f'"{section}" must be a table: write [{section}] on its own line.',
                line_of(text, section),
            )
        obj = getattr(settings, section)
        names = [f.name for f in dataclasses.fields(obj)]
        check_keys(path, text, table, names, table=section)
        for key, value in table.items():
            kind = _field_type(obj, key)
            if kind is Secret:
                value = Secret(expect_type(path, text, key, value, str, section))
                _warn_if_readable(path)
            else:
                value = expect_type(path, text, key, value, kind, section)
            setattr(obj, key, value)
            settings.sources[f"{section}.{key}"] = f"file {path.name}"


def _warn_if_readable(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning(
            "%s holds a secret (an API key, or a tool server's env or headers) and other users "
            "can read it: run `chmod 600 %s`",
            path,
            path,
        )


def _where(endpoint: LLMEndpoint) -> str:
    if endpoint.provider == "local":
        return f"{endpoint.local_model or '(no model file)'} (its own server, started on first use)"
    return endpoint.base_url or "(no URL)"


def format_settings(settings: Settings, endpoint: LLMEndpoint, log_file: Path | None = None) -> str:
    """The effective settings as TOML with each value's source; secrets masked."""
    found = "" if settings.config_file_found else " (not found; defaults used)"
    key = (
        f"{endpoint.api_key.masked()} from {endpoint.key_source}"
        if endpoint.key_source
        else endpoint.api_key.masked()
    )
    lines = [
        "# Effective settings: defaults < config file < environment < flags",
        f"# config file: {settings.config_file}{found}",
        f"# language model: {endpoint.label} at {_where(endpoint)}, model {endpoint.model}",
        f"#   chosen because {endpoint.chosen_by}" if endpoint.chosen_by else "",
        f"#   API key: {key}",
        f"#   problem: {endpoint.problem}" if endpoint.problem else "",
    ]
    if log_file is not None:
        lines.append(
            f"# log file: {log_file} (a new one every {LOG_MAX_BYTES // 2**20} MiB, "
            f"{LOG_BACKUPS} old ones kept)"
        )
    lines = [line for line in lines if line]
    current = None
    for section, key, value in settings.items():
        if section != current:
            lines += ["", f"[{section}]"]
            current = section
        if isinstance(value, Secret):
            shown = f'"{value.masked()}"'
        elif isinstance(value, bool):
            shown = "true" if value else "false"
        elif isinstance(value, str):
            shown = f'"{value}"'
        else:
            shown = repr(value)
        assignment = f"{key} = {shown}"
        lines.append(f"{assignment:<40} # {settings.sources[f'{section}.{key}']}")
    for name, server in settings.mcp_servers.items():  # `companion tools list` says more
        secrets = [*(f"env {k}" for k in server.env), *(f"header {k}" for k in server.headers)]
        lines += [
            "",
            f"[mcp.servers.{name}]{'' if server.enabled else '  # enabled = false'}",
            f"# {server.transport}: {server.target}",
        ]
        if secrets:
            lines.append(f"# {', '.join(secrets)}: set (values not shown)")
    return redact("\n".join(lines))  # a URL's password, a key in a query string
