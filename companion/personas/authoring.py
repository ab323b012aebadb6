"""Designer tools: new persona files, character-card import/export, live reload.

Character cards are the community formats SillyTavern and most chat front ends share:
Character Card V3 (`spec: chara_card_v3`) and V2 (`chara_card_v2`), as JSON, embedded in a PNG
(a `tEXt`/`iTXt`/`zTXt` chunk holding base64 JSON: `ccv3` for V3, `chara` for V2; V3 wins when
both are there) or as a CHARX archive (a zip with `card.json`). V1 cards (the same fields at
the top level) import too. Export writes V2 JSON, or a PNG carrying both V2 and V3 chunks, and
keeps our own fields under `data.extensions.companion`, so a persona survives the round trip.
"""

from __future__ import annotations

import base64
import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, cast

from ..text import clean_data
from .loader import RATINGS, Persona, PersonaError, load_personas, slug

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"
CARD_SPECS = ("chara_card_v2", "chara_card_v3")
MAX_CARD_TEXT = 4 * 1024 * 1024  # a card's JSON, decompressed; real cards are a few KiB


class CardError(Exception):
    """A character card could not be read; the message says what is wrong with which file."""


def _toml_string(value: str) -> str:
    if "\n" in value and "'''" not in value:
        return "'''\n" + value.strip("\n") + "\n'''"
    return json.dumps(value, ensure_ascii=False)


def render_persona(
    *,
    persona_id: str,
    name: str,
    description: str,
    system_prompt: str,
    greeting: str,
    rating: str = "everyone",
    kids_safe: bool = False,
    aliases: list[str] | None = None,
    examples: list[tuple[str, str]] | None = None,
    voice: dict[str, Any] | None = None,
    max_sentences: int = 3,
    temperature: float = 0.7,
    header: str = "",
) -> str:
    """A complete, commented persona file."""
    voice = {"id": "", "rate": 175, "pitch": 50, "volume": 1.0, **(voice or {})}
    prompt = system_prompt if "\n" in system_prompt else system_prompt + "\n"
    intro = header or "A companion persona. Every key is explained in docs/PERSONAS.md."
    lines = [
        f"# {intro}",
        "# Check it with `companion personas check` and hear it with "
        f'`companion personas try {persona_id} "hello"`.',
        "",
        f"id = {_toml_string(persona_id)}              # must match the file name",
        f"name = {_toml_string(name)}",
        f"description = {_toml_string(description)}",
        f"rating = {_toml_string(rating)}          # everyone | teen | mature",
        f"kids_safe = {'true' if kids_safe else 'false'}          # may kids mode use it?",
        f"aliases = {json.dumps(aliases or [], ensure_ascii=False)}  # other names drivers say",
        "",
        "# Said in this persona's voice when the driver switches to it.",
        f"greeting = {_toml_string(greeting)}",
        "",
        "# Who the persona is. The driver hears the replies while driving: keep them short.",
        f"system_prompt = {_toml_string(prompt)}",
        "",
    ]
    for user, assistant in examples or []:
        lines += [
            "[[examples]]",
            f"user = {_toml_string(user)}",
            f"assistant = {_toml_string(assistant)}",
            "",
        ]
    lines += [
        "[voice]",
        f"id = {_toml_string(voice['id'])}          # `espeak-ng --voices`; empty: default",
        f"rate = {int(voice['rate'])}           # words per minute",
        f"pitch = {int(voice['pitch'])}           # 0 to 100",
        f"volume = {float(voice['volume'])}         # 0.0 to 1.0",
        "",
        "[style]",
        f"max_sentences = {max_sentences}     # the longest reply while driving",
        "",
        "[generation]",
        f"temperature = {temperature}",
        "",
    ]
    return "\n".join(lines)


def new_persona_text(persona_id: str, name: str | None = None) -> str:
    name = name or persona_id.replace("_", " ").title()
    return render_persona(
        persona_id=persona_id,
        name=name,
        description=f"One line about {name}: what drivers get from it.",
        system_prompt=(
            f"You are {name}, a voice in the driver's car.\n"
            "Describe the personality here: how it talks, what it cares about, what it avoids.\n"
            "Keep the driver safe: never ask them to look at a screen or do anything unsafe.\n"
        ),
        greeting=f"Hi, this is {name}. What shall we talk about?",
        aliases=[name.lower()],
        examples=[("Say something in your style.", "Replace this with a typical short reply.")],
    )


# --- character cards -------------------------------------------------------------------------


def _inflate(data: bytes) -> bytes:
    """zlib data, refusing more than MAX_CARD_TEXT (a small chunk can unpack to gigabytes)."""
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_CARD_TEXT)
    if inflater.unconsumed_tail:
        raise ValueError("too large")
    return out


def _png_text_chunks(data: bytes, path: Path) -> dict[str, str]:
    """The PNG's text chunks (tEXt, zTXt, iTXt) by keyword."""
    chunks: dict[str, str] = {}
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind not in (b"tEXt", b"zTXt", b"iTXt"):
            if kind == b"IEND":
                break
            continue
        key, _, rest = body.partition(b"\0")
        keyword = key.decode("latin-1")
        try:
            if kind == b"tEXt":
                text = rest
            elif kind == b"zTXt":  # compression method byte, then zlib data
                text = _inflate(rest[1:])
            else:  # iTXt: compressed flag, method, language\0, translated keyword\0, text
                if len(rest) < 2:
                    raise ValueError("truncated")
                compressed, rest = rest[0], rest[2:]
                _lang, _, rest = rest.partition(b"\0")
                _translated, _, text = rest.partition(b"\0")
                text = _inflate(text) if compressed else text
            chunks[keyword] = text.decode("latin-1" if kind != b"iTXt" else "utf-8")
        except (zlib.error, UnicodeDecodeError, ValueError):
            raise CardError(
                f"{path}: the PNG's '{keyword}' text is damaged; export the card again"
            ) from None
    return chunks


def _card_text(raw: bytes, path: Path) -> str:
    """The card's JSON text from a PNG, a CHARX archive or a JSON file."""
    if raw.startswith(PNG_SIGNATURE):
        chunks = _png_text_chunks(raw, path)
        keyword = "ccv3" if "ccv3" in chunks else "chara"  # V3 first, as the V3 spec says
        if keyword not in chunks:
            raise CardError(
                f"{path}: this PNG has no character card in it (no 'ccv3' or 'chara' chunk)"
            )
        try:
            return base64.b64decode(chunks[keyword], validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise CardError(f"{path}: the '{keyword}' chunk is not base64 JSON") from None
    if raw.startswith(ZIP_SIGNATURE):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                info = archive.getinfo("card.json")
                if info.file_size > MAX_CARD_TEXT:
                    raise CardError(f"{path}: card.json is too large to be a character card")
                return archive.read(info).decode("utf-8", errors="replace")
        except KeyError:
            raise CardError(f"{path}: this archive has no card.json (not a CHARX card)") from None
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError):
            raise CardError(f"{path}: the CHARX archive is damaged; export it again") from None
    return raw.decode("utf-8", errors="replace")


def read_card(path: Path) -> dict[str, Any]:
    """The card's fields (the V3/V2 `data` object, or a V1 card's top level)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CardError(f"{path}: cannot be read ({exc.strerror})") from None
    text = _card_text(raw, path)
    try:
        card = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CardError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise CardError(
            f"{path}: the card's JSON is nested too deeply to be a character "
            "card; export it again from the tool that made it"
        ) from None
    if not isinstance(card, dict):
        raise CardError(f"{path}: a character card must be a JSON object")
    card = cast(dict[str, Any], clean_data(card))  # lone surrogates would break writing it
    spec = card.get("spec")
    if spec is not None and spec not in CARD_SPECS:
        raise CardError(
            f"{path}: a '{spec}' card; companion reads {' and '.join(CARD_SPECS)} (and V1) "
            "cards: export it in one of those"
        )
    data: dict[str, Any] = card["data"] if isinstance(card.get("data"), dict) else card
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise CardError(f"{path}: the card has no name")
    return data


def _macros(text: str, name: str) -> str:
    text = re.sub(r"\{\{\s*char\s*\}\}|<BOT>", name, text or "", flags=re.IGNORECASE)
    text = re.sub(r"\{\{\s*user\s*\}\}|<USER>", "the driver", text, flags=re.IGNORECASE)
    return re.sub(r"\{\{\s*original\s*\}\}", "", text).strip()


_SPEAKER = r"(?:\{\{user\}\}|\{\{char\}\}|<USER>|<BOT>)"
_TURN = re.compile(rf"({_SPEAKER}):\s*(.*?)(?=\n\s*{_SPEAKER}:|\Z)", re.IGNORECASE | re.DOTALL)


def _examples(mes_example: str, name: str) -> list[tuple[str, str]]:
    pairs = []
    for block in re.split(r"<START>", mes_example or "", flags=re.IGNORECASE):
        turns = _TURN.findall(block)
        user = None
        for who, said in turns:
            said = _macros(said, name)
            if who.lower() in ("{{user}}", "<user>"):
                user = said
            elif user is not None and said:
                pairs.append((user, said))
                user = None
    return pairs


def card_to_persona_text(data: dict[str, Any]) -> tuple[str, str]:
    """(persona id, TOML text) for a card's fields."""
    name = data["name"].strip()
    called = str(data.get("nickname") or "").strip() or name  # V3: {{char}} is the nickname
    ours = (data.get("extensions") or {}).get("companion") or {}
    persona_id = ours.get("id") or slug(name)
    parts = [_macros(data.get("system_prompt", ""), called)]
    if data.get("description"):
        parts.append(_macros(data["description"], called))
    if data.get("personality"):
        parts.append("Personality: " + _macros(data["personality"], called))
    if data.get("scenario"):
        parts.append("Scenario: " + _macros(data["scenario"], called))
    if data.get("post_history_instructions"):
        parts.append(_macros(data["post_history_instructions"], called))
    system_prompt = "\n\n".join(p for p in parts if p) or f"You are {name}."
    if not ours:  # a card from elsewhere: tell the model it now lives in a car
        system_prompt += (
            "\n\nYou are now talking to a driver through the car's speakers: "
            "keep replies short and never distract them from the road."
        )
    tags = [str(t).lower() for t in data.get("tags") or []]
    # A card's claims are only claims: the stricter of its rating and its tags, and never
    # kids-safe (the designer decides that in our TOML after reading it). The loader then
    # raises the rating further if the words call for it.
    by_tags = "mature" if {"nsfw", "mature", "adult"} & set(tags) else "everyone"
    claimed = str(ours["rating"]) if ours.get("rating") in RATINGS else "teen"
    rating = max(claimed, by_tags, key=RATINGS.index)
    notes = _macros(data.get("creator_notes", ""), called).split("\n")[0]
    description = ours.get("description") or notes[:120] or f"{name}, imported from a card."
    return persona_id, render_persona(
        persona_id=persona_id,
        name=name,
        description=description,
        system_prompt=system_prompt,
        greeting=_macros(data.get("first_mes", ""), called) or f"Hi, I'm {name}.",
        rating=rating,
        kids_safe=False,
        aliases=list(ours.get("aliases") or [name.lower()]),
        examples=_examples(data.get("mes_example", ""), called),
        voice=ours.get("voice"),
        max_sentences=int(ours.get("max_sentences", 3)),
        temperature=float(ours.get("temperature", 0.7)),
        header=(
            f"Imported from the character card of {name}; review before use. Imported "
            "personas are never kids-safe: set kids_safe = true yourself only after "
            "reading every line."
        ),
    )


def persona_to_card(persona: Persona) -> dict[str, Any]:
    examples = "".join(
        f"<START>\n{{{{user}}}}: {user}\n{{{{char}}}}: {assistant}\n"
        for user, assistant in persona.examples
    )
    return {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": persona.name,
            "description": "",
            "personality": "",
            "scenario": "",
            "first_mes": persona.greeting,
            "mes_example": examples,
            "creator_notes": persona.description,
            "system_prompt": persona.system_prompt.strip(),
            "post_history_instructions": "",
            "alternate_greetings": [],
            "tags": [persona.rating, *(["nsfw"] if persona.rating == "mature" else [])],
            "creator": "companion",
            "character_version": "",
            "extensions": {
                "companion": {
                    "id": persona.id,
                    "description": persona.description,
                    "rating": persona.rating,
                    "kids_safe": persona.kids_safe,
                    "aliases": list(persona.aliases),
                    "voice": {
                        "id": persona.voice.id,
                        "rate": persona.voice.rate,
                        "pitch": persona.voice.pitch,
                        "volume": persona.voice.volume,
                    },
                    "max_sentences": persona.max_sentences,
                    "temperature": persona.temperature if persona.temperature is not None else 0.7,
                }
            },
        },
    }


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def as_v3(card: dict[str, Any]) -> dict[str, Any]:
    """The same card in Character Card V3 form (V3 adds fields; it removes none)."""
    data = {"group_only_greetings": [], **card["data"]}
    return {**card, "spec": "chara_card_v3", "spec_version": "3.0", "data": data}


def card_png(card: dict[str, Any], size: int = 64) -> bytes:
    """A small square PNG (a colour from the name) carrying the card twice, as the V3 spec
    asks: V2 in a `chara` chunk for older readers, V3 in a `ccv3` chunk."""
    hue = zlib.crc32(card["data"]["name"].encode()) & 0xFFFFFF
    pixel = bytes(((hue >> 16) & 255, (hue >> 8) & 255, hue & 255))
    rows = b"".join(b"\0" + pixel * size for _ in range(size))

    def text_chunk(keyword: bytes, value: dict[str, Any]) -> bytes:
        encoded = base64.b64encode(json.dumps(value, ensure_ascii=False).encode())
        return _png_chunk(b"tEXt", keyword + b"\0" + encoded)

    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + text_chunk(b"chara", card)
        + text_chunk(b"ccv3", as_v3(card))
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


# --- live reload ---------------------------------------------------------------------------


class PersonaLibrary:
    """The cast, loaded from folders, reloaded when a file changes on disk.

    A file that becomes invalid is reported and its last good version kept.
    """

    def __init__(self, *folders: Path) -> None:
        self.folders = folders
        self.personas, self.problems = load_personas(*folders)
        self._stamp = self._snapshot()

    def _snapshot(self) -> dict[Path, int]:
        stamp = {}
        for folder in self.folders:
            if folder.is_dir():
                for path in folder.glob("*.toml"):
                    try:
                        stamp[path] = path.stat().st_mtime_ns
                    except OSError:
                        continue
        return stamp

    def reload_if_changed(self) -> list[PersonaError] | None:
        """None when nothing changed; else the problems of the new load (maybe empty)."""
        stamp = self._snapshot()
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        personas, problems = load_personas(*self.folders)
        for problem in problems:
            old = self.personas.get(problem.path.stem)
            if old is not None and problem.path.stem not in personas:
                personas[old.id] = old  # keep the last good version
        self.personas, self.problems = personas, problems
        return problems
