"""Which language model answers: `resolve_endpoint` picks the brain from the settings and the
environment, predictably, and says why (`LLMEndpoint.chosen_by`, shown by `config show`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from ..config import Settings
from ..redaction import Secret
from . import local
from .endpoint import LLMEndpoint
from .providers import PRESETS


def ollama_url(environ: Mapping[str, str]) -> str:
    """Ollama's address from OLLAMA_HOST ("host", "host:port" or a URL; default
    localhost:11434) as the base URL of its OpenAI-compatible API."""
    host = environ.get("OLLAMA_HOST", "").strip() or "localhost:11434"
    if "://" not in host:
        host = "http://" + host
    scheme, rest = host.split("://", 1)
    hostport = rest.split("/", 1)[0]
    name, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    name = {"0.0.0.0": "127.0.0.1", "": "localhost", "[::]": "[::1]"}.get(name, name)
    return f"{scheme}://{name}:{port or '11434'}/v1"


def ollama_answers(base_url: str, timeout: float = 0.5) -> bool:
    """Is an Ollama server answering at this address? (GET /api/version, quickly)"""
    import urllib.error
    import urllib.request

    url = base_url.removesuffix("/v1") + "/api/version"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return bool(response.status == 200 and b"version" in response.read(2048))
    except (OSError, ValueError, urllib.error.URLError):
        return False


def resolve_endpoint(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    probe: Callable[[str], bool] = ollama_answers,
) -> LLMEndpoint:
    """Pick the brain, predictably: an explicit provider or base URL (flag, file, COMPANION_*)
    > OPENAI_BASE_URL (+ OPENAI_API_KEY) > XAI_API_KEY > OPENAI_API_KEY > Ollama at
    OLLAMA_HOST if it answers (`probe`) > an installed local model > Ollama's address, which
    gives the offline answer and the banner until something answers there."""
    environ = os.environ if environ is None else environ
    llm = settings.llm
    provider = llm.provider
    sources = settings.sources
    base_url = llm.base_url
    chosen_by = f'llm.provider = "{provider}" ({sources.get("llm.provider", "default")})'
    key_env_override = None
    ollama = ollama_url(environ)
    picked: tuple[local.LocalModel | None, Path] | None = None  # looked for once, if needed
    if provider == "auto":
        provider, base_url, key_env_override, chosen_by, picked = _auto(
            settings, environ, probe, ollama
        )
    elif provider == "ollama" and not base_url:
        base_url = ollama
    preset = PRESETS[provider]
    key_env = key_env_override or preset.key_env
    key = llm.api_key
    key_source = f"llm.api_key ({sources.get('llm.api_key', 'default')})" if key else ""
    if not key and key_env and environ.get(key_env):
        key = Secret(environ[key_env])
        key_source = f"env {key_env}"
    label, model, local_path, problem = preset.label, llm.model or preset.default_model, "", ""
    if provider == "local":
        picked = picked or local.pick_model(llm.local_model)
        if picked is None:
            problem = "no local model is installed: " + preset.setup_hint
            model = llm.local_model or "(none)"
        else:
            title, quality = local.describe(*picked)
            label, model, local_path = f"{title}, {quality}", title, str(picked[1])
            problem = local.preflight(*picked) or ""
    return LLMEndpoint(
        provider=provider,
        label=label,
        base_url=base_url or preset.base_url,
        model=model,
        api_key=key,
        key_env=key_env,
        setup_hint=preset.setup_hint,
        connect_timeout=llm.connect_timeout,
        read_timeout=llm.read_timeout,
        max_retry_wait=llm.max_retry_wait,
        chosen_by=chosen_by,
        key_source=key_source,
        local_model=local_path,
        local_threads=max(0, llm.local_threads),
        problem=problem,
    )


def _auto(
    settings: Settings, environ: Mapping[str, str], probe: Callable[[str], bool], ollama: str
) -> tuple[str, str, str | None, str, tuple[local.LocalModel | None, Path] | None]:
    """llm.provider = "auto": (provider, base URL, key variable, why, the local model)."""
    llm, sources = settings.llm, settings.sources
    provider, base_url, key_env_override, chosen_by = "auto", llm.base_url, None, ""
    picked: tuple[local.LocalModel | None, Path] | None = None
    if llm.base_url:
        provider = "custom"
        chosen_by = f"llm.base_url is set ({sources.get('llm.base_url', 'default')})"
    elif environ.get("OPENAI_BASE_URL"):
        provider, base_url, key_env_override = (
            "custom",
            environ["OPENAI_BASE_URL"],
            "OPENAI_API_KEY",
        )
        chosen_by = "OPENAI_BASE_URL is set in the environment"
    elif environ.get("XAI_API_KEY"):
        provider, chosen_by = "xai", "XAI_API_KEY is set in the environment"
    elif environ.get("OPENAI_API_KEY"):
        provider, chosen_by = "openai", "OPENAI_API_KEY is set in the environment"
    elif probe(ollama):
        provider, base_url = "ollama", ollama
        where = "OLLAMA_HOST" if environ.get("OLLAMA_HOST") else "the default address"
        chosen_by = f"Ollama answers at {base_url.removesuffix('/v1')} ({where})"
    elif (picked := local.pick_model(llm.local_model)) is not None:
        provider, chosen_by = "local", "a local model is installed and nothing else answers"
    else:
        provider, base_url = "ollama", ollama
        no_local = (
            "local models are off (llm.local_model = none)"
            if llm.local_model.strip().lower() == "none"
            else "no local model is installed"
        )
        chosen_by = (
            "nothing answers: no URL or API key is set, Ollama is not running at "
            f"{base_url.removesuffix('/v1')} and {no_local}"
        )
    return provider, base_url, key_env_override, chosen_by, picked
