"""Day and night themes: high contrast in daylight, dim and warm-free at night."""

from __future__ import annotations

from datetime import datetime

from textual.theme import Theme

NIGHT = Theme(
    name="companion-night",
    primary="#3FA7D6",
    secondary="#5C6F82",
    accent="#59CD90",
    warning="#FAC05E",
    error="#EE6352",
    success="#59CD90",
    foreground="#D8DEE9",
    background="#0B0F14",
    surface="#121821",
    panel="#1A2230",
    dark=True,
)

DAY = Theme(
    name="companion-day",
    primary="#0B6E99",
    secondary="#4A5A6A",
    accent="#1B7F4B",
    warning="#9A6700",
    error="#B42318",
    success="#1B7F4B",
    foreground="#101418",
    background="#F4F6F8",
    surface="#FFFFFF",
    panel="#E3E8EE",
    dark=False,
)

THEMES = {"night": NIGHT, "day": DAY}


def theme_for(setting: str, now: datetime) -> str:
    """`auto`: night from 19:00 to 07:00, like a car's headlight-linked display."""
    if setting in THEMES:
        return setting
    return "night" if now.hour >= 19 or now.hour < 7 else "day"
