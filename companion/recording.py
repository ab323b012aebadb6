"""Sessions recorded and played back: `--record FILE` (screen and chat) writes a JSON-lines
file: a header (persona, safety switches, the settings that shape answers) and then every
event the core reported, with its time since the start. Secrets are never written: every
string goes through the one redaction path, and the header holds no key, URL or password.

`companion replay FILE` shows a recording on the screen at its own pace;
`companion test --from-session FILE` turns it into a dialogue test (`dialogue_from_session`),
the designer's path from "that answer was bad" to a regression test.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from . import events as ev
from .redaction import redact
from .schema import DataFileError
from .untrusted import shown_event

VERSION = 1
SKIPPED = (ev.InputLevel,)  # ten times a second: not worth a line each
# What a recording may hold (a day's driving is ~20,000 events and a few MB).
MAX_EVENTS = 200_000
MAX_BYTES = 64 * 1024 * 1024
EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in vars(ev).values()
    if isinstance(cls, type)
    and dataclasses.is_dataclass(cls)
    and cls not in (ev.Event, ev.ListenerEvent, ev.CoreEvent)
}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value if isinstance(value, (int, float, bool)) or value is None else redact(str(value))


class SessionRecorder:
    """Any thread may `write`; `close` when the session ends. The file is the user's
    alone (0600), like the log."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.file = os.fdopen(fd, "w", encoding="utf-8")
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self._line(
            {
                "kind": "session",
                "version": VERSION,
                "recorded": datetime.now().isoformat(timespec="seconds"),
                **_clean(header),
            }
        )

    def write(self, event: ev.AnyEvent) -> None:
        if isinstance(event, SKIPPED):
            return
        record = _clean(ev.event_record(event))
        record["dt"] = round(max(0.0, event.t - self.started), 4)
        self._line(record)

    def _line(self, record: dict[str, Any]) -> None:
        with self.lock:
            if not self.file.closed:
                self.file.write(json.dumps(record, ensure_ascii=False) + "\n")
                self.file.flush()

    def close(self) -> None:
        with self.lock:
            self.file.close()


def session_header(settings: Any, session: Any) -> dict[str, Any]:
    """What shaped the answers, and nothing secret (no key, no URL: it may carry a
    password)."""
    return {
        "persona": session.active.id,
        "kids_mode": session.kids_mode,
        "mature_content": session.mature_content,
        "settings": {
            "llm.provider": settings.llm.provider,
            "llm.model": settings.llm.model,
            "speech.listen_mode": settings.speech.listen_mode,
            "navigation.units": settings.navigation.units,
        },
    }


@dataclasses.dataclass
class Recording:
    path: Path
    header: dict[str, Any]
    events: list[tuple[float, ev.AnyEvent]]  # (seconds since the start, event)


def load_session(path: Path) -> Recording:
    """Read a recording; a file that is not one is reported with its line."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DataFileError(
                path, f"larger than {MAX_BYTES // 2**20} MB; is it a session recording?"
            )
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"can't read this recording ({exc})") from None
    header: dict[str, Any] | None = None
    events: list[tuple[float, ev.AnyEvent]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFileError(
                path,
                f"this line is not JSON ({exc.msg}); record sessions with --record FILE",
                number,
            ) from None
        if header is None:
            if not isinstance(record, dict) or record.get("kind") != "session":
                raise DataFileError(
                    path,
                    "this is not a session recording (its first line "
                    "should be the session header); record one with "
                    "`companion ui --record FILE`",
                    number,
                )
            header = record
            continue
        if not isinstance(record, dict):
            raise DataFileError(
                path, 'this line is not an event (a JSON object with an "event" field)', number
            )
        dt = record.get("dt", 0.0)
        if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not 0 <= dt < 1e7:
            raise DataFileError(
                path, f'"dt" must be the seconds since the start (a number), not {dt!r}', number
            )
        if len(events) >= MAX_EVENTS:
            raise DataFileError(
                path,
                f"more than {MAX_EVENTS:,} events; split the recording or record a shorter session",
                number,
            )
        event = _event(record)
        if event is not None:
            events.append((float(dt), event))
    if header is None:
        raise DataFileError(path, "the recording is empty")
    return Recording(path, header, events)


def _event(record: dict[str, Any]) -> ev.AnyEvent | None:
    cls = EVENT_TYPES.get(str(record.get("event")))
    if cls is None:
        return None  # an event type from a newer version: skipped, not fatal
    names = {f.name for f in dataclasses.fields(cls)}
    fields = {k: (tuple(v) if k == "words" else v) for k, v in record.items() if k in names}
    try:
        event = cls(**fields)
    except TypeError:
        return None
    # A recording is a file from anyone: its text is shown like a model's (untrusted.py).
    return shown_event(event)  # type: ignore[no-any-return]


# --- a recording as a dialogue test -----------------------------------------------------------

# A model failure in the recording -> the scripted model's fault that fails the same way.
FAULT_FOR_ERROR = {
    "authentication": "401",
    "model_not_found": "404",
    "rate_limit": "429",
    "server": "500",
    "timeout": "stall",
    "connection_lost": "drop",
    "malformed_stream": "garbage",
}
# The scripted model can't be unplugged: a model that could not be reached at all is
# replayed as a server error (an error turn too), and the file says so.
STAND_IN = {"unreachable": "server", "not_configured": "server"}


def dialogue_from_session(recording: Recording) -> str:
    """A dialogue-test file (TOML) that replays the recording's turns: what was said, what
    the model answered (scripted, so the test needs no model), and what the build did then
    (intent, persona switch, refusal, destination, the reply)."""
    header = recording.header
    turns = _recorded_turns(recording)
    order = list(turns)
    about = (
        f"Recorded on {header.get('recorded', '?')}: {len(order)} turns "
        "(written by companion test --from-session)."
    )
    out = [
        f"description = {_toml(about)}",
        "",
        "[setup]",
        f"persona = {_toml(header.get('persona', 'assistant'))}",
    ]
    if header.get("kids_mode"):
        out.append("kids_mode = true")
    if header.get("mature_content"):
        out.append("mature_content = true")
    for turn in turns.values():
        out += _turn_toml(turn)
    return "\n".join(out) + "\n"


def _turn_toml(turn: dict[str, Any]) -> list[str]:
    """One recorded turn as a [[turn]] table with its expectations."""
    out = ["", "[[turn]]", f"say = {_toml(turn['say'])}"]
    error = turn.get("error")
    if error in STAND_IN:
        out.append(
            f"# recorded: the model could not be reached ({error}); a server error stands in"
        )
        turn["error"] = error = STAND_IN[error]
    if turn["model_asked"] and error in FAULT_FOR_ERROR:
        out.append(f"model_fault = {_toml(FAULT_FOR_ERROR[error])}")
    elif turn["model_asked"] and turn.get("reply"):
        out.append(f"model = {_toml(turn['reply'])}")
    out.append("[turn.expect]")
    for key in ("intent", "switched_to", "refused", "action", "destination", "error"):
        if key in turn:
            out.append(f"{key} = {_toml(turn[key])}")
    out.append(f"model_asked = {'true' if turn['model_asked'] else 'false'}")
    if (
        turn["model_asked"]
        and turn.get("reply")
        and not turn.get("interrupted")
        and not turn.get("error")
    ):
        out.append(f"reply = {_toml(turn['reply'])}")
    return out


def _recorded_turns(recording: Recording) -> dict[int, dict[str, Any]]:
    """turn id -> what was said and what the build did then, in the order said."""
    turns: dict[int, dict[str, Any]] = {}
    order: list[int] = []
    routed: dict[str, Any] | None = None  # a turn that started a route: its destination
    for _, event in recording.events:
        turn_id = getattr(event, "turn_id", None)
        if isinstance(event, ev.DriveUpdate) and routed is not None:
            destination = (event.trip or {}).get("destination")
            if destination:
                routed["destination"] = destination
            routed = None
            continue
        if isinstance(event, ev.TurnStarted):
            turns[event.turn_id] = {"say": event.text, "model_asked": False}
            order.append(event.turn_id)
            continue
        turn = turns.get(turn_id) if turn_id is not None else None
        if turn is None:
            continue
        match event:
            case ev.IntentRecognized():
                turn.setdefault("intent", event.intent)
            case ev.PersonaSwitched():
                turn["switched_to"] = event.persona_id
            case ev.RequestRefused():
                turn["refused"] = event.reason
            case ev.ActionTaken() if event.skill == "navigation":
                turn["action"] = event.action
                if event.action == "route_started":
                    routed = turn  # the drive update that follows names the destination
            case ev.TimingMark() if event.stage == "llm_request":
                turn["model_asked"] = True
            case ev.ReplyDone():
                turn["reply"] = event.text
                turn["interrupted"] = event.interrupted
            case ev.TurnError():
                turn["error"] = event.kind
    return {turn_id: turns[turn_id] for turn_id in order}


def _toml(value: Any) -> str:
    """A TOML value: JSON's escapes are valid TOML, and DEL, which JSON leaves as it is but
    TOML forbids raw, is escaped too."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
