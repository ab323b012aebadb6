"""LLM tool calling for the long tail: what the local recogniser called conversation may still
be a navigation or search request ("I could murder a flat white", "somewhere my dog can run
around"). In conversation turns the persona's model is offered these tools; a call comes back
as an `Intent`, and the pipeline hands it to the same navigator and searcher, after the same
checks, as a locally recognised one. Persona switches and safety settings are deliberately
not tools: those only ever go through the router and the session's gates.
"""

from __future__ import annotations

from typing import Any

from . import Intent
from .slots import CATEGORIES, CUISINES

_PLACE_CATEGORIES = sorted(c for c in CATEGORIES if c not in ("home", "friend"))


def _tool(
    name: str,
    description: str,
    properties: dict[str, Any] | None = None,
    required: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties or {},
                "required": required or [],
            },
        },
    }


TOOLS: list[dict[str, Any]] = [
    _tool(
        "navigate_to",
        "Start navigation to a named place, street address, city or airport.",
        {"place": {"type": "string", "description": "the place as the driver named it"}},
        ["place"],
    ),
    _tool(
        "find_nearby",
        "Find places of a kind near the car (and navigate to the nearest).",
        {
            "category": {"type": "string", "enum": _PLACE_CATEGORIES},
            "cuisine": {
                "type": "string",
                "enum": sorted(CUISINES),
                "description": "for restaurants: the kind of food",
            },
            "nearest": {"type": "boolean", "description": "go straight to the nearest one"},
        },
        ["category"],
    ),
    _tool(
        "add_stop",
        "Add a stop on the way to the current destination.",
        {
            "place": {"type": "string", "description": "a named place, if the driver named one"},
            "category": {"type": "string", "enum": _PLACE_CATEGORIES},
        },
    ),
    _tool("cancel_route", "Cancel the active navigation."),
    _tool("trip_status", "How long and how far until the destination."),
    _tool("where_am_i", "Where the car is now."),
    _tool(
        "search",
        "Look something up: the car's owner's manual first, then the web.",
        {"query": {"type": "string"}},
        ["query"],
    ),
]

_INTENTS = {
    "navigate_to": "navigation.start",
    "find_nearby": "navigation.find_nearby",
    "add_stop": "navigation.add_stop",
    "cancel_route": "navigation.cancel",
    "trip_status": "navigation.eta",
    "where_am_i": "navigation.where_am_i",
    "search": "search.lookup",
}


def intent_for(name: str, arguments: dict[str, Any], call_id: str = "") -> Intent | None:
    """The intent a tool call stands for, or None when it is not one of ours or malformed.
    A call to one of the driver's own tools (`SERVER__TOOL`, companion.mcp) is `tools.call`."""
    if "__" in name:
        return Intent("tools.call", {"tool": name, "arguments": arguments, "call_id": call_id}, 0.8)
    intent = _INTENTS.get(name)
    if intent is None:
        return None
    slots: dict[str, Any] = {"via": "tool"}
    for key in ("place", "query"):
        value = arguments.get(key)
        if isinstance(value, str) and value.strip():
            slots[key] = value.strip()
    category = arguments.get("category")
    if isinstance(category, str) and category in _PLACE_CATEGORIES:
        slots["category"] = category
    cuisine = arguments.get("cuisine")
    if isinstance(cuisine, str) and cuisine in CUISINES and slots.get("category") == "restaurant":
        slots["cuisine"] = cuisine
    if arguments.get("nearest") is True:
        slots["nearest"] = True
    needs = {
        "navigation.start": "place",
        "navigation.find_nearby": "category",
        "search.lookup": "query",
    }.get(intent)
    if needs and needs not in slots:
        return None
    if intent == "navigation.add_stop" and not ({"place", "category"} & set(slots)):
        return None
    return Intent(intent, slots, 0.8)
