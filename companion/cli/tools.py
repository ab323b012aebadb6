"""Looking inside: `nlu` (what the router makes of an utterance), `config` (the effective
settings and where they come from) and `tools` (the driver's own MCP tool servers)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..config import format_settings, load_settings
from ..llm.resolve import resolve_endpoint
from ..logs import log_path
from .common import UserError, add_settings_flags, library_for, settings_from


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Any]:
    _add_nlu(sub)
    _add_config(sub)
    _add_tools(sub)
    return {"nlu": _cmd_nlu, "config": _cmd_config, "tools": _cmd_tools}


def _add_tools(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tools = sub.add_parser(
        "tools",
        help="the driver's own tool servers (MCP): their state and tools",
        description="Starts each [mcp.servers.NAME] of the config file, lists its tools and "
        "stops it again. A tool marked 'asks first' changes something: the driver is asked "
        "before each call, and kids mode never offers it. Exit status 1 when a server fails.",
    )
    actions = tools.add_subparsers(dest="tools_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="servers, their state and their tools")
    listing.add_argument("--json", action="store_true", help="as JSON")
    add_settings_flags(listing, "config")


def _add_nlu(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    nlu = sub.add_parser(
        "nlu",
        help="print the intent and slots the router finds in an utterance",
        description="Runs the router (offline, no LLM) on one utterance, or with --jsonl on "
        "one utterance per line of standard input, writing one JSON object per line: "
        '{"text", "intent", "slots", "confidence"} (and "parts", each part\'s text, intent '
        "and slots in the order said, when the line holds several requests). A --jsonl "
        "line may also be what "
        "`companion transcribe --json` prints (or one of its utterances): the recogniser's "
        'alternatives are then weighed as in the car, and "reading" names the one taken.',
    )
    nlu.add_argument("text", nargs="*", help="the utterance (quote it, or give the words)")
    nlu.add_argument(
        "--jsonl",
        action="store_true",
        help="read utterances from stdin, one per line; write JSON lines",
    )
    add_settings_flags(nlu, "persona")


def _add_config(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = sub.add_parser("config", help="show the effective settings")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = config_sub.add_parser("show", help="print settings with their sources, keys masked")
    add_settings_flags(show)
    config_sub.add_parser("path", help="print where the config file is looked for")


def _readings(line: str) -> list[tuple[str, tuple[str, ...]]]:
    """A --jsonl line as (text, alternatives) pairs: plain words, or `companion transcribe
    --json` output (a file's record with its utterances, or one utterance)."""
    try:
        record = json.loads(line) if line.startswith("{") else None
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return [(line, ())]
    found = record.get("utterances")
    items = found if isinstance(found, list) else [record]
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("text"), str) and item["text"].strip():
            alternatives = item.get("alternatives")
            others = alternatives if isinstance(alternatives, list) else []
            out.append((item["text"].strip(), tuple(a for a in others if isinstance(a, str))))
    return out


def _cmd_nlu(args: argparse.Namespace) -> int:
    from ..router import route
    from ..router.heard import route_heard

    settings = settings_from(args)
    cast = list(library_for(settings).personas.values())

    def record(text: str, alternatives: tuple[str, ...] = ()) -> dict[str, Any]:
        if alternatives:
            intent, reading = route_heard((text, *alternatives), cast)
        else:
            intent, reading = route(text, cast), text
        slots = intent.slots
        # The slots people look for most, at the top level too (absent when not said).
        top = {
            "destination": slots.get("place"),
            "category": slots.get("category"),
            "cuisine": slots.get("cuisine"),
            "distance": slots.get("distance"),
            "persona": slots.get("persona") if intent.name == "persona.switch" else None,
        }
        return {
            "text": text,
            **({"reading": reading} if reading != text else {}),
            "intent": intent.name,
            "slots": slots,
            "confidence": intent.confidence,
            **{key: value for key, value in top.items() if value is not None},
            **(
                {
                    "parts": [
                        {"text": words, "intent": part.name, "slots": part.slots}
                        for words, part in zip(intent.part_texts, intent.parts, strict=True)
                    ]
                }
                if intent.parts
                else {}
            ),
        }

    if args.jsonl:
        if args.text:
            raise UserError("--jsonl reads utterances from standard input; give no text")
        for line in sys.stdin:
            for text, alternatives in _readings(line.strip()) if line.strip() else ():
                print(json.dumps(record(text, alternatives), ensure_ascii=False), flush=True)
        return 0
    if not args.text:
        raise UserError(
            'give an utterance, e.g. companion nlu "take me to the nearest '
            'charger", or use --jsonl with one utterance per line on stdin'
        )
    result = record(" ".join(args.text))
    for part in result.get("parts", [result]):  # several requests: a line each, in order
        slots = ", ".join(f"{k}={v}" for k, v in part["slots"].items())
        confidence = f"  ({result['confidence']:.2f})" if part is result else ""
        print(f"{part['intent']}{confidence}{'  ' + slots if slots else ''}")
    return 0


def _cmd_tools(args: argparse.Namespace) -> int:
    import asyncio

    from ..mcp import listing

    settings = settings_from(args)
    if not settings.mcp_servers:
        print(listing.HOW_TO_ADD.format(config=settings.config_file))
        return 0
    servers = asyncio.run(listing.survey(settings.mcp_servers.values(), log_path().parent))
    print(listing.as_json(servers) if args.json else listing.as_text(servers))
    return 1 if any(s["state"] == "failed" for s in servers) else 0


def _cmd_config(args: argparse.Namespace) -> int:
    if args.config_command == "path":
        settings = load_settings(config_path=None, flags={})
        print(settings.config_file)
        return 0
    settings = settings_from(args)
    print(format_settings(settings, resolve_endpoint(settings), log_path()))
    return 0
