"""Settings layering, secret masking, and the precise errors of config and persona files."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.config import BUNDLED_PERSONAS, format_settings, load_settings
from companion.llm.resolve import resolve_endpoint
from companion.memory import ConversationMemory, estimate_tokens
from companion.personas import load_persona, load_personas
from companion.redaction import Secret, redact
from companion.schema import DataFileError

SECRET = "xai-AbCdEfGhIjKlMnOp-1234567890"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_layers_defaults_file_env_flags(tmp_path):
    config = write(
        tmp_path / "c.toml",
        '[llm]\nmodel = "from-file"\nread_timeout = 7\n[memory]\nmax_turns = 5\n',
    )
    env = {"COMPANION_LLM_MODEL": "from-env", "COMPANION_MEMORY_MAX_TOKENS": "1234"}
    s = load_settings(config_path=config, environ=env, flags={"llm.model": "from-flag"})
    assert s.llm.model == "from-flag" and s.sources["llm.model"] == "flag"
    assert s.llm.read_timeout == 7.0 and s.sources["llm.read_timeout"] == "file c.toml"
    assert s.memory.max_tokens == 1234 and s.sources["memory.max_tokens"].startswith("env")
    assert s.memory.max_turns == 5
    assert s.speech.mute is False and s.sources["speech.mute"] == "default"
    s = load_settings(config_path=config, environ=env)
    assert s.llm.model == "from-env"


def test_default_config_file_lives_in_the_user_config_dir(isolated_user):
    write(isolated_user / ".config" / "companion" / "config.toml", '[persona]\ndefault = "x"\n')
    s = load_settings(environ={})
    assert s.config_file_found and s.persona.default == "x"


@pytest.mark.parametrize(
    "env, provider, url, key",
    [
        # Nothing configured, no local model: Ollama's address (answering or not, the same)
        ({"COMPANION_LLM_LOCAL_MODEL": "none"}, "ollama", "http://localhost:11434/v1", ""),
        ({"XAI_API_KEY": SECRET}, "xai", "https://api.x.ai/v1", SECRET),
        (
            {"OPENAI_API_KEY": "sk-abcdefghijklmnop"},
            "openai",
            "https://api.openai.com/v1",
            "sk-abcdefghijklmnop",
        ),
        ({"COMPANION_LLM_PROVIDER": "llamacpp"}, "llamacpp", "http://localhost:8080/v1", ""),
        ({"COMPANION_LLM_BASE_URL": "http://box:1234/v1"}, "custom", "http://box:1234/v1", ""),
    ],
)
def test_provider_presets(env, provider, url, key):
    endpoint = resolve_endpoint(load_settings(environ=env), env)
    assert (endpoint.provider, endpoint.base_url, endpoint.api_key.reveal()) == (provider, url, key)
    assert endpoint.model


@pytest.mark.parametrize(
    "env, flags, chosen, key_source",
    [
        (
            {"COMPANION_LLM_LOCAL_MODEL": "none", "OLLAMA_HOST": "127.0.0.1:9"},
            {},
            "nothing answers: no URL or API key",
            "",
        ),
        ({"XAI_API_KEY": SECRET}, {}, "XAI_API_KEY", "env XAI_API_KEY"),
        (
            {"OPENAI_API_KEY": SECRET},
            {"llm.provider": "openai"},
            'provider = "openai" (flag)',
            "env OPENAI_API_KEY",
        ),
        (
            {"COMPANION_LLM_API_KEY": SECRET},
            {"llm.base_url": "http://box:1/v1"},
            "llm.base_url is set (flag)",
            "llm.api_key (env COMPANION_LLM_API_KEY)",
        ),
    ],
)
def test_config_show_says_why_this_backend_and_where_the_key_came_from(
    env, flags, chosen, key_source
):
    settings = load_settings(environ=env, flags=flags)
    endpoint = resolve_endpoint(settings, env)
    assert chosen in endpoint.chosen_by and endpoint.key_source == key_source
    shown = format_settings(settings, endpoint, Path("/logs/companion.log"))
    assert f"chosen because {endpoint.chosen_by}" in shown
    assert (f"from {key_source}" in shown) if key_source else "API key: (not set)" in shown
    assert SECRET not in shown and "# log file: /logs/companion.log" in shown


def test_config_show_masks_every_secret(tmp_path):
    config = write(tmp_path / "c.toml", f'[llm]\napi_key = "{SECRET}"\nprovider = "xai"\n')
    config.chmod(0o600)
    s = load_settings(config_path=config, environ={})
    shown = format_settings(s, resolve_endpoint(s, {}))
    assert SECRET not in shown and "***7890" in shown
    assert "file c.toml" in shown
    assert SECRET not in repr(s) and SECRET not in str(s.llm.api_key)


def test_redact_removes_registered_secrets_and_key_shapes():
    Secret("plain-value-registered-42")
    assert redact("token plain-value-registered-42 here") == "token *** here"
    assert redact("Incorrect API key provided: sk-proj-abc123XYZ***wxyz") == (
        "Incorrect API key provided: ***"
    )


@pytest.mark.parametrize(
    "text, needle, line",
    [
        ('[llm]\nmodle = "x"\n', 'Did you mean "model"?', 2),
        ('[llm]\nmodel = "x\n', "TOML syntax error", 2),
        ('[memory]\nmax_turns = "ten"\n', '"memory.max_turns" must be a whole number', 2),
        ("[speach]\nmute = true\n", 'Did you mean "speech"?', None),
        ('[llm]\nprovider = "grok"\n', "Unknown llm.provider", None),
    ],
)
def test_config_errors_name_the_file_the_line_and_the_fix(tmp_path, text, needle, line):
    config = write(tmp_path / "bad.toml", text)
    with pytest.raises((DataFileError, ValueError)) as caught:
        load_settings(config_path=config, environ={})
    message = str(caught.value)
    assert needle in message
    if line is not None:
        assert f"bad.toml:{line}:" in message


def test_bad_environment_value_is_explained():
    with pytest.raises(ValueError, match="COMPANION_SPEECH_MUTE"):
        load_settings(environ={"COMPANION_SPEECH_MUTE": "perhaps"})


# --- personas --------------------------------------------------------------------------------


def test_the_shipped_assistant_persona_is_valid_and_driving_safe():
    persona = load_persona(BUNDLED_PERSONAS / "assistant.toml")
    assert persona.id == "assistant" and persona.kids_safe and persona.rating == "everyone"
    assert persona.greeting and persona.examples
    assert persona.max_sentences <= 3
    assert "at most 3 short sentences" in persona.instructions()


GOOD = """id = "tester"
name = "Tester"
description = "d"
system_prompt = "You test."
greeting = "Hi."
"""


@pytest.mark.parametrize(
    "extra, needle, line",
    [
        ('greting = "x"\n', 'greting: unknown key. Did you mean "greeting"?', 6),
        ('rating = "adult"\n', "rating: must be one of everyone, teen, mature", 6),
        ('rating = "matrue"\n', 'Did you mean "mature"?', 6),
        ('kids_safe = "yes"\n', '"kids_safe" must be true or false', 6),
        ('aliases = "story"\n', '"aliases" must be a list', 6),
        ('aliases = ["ok", ""]\n', "aliases: must be a list of phrases", 6),
        ('[voice]\nrate = "fast"\n', 'voice.rate: "voice.rate" must be a whole number', 7),
        ("[voice]\nvolume = 2.0\n", "voice.volume: must be between 0.0 and 1.0", 7),
        ("[voice]\nrate = 20\n", "must be between 80 and 450 words per minute", 7),
        ("[voice]\nspeed = 20\n", "voice.speed: unknown key. Known keys: id, rate", 7),
        ("[style]\nmax_sentence = 2\n", 'Did you mean "max_sentences"?', 7),
        ("[generation]\ntemperature = 5\n", "between 0.0 and 2.0", 7),
        ('voice = "deep"\n', "voice: must be a [voice] table", 6),
        ('[[examples]]\nuser = "hi"\n', "examples: entry 1 needs both user", None),
        ('[[examples]]\nuser = "hi"\nasistant = "yo"\n', 'Did you mean "assistant"?', None),
        ('name = "dup"\n', "TOML syntax error", 6),
        ('extends = "asistant"\n', 'no persona "asistant" to extend. Did you mean', 6),
        ('extends = "tester"\n', "goes round in a circle", 6),
    ],
)
def test_persona_errors_name_the_file_line_and_fix(tmp_path, extra, needle, line):
    path = write(tmp_path / "tester.toml", GOOD + extra)
    if "asistant" in extra:
        write(tmp_path / "assistant.toml", (BUNDLED_PERSONAS / "assistant.toml").read_text())
    with pytest.raises(DataFileError) as caught:
        load_persona(path)
    assert needle in str(caught.value)
    if line is not None:
        assert f"tester.toml:{line}:" in str(caught.value)


def test_extends_inherits_and_merges_tables(tmp_path):
    write(tmp_path / "assistant.toml", (BUNDLED_PERSONAS / "assistant.toml").read_text())
    child = write(
        tmp_path / "night_owl.toml",
        'extends = "assistant"\nname = "Night Owl"\n'
        'description = "Quieter, for late drives."\n[voice]\nrate = 150\n',
    )
    persona = load_persona(child)
    parent = load_persona(tmp_path / "assistant.toml")
    assert persona.id == "night_owl" and persona.name == "Night Owl"
    assert persona.system_prompt == parent.system_prompt  # inherited
    assert persona.voice.rate == 150 and persona.voice.pitch == parent.voice.pitch  # merged
    assert persona.aliases == ()  # aliases are not inherited: they would clash


def test_check_warns_about_voices_long_prompts_shared_aliases_and_missing_greeting(tmp_path):
    from companion.personas.loader import check_personas

    write(
        tmp_path / "one.toml",
        GOOD.replace("tester", "one").replace('greeting = "Hi."\n', "")
        + 'aliases = ["shared name"]\n[voice]\nid = "klingon-xx"\n',
    )
    write(
        tmp_path / "two.toml",
        GOOD.replace("tester", "two").replace(
            'system_prompt = "You test."', 'system_prompt = "' + "word " * 700 + '"'
        )
        + 'aliases = ["Shared  Name"]\n',
    )
    problems = [str(p) for p in check_personas(tmp_path)]
    assert any("one.toml" in p and "warning: greeting: no greeting" in p for p in problems)
    assert any("voice.id" in p and "klingon-xx" in p and "not installed" in p for p in problems)
    assert any("two.toml" in p and "system_prompt: 700 words" in p for p in problems)
    assert any("also a name of" in p for p in problems)
    assert all("warning:" in p for p in problems)


def test_persona_missing_field_and_id_mismatch(tmp_path):
    with pytest.raises(DataFileError, match="system_prompt: is missing"):
        no_prompt = GOOD.replace('system_prompt = "You test."\n', "")
        load_persona(write(tmp_path / "tester.toml", no_prompt))
    with pytest.raises(DataFileError, match="rename the file to tester.toml"):
        load_persona(write(tmp_path / "other.toml", GOOD))


def test_one_broken_persona_file_does_not_lose_the_others(tmp_path):
    folder = tmp_path / "cast"
    write(folder / "tester.toml", GOOD)
    write(folder / "broken.toml", "id = ")
    personas, problems = load_personas(BUNDLED_PERSONAS, folder)
    assert set(personas) >= {"assistant", "tester"}
    assert len(problems) == 1 and "broken.toml:1" in str(problems[0])


# --- memory ----------------------------------------------------------------------------------


def test_memory_trims_oldest_turns_to_the_budget_and_keeps_the_new_utterance():
    persona = load_persona(BUNDLED_PERSONAS / "assistant.toml")
    memory = ConversationMemory(max_tokens=600, max_turns=100)
    for n in range(200):
        memory.add(f"question {n} " + "x" * 200, f"answer {n} " + "y" * 200)
    messages = memory.messages(persona, "latest question")
    total = sum(estimate_tokens(m["content"]) for m in messages)
    assert total <= 600
    assert messages[0]["role"] == "system"
    assert messages[-1] == {"role": "user", "content": "latest question"}
    assert messages[-2]["content"].startswith("answer 199")  # newest history kept first
    assert not any("question 0 " in m["content"] for m in messages)


def test_memory_keeps_at_most_max_turns():
    persona = load_persona(BUNDLED_PERSONAS / "assistant.toml")
    memory = ConversationMemory(max_tokens=100_000, max_turns=3)
    for n in range(10):
        memory.add(f"q{n}", f"a{n}")
    history = [m["content"] for m in memory.messages(persona, "now")]
    assert "q6" not in history and {"q7", "q8", "q9"} <= set(history)
