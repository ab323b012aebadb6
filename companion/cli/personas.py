"""`companion personas`: the designer's tools (list, check, new, try, import, export,
schema)."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

from ..personas.authoring import (
    CardError,
    card_png,
    card_to_persona_text,
    new_persona_text,
    persona_to_card,
    read_card,
)
from ..personas.loader import check_personas, slug
from ..resources import BUNDLED_PERSONAS, writable_personas
from ..schema import suggest
from .common import UserError, add_settings_flags, library_for, session_for, settings_from


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Any]:
    personas = sub.add_parser(
        "personas", help="designer tools: list, check, new, try, import, export"
    )
    actions = personas.add_subparsers(dest="personas_command", metavar="ACTION")
    listing = actions.add_parser("list", help="id, name, rating, voice: one line each")
    add_settings_flags(listing, "persona", "safety")
    check = actions.add_parser("check", help="validate persona files (default: all of them)")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    new = actions.add_parser("new", help="write a commented persona file to fill in")
    new.add_argument("name", help='the persona\'s name, e.g. "Road Trip DJ"')
    new.add_argument(
        "--dir", type=Path, default=None, help=f"folder (default: {writable_personas()})"
    )
    try_ = actions.add_parser("try", help="one reply from a persona, streamed and spoken")
    try_.add_argument("persona_id", metavar="ID")
    try_.add_argument("text")
    try_.add_argument("--mute", action="store_true", help="do not speak")
    add_settings_flags(try_, "llm", "safety")
    try_.add_argument("--output-device", metavar="DEV", help="audio output: index or name")
    imp = actions.add_parser("import", help="character card (JSON or PNG) to a persona file")
    imp.add_argument("card", type=Path)
    imp.add_argument(
        "--dir", type=Path, default=None, help=f"folder (default: {writable_personas()})"
    )
    imp.add_argument("--force", action="store_true", help="overwrite an existing file")
    exp = actions.add_parser("export", help="persona to a character card (.json or .png)")
    exp.add_argument("persona_id", metavar="ID")
    exp.add_argument("output", type=Path)
    schema = actions.add_parser(
        "schema",
        help="print the JSON Schema of persona (or dialogue) files, for editors",
        description="Editors that validate TOML (Taplo, VS Code's Even Better TOML) check a "
        "file as you type when its first line is `#:schema PATH`; --path prints that PATH.",
    )
    schema.add_argument("kind", nargs="?", choices=("persona", "dialogue"), default="persona")
    schema.add_argument(
        "--path", action="store_true", help="print where the shipped schema file is instead"
    )
    add_settings_flags(exp, "safety")
    return {"personas": _cmd_personas}


def _cmd_personas(args: argparse.Namespace) -> int:
    action = args.personas_command or "list"
    handlers = {
        "list": _personas_list,
        "check": _personas_check,
        "new": _personas_new,
        "try": _personas_try,
        "import": _personas_import,
        "export": _personas_export,
        "schema": _personas_schema,
    }
    return handlers[action](args)


def _personas_schema(args: argparse.Namespace) -> int:
    from ..schemas import schema_path, schema_text

    print(
        schema_path(args.kind) if args.path else schema_text(args.kind),
        end="\n" if args.path else "",
    )
    return 0


def _personas_list(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    library = library_for(settings)
    session = session_for(settings, library.personas) if library.personas else None
    for persona in sorted(library.personas.values(), key=lambda p: p.id):
        marker = "*" if persona.id == settings.persona.default else " "
        lock = session.allowed(persona) if session else None
        locked = {"kids_mode": " [locked: kids mode]", "mature": " [locked: mature off]"}
        voice = f"{persona.voice.id or 'default'} {persona.voice.rate}wpm p{persona.voice.pitch}"
        print(
            f"{marker} {persona.id:<18} {persona.name:<18} {persona.rating:<8} "
            f"{voice:<28} {persona.description}{locked.get(lock or '', '')}"
        )
    return 1 if library.problems else 0


def _personas_check(args: argparse.Namespace) -> int:
    paths = args.paths or [BUNDLED_PERSONAS]
    for path in paths:
        if not path.exists():
            raise UserError(f"{path}: no such file or folder")
    problems = check_personas(*paths, base=(BUNDLED_PERSONAS,))
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    checked = sum(len(list(p.glob("*.toml"))) if p.is_dir() else 1 for p in paths)
    print(f"{checked} persona files checked: {errors} errors, {warnings} warnings")
    return 1 if errors else 0


def _personas_new(args: argparse.Namespace) -> int:
    folder = args.dir or writable_personas()
    persona_id = slug(args.name)
    path = folder / f"{persona_id}.toml"
    if path.exists():
        raise UserError(f"{path} already exists; pick another name or edit that file")
    folder.mkdir(parents=True, exist_ok=True)
    name = args.name if args.name != args.name.lower() else args.name.replace("_", " ").title()
    path.write_text(new_persona_text(persona_id, name), encoding="utf-8")
    print(
        f"wrote {path}\nnext: edit it, then `companion personas check {path}` and "
        f'`companion personas try {persona_id} "hello"`'
    )
    return 0


def _personas_try(args: argparse.Namespace) -> int:
    from ..chat import run_chat

    args.persona = args.persona_id
    settings = settings_from(args)
    session = session_for(settings, library_for(settings).personas)
    if session.active.id != args.persona_id:
        raise UserError(session.start_notice or f"cannot use {args.persona_id}")
    return run_chat(settings, session, stdin=io.StringIO(args.text + "\n"), banner=False)


def _personas_import(args: argparse.Namespace) -> int:
    try:
        persona_id, text = card_to_persona_text(read_card(args.card))
    except CardError as exc:
        raise UserError(str(exc)) from None
    folder = args.dir or writable_personas()
    path = folder / f"{persona_id}.toml"
    if path.exists() and not args.force:
        raise UserError(f"{path} already exists; use --force to overwrite it")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    problems = check_personas(path, base=(BUNDLED_PERSONAS,))
    for problem in problems:
        print(problem)
    print(f"wrote {path}")
    return 1 if any(p.severity == "error" for p in problems) else 0


def _personas_export(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    personas = library_for(settings).personas
    persona = personas.get(args.persona_id)
    if persona is None:
        raise UserError(f'unknown persona "{args.persona_id}".{suggest(args.persona_id, personas)}')
    card = persona_to_card(persona)
    if args.output.suffix.lower() == ".png":
        args.output.write_bytes(card_png(card))
    else:
        args.output.write_text(
            json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    print(f"wrote {args.output}")
    return 0
