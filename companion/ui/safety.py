"""The safety switches on the car screen (F3 kids mode, F4 mature content): never by voice.
Kids mode turns on at once and off only with the PIN and a confirmation; mature content
needs a confirmation and stays off in kids mode."""

from __future__ import annotations

from typing import Any

from .screens.confirm import Confirm


def toggle_kids_mode(app: Any) -> None:
    """F3: on at once; off only with the PIN (when one is set) and a confirmation."""
    if not app.session.kids_mode:
        app.assistant.set_kids_mode(True)
        return

    def answered(yes: bool | None) -> None:
        if yes:
            app.assistant.set_kids_mode(False)

    pin = app.settings.safety.pin.reveal()
    app.push_screen(
        Confirm(
            "Turn kids mode off? Grown-up personas become available again.",
            "Turn off",
            "Keep on",
            pin,
        ),
        answered,
    )


def toggle_mature_content(app: Any) -> None:
    """F4: off at once; on only after the driver confirms they are an adult, never in kids
    mode."""
    if app.session.kids_mode:
        app.panel.notice("Mature content stays off in kids mode.")
        return
    if app.session.mature_content:
        app.assistant.set_mature_content(False)
        return

    def answered(yes: bool | None) -> None:
        if yes:
            app.assistant.set_mature_content(True)

    app.push_screen(
        Confirm("Allow mature personas (for adults only)?", "Allow", "Cancel"), answered
    )
