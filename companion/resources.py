"""Where the files that ship with companion are, installed or in a checkout, and where the
user's own files go.

Shipped files (the persona cast and its dialogue tests, earcons, sample places, the offline
knowledge base, JSON Schemas) live at the top of the source checkout (`personas/`, `assets/`)
so designers find them; the wheel carries them as package data under `companion/bundled/`
(see `[tool.setuptools]` in pyproject.toml), read through `importlib.resources`. The same
code finds either: the package's copy first, else the checkout's.

The user's own files follow the platform's conventions (platformdirs): personas in
`~/.config/companion/personas` on Linux, logs in `~/.local/state/companion/log`.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import platformdirs

APP = "companion"
CHECKOUT = Path(__file__).resolve().parent.parent  # the source tree, when run from one


def bundled(name: str) -> Path:
    """The shipped folder `name` ("personas" or "assets"): the installed package's copy,
    else the checkout's."""
    installed = Path(str(importlib.resources.files("companion"))) / "bundled" / name
    if installed.is_dir():
        return installed
    return CHECKOUT / name


BUNDLED_PERSONAS = bundled("personas")
BUNDLED_DIALOGUES = BUNDLED_PERSONAS / "dialogues"  # one dialogue test per shipped persona
ASSETS = bundled("assets")
SCHEMAS = Path(__file__).resolve().parent / "schemas"  # generated; see companion/schemas


def user_personas() -> Path:
    """The user's own persona folder; files here override shipped ones by id."""
    return platformdirs.user_config_path(APP) / "personas"


def installed() -> bool:
    """Running from an installed package (True) or a source checkout (False)?"""
    return not BUNDLED_PERSONAS.is_relative_to(CHECKOUT / "personas")


def writable_personas() -> Path:
    """Where `personas new` and `personas import` write: in a checkout its personas/ folder
    (designers add to the cast), installed the user's own folder (never site-packages)."""
    return user_personas() if installed() else BUNDLED_PERSONAS


def user_log_dir() -> Path:
    return platformdirs.user_log_path(APP)
