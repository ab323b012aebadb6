"""Conversation memory: the persona's instructions plus the recent turns, kept within a budget.

Token counts are estimated (about four characters a token, plus a few per message) because the
exact tokenizer differs per backend; the default budget leaves ample room below any modern
model's context window, so a long drive never overflows it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .llm.endpoint import Message
from .personas import Persona

INTERRUPTED_NOTE = " [the driver interrupted here]"


def estimate_tokens(text: str) -> int:
    return len(text) // 4 + 4


@dataclass(frozen=True)
class Exchange:
    user: str
    assistant: str
    interrupted: bool = False


class ConversationMemory:
    """Past exchanges, oldest first. `messages()` builds what is sent to the model."""

    def __init__(self, max_tokens: int = 3000, max_turns: int = 20) -> None:
        self.max_tokens = max_tokens
        self.max_turns = max_turns
        self.exchanges: deque[Exchange] = deque(maxlen=max(1, max_turns))

    def add(self, user: str, assistant: str, interrupted: bool = False) -> None:
        self.exchanges.append(Exchange(user, assistant, interrupted))

    def clear(self) -> None:
        self.exchanges.clear()

    def messages(
        self, persona: Persona, user_text: str, extra_instructions: str = ""
    ) -> list[Message]:
        """System prompt, few-shot examples, as many recent exchanges as fit, the new utterance.

        Trimming drops the oldest exchanges first, then the examples; the system prompt and the
        driver's new words are always sent.
        """
        instructions = persona.instructions()
        if extra_instructions:
            instructions += "\n\n" + extra_instructions
        system: Message = {"role": "system", "content": instructions}
        current: Message = {"role": "user", "content": user_text}
        budget = self.max_tokens - estimate_tokens(system["content"]) - estimate_tokens(user_text)

        history: list[Message] = []
        for exchange in reversed(self.exchanges):
            reply = exchange.assistant + (INTERRUPTED_NOTE if exchange.interrupted else "")
            cost = estimate_tokens(exchange.user) + estimate_tokens(reply)
            if cost > budget:
                break
            budget -= cost
            history[:0] = [
                {"role": "user", "content": exchange.user},
                {"role": "assistant", "content": reply},
            ]

        examples: list[Message] = []
        for user, assistant in persona.examples:
            cost = estimate_tokens(user) + estimate_tokens(assistant)
            if cost > budget:
                break
            budget -= cost
            examples += [
                {"role": "user", "content": user},
                {"role": "assistant", "content": assistant},
            ]
        return [system, *examples, *history, current]
