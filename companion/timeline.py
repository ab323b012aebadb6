"""Where a turn's time went: its events folded into six moments (end of speech, transcript,
routing, first token, first audio, done), drawn as a waterfall of bars with milliseconds,
and a summary (median, p90) of the last 20 turns. Used by the screen's timings panel (F10)
and by `companion chat --timings`; pure, so it is tested without a screen.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .events import (
    ActionTaken,
    AnyEvent,
    FinalTranscript,
    IntentRecognized,
    ReplyDelta,
    Source,
    Stage,
    TimingMark,
    TurnEnded,
    TurnStarted,
)
from .text import same_words

STAGES = ("end of speech", "transcript", "routing", "first token", "first audio", "done")
KEPT = 20  # turns kept for the summary


@dataclass
class TurnTiming:
    """One turn's moments (monotonic seconds; None where a stage did not happen, e.g. no
    audio when muted). For a typed turn, end of speech and transcript are when Enter was
    pressed."""

    turn_id: int
    text: str
    spoken: bool = False
    moments: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(STAGES))

    @property
    def start(self) -> float:
        return self.moments["end of speech"] or 0.0

    def offsets_ms(self) -> list[tuple[str, float | None]]:
        """Each stage with its time since the end of speech, in ms."""
        return [
            (stage, None if at is None else (at - self.start) * 1000)
            for stage, at in self.moments.items()
        ]

    @property
    def total_ms(self) -> float | None:
        done = self.moments["done"]
        return None if done is None else (done - self.start) * 1000


class Timeline:
    """Feed it every event; `feed` returns a turn's timing once that turn is done."""

    def __init__(self, kept: int = KEPT) -> None:
        self.turns: deque[TurnTiming] = deque(maxlen=kept)
        self.current: TurnTiming | None = None
        self._final: FinalTranscript | None = None

    def feed(self, event: AnyEvent) -> TurnTiming | None:
        turn = self.current
        match event:
            case FinalTranscript():
                self._final = event
                if turn is not None and turn.spoken and same_words(turn.text, event.text):
                    self._voiced(turn, event)  # a turn started on the guess: now confirmed
            case TurnStarted():
                turn = self.current = TurnTiming(event.turn_id, event.text)
                turn.moments["end of speech"] = turn.moments["transcript"] = event.t
                turn.spoken = event.source in (Source.SPOKEN, Source.GUESS)
                final = self._final
                if turn.spoken and final is not None and same_words(final.text, event.text):
                    self._voiced(turn, final)
                self._final = None
            case IntentRecognized() if turn is not None and event.turn_id == turn.turn_id:
                _first(turn, "routing", event.t)
            case ReplyDelta() | ActionTaken() if turn is not None and event.turn_id == turn.turn_id:
                _first(turn, "first token", event.t)
            case TimingMark() if turn is not None and event.turn_id == turn.turn_id:
                if event.stage == Stage.LLM_FIRST_TOKEN:
                    _first(turn, "first token", event.t)
                elif event.stage in (Stage.PLAYBACK_STARTED, Stage.TTS_FIRST_AUDIO):
                    _first(turn, "first audio", event.t)
            case TurnEnded() if turn is not None and event.turn_id == turn.turn_id:
                turn.moments["done"] = event.t
                self.turns.append(turn)
                self.current = None
                return turn
        return None

    @staticmethod
    def _voiced(turn: TurnTiming, final: FinalTranscript) -> None:
        turn.spoken = True
        if final.speech_end:
            turn.moments["end of speech"] = final.speech_end
        turn.moments["transcript"] = final.t

    def summary(self) -> dict[str, tuple[float, float, int]]:
        """stage -> (median ms, p90 ms, turns measured) over the kept turns."""
        out: dict[str, tuple[float, float, int]] = {}
        for stage in STAGES[1:]:
            values = sorted(
                ms
                for turn in self.turns
                for name, ms in turn.offsets_ms()
                if name == stage and ms is not None
            )
            if values:
                out[stage] = (statistics.median(values), p90(values), len(values))
        return out


def _first(turn: TurnTiming, stage: str, t: float) -> None:
    if turn.moments[stage] is None:
        turn.moments[stage] = t


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile of sorted values (the benchmarks use it too)."""
    return values[min(len(values) - 1, max(0, -(-9 * len(values) // 10) - 1))]


def waterfall(turn: TurnTiming, width: int = 60) -> list[str]:
    """One line per stage: its name, a bar from the previous moment to this one (scaled to
    the whole turn), and the milliseconds since the end of speech (+ the step)."""
    label_w, number_w = 13, 16
    bar_w = max(10, width - label_w - number_w - 2)
    offsets = turn.offsets_ms()
    total = max([ms for _, ms in offsets if ms is not None] + [1.0])
    lines, previous = [], 0.0
    for stage, ms in offsets:
        if ms is None:
            lines.append(f"{stage:<{label_w}} {'':<{bar_w}} {'—':>{number_w}}")
            continue
        begin = round(previous / total * bar_w)
        end = max(begin + (1 if ms > previous else 0), round(ms / total * bar_w))
        bar = " " * begin + "█" * (end - begin)
        step = f"+{ms - previous:.0f}" if stage != STAGES[0] else ""
        lines.append(f"{stage:<{label_w}} {bar:<{bar_w}} {f'{ms:.0f} ms {step}':>{number_w}}")
        previous = ms
    return lines


def summary_line(timeline: Timeline) -> str:
    """'last 7 turns · first audio 412/690 ms · done 1830/2400 ms (median/p90)'."""
    stats = timeline.summary()
    if not stats:
        return "no turns timed yet"
    parts = [
        f"{stage} {median:.0f}/{p90:.0f} ms"
        for stage, (median, p90, _) in stats.items()
        if stage in ("first token", "first audio", "done")
    ]
    return f"last {len(timeline.turns)} turns · " + " · ".join(parts) + " (median/p90)"


class WaterfallPrinter:
    """For text front ends (`chat --timings`): after each turn, its waterfall and the
    summary, through `write`."""

    def __init__(self, write: Callable[[str], object], width: int = 72) -> None:
        self.timeline, self.write, self.width = Timeline(), write, width

    def __call__(self, event: AnyEvent) -> None:
        turn = self.timeline.feed(event)
        if turn is not None:
            lines = waterfall(turn, self.width) + [summary_line(self.timeline)]
            self.write("\n".join("  " + line for line in lines) + "\n")
