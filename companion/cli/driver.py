"""`companion places` and `companion memory`: what the car keeps between drives, in the
driver's database (`companion.store`): list it, export it as JSON, forget one item, or wipe
it all (`--yes` to skip the question)."""

from __future__ import annotations

import json
import sys
from typing import Any

from ..config import Settings
from ..store import DriverStore, StoreError, database_path, open_store
from .common import UserError

_NO_SUCH = 'no saved place is called "{}" (see `companion places list`)'


def add_subcommands(sub: Any, settings_flags: Any) -> dict[str, Any]:
    """places, memory; returns their commands (args, settings) -> status."""
    places = sub.add_parser(
        "places",
        help="saved places and recent trips: list, export, forget, rename, wipe",
        description="The driver's saved places (\"save this place as grandma's house\", "
        '"set my home to ...") and recent destinations, kept per driver.profile in '
        "the driver database (driver.database).",
    )
    actions = places.add_subparsers(dest="places_command", metavar="ACTION", required=True)
    made = [
        actions.add_parser("list", help="saved places, then the last trips"),
        actions.add_parser("export", help="everything as JSON on stdout"),
    ]
    forget = actions.add_parser("forget", help="forget one saved place by its name")
    forget.add_argument("name", metavar="NAME")
    rename = actions.add_parser("rename", help="give a saved place a new name")
    rename.add_argument("name", metavar="NAME")
    rename.add_argument("new_name", metavar="NEW_NAME")
    wipe = actions.add_parser("wipe", help="forget every saved place and trip of the profile")
    wipe.add_argument("--yes", action="store_true", help="don't ask first")
    made += [forget, rename, wipe]

    memory = sub.add_parser(
        "memory",
        help="what the persona remembers about the driver: list, export, wipe",
        description="Facts the driver asked the persona to remember (driver.remember, off "
        "by default), kept per driver.profile in the driver database.",
    )
    facts = memory.add_subparsers(dest="memory_command", metavar="ACTION", required=True)
    made += [
        facts.add_parser("list", help="every fact, oldest first"),
        facts.add_parser("export", help="every fact as JSON on stdout"),
    ]
    wipe_facts = facts.add_parser("wipe", help="forget every fact of the profile")
    wipe_facts.add_argument("--yes", action="store_true", help="don't ask first")
    made.append(wipe_facts)
    for parser in made:
        settings_flags(parser, "config")
    return {"places": _places, "memory": _memory}


def _store(settings: Settings) -> DriverStore:
    if not settings.driver.save:
        raise UserError(
            "driver.save is off, so nothing is kept between drives (turn it on in "
            "config.toml, [driver] save = true)"
        )
    try:
        store = open_store(settings)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    assert store is not None
    if store.db.notice:
        print(f"companion: {store.db.notice}", file=sys.stderr)
    return store


def _sure(args: Any, question: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UserError(f"{question} Add --yes to confirm when not at a terminal.")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _places(args: Any, settings: Settings) -> int:
    store = _store(settings)
    try:
        places = store.places
        command = args.places_command
        if command == "list":
            saved = places.all()
            print(f"Saved places ({settings.driver.profile}, {database_path(settings)}):")
            for p in saved:
                print(f"  {p.name:24} {p.label}  ({p.lat:.5f}, {p.lon:.5f})")
            if not saved:
                print('  none yet: say "save this place as" and a name')
            recent = places.recent(limit=5)
            if recent:
                print("Recent trips:")
                for v in recent:
                    print(f"  {_when(v.at)}  {v.label}")
        elif command == "export":
            out = {
                "profile": settings.driver.profile,
                "saved": [_row(p) for p in places.all()],
                "recent": [_row(v) for v in places.recent(limit=200)],
            }
            print(json.dumps(out, indent=2, ensure_ascii=False))
        elif command == "forget":
            if not places.forget(args.name):
                raise UserError(_NO_SUCH.format(args.name))
            print(f"Forgot {args.name}.")
        elif command == "rename":
            if not places.rename(args.name, args.new_name):
                raise UserError(_NO_SUCH.format(args.name))
            print(f"Renamed {args.name} to {args.new_name}.")
        elif _sure(args, f"Forget every saved place and trip of {settings.driver.profile}?"):
            print(f"Forgot {places.wipe()} saved places and trips.")
        return 0
    finally:
        store.close()


def _memory(args: Any, settings: Settings) -> int:
    store = _store(settings)
    try:
        memory = store.memory
        command = args.memory_command
        if command == "list":
            state = "on" if settings.driver.remember else "off"
            print(f"Memory of {settings.driver.profile} (driver.remember is {state}):")
            kept = memory.all()
            for fact in kept:
                print(f"  {_when(fact.at)}  {fact.text}")
            if not kept:
                print("  nothing")
        elif command == "export":
            facts = [{"text": f.text, "at": f.at} for f in memory.all()]
            print(
                json.dumps(
                    {"profile": settings.driver.profile, "facts": facts},
                    indent=2,
                    ensure_ascii=False,
                )
            )
        elif _sure(args, f"Forget everything remembered about {settings.driver.profile}?"):
            print(f"Forgot {memory.forget_all()} facts.")
        return 0
    finally:
        store.close()


def _row(p: Any) -> dict[str, Any]:
    return {
        "name": p.name,
        "label": p.label,
        "lat": p.lat,
        "lon": p.lon,
        "address": p.address,
        "category": p.category,
        "at": p.at,
    }


def _when(at: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))
