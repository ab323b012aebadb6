"""What users install must work: the wheel, built from this checkout and installed into a
fresh virtual environment outside it, run from an empty folder with an empty home, behaves
like the checkout. Twice: with the newest releases of every dependency, and with the oldest
ones pyproject.toml admits (uv's `--resolution lowest-direct`), so the declared minimums are
true. The sdist carries the personas and assets too.

Marked `packaging` (about a minute on a warm package cache); CI runs it with the rest."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from companion.llm.scripted_server import ScriptedLLMServer

from .helpers import first_frame, reply

# One worker builds the wheel (module-scoped) and installs it for all of them.
pytestmark = [pytest.mark.packaging, pytest.mark.xdist_group("packaging")]

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CAST = sorted(p.stem for p in (ROOT / "personas").glob("*.toml"))
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
# uv's download cache outside the tests' throw-away homes (read before `isolated_user` moves
# XDG_CACHE_HOME): the second run on a machine doesn't download every wheel again.
UV_CACHE = os.environ.get("UV_CACHE_DIR") or str(
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "uv"
)


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The wheel and sdist, built the way a release is (PEP 517, isolated build)."""
    out = tmp_path_factory.mktemp("dist")
    # Built from a copy: setuptools writes companion.egg-info and build/ next to the source,
    # and nothing a test does may write into the checkout (another test worker reads it).
    source = tmp_path_factory.mktemp("source") / "companion"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".*_cache", "tmp"
        ),
    )
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(source)])
    return out


def _venv(where: Path, wheel: Path, resolution: str) -> Path:
    """A fresh venv holding the wheel and its dependencies, nothing from the checkout."""
    assert UV, "uv is needed (pip install -e '.[test]')"
    python = where / "bin" / "python"
    env = {**os.environ, "UV_CACHE_DIR": UV_CACHE}
    _run([UV, "venv", "-q", "--python", sys.executable, str(where)], env=env)
    if resolution == "lowest-direct":
        # The project's own dependency list, each at the oldest release it admits.
        _run(
            [
                UV,
                "pip",
                "install",
                "-q",
                "--python",
                str(python),
                "--resolution",
                "lowest-direct",
                "-r",
                str(ROOT / "pyproject.toml"),
            ],
            env=env,
        )
        _run(
            [UV, "pip", "install", "-q", "--python", str(python), "--no-deps", str(wheel)], env=env
        )
    else:
        _run([UV, "pip", "install", "-q", "--python", str(python), str(wheel)], env=env)
    return where / "bin" / "companion"


@pytest.fixture(scope="module", params=["highest", "lowest-direct"])
def installed(request, dist, tmp_path_factory):
    """(companion executable, environment, empty working folder) for one installation."""
    wheel = next(dist.glob("*.whl"))
    base = tmp_path_factory.mktemp(f"wheel-{request.param}")
    exe = _venv(base / "venv", wheel, request.param)
    home, work = base / "home", base / "empty"
    home.mkdir()
    work.mkdir()
    env = {
        "PATH": f"{exe.parent}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "PULSE_SERVER": "unix:/nonexistent",
    }
    version = _run([str(exe), "--version"], env=env, cwd=work).stdout
    assert version.strip() == f"companion {PYPROJECT['project']['version']}"
    return exe, env, work, request.param


def test_the_wheel_carries_the_cast_assets_and_screen_style(dist):
    names = zipfile.ZipFile(next(dist.glob("*.whl"))).namelist()
    for persona in CAST:
        assert f"companion/bundled/personas/{persona}.toml" in names
        assert f"companion/bundled/personas/dialogues/persona_{persona}.toml" in names
    for asset in ("geodata/sample_places.toml", "sounds/listening.wav", "knowledge/charging.md"):
        assert f"companion/bundled/assets/{asset}" in names
    assert "companion/ui/companion.tcss" in names
    assert "companion/router/intent_model.npz" in names
    assert any(n.startswith("companion/schemas/") and n.endswith(".json") for n in names)
    assert any(n.endswith("licenses/LICENSE") for n in names)
    metadata = (
        zipfile.ZipFile(next(dist.glob("*.whl")))
        .read(f"companion-{PYPROJECT['project']['version']}.dist-info/METADATA")
        .decode()
    )
    assert "License-Expression: MIT" in metadata


def test_the_sdist_carries_the_sources_of_everything_bundled(dist):
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {f"personas/{p}.toml" for p in CAST} <= names
    assert {"assets/sounds/got_it.wav", "LICENSE", "README.md", "pyproject.toml"} <= names


def test_the_package_list_names_every_package_in_the_tree():
    """pyproject.toml lists packages by hand (to map personas/ and assets/ into the wheel);
    a new subpackage that is not listed would be missing from what users install."""
    declared = {
        p
        for p in PYPROJECT["tool"]["setuptools"]["packages"]
        if not p.startswith("companion.bundled")
    }
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "companion").rglob("__init__.py")
    }
    assert declared == found


def test_personas_list_shows_every_bundled_persona(installed):
    exe, env, work, _ = installed
    listing = _run([str(exe), "personas", "list"], env=env, cwd=work).stdout
    listed = re.findall(r"^[* ] (\S+)", listing, flags=re.M)
    assert sorted(listed) == CAST
    assert not list(work.iterdir()), "nothing may be written to the working folder"


def test_chat_answers_through_a_local_openai_compatible_endpoint(installed):
    exe, env, work, _ = installed
    with ScriptedLLMServer() as server:
        server.add(reply("Hello from the installed package."))
        done = _run(
            [str(exe), "chat", "--mute", "hello"],
            cwd=work,
            env={
                **env,
                "COMPANION_LLM_PROVIDER": "custom",
                "COMPANION_LLM_BASE_URL": server.base_url,
                "COMPANION_LLM_MODEL": "scripted",
            },
        )
        assert "Hello from the installed package." in done.stdout
        assert server.wait_for_requests(1)[0].last_user_message == "hello"


def test_dialogue_tests_run_against_the_bundled_cast(installed):
    exe, env, work, _ = installed
    done = _run([str(exe), "test"], env=env, cwd=work)
    assert f"{len(CAST)} of {len(CAST)} dialogues passed." in done.stdout


def test_the_car_screen_draws_its_first_frame(installed):
    exe, env, work, _ = installed
    screen = first_frame([str(exe), "ui", "--mute", "--no-voice"], env, work, work.parent / "ready")
    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", screen).decode(errors="replace")
    assert "Assistant" in text
