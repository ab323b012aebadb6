"""The command palette (Ctrl+P): an entry for every action on the screen, and a palette
whose Enter always runs the top entry of what is typed *now*."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider

from ..tts.output import KEY_STEP


class CarPalette(CommandPalette):
    """Textual's palette, with Enter made predictable: it waits for the search of the words
    typed so far (Enter typed quickly used to run the top entry of an earlier, shorter
    search, or nothing), and on an untouched palette it runs the first entry (Talk: the
    screen offers only its own provider, so that entry is always the same) instead of
    needing Down first."""

    def _select_or_command(self, event: Any = None) -> None:
        if event is not None:
            event.stop()
        gathering = [
            worker
            for worker in self.workers
            if worker.group == self._GATHER_COMMANDS_GROUP and not worker.is_finished
        ]
        if gathering:
            self.run_worker(self._when_gathered(gathering), group="enter", exclusive=True)
        else:
            self._run_top()

    async def _when_gathered(self, gathering: list[Any]) -> None:
        await self.workers.wait_for_complete(gathering)
        self._run_top()

    def _run_top(self) -> None:
        commands = self.query_one(CommandList)
        if self._selected_command is None and commands.option_count:
            if commands.highlighted is None:
                commands.highlighted = 0
            self._list_visible = True
        super()._select_or_command(None)


class CompanionCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        # The CompanionApp: not imported, since it imports this module (no cycles).
        app: Any = self.app
        out: list[tuple[str, Callable[[], object], str]] = [
            ("Talk (push to talk)", app.action_talk, "Open the microphone"),
            ("Stop talking", app.action_stop, "Interrupt the reply"),
            ("Cancel route", partial(app.submit, "cancel the route"), "Navigation"),
            (
                "How long until we get there",
                partial(app.submit, "how long until we get there"),
                "Navigation",
            ),
            ("Saved places", app.action_saved_places, "Navigation"),
            ("Toggle kids mode", app.action_toggle_kids, "Safety"),
            ("Toggle mature content", app.action_toggle_mature, "Safety"),
            ("Mute / unmute", app.action_mute, "Speech"),
            ("Louder", partial(app.action_volume, KEY_STEP), "Speech"),
            ("Quieter", partial(app.action_volume, -KEY_STEP), "Speech"),
            ("Warmer", partial(app.action_climate, 0.5), "Climate"),
            ("Cooler", partial(app.action_climate, -0.5), "Climate"),
            ("Open settings", app.action_settings, "Settings"),
            ("Dismiss the banner", app.dismiss_banner, "Display"),
            ("Choose a persona", app.action_pick_persona, "Personas"),
            ("Toggle day / night theme", app.action_toggle_theme, "Display"),
            ("Show the keys", app.action_show_help_panel, "Help"),
            ("Quit", app.action_quit, "Leave companion"),
        ]
        session = app.session
        for persona in sorted(session.cast.values(), key=lambda p: p.name):
            lock = session.allowed(persona)
            locked = {
                "kids_mode": " (locked: kids mode)",
                "mature": " (locked: needs mature content)",
            }.get(lock or "", "")
            out.append(
                (
                    f"Switch persona: {persona.name}{locked}",
                    partial(app.pick, persona.id),
                    persona.description,
                )
            )
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        # The CompanionApp: not imported, since it imports this module (no cycles).
        app: Any = self.app
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        words = query.strip()
        if words:  # "Navigate to <whatever was typed>" and "Search for it"
            place = words.removeprefix("navigate to ").removeprefix("go to ").strip()
            yield Hit(
                0.5,
                f"Navigate to {place}",
                partial(app.submit, f"take me to {place}"),
                help="Navigation",
            )
            yield Hit(
                0.4, f"Look up {words}", partial(app.submit, f"look up {words}"), help="Search"
            )
