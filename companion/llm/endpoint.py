"""Where and how to reach one LLM backend (kept apart from the client, which needs httpx, so
reading the settings stays quick)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..redaction import Secret

# {"role": ..., "content": ...}; a tool exchange adds "tool_calls" or "tool_call_id" (OpenAI)
Message = dict[str, Any]


@dataclass(frozen=True)
class LLMEndpoint:
    """Where and how to reach one backend. Built by `companion.config` from the settings."""

    provider: str
    label: str
    base_url: str
    model: str
    api_key: Secret
    key_env: str | None
    setup_hint: str
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_retry_wait: float = 5.0
    chosen_by: str = ""  # why this backend: the setting or variable that picked it
    key_source: str = ""  # where the API key came from ("" when there is none)
    local_model: str = ""  # provider "local": the GGUF file (its server starts on first use)
    local_threads: int = 0  # its CPU threads; 0: every core but one
    problem: str = ""  # provider "local": why that model can't run, in one line ("" if it can)

    @property
    def configured(self) -> bool:
        return bool(self.base_url) or self.provider == "local"
