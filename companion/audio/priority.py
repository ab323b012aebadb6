"""The voice comes first: a process that opens the microphone asks the scheduler for a
higher priority, where the system allows it.

Capture, the recogniser, barge-in and playback run in real time: a few tens of milliseconds
without the CPU and the microphone's buffer overflows, the driver's words have holes and the
echo gate misjudges its own voice. Other work on the car's computer (the local model's
server, which lowers its own priority; anything else) can wait. PulseAudio asks for the same
for its own threads. Raising a priority needs root, CAP_SYS_NICE or an RLIMIT_NICE (many
distributions give the `audio` group one); without, nothing changes and nothing is said.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

VOICE_NICENESS = -10


def prefer_voice(niceness: int = VOICE_NICENESS) -> bool:
    """Give every thread of this process (and so every thread it starts later) `niceness`
    where it is lower than theirs and the system allows. Returns whether it did."""
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:  # not Linux: the process as a whole
        threads = [0]
    raised = False
    for tid in threads:
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) > niceness:
                os.setpriority(os.PRIO_PROCESS, tid, niceness)
                raised = True
        except (OSError, AttributeError):  # not allowed (most desktops), or the thread ended
            continue
    if raised:
        log.info("listening at a higher CPU priority (nice %d)", niceness)
    return raised


def cores_left_to_work() -> int:
    """How many threads a compute pool (the local model's server, the Piper voice) may use:
    every core but one, which is left to capture, playback and the screen. At least one."""
    return max(1, (os.cpu_count() or 1) - 1)
