"""The repository keeps its promises: CI runs the README's test command; the code is ruff-clean
(lint and format), mypy-clean (strict on the turn's core) and pre-commit checks the same."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from .conftest import ROOT


def readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(bash \.ci/setup && [^\n]+)\n```", readme)


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    demo, test = readme_commands()[:2]
    assert demo.endswith(".venv/bin/companion")
    assert "pytest" in test
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test in ci_lines, "the CI script must run exactly the README's test command"


def test_code_is_ruff_clean():
    ruff = shutil.which("ruff", path=str(ROOT / ".venv" / "bin")) or shutil.which("ruff")
    command = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    for check in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [*command, *check, "--no-cache", "."],  # nothing written into the checkout
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_mypy_clean(tmp_path):
    """`mypy` with the settings in pyproject.toml: all of companion/, strict on the core."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_pre_commit_runs_the_same_checks_as_the_suite():
    """The hooks are local and use the project's own ruff and mypy, so a commit is checked
    exactly as CI checks it (and works offline)."""
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    hooks = re.findall(r"^\s*- id: (\S+)", config, re.M)
    assert {"ruff-check", "ruff-format", "mypy"} <= set(hooks), hooks
    assert re.findall(r"entry: (.+)", config) == ["ruff check --fix", "ruff format", "mypy"]


def test_every_dependency_and_the_parts_that_need_credit_are_in_the_notices():
    """THIRD_PARTY_NOTICES.md names every runtime and optional dependency pyproject.toml
    declares (a new one without its licence fails here), and the notices and the README credit
    GeoNames, eSpeak NG, Piper and openWakeWord with their licences."""
    import tomllib

    notices = (ROOT / "THIRD_PARTY_NOTICES.md").read_text()
    readme = (ROOT / "README.md").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    shipped = [*project["dependencies"], *(d for k, v in extras.items() if k != "test" for d in v)]
    names = {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower() for d in shipped}
    missing = sorted(n for n in names if n not in notices.lower())
    assert not missing, f"add these to THIRD_PARTY_NOTICES.md with their licence: {missing}"
    for text in (notices, readme):
        assert re.search(r"GeoNames.{0,200}CC BY 4\.0", text, re.S)
        assert re.search(r"eSpeak NG.{0,100}GPL-3\.0", text, re.S)
        assert re.search(r"Piper.{0,100}GPL-3\.0", text, re.S)
        assert re.search(r"openWakeWord.{0,200}CC BY-NC-SA 4\.0", text, re.S)
    assert "THIRD_PARTY_NOTICES.md" in project["license-files"]  # it ships in the wheel
