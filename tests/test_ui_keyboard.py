"""The car screen's keyboard and focus, tried as a new user would (issue: "the keyboard
fights the user"): one test per problem found. Keys typed faster than the screen refreshes
are sent as one burst of key events, as a fast typist or a paste delivers them."""

from __future__ import annotations

from textual import events
from textual.widgets import Button, Input, OptionList, Static

from companion.audio.playback import AudioOutputError
from companion.events import Status
from companion.llm.client import OFFLINE_SPOKEN
from companion.redaction import Secret
from companion.ui.commands import CarPalette
from companion.ui.screens.confirm import Confirm
from companion.ui.screens.persona_picker import PersonaPicker
from companion.ui.screens.settings import SettingsScreen
from companion.ui.widgets.assistant_panel import StateLine
from companion.ui.widgets.banner import Banner
from tests.ui_helpers import make_app, nav_text, transcript_text, wait_until

NO_MIC = "No microphone is listening"


def burst(app, text: str) -> None:
    """Keys posted all at once, before the screen gets a chance to refresh or move focus."""
    for char in text:
        app.post_message(events.Key("space" if char == " " else char, char))


def prompt(app) -> Input:
    return app.query_one("#prompt", Input)


async def test_typing_at_start_up_keeps_its_spaces_and_never_opens_the_microphone(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        burst(app, "tell me a fun fact")
        await pilot.pause(0.3)
        assert prompt(app).value == "tell me a fun fact"
        assert NO_MIC not in transcript_text(app)
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "You: tell me a fun fact" in transcript_text(app), what="the typed turn"
        )
        # After Esc (which leaves the prompt line) typing goes back to it, spaces included.
        await pilot.press("escape")
        assert app.focused is not prompt(app)
        burst(app, "where am i")
        await pilot.pause(0.3)
        assert prompt(app).value == "where am i"
        # Words left in the prompt after Esc: a space continues them, it does not talk.
        await pilot.press("escape")
        await pilot.press("space")
        await pilot.press("n", "o", "w")
        assert prompt(app).value == "where am i now"
        assert NO_MIC not in transcript_text(app)


async def test_space_on_an_empty_prompt_still_talks_and_says_so_once(tmp_path):
    app = make_app(tmp_path, None)  # no microphone: Talk explains what to do instead
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(7):
            await pilot.press("space")
        await wait_until(pilot, lambda: NO_MIC in transcript_text(app), what="the hint")
        assert transcript_text(app).count(NO_MIC) == 1  # one hint, not seven
        assert prompt(app).value == ""


async def test_an_unreachable_model_is_a_banner_and_its_sentence_names_what_was_set_up(tmp_path):
    app = make_app(tmp_path)  # --llm-base-url pointing at a closed port
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: app.query_one(Banner).display, what="the banner")
        said = transcript_text(app)
        assert "server you set up" in said
        assert "xAI" not in said.split("\n")[-2] and OFFLINE_SPOKEN not in said
        line = str(app.query_one(StateLine).render())
        assert "ERROR" in line and "banner above" in line
        await pilot.click("#banner-close")
        await pilot.pause(0.1)
        line = str(app.query_one(StateLine).render())
        assert "banner" not in line and "message below" in line  # no pointer to nothing


async def test_the_confirm_dialog_has_a_focused_button(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm), what="the dialog")
        focused = app.focused
        assert isinstance(focused, Button) and focused.id == "no"  # the safe answer
        await pilot.press("tab")
        assert app.focused.id == "yes"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session.mature_content, what="mature on")


async def test_the_kids_mode_pin_box_has_focus(tmp_path):
    app = make_app(
        tmp_path, None, kids_mode=True, persona="kids_storyteller", safety__pin=Secret("4321")
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm), what="the dialog")
        assert app.focused.id == "pin"
        await pilot.press(*"4321", "enter")
        await wait_until(pilot, lambda: not app.session.kids_mode, what="kids mode off")


async def test_palette_enter_runs_the_first_entry_without_down(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        # Untouched palette: Enter runs the first entry (Talk) instead of doing nothing.
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CarPalette), what="palette")
        await pilot.press("enter")
        await wait_until(pilot, lambda: NO_MIC in transcript_text(app), what="Talk ran")
        assert not isinstance(app.screen, CarPalette)
        # Words typed and Enter at once: the top entry for those words.
        theme = app.theme_name
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CarPalette), what="palette")
        burst(app, "day night")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.theme_name != theme, what="the theme toggled")


async def test_palette_enter_typed_fast_runs_what_was_typed_not_an_earlier_search(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "No route" in nav_text(app), what="maps loaded")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CarPalette), what="palette")
        burst(app, "navigate to bluebird coffee")
        app.post_message(events.Key("enter", "\r"))
        await wait_until(pilot, lambda: "Bluebird" in nav_text(app), what="the route")
        await pilot.pause(0.5)  # nothing else fires afterwards
        turns = [line for line in transcript_text(app).splitlines() if line.startswith("You:")]
        assert turns == ["You: take me to bluebird coffee"]


async def test_the_speaker_banner_is_whole_at_80_columns_and_names_our_command(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(80, 24)) as pilot:
        message = str(
            AudioOutputError(
                "No usable audio output (Error querying device -1). Speech is shown as text "
                "only; pick a device with --output-device (`companion devices` lists them) or "
                "use --mute."
            )
        )
        app.view.show(Status("speech_out", "problem", message))
        await pilot.pause(0.2)
        banner = app.query_one(Banner)
        text = app.query_one("#banner-text", Static)
        assert banner.display
        assert text.size.height >= text.virtual_size.height  # nothing cut off
        assert "companion devices" in str(text.render())
    from pathlib import Path

    import companion.audio.playback as playback

    assert "python -m sounddevice" not in Path(playback.__file__).read_text(encoding="utf-8")


async def test_settings_has_the_mature_switch_the_refusal_points_to(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen), what="settings")
        await pilot.click("#mature-toggle")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm), what="the confirm")
        await pilot.click("#yes")
        await wait_until(pilot, lambda: app.session.mature_content, what="mature on")
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen), what="settings")
        await pilot.click("#kids-toggle")
        await wait_until(pilot, lambda: app.session.kids_mode, what="kids mode on")


async def test_the_persona_picker_reaches_its_last_persona_at_30_rows(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaPicker), what="picker")
        listing = app.screen.query_one(OptionList)
        await pilot.press("end")
        await pilot.pause(0.2)
        assert listing.highlighted == listing.option_count - 1
        assert listing.scroll_y == listing.max_scroll_y  # the last one is on screen
        last = listing.get_option_at_index(listing.option_count - 1)
        persona = app.session.cast[last.id]
        await pilot.press("enter")
        await pilot.pause(0.2)
        if app.session.allowed(persona):  # locked: the picker says why and stays open
            assert isinstance(app.screen, PersonaPicker)
            why = str(app.screen.query_one("#picker-why", Static).render())
            assert persona.name in why and ("F4" in why or "F3" in why)
        else:
            assert app.session.active.id == persona.id


async def test_choices_line_up_one_per_row(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "No route" in nav_text(app), what="maps loaded")
        await pilot.press(*"find a coffee shop", "enter")
        await wait_until(
            pilot, lambda: len(app.query("#nav-choices Button")) >= 2, what="the choices"
        )
        buttons = list(app.query("#nav-choices Button").results(Button))
        assert {b.region.height for b in buttons} == {1}
        assert len({b.region.x for b in buttons}) == 1
        rows = [b.region.y for b in buttons]
        assert rows == list(range(rows[0], rows[0] + len(rows)))
        for number, button in enumerate(buttons, 1):
            assert str(button.label).startswith(f"{number}. ")


async def test_the_persona_chip_keeps_its_marker_at_80_columns(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(80, 24)) as pilot:
        longest = max(app.session.cast.values(), key=lambda p: len(p.name))
        app.query_one("Dock").show_persona(longest.name + " With A Long Title", longest.glyph)
        await pilot.pause(0.1)
        chip = app.query_one("#persona-chip", Button)
        label = str(chip.label)
        assert label.endswith("▾")
        assert chip.region.width >= len(label)  # shown whole: the marker is on screen
