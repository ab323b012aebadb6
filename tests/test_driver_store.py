"""What the car keeps between drives: the real SQLite database (a file in the user's data
folder, mode 0600, WAL), its migrations, a crash mid-write, two processes at once, a
damaged file; and `companion chat` sessions that save a place, drive to it by name next
time, forget it, and start with the last persona."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from companion.config import Settings, load_settings
from companion.events import PersonaSwitched, SafetyChanged, Status
from companion.store import Database, DriverStore, SavedPlace, StoreError, open_store
from companion.store.db import MIGRATIONS, SCHEMA_VERSION
from companion.store.keeper import Keeper

from .helpers import companion_cmd, reply

KEPT_PLACE = SavedPlace("grandma's house", "Bluebird Coffee on Elm Street", 37.44, -122.16)


def db_file(home: Path) -> Path:
    return home / ".local" / "share" / "companion" / "companion.sqlite3"


def rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def chat(*lines: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
    return subprocess.run(
        companion_cmd("chat", "--mute", *args),
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **(env or {})},
    )


# --- the database --------------------------------------------------------------------------


def test_the_database_is_one_private_file_in_the_data_folder_in_wal_mode(isolated_user):
    store = open_store(load_settings())
    assert store is not None
    store.places.save("work", KEPT_PLACE)
    path = db_file(isolated_user)
    assert store.db.path == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for part in path.parent.iterdir():  # the -wal and -shm files too
        assert stat.S_IMODE(part.stat().st_mode) == 0o600, part
    assert store.db.read("PRAGMA journal_mode")[0][0] == "wal"
    assert store.db.read("PRAGMA user_version")[0][0] == SCHEMA_VERSION
    store.close()
    assert integrity(path) == "ok"


def test_driver_save_off_keeps_nothing(isolated_user):
    settings = Settings()
    settings.driver.save = False
    assert open_store(settings) is None
    assert not db_file(isolated_user).exists()


WRITER = textwrap.dedent(
    """
    import sys
    from companion.store import Database, DriverStore, SavedPlace
    store = DriverStore(Database(sys.argv[1]), sys.argv[2])
    batch, count = int(sys.argv[3]), int(sys.argv[4])
    print("ready", flush=True)
    sys.stdin.readline()  # "go": every writer starts together
    for n in range(count):
        with store.db.write() as db:  # one transaction: a whole batch or nothing
            for i in range(batch):
                db.execute(
                    "INSERT INTO facts (profile, text, at) VALUES (?, ?, ?)",
                    (store.profile, f"{sys.argv[2]} fact {n}-{i}", n),
                )
        store.places.save(f"{sys.argv[2]} place {n}", SavedPlace("p", "a place", 1.0, 2.0))
        if n == 0:
            print("wrote", flush=True)
    print("done", flush=True)
    """
)


def start_writer(path: Path, profile: str, batch: int, count: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), profile, str(batch), str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_a_crash_mid_write_leaves_the_database_whole(tmp_path):
    path = tmp_path / "driver.sqlite3"
    writer = start_writer(path, "crash", batch=50, count=100_000)
    assert writer.stdin is not None and writer.stdout is not None
    writer.stdin.write("go\n")
    writer.stdin.flush()
    assert writer.stdout.readline().strip() == "wrote"  # writing, transaction after transaction
    writer.kill()  # kill -9, in the middle of whatever it was doing
    writer.wait()
    assert integrity(path) == "ok"
    facts = rows(path, "facts")
    assert facts >= 50 and facts % 50 == 0  # whole transactions only, never part of one
    store = DriverStore(Database(path), "crash")  # and it opens and writes as before
    store.memory.remember("still here")
    assert store.memory.all()[-1].text == "still here"
    store.close()


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "driver.sqlite3"
    Database(path).close()  # the schema exists: both start writing at once
    writers = [start_writer(path, name, batch=5, count=120) for name in ("alex", "sam")]
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0 and out.strip().endswith("done")
    assert rows(path, "facts") == 2 * 120 * 5
    assert rows(path, "places") == 2 * 120
    for name in ("alex", "sam"):  # each profile sees its own, and only its own
        store = DriverStore(Database(path), name)
        assert len(store.places.all()) == 120
        assert all(p.name.startswith(name) for p in store.places.all())
        store.close()
    assert integrity(path) == "ok"


def test_an_older_schema_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "driver.sqlite3"
    with sqlite3.connect(path) as db:  # what the first release wrote
        db.executescript(MIGRATIONS[0])
        db.execute(
            "INSERT INTO places VALUES ('default', 'gym', 'the gym', 'Gold Gym', 1, 2, '', '', 5)"
        )
        db.execute("INSERT INTO preferences VALUES ('default', 'persona', '\"storyteller\"')")
        db.execute("PRAGMA user_version = 1")
    store = DriverStore(Database(path), "default")
    assert store.db.read("PRAGMA user_version")[0][0] == SCHEMA_VERSION
    assert store.places.get("the gym") is not None
    assert store.prefs.get("persona") == "storyteller"
    store.memory.remember("my daughter is called Mia")  # a table the migration added
    store.places.visited(KEPT_PLACE)
    assert [v.label for v in store.places.recent()] == [KEPT_PLACE.label]
    store.close()
    assert integrity(path) == "ok"


def test_a_newer_schema_is_left_alone_with_a_clear_message(tmp_path):
    path = tmp_path / "driver.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer companion.*upgrade companion"):
        Database(path)
    settings = Settings()
    settings.driver.database = str(path)
    keeper = Keeper.open(settings, None)  # the assistant's way: one line on the screen
    assert keeper.store is None
    news = keeper.news[0]
    assert isinstance(news, Status) and news.state == "problem"
    assert "newer companion" in news.message


def test_a_damaged_file_is_kept_aside_and_a_fresh_one_started(tmp_path):
    path = tmp_path / "driver.sqlite3"
    junk = b"this is not a database, it was a half-copied file\n" * 200
    path.write_bytes(junk)
    db = Database(path)
    assert db.notice is not None and "could not be read" in db.notice
    kept = [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes() == junk  # nothing is lost
    assert kept[0].name in db.notice
    store = DriverStore(db, "default")
    store.places.save("work", KEPT_PLACE)
    assert store.places.get("work") is not None
    store.close()
    assert integrity(path) == "ok"


def test_a_damaged_file_costs_chat_one_notice_and_no_traceback(isolated_user):
    path = db_file(isolated_user)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\0garbage" * 500)
    result = chat("what places have you saved")
    assert result.returncode == 0, result.stderr
    assert "could not be read" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "You have no saved places yet" in result.stdout


# --- preferences ---------------------------------------------------------------------------


def test_kids_mode_stays_on_and_the_mature_opt_in_is_never_kept(tmp_path):
    from companion.drive import SimulatedDrive
    from companion.personas import load_personas
    from companion.personas.session import PersonaSession
    from companion.resources import BUNDLED_PERSONAS
    from companion.tts.output import SpeechOutput

    store = DriverStore(Database(tmp_path / "d.sqlite3"), "default")
    keeper = Keeper(store, owned=False)
    keeper.observe(SafetyChanged(True, False))
    keeper.observe(SafetyChanged(True, True))
    keeper.observe(PersonaSwitched(1, "storyteller", "Storyteller", "Hi"))
    assert "mature_content" not in store.prefs.all()
    settings = Settings()
    cast = load_personas(BUNDLED_PERSONAS)[0]
    session = PersonaSession(cast, "unhinged", mature_content=True)
    drive = SimulatedDrive(settings.navigation, lambda e: None, settings.car)
    keeper.restore(settings, session, SpeechOutput(), drive)
    assert session.kids_mode  # on at the end of the last drive: on now
    assert session.active.kids_safe  # and the unhinged persona is not who talks
    settings.sources["safety.kids_mode"] = "/home/owner/.config/companion/config.toml"
    owner = PersonaSession(cast, "assistant")  # the owner wrote kids_mode = false
    keeper.restore(settings, owner, SpeechOutput(), drive)
    assert not owner.kids_mode
    store.close()


# --- whole sessions ------------------------------------------------------------------------


def test_a_saved_place_is_there_next_drive_until_it_is_forgotten(isolated_user):
    first = chat(
        "take me to the Bluebird Coffee",
        "save this place as grandma's house",
        "switch to the storyteller",
    )
    assert first.returncode == 0, first.stderr
    assert "Saved Bluebird Coffee" in first.stdout and "as grandma's house" in first.stdout

    second = chat(
        "navigate to grandma's house", "how far is grandma's house", "forget grandma's house"
    )
    assert second.returncode == 0, second.stderr
    assert "Storyteller:" in second.stdout and "Assistant:" not in second.stdout  # last persona
    assert "Navigating to grandma's house" in second.stdout
    assert "Forgot grandma's house." in second.stdout

    third = chat("navigate to grandma's house", args=("--persona", "assistant"))
    assert "Assistant:" in third.stdout  # a flag for this run wins over the kept persona
    assert "I couldn't find a place called grandma's house" in third.stdout
    path = db_file(isolated_user)
    assert rows(path, "places") == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and integrity(path) == "ok"


def test_memory_is_kept_only_when_turned_on_and_forget_everything_leaves_nothing(
    isolated_user, scripted
):
    off = chat("remember that my daughter is called Mia")
    assert "memory is off" in off.stdout.lower()
    path = db_file(isolated_user)
    assert rows(path, "facts") == 0  # nothing written unless enabled

    on = {"COMPANION_DRIVER_REMEMBER": "true"}
    model = ("--llm-base-url", scripted.base_url)
    scripted.add(reply("Mia sounds lovely."), reply("A walk with Mia, perhaps."))
    told = chat("remember that my daughter is called Mia", env=on)
    assert "I'll remember that your daughter is called Mia" in told.stdout
    assert rows(path, "facts") == 1

    later = chat(
        "tell me a joke about my family", "what do you remember about me", env=on, args=model
    )
    assert "You told me: your daughter is called Mia." in later.stdout
    system = scripted.requests[-1].body["messages"][0]["content"]
    assert '"my daughter is called Mia"' in system and "not instructions" in system

    wiped = chat("forget everything", "yes", env=on)
    assert "I've forgotten everything about you" in wiped.stdout
    assert rows(path, "facts") == 0
    assert integrity(path) == "ok"


def test_the_places_and_memory_commands_list_export_and_wipe(isolated_user):
    store = open_store(load_settings())
    assert store is not None
    store.places.save("the gym", KEPT_PLACE)
    store.memory.remember("I take my coffee black")
    store.close()
    listed = subprocess.run(companion_cmd("places", "list"), capture_output=True, text=True)
    assert listed.returncode == 0 and "the gym" in listed.stdout
    exported = subprocess.run(companion_cmd("places", "export"), capture_output=True, text=True)
    assert json.loads(exported.stdout)["saved"][0]["label"] == KEPT_PLACE.label
    facts = subprocess.run(companion_cmd("memory", "export"), capture_output=True, text=True)
    assert json.loads(facts.stdout)["facts"][0]["text"] == "I take my coffee black"
    refused = subprocess.run(
        companion_cmd("memory", "wipe"), capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert rows(db_file(isolated_user), "facts") == 1
    for kind in ("memory", "places"):
        wiped = subprocess.run(companion_cmd(kind, "wipe", "--yes"), capture_output=True, text=True)
        assert wiped.returncode == 0, wiped.stderr
    assert rows(db_file(isolated_user), "facts") == 0
    assert rows(db_file(isolated_user), "places") == 0
    missing = subprocess.run(
        companion_cmd("places", "forget", "nowhere"), capture_output=True, text=True
    )
    assert missing.returncode == 2 and "companion places list" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_name_or_fact_said_with_terminal_codes_is_kept_without_them():
    """What is saved comes from the driver's words as typed (capitals kept), but never a
    terminal code between them: the name is shown on the screen and in `companion places`."""
    from companion.router import route

    saved = route("save this place as Grand\x1b[31mma's \x07House", [])
    fact = route("remember that my \x1b]0;pwned\x07 daughter is called Mia", [])
    assert saved.name == "places.save" and fact.name == "memory.remember"
    for text in (saved.slots["name"], fact.slots["fact"]):
        assert text.isprintable() and "\x1b" not in text
    assert route("remember that my daughter is called Mia", []).slots["fact"].endswith("Mia")
