"""When a block of a sound stream is heard or was captured: by counting samples.

The echo canceller lines up what the speakers played with what the microphone heard by time,
so both sides must stamp their blocks on one steady timeline. Reading the clock in every
device callback is not steady: on a busy machine a callback is woken late and unevenly
(20 ms and more), and PortAudio's latency estimate moves too. Measured on the virtual sound
card, the player's per-callback stamps wandered by ~22 ms every second or so, and every jump
moved the canceller's reference against the microphone: its adaptive filters lost the echo
and let the assistant's voice through for a moment, enough to pass for the driver.

A stream's samples, though, come at exactly its rate. `SampleClock` anchors a stream once
and then stamps each block by the samples counted since. It anchors again only when the
count and the clock part by more than a callback can explain: at once when they part by more
than `late_s`, or by more than `DRIFT_S` after the device reported an underflow or overflow
(it played or recorded without us), and when every callback of the last `WINDOW_S` of the
stream read the clock later than the count by more than `DRIFT_S`. A callback woken late is
late once and then catches up (the next ones come quickly while the buffer drains); samples
the device lost without saying so (PulseAudio's ALSA plugin does not always flag them) or a
device clock drifting from ours over a long drive leave every later callback behind, and
only those move the anchor. Each re-anchor after the first moves the timeline the echo
canceller learned on, so its owner tells the echo gate (`EchoGate.timeline_moved`).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

EARLY_S = 0.05  # a callback cannot be this much earlier than its samples: re-anchor
LATE_S = 0.5  # nor this much later (a stalled stream): re-anchor
# A player's stamp is when its block will be *heard*. A late callback does not move that while
# the device still has audio buffered; once the count lags the heard time by more than the
# buffer, the device ran dry and played silence we did not send. PulseAudio's ALSA plugin
# does not always report that as an underflow: on the virtual sound card a start-up under
# load moved the heard time by 0.49 s with no flag, and the count stayed 0.49 s behind for
# the whole greeting (its echo then had no reference and passed for the driver). Healthy
# streams there stayed within 43 ms of the count (22 ms typical): 0.1 s tells the two apart.
PLAYER_LATE_S = 0.1
# Persistent lateness: the least of the last half second's offsets. Healthy streams on the
# virtual sound card under load stayed within 43 ms at worst (a single late callback), and
# their least offset over any half second within a few ms.
DRIFT_S = 0.03
WINDOW_S = 0.5


class SampleClock:
    """Stamps the blocks of one continuous stream at `rate` samples per second."""

    def __init__(self, rate: int, late_s: float = LATE_S, name: str = "stream") -> None:
        self.rate = rate
        self.late_s = late_s
        self.name = name  # for the log: "player", "microphone"
        self._t0: float | None = None
        self._count = 0
        self.anchors = 0  # how many times it anchored (1 for a healthy stream)
        self._logged = float("-inf")
        self._least = float("inf")  # the least offset since `_window_from` samples
        self._window_from = 0

    def stamp(self, frames: int, observed: float, broken: bool = False) -> float:
        """The time of the first sample of the next block of `frames` samples. `observed` is
        that time as the clock read it in this callback; `broken`: the device reported an
        underflow or overflow before this block."""
        t0 = self._t0
        if t0 is None:
            return self._anchor(observed, frames, observed, broken)
        expected = t0 + self._count / self.rate
        offset = observed - expected
        # A reported underflow or overflow moves the anchor only if it cost time the count
        # cannot absorb: under load PortAudio flagged one every second or so while the count
        # still matched the clock, and each re-anchor makes the echo gate relearn (while it
        # does, a driver as loud as the echo is not heard).
        if (broken and offset > DRIFT_S) or not -EARLY_S <= offset <= self.late_s:
            return self._anchor(observed, frames, expected, broken)
        self._least = min(self._least, offset)
        if self._count - self._window_from >= WINDOW_S * self.rate:
            if self._least > DRIFT_S:
                # Every callback of the window was late: the stream lost time. Move the anchor
                # by the least of it (what a late wake-up cannot explain).
                return self._anchor(expected + self._least, frames, expected, broken)
            self._least, self._window_from = float("inf"), self._count
        self._count += frames
        return expected

    def _anchor(self, at: float, frames: int, expected: float, broken: bool) -> float:
        if self._t0 is not None and at - self._logged > 1.0:  # at most once a second
            self._logged = at
            log.info(
                "%s clock anchored again (%d): the device's time moved %+.3f s from the "
                "sample count%s",
                self.name,
                self.anchors + 1,
                at - expected,
                " (underflow/overflow reported)" if broken else "",
            )
        self._t0, self._count, self.anchors = at, frames, self.anchors + 1
        self._least, self._window_from = float("inf"), 0
        return at
