"""Dialogue files: a conversation and what should happen in it, written by designers in TOML.

    description = "Kids mode keeps the Unhinged persona locked."

    [setup]
    persona = "kids_storyteller"
    kids_mode = true

    [[turn]]
    say = "switch to unhinged"
    [turn.expect]
    intent = "persona.switch"
    refused = "kids_mode"
    persona = "kids_storyteller"

Every problem is reported with the file, the line and what to write instead, like persona
files. `docs/DIALOGUE_TESTS.md` is the guide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..car.state import TEMPERATURE_UNITS
from ..schema import DataFileError, expect_type, load_toml, suggest

LLM_MODES = ("scripted", "real")
FAULTS = ("401", "404", "429", "500", "stall", "drop", "garbage", "no_tools")

SETUP_KEYS: dict[str, type | tuple[type, ...]] = {
    "persona": str,
    "kids_mode": bool,
    "mature_content": bool,
    "start": str,
    "llm": str,
    "places": str,
    "knowledge": str,
    "web_search": bool,
    "speed_kmh": (int, float),
    "personas": str,
    "units": str,
    "temperature": str,
    "battery_percent": (int, float),
    "outside_c": (int, float),
    "climate_c": (int, float),
    "remember": bool,
    "listen_mode": str,
}
# [setup] keys copied as they are
_SETUP_AS_IS = (
    "persona",
    "kids_mode",
    "mature_content",
    "start",
    "web_search",
    "units",
    "remember",
)
TURN_KEYS: dict[str, type | tuple[type, ...]] = {
    "say": str,
    "audio": str,
    "model": str,
    "model_fault": str,
    "model_tool": dict,
    "interrupt_after": int,
    "advance_minutes": (int, float),
    "speed_kmh": (int, float),
    "web_results": list,
    "expect": dict,
}
EXPECT_KEYS: dict[str, type | tuple[type, ...]] = {
    "intent": str,
    "slots": dict,
    "persona": str,
    "heard": str,
    "reply": str,
    "reply_contains": (str, list),
    "reply_not_contains": (str, list),
    "reply_matches": str,
    "max_sentences": int,
    "spoken": list,
    "switched_to": str,
    "refused": str,
    "destination": str,
    "stops": list,
    "no_route": bool,
    "search": str,
    "model_asked": bool,
    "error": str,
    "interrupted": bool,
    "action": str,
    "latency_ms": dict,
    "climate_c": (int, float),
    "climate_on": bool,
    "warning": (str, bool),
}
LATENCY_STAGES = ("first_sentence", "reply_done", "llm_first_token")
# Expectations that hold whatever the model says (checked with --llm real too).
MODEL_INDEPENDENT = {
    "intent",
    "slots",
    "persona",
    "heard",
    "switched_to",
    "refused",
    "destination",
    "stops",
    "no_route",
    "search",
    "action",
    "latency_ms",
}


@dataclass
class Expect:
    values: dict[str, Any]
    lines: dict[str, int]  # key -> line in the file


@dataclass
class Turn:
    number: int
    line: int
    say: str = ""
    audio: Path | None = None
    model: str | None = None
    model_fault: str | None = None
    model_tool: dict[str, Any] | None = None  # {"name", "arguments"}: the model calls a tool
    interrupt_after: int | None = None
    advance_minutes: float = 0.0
    speed_kmh: float | None = None
    web_results: list[dict[str, str]] = field(default_factory=list)
    expect: Expect = field(default_factory=lambda: Expect({}, {}))


@dataclass
class Dialogue:
    path: Path
    description: str
    persona: str = "assistant"
    kids_mode: bool = False
    mature_content: bool = False
    start: str = "37.4419,-122.1430"
    llm: str = "scripted"
    places: Path | None = None
    knowledge: Path | None = None
    web_search: bool = False
    speed_kmh: float | None = None
    personas: Path | None = None
    units: str = "mi"
    temperature: str = "C"  # C | F
    remember: bool = False  # the persona's opt-in memory is on (driver.remember)
    listen_mode: str = "hands_free"  # audio turns: hands_free | wake_phrase
    car: dict[str, float] = field(default_factory=dict)  # battery_percent, outside_c, climate_c
    turns: list[Turn] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.stem


def _key_line(lines: list[str], key: str, first: int, last: int) -> int:
    for number in range(first, min(last, len(lines) + 1)):
        if re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", lines[number - 1]):
            return number
    return first


def _check(
    path: Path, text: str, table: dict[str, Any], allowed: dict[str, Any], where: str, line_of: Any
) -> dict[str, Any]:
    values = {}
    for key, value in table.items():
        if key not in allowed:
            raise DataFileError(
                path,
                f'{where}: unknown key "{key}".{suggest(key, allowed)} '
                f"Known keys: {', '.join(sorted(allowed))}.",
                line_of(key),
            )
        try:
            values[key] = expect_type(path, text, key, value, allowed[key])
        except DataFileError as exc:
            reason = str(exc).split(": ", 1)[1]
            raise DataFileError(path, f"{where}: {reason}", line_of(key)) from None
    return values


MAX_TURNS = 500  # turns in one dialogue file (a long drive is ~100)
MAX_FILE_BYTES = 4 * 1024 * 1024


def _check_size(path: Path) -> None:
    try:
        too_big = path.stat().st_size > MAX_FILE_BYTES
    except OSError:
        return  # load_toml says what is wrong with it
    if too_big:
        raise DataFileError(
            path, f"larger than {MAX_FILE_BYTES // 2**20} MB; split it into several dialogues"
        )


def _too_many_turns(path: Path, count: int, line: int) -> DataFileError:
    return DataFileError(
        path,
        f"{count:,} turns; a dialogue test holds at most {MAX_TURNS:,}: split it into "
        "several files (each runs on its own)",
        line,
    )


def load_dialogue(path: Path) -> Dialogue:
    """Read and check one dialogue file. Raises DataFileError (file:line: what to do)."""
    _check_size(path)
    data, text = load_toml(path)
    lines = text.splitlines()
    end = len(lines) + 1

    def top_line(key: str) -> int:
        return _key_line(lines, key, 1, end)

    for key in data:
        if key not in ("description", "setup", "turn"):
            raise DataFileError(
                path,
                f'unknown key "{key}".'
                f"{suggest(key, ['description', 'setup', 'turn'])} A dialogue "
                "has a description, a [setup] table and [[turn]] tables.",
                top_line(key),
            )
    description = data.get("description", "")
    if not isinstance(description, str) or not description.strip():
        raise DataFileError(
            path, 'add a description = "..." line saying what this dialogue checks.', 1
        )
    dialogue = Dialogue(path, description.strip())
    headers = [n for n, line in enumerate(lines, 1) if line.strip().startswith("[")]

    def table_range(name: str, index: int = 0) -> tuple[int, int]:
        found = [n for n in headers if lines[n - 1].strip() == name]
        first = found[index] if index < len(found) else 1
        later = [n for n in headers if n > first]
        return first, later[0] if later else end

    setup = data.get("setup", {})
    if not isinstance(setup, dict):
        raise DataFileError(
            path, "setup must be a table: write [setup] on its own line.", top_line("setup")
        )
    first, last = table_range("[setup]")
    values = _check(
        path, text, setup, SETUP_KEYS, "[setup]", lambda k: _key_line(lines, k, first, last)
    )
    for key in _SETUP_AS_IS:
        if key in values:
            setattr(dialogue, key, values[key])
    if "speed_kmh" in values:
        dialogue.speed_kmh = float(values["speed_kmh"])
    _car_setup(path, values, dialogue, lambda k: _key_line(lines, k, first, last))
    llm = values.get("llm", "scripted")
    if llm not in LLM_MODES:
        raise DataFileError(
            path,
            f'[setup] llm must be "scripted" or "real", not "{llm}".',
            _key_line(lines, "llm", first, last),
        )
    dialogue.llm = llm
    for key in ("places", "knowledge", "personas"):
        if key in values:
            target = (path.parent / values[key]).resolve()
            if not target.exists():
                raise DataFileError(
                    path,
                    f"[setup] {key}: {target} does not exist. Paths are "
                    "relative to the dialogue file.",
                    _key_line(lines, key, first, last),
                )
            setattr(dialogue, key, target)

    turns = data.get("turn")
    if not isinstance(turns, list) or not turns:
        raise DataFileError(
            path,
            'a dialogue needs at least one [[turn]] with say = "..." or audio = "file.wav".',
            end - 1,
        )
    if len(turns) > MAX_TURNS:
        raise _too_many_turns(path, len(turns), table_range("[[turn]]", MAX_TURNS)[0])
    for index, raw in enumerate(turns):
        dialogue.turns.append(_turn(path, text, lines, raw, index, table_range))
    return dialogue


# The car a dialogue starts with: [setup] key -> (lowest, highest) allowed.
CAR_SETUP = {"battery_percent": (0.0, 100.0), "outside_c": (-40.0, 55.0), "climate_c": (16.0, 28.0)}


def _car_setup(path: Path, values: dict[str, Any], dialogue: Dialogue, line: Any) -> None:
    """The [setup] values with a range or a set of choices: the car's, and the listen mode
    the audio turns are heard in."""
    mode = values.get("listen_mode", "hands_free")
    if mode not in ("hands_free", "wake_phrase"):
        raise DataFileError(
            path,
            f'[setup] listen_mode must be "hands_free" or "wake_phrase", not "{mode}".',
            line("listen_mode"),
        )
    dialogue.listen_mode = mode
    temperature = values.get("temperature", "C")
    if temperature not in TEMPERATURE_UNITS:
        raise DataFileError(
            path,
            f'[setup] temperature must be "C" or "F", not "{temperature}".',
            line("temperature"),
        )
    dialogue.temperature = temperature
    for key, (low, high) in CAR_SETUP.items():
        if key in values:
            value = float(values[key])
            if not low <= value <= high:
                raise DataFileError(
                    path,
                    f"[setup] {key} must be between {low:g} and {high:g}, not {value:g}.",
                    line(key),
                )
            dialogue.car[key] = value


def _turn(path: Path, text: str, lines: list[str], raw: Any, index: int, table_range: Any) -> Turn:
    first, last = table_range("[[turn]]", index)
    where = f"turn {index + 1}"
    if not isinstance(raw, dict):
        raise DataFileError(path, f"{where} must be a [[turn]] table.", first)

    def turn_line(key: str) -> int:
        return _key_line(lines, key, first, last)

    values = _check(path, text, raw, TURN_KEYS, where, turn_line)
    turn = Turn(index + 1, first)
    if ("say" in values) == ("audio" in values):
        raise DataFileError(
            path,
            f'{where}: give either say = "what the driver types" or '
            'audio = "recording.wav", not both and not neither.',
            first,
        )
    turn.say = values.get("say", "")
    if "audio" in values:
        audio = (path.parent / values["audio"]).resolve()
        if not audio.is_file():
            raise DataFileError(
                path,
                f"{where}: audio file {audio} not found (paths are relative to the dialogue file).",
                turn_line("audio"),
            )
        turn.audio = audio
    _model_of(turn, values, path, where, turn_line)
    turn.interrupt_after = values.get("interrupt_after")
    turn.advance_minutes = float(values.get("advance_minutes", 0))
    if "speed_kmh" in values:
        turn.speed_kmh = float(values["speed_kmh"])
    for result in values.get("web_results", []):
        if not isinstance(result, dict) or not {"title", "url", "content"} <= set(result):
            raise DataFileError(
                path,
                f"{where}: each web result needs title, url and "
                'content, e.g. { title = "...", url = "https://...", '
                'content = "..." }.',
                turn_line("web_results"),
            )
        turn.web_results.append({k: str(v) for k, v in result.items()})
    expect_first, expect_last = _expect_range(raw, lines, first)

    def expect_line(key: str) -> int:
        return _key_line(lines, key, expect_first, expect_last)

    turn.expect = _expect(path, text, values.get("expect", {}), where, expect_line)
    return turn


def _expect_range(raw: dict[str, Any], lines: list[str], first: int) -> tuple[int, int]:
    """The lines of a turn's [turn.expect] table (the turn's own keys stop at it)."""
    if "expect" not in raw:
        return first, first
    following = [
        n for n in range(first + 1, len(lines) + 1) if lines[n - 1].strip() == "[turn.expect]"
    ]
    if not following:
        return first, first
    start = following[0]
    nxt = [n for n in range(start + 1, len(lines) + 1) if lines[n - 1].strip().startswith("[")]
    return start, nxt[0] if nxt else len(lines) + 1


def _model_of(turn: Turn, values: dict[str, Any], path: Path, where: str, line: Any) -> None:
    """What the scripted model does in this turn: a reply, a fault or a tool call."""
    turn.model = values.get("model")
    fault = values.get("model_fault")
    if fault is not None and fault not in FAULTS:
        raise DataFileError(
            path,
            f'{where}: model_fault "{fault}" is not one of '
            f"{', '.join(FAULTS)}.{suggest(fault, FAULTS)}",
            line("model_fault"),
        )
    turn.model_fault = fault
    tool = values.get("model_tool")
    if tool is not None:
        if not isinstance(tool.get("name"), str) or not isinstance(tool.get("arguments", {}), dict):
            raise DataFileError(
                path,
                f"{where}: model_tool needs a name and arguments, e.g. "
                '{ name = "navigate_to", arguments = { place = "SFO" } }.',
                line("model_tool"),
            )
        turn.model_tool = {"name": tool["name"], "arguments": dict(tool.get("arguments", {}))}


def _expect(path: Path, text: str, raw: Any, where: str, expect_line: Any) -> Expect:
    expect = _check(path, text, raw, EXPECT_KEYS, f"{where} expect", expect_line)
    for key in ("reply_contains", "reply_not_contains"):
        if isinstance(expect.get(key), str):
            expect[key] = [expect[key]]
    for stage in expect.get("latency_ms", {}):
        if stage not in LATENCY_STAGES:
            raise DataFileError(
                path,
                f'{where} expect: latency stage "{stage}" is not one of '
                f"{', '.join(LATENCY_STAGES)}.{suggest(stage, LATENCY_STAGES)}",
                expect_line("latency_ms"),
            )
    if "reply_matches" in expect:
        try:
            re.compile(expect["reply_matches"])
        except re.error as exc:
            raise DataFileError(
                path,
                f"{where} expect: reply_matches is not a valid pattern ({exc}).",
                expect_line("reply_matches"),
            ) from None
    return Expect(expect, {key: expect_line(key) for key in expect})
