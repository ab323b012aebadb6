"""The active persona, its memory, and the safety gates, enforced in code.

Every way of reaching a persona (voice, picker, `--persona`, a reloaded file) goes through
`PersonaSession.switch()`, and `allowed()` is the only place that decides. Kids mode admits only
personas that are `kids_safe` and rated `everyone`; mature personas need the mature-content
opt-in, and kids mode overrides the opt-in. The model is never asked to enforce this.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..memory import ConversationMemory
from .loader import Persona

HISTORY_POLICIES = ("per_persona", "reset")
KIDS_INSTRUCTIONS = (
    "Kids mode is on: the listener may be a young child. Keep every reply suitable for young "
    "children: no violence, horror, romance, swearing, adult topics or unsafe instructions. "
    "If asked for any of that, kindly suggest something fun and safe instead."
)


@dataclass(frozen=True)
class SwitchOutcome:
    """What happened to a switch request. `spoken` is said in `voice_of`'s voice."""

    switched: bool
    persona: Persona  # the active persona afterwards
    spoken: str
    voice_of: Persona
    refused: str | None = None  # kids_mode | mature | speed | unknown | already


class PersonaSession:
    """Holds the cast, which persona is active, and the history of each."""

    def __init__(
        self,
        cast: dict[str, Persona],
        start: str = "assistant",
        *,
        kids_mode: bool = False,
        mature_content: bool = False,
        history: str = "per_persona",
        max_tokens: int = 3000,
        max_turns: int = 20,
    ) -> None:
        if not cast:
            raise ValueError("no personas to choose from")
        if history not in HISTORY_POLICIES:
            raise ValueError(f"persona.history must be one of {', '.join(HISTORY_POLICIES)}")
        self.cast = dict(cast)
        self.kids_mode = kids_mode
        self.mature_content = mature_content
        self.history = history
        self._max_tokens, self._max_turns = max_tokens, max_turns
        self._memories: dict[str, ConversationMemory] = {}
        self.start_notice: str | None = None
        wanted = cast.get(start)
        if wanted is None or self.allowed(wanted) is not None:
            fallback = self._fallback()
            if wanted is not None:
                self.start_notice = (
                    f"{wanted.name} is not available ({self._reason_text(self.allowed(wanted))}); "
                    f"starting with {fallback.name}."
                )
            wanted = fallback
        self.active = wanted

    # --- the gates ---------------------------------------------------------------------------

    def allowed(self, persona: Persona, speed_kmh: float | None = None) -> str | None:
        """None if the persona may be used now, else why not: kids_mode | mature | speed."""
        if self.kids_mode and not (persona.kids_safe and persona.rating == "everyone"):
            return "kids_mode"
        if persona.rating == "mature" and not self.mature_content:
            return "mature"
        if (
            persona.max_speed_kmh is not None
            and speed_kmh is not None
            and speed_kmh > persona.max_speed_kmh
        ):
            return "speed"
        return None

    def choices(self) -> list[Persona]:
        """Personas the driver can pick right now (locked ones left out), by name."""
        return sorted(
            (p for p in self.cast.values() if self.allowed(p) is None),
            key=lambda p: (p.id != "assistant", p.name),
        )

    def visible(self) -> list[tuple[Persona, str | None]]:
        """For pickers: every persona not hidden, with why it is locked (None if it is not).
        Mature personas stay hidden entirely until the opt-in is on."""
        out = []
        for persona in sorted(self.cast.values(), key=lambda p: p.name):
            reason = self.allowed(persona)
            if reason == "mature":
                continue
            out.append((persona, reason))
        return out

    def _fallback(self) -> Persona:
        choices = self.choices()
        if not choices:
            raise ValueError(
                "no persona is allowed with these settings (kids mode needs at "
                "least one persona with kids_safe = true)"
            )
        return choices[0]

    def _reason_text(self, reason: str | None) -> str:
        return {
            "kids_mode": "kids mode is on",
            "mature": "mature content is off",
            "speed": "the car is moving too fast",
        }.get(reason or "", "")

    # --- switching ---------------------------------------------------------------------------

    def switch(
        self, persona_id: str | None, heard: str = "", speed_kmh: float | None = None
    ) -> SwitchOutcome:
        current = self.active
        persona = self.cast.get(persona_id or "")
        names = ", ".join(p.name for p in self.choices() if p.id != current.id)
        if persona is None:
            return SwitchOutcome(
                False,
                current,
                f"I don't have a persona called {heard}. You can pick {names}.",
                current,
                "unknown",
            )
        reason = self.allowed(persona, speed_kmh)
        if reason == "kids_mode":
            spoken = f"Kids mode is on, so I can't be {persona.name}. How about {names}?"
        elif reason == "mature":
            spoken = (
                f"{persona.name} needs mature content, which is turned off. "
                "It can be turned on in settings."
            )
        elif reason == "speed":
            spoken = (
                f"{persona.name} waits until the car is slower or parked. "
                "Let's keep our eyes on the road for now."
            )
        else:
            spoken = ""
        if reason:
            return SwitchOutcome(False, current, spoken, current, reason)
        if persona.id == current.id:
            return SwitchOutcome(False, current, f"I'm already {persona.name}.", current, "already")
        self.active = persona
        if self.history == "reset":
            self._memories.clear()
        return SwitchOutcome(True, persona, persona.greeting, persona)

    def set_safety(
        self, *, kids_mode: bool | None = None, mature_content: bool | None = None
    ) -> Persona | None:
        """Change the safety settings (from the screen's toggles, never by voice). If the
        active persona is not allowed any more, the first allowed one takes over and is
        returned; None if the active persona stays."""
        if kids_mode is not None:
            self.kids_mode = kids_mode
        if mature_content is not None:
            self.mature_content = mature_content
        if self.allowed(self.active) is None:
            return None
        self.active = self._fallback()
        if self.history == "reset":
            self._memories.clear()
        return self.active

    def replace_cast(self, cast: dict[str, Persona]) -> None:
        """After a reload: keep the active persona (its new version) if it is still allowed."""
        self.cast = dict(cast)
        updated = cast.get(self.active.id)
        self.active = updated if updated and self.allowed(updated) is None else self._fallback()

    # --- what the model sees -----------------------------------------------------------------

    @property
    def memory(self) -> ConversationMemory:
        key = self.active.id if self.history == "per_persona" else "_shared"
        if key not in self._memories:
            self._memories[key] = ConversationMemory(self._max_tokens, self._max_turns)
        return self._memories[key]

    def extra_instructions(self) -> str:
        return KIDS_INSTRUCTIONS if self.kids_mode else ""
