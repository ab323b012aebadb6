"""The repository keeps its promises: CI runs the README's test command; the code is ruff-clean."""

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
    result = subprocess.run([*command, "check", "companion", "tests"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
