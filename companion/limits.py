"""Limits every turn keeps, whatever the language model does: a reply ends after
`max_pieces` streamed pieces (about tokens), `max_chars` characters or `max_seconds` of
streaming, parked or not; a driver waiting `still_thinking_after_s` for the first word hears
a short cue; a model that sends nothing gets a short spoken answer instead of silence.
The read timeout (llm.read_timeout) is the give-up when the model stalls."""

from __future__ import annotations

from dataclasses import dataclass

STILL_THINKING = "One moment, still thinking."
EMPTY_REPLY = "Sorry, I don't have an answer to that."
KIDS_CHANGE_OF_SUBJECT = "Let's talk about something else. Want to hear a fun fact instead?"


@dataclass(frozen=True)
class TurnLimits:
    max_pieces: int = 400
    max_chars: int = 3000
    max_seconds: float = 30.0
    still_thinking_after_s: float = 3.0

    def exceeded(self, pieces: int, chars: int, seconds: float) -> str | None:
        """Which limit a reply has reached, in words for the log, or None."""
        if pieces >= self.max_pieces:
            return f"{self.max_pieces} pieces"
        if chars >= self.max_chars:
            return f"{self.max_chars} characters"
        if seconds >= self.max_seconds:
            return f"{self.max_seconds:g} s"
        return None
