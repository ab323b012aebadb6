"""The car screen (companion/ui) driven with Textual's Pilot: the real app, the real pipeline,
a scripted LLM server on loopback, recordings standing in for the microphone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from textual.widgets import Button, Input, OptionList, Static

from companion.llm.scripted_server import ScriptedLLMServer, ScriptedReply
from companion.redaction import Secret
from companion.ui.screens.confirm import Confirm
from companion.ui.screens.persona_picker import PersonaPicker
from companion.ui.widgets.assistant_panel import StateLine
from companion.ui.widgets.banner import Banner
from companion.ui.widgets.car_panel import CarPanel
from tests.ui_helpers import make_app, nav_text, transcript_text, type_text, wait_until

AUDIO = Path(__file__).parent / "fixtures" / "audio"
LONG_STORY = " ".join(f"This is sentence number {i} of a very long story." for i in range(40))


def banner_text(app) -> str:
    return str(app.query_one("#banner-text", Static).render())


async def test_typed_request_streams_the_reply_into_the_transcript(tmp_path, scripted):
    scripted.add(ScriptedReply("Why did the car cross the road? To get to the charger."))
    app = make_app(tmp_path, scripted.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "tell me a joke")
        await wait_until(
            pilot,
            lambda: "To get to the charger." in transcript_text(app),
            what="the streamed reply",
        )
        text = transcript_text(app)
        assert "You: tell me a joke" in text
        assert "Assistant: Why did the car cross the road?" in text
        assert scripted.requests[-1].last_user_message == "tell me a joke"
        await wait_until(pilot, lambda: app.state == "idle", what="idle again")
        assert "IDLE" in str(app.query_one(StateLine).render())
        assert app.query_one("#prompt", Input).value == ""


async def test_navigation_card_follows_the_route_and_the_simulated_drive(tmp_path):
    # The drive at 60x: a few seconds to arrival, a dozen ticks of it on the card.
    app = make_app(tmp_path, None, tick_s=0.2, navigation__sim_speedup=60.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "No route" in nav_text(app), what="maps loaded")
        await type_text(pilot, "take me to the nearest charger")
        await wait_until(pilot, lambda: "Voltpoint" in nav_text(app), what="the route")
        first = app.assistant.navigator.snapshot()["remaining_m"]
        assert "Navigating to Voltpoint Charging Hub" in transcript_text(app)
        assert "(estimated)" in nav_text(app) and "Arrive 14:" in nav_text(app)
        await wait_until(
            pilot, lambda: app.query_one(CarPanel).update_data.gear == "D", what="the car moving"
        )
        assert app.query_one(CarPanel).update_data.speed_kmh > 0
        await wait_until(
            pilot,
            lambda: app.assistant.navigator.snapshot()["remaining_m"] < first * 0.8,
            what="the car to move along the route",
        )
        body = nav_text(app)
        assert "▶" in body.splitlines()[-1] and "━" in body.splitlines()[-1]  # driven part
        await wait_until(
            pilot,
            lambda: "Arrived at Voltpoint" in transcript_text(app),
            timeout=20,
            what="arrival",
        )
        await wait_until(pilot, lambda: "No route" in nav_text(app), what="card cleared")
        assert app.query_one(CarPanel).update_data.gear == "P"
        assert app.query_one(CarPanel).update_data.battery_percent <= 78


async def test_choices_are_numbered_and_a_click_picks_one(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "take me to beanstalk coffee")
        await wait_until(pilot, lambda: bool(app.query(".choice")), what="the choices")
        labels = [str(b.label) for b in app.query(".choice").results(Button)]
        assert labels[0].startswith("1. Beanstalk Coffee") and labels[1].startswith("2. ")
        second = labels[1].split(". ", 1)[1]
        await pilot.click("#choice-2")
        await wait_until(
            pilot, lambda: "You: number two" in transcript_text(app), what="the click as a turn"
        )
        await wait_until(pilot, lambda: second in nav_text(app), what="the route")
        assert not app.query(".choice")  # the question is answered


async def test_spoken_ordinal_answers_the_choices_too(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "take me to beanstalk coffee")
        await wait_until(pilot, lambda: bool(app.query(".choice")), what="the choices")
        second = str(app.query_one("#choice-2", Button).label).split(". ", 1)[1]
        await type_text(pilot, "the second one")
        await wait_until(pilot, lambda: second in nav_text(app), what="the route")


async def test_search_results_show_as_cards(tmp_path):
    app = make_app(tmp_path, None)  # no model: the best snippet is read out
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "what does the turtle symbol mean")
        await wait_until(pilot, lambda: bool(app.query(".result-card")), what="result cards")
        cards = [str(c.render()) for c in app.query(".result-card").results(Static)]
        assert 1 <= len(cards) <= 3
        assert "turtle" in cards[0].lower() and "owner's manual" in cards[0].lower()
        assert "→ Search: what does the turtle symbol mean" in transcript_text(app)


async def test_persona_picker_switches_and_shows_the_greeting(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaPicker), what="picker")
        listing = app.screen.query_one(OptionList)
        ids = [o.id for o in listing.options]
        listing.highlighted = ids.index("storyteller")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session.active.id == "storyteller", what="the switch")
        greeting = app.session.active.greeting
        await wait_until(pilot, lambda: greeting in transcript_text(app), what="greeting")
        assert "Storyteller" in str(app.query_one("#persona-chip", Button).label)


async def test_kids_mode_locks_the_picker_voice_and_the_toggle(tmp_path):
    app = make_app(
        tmp_path, None, persona="kids_storyteller", kids_mode=True, safety__pin=Secret("2468")
    )
    async with app.run_test(size=(100, 30)) as pilot:
        assert str(app.query_one("#kids", Button).label) == "Kids ON"
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaPicker), what="picker")
        listing = app.screen.query_one(OptionList)
        options = {o.id: o for o in listing.options}
        assert "LOCKED: kids mode" in str(options["unhinged"].prompt)
        assert "LOCKED" in str(options["storyteller"].prompt)
        assert "LOCKED" not in str(options["kids_storyteller"].prompt)
        # A locked persona can be highlighted, and Enter on it says why instead of picking.
        listing.highlighted = [o.id for o in listing.options].index("unhinged")
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, PersonaPicker)
        assert "kids mode" in str(app.screen.query_one("#picker-why", Static).render())
        assert app.session.active.id == "kids_storyteller"
        await pilot.press("escape")
        await type_text(pilot, "switch to unhinged")
        await wait_until(
            pilot, lambda: "Kids mode is on" in transcript_text(app), what="the refusal"
        )
        assert app.session.active.id == "kids_storyteller"
        # The palette's switch goes through the same gate.
        app.pick("unhinged")
        await pilot.pause(0.3)
        assert app.session.active.id == "kids_storyteller"
        # Turning kids mode off needs the PIN.
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm), what="the PIN")
        app.screen.query_one("#pin", Input).value = "1111"
        await pilot.click("#yes")
        await pilot.pause(0.2)
        assert "Wrong PIN" in str(app.screen.query_one("#pin-error", Static).render())
        assert app.session.kids_mode
        app.screen.query_one("#pin", Input).value = "2468"
        await pilot.click("#yes")
        await wait_until(pilot, lambda: not app.session.kids_mode, what="kids mode off")
        assert str(app.query_one("#kids", Button).label) == "Kids off"


async def test_turning_kids_mode_on_hands_over_to_a_kids_persona(tmp_path):
    app = make_app(tmp_path, None, persona="storyteller")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "No route" in nav_text(app), what="started")
        await pilot.click("#kids")
        await wait_until(pilot, lambda: app.session.kids_mode, what="kids mode")
        persona = app.session.active
        assert persona.kids_safe and persona.rating == "everyone"
        await wait_until(
            pilot,
            lambda: persona.name in str(app.query_one("#persona-chip", Button).label),
            what="the chip",
        )
        await wait_until(pilot, lambda: "takes over" in transcript_text(app), what="the notice")


async def test_mature_content_needs_a_confirmed_opt_in(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm), what="the question")
        await pilot.click("#no")
        await pilot.pause(0.1)
        assert not app.session.mature_content
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm), what="the question")
        await pilot.click("#yes")
        await wait_until(pilot, lambda: app.session.mature_content, what="opt-in")
        assert str(app.query_one("#mature", Button).label) == "Mature ON"


async def test_escape_stops_a_streaming_reply(tmp_path):
    with ScriptedLLMServer([ScriptedReply(LONG_STORY)], tokens_per_second=20) as server:
        app = make_app(tmp_path, server.base_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await type_text(pilot, "tell me a long story")
            await wait_until(
                pilot,
                lambda: "sentence number 1 " in transcript_text(app),
                what="the reply streaming",
            )
            assert app.state == "speaking"
            await pilot.press("escape")
            await wait_until(pilot, lambda: "[stopped]" in transcript_text(app), what="the stop")
            assert "number 39" not in transcript_text(app)
            await wait_until(pilot, lambda: app.state == "idle", what="idle")


async def test_no_language_model_is_a_banner_not_a_crash(tmp_path):
    app = make_app(tmp_path)  # the discard port: nothing answers
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "hello there")
        await wait_until(pilot, lambda: app.query_one(Banner).display, what="the banner")
        assert "Could not connect" in banner_text(app)
        assert "llm.base_url" in banner_text(app)  # the fix
        assert "ERROR" in str(app.query_one(StateLine).render())
        # The rest still works, and the banner can be dismissed.
        await type_text(pilot, "take me to the nearest charger")
        await wait_until(pilot, lambda: "Voltpoint" in nav_text(app), what="navigation")
        await pilot.click("#banner-close")
        assert not app.query_one(Banner).display


async def test_without_a_model_the_banner_says_how_to_set_one_up(tmp_path):
    app = make_app(tmp_path, None, llm__provider="auto")  # no key: a local Ollama is tried
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "hello there")
        await wait_until(pilot, lambda: app.query_one(Banner).display, what="the banner")
        assert "XAI_API_KEY" in banner_text(app)


async def test_the_api_key_never_reaches_the_screen(tmp_path):
    key = "xai-TESTKEY-0123456789abcdef"
    with ScriptedLLMServer([ScriptedReply(fault="401")]) as server:
        app = make_app(tmp_path, server.base_url, llm__api_key=Secret(key))
        async with app.run_test(size=(120, 40)) as pilot:
            await type_text(pilot, "hello")
            await wait_until(pilot, lambda: app.query_one(Banner).display, what="the banner")
            assert key not in app.export_screenshot()
            assert key not in transcript_text(app) and key not in banner_text(app)


async def test_missing_microphone_keeps_typing_alive(tmp_path):
    app = make_app(tmp_path, None, voice=True, speech__input_device="no such microphone")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: "Microphone" in banner_text(app),
            timeout=20,
            what="the microphone banner",
        )
        await pilot.press("space")  # push-to-talk without a microphone: says what to do
        await wait_until(
            pilot, lambda: "type your request" in transcript_text(app), what="the hint"
        )
        await type_text(pilot, "where am i")
        await wait_until(
            pilot, lambda: "You: where am i" in transcript_text(app), what="the typed turn"
        )


async def test_command_palette_runs_actions(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*["space" if c == " " else c for c in "toggle kids mode"])
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session.kids_mode, what="kids mode from palette")
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*["space" if c == " " else c for c in "navigate to bluebird coffee"])
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Bluebird" in nav_text(app), what="palette navigation")


async def test_settings_switch_theme_and_listen_mode(tmp_path):
    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.theme == "companion-night"
        await pilot.press("f9")
        await pilot.pause(0.2)
        await pilot.click("#theme-1")  # Day
        await pilot.click("#listen-mode-1")  # Hands-free
        await pilot.click("#apply")
        await wait_until(pilot, lambda: app.theme == "companion-day", what="the day theme")
        assert app.settings.speech.listen_mode == "hands_free"


@pytest.mark.slow
async def test_push_to_talk_with_a_recording_as_the_microphone(tmp_path):
    app = make_app(tmp_path, None, voice=True, audio_in=AUDIO / "navigate_charger.wav")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.mic_ready, timeout=30, what="the recogniser")
        partials: list[str] = []
        await pilot.press("space")
        await wait_until(pilot, lambda: app.state == "listening", what="listening")
        assert "LISTENING" in str(app.query_one(StateLine).render())
        assert str(app.query_one("#mic", Button).label) == "■ Stop"

        def heard() -> bool:
            text = str(app.query_one("#partial", Static).render())
            if text.strip():
                partials.append(text)
            return "You (voice):" in transcript_text(app)

        await wait_until(pilot, heard, timeout=20, what="the final transcript")
        assert partials, "the live transcript never showed"
        assert "charger" in transcript_text(app).lower()
        await wait_until(pilot, lambda: "Voltpoint" in nav_text(app), what="the route")


@pytest.mark.slow
async def test_switching_persona_by_voice(tmp_path):
    app = make_app(
        tmp_path,
        None,
        voice=True,
        audio_in=AUDIO / "switch_storyteller.wav",
        speech__listen_mode="hands_free",
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: app.session.active.id == "storyteller",
            timeout=30,
            what="the switch by voice",
        )
        await wait_until(
            pilot,
            lambda: "Storyteller" in str(app.query_one("#persona-chip", Button).label),
            what="the chip",
        )
        assert "You (voice):" in transcript_text(app)


@pytest.mark.slow
async def test_driver_speaking_interrupts_a_reply(tmp_path):
    """Hands-free: the driver starts talking while a long reply streams; the reply stops and
    the new request is carried out."""
    speech, rate = sf.read(AUDIO / "navigate_charger.wav", dtype="int16")
    recording = tmp_path / "pause_then_request.wav"
    sf.write(recording, np.concatenate([np.zeros(int(rate * 5.0), np.int16), speech]), rate)
    with ScriptedLLMServer([ScriptedReply(LONG_STORY)], tokens_per_second=8) as server:
        app = make_app(
            tmp_path,
            server.base_url,
            voice=True,
            audio_in=recording,
            speech__listen_mode="hands_free",
        )
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.mic_ready, timeout=30, what="the recogniser")
            await type_text(pilot, "tell me a long story")
            await wait_until(
                pilot,
                lambda: "sentence number 0" in transcript_text(app),
                what="the reply streaming",
            )
            await wait_until(
                pilot, lambda: "[stopped]" in transcript_text(app), timeout=20, what="the barge-in"
            )
            assert "number 39" not in transcript_text(app)
            await wait_until(
                pilot, lambda: "Voltpoint" in nav_text(app), timeout=20, what="the new request"
            )


@pytest.mark.slow
async def test_push_to_talk_key_interrupts_a_reply(tmp_path):
    replies = [ScriptedReply(LONG_STORY)] * 3
    with ScriptedLLMServer(replies, tokens_per_second=20) as server:
        quiet = tmp_path / "quiet_cabin.wav"
        sf.write(quiet, np.zeros(16000 * 40, np.int16), 16000)  # a microphone hearing nothing
        app = make_app(tmp_path, server.base_url, voice=True, audio_in=quiet)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.mic_ready, timeout=30, what="the recogniser")
            await type_text(pilot, "tell me a long story")
            await wait_until(
                pilot,
                lambda: "sentence number 1 " in transcript_text(app),
                what="the reply streaming",
            )
            await pilot.press("escape")  # leave the prompt line: Space is push-to-talk
            await wait_until(pilot, lambda: "[stopped]" in transcript_text(app), what="stop")
            app.query_one("#transcript").remove_children()
            await type_text(pilot, "tell me a long story")
            await wait_until(
                pilot,
                lambda: "sentence number 1 " in transcript_text(app),
                what="the second reply streaming",
            )
            await pilot.press("escape")  # leaves the prompt line (and stops the reply)
            app.query_one("#transcript").remove_children()
            await type_text(pilot, "tell me a long story")
            await wait_until(
                pilot,
                lambda: "sentence number 1 " in transcript_text(app),
                what="the third reply streaming",
            )
            app.set_focus(None)  # not typing: Space is push-to-talk
            await pilot.press("space")
            await wait_until(
                pilot,
                lambda: "[stopped]" in transcript_text(app),
                what="push-to-talk stopping the reply",
            )
            await wait_until(pilot, lambda: app.state == "listening", what="listening")


async def test_readme_screenshot_script_renders_the_real_app(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_screenshot", Path(__file__).parent.parent / "docs" / "make_screenshot.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "shot.svg"
    await module.render(out)
    svg = out.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "NAVIGATION" in svg and "Voltpoint" in svg


@pytest.mark.slow
async def test_a_spoken_louder_and_the_dock_agree_and_the_next_key_starts_from_it(tmp_path):
    """Volume has one owner: keys, the dock and a spoken request all change the same value,
    and the dock shows whatever changed it last."""
    import soxr

    from companion.tts.piper_engine import PiperSynthesizer

    spoken = PiperSynthesizer(variation=False).synthesize("Turn it up.")
    samples = soxr.resample(spoken.samples.astype(np.float32), spoken.rate, 16000)
    silence = np.zeros(8000, dtype=np.float32)
    recording = tmp_path / "turn_it_up.wav"
    sf.write(
        recording, np.concatenate([silence, samples, silence, silence]).astype(np.int16), 16000
    )
    app = make_app(tmp_path, None, voice=True, audio_in=recording, speech__mute=False)

    def dock_volume() -> str:
        return str(app.query_one("#volume", Button).label)

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.mic_ready, timeout=30, what="the recogniser")
        await wait_until(
            pilot, lambda: app.assistant.speaker is not None, timeout=30, what="the voice"
        )
        await pilot.press("f7", "f7")
        await wait_until(pilot, lambda: dock_volume() == "Vol 80%", what="the keys' volume")
        await pilot.press("space")  # the recording is the driver saying "turn it up"
        await wait_until(
            pilot, lambda: "Louder." in transcript_text(app), timeout=30, what="the answer"
        )
        assert "You (voice): turn it up" in transcript_text(app)
        assert app.assistant.output.volume == 1.0 == app.assistant.speaker.volume
        await wait_until(pilot, lambda: dock_volume() == "Vol 100%", what="the spoken volume")
        await pilot.press("f7")  # the next key starts from the spoken value
        await wait_until(pilot, lambda: dock_volume() == "Vol 90%", what="one step down")
        assert app.assistant.speaker.volume == 0.9


def dock_climate(app) -> str:
    return str(app.query_one("#climate", Button).label)


async def test_a_typed_climate_request_moves_the_dock_setpoint(tmp_path, scripted):
    scripted.add(ScriptedReply("It is now a lovely 19 degrees."))  # must never be used
    app = make_app(tmp_path, scripted.base_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: dock_climate(app) == "21.0°", what="the dock's setpoint")
        await type_text(pilot, "set the cabin temperature to 23 degrees")
        await wait_until(pilot, lambda: dock_climate(app) == "23.0°", what="the dock at 23")
        await wait_until(pilot, lambda: "Cabin set to 23 degrees" in transcript_text(app))
        assert "Climate on · cabin 23.0 °C" in transcript_text(app)  # shown as an action
        await type_text(pilot, "turn the climate off")
        await wait_until(pilot, lambda: dock_climate(app) == "Off", what="the dock off")
        assert "23.0" not in str(app.query_one(CarPanel).render())
        assert not scripted.requests  # the car answered, never the model


async def test_the_car_warns_once_when_the_battery_wont_last_the_drive(tmp_path):
    # The drive's own one-second tick says the warning: no faster ticking (and route-map
    # redrawing) than a real drive, so the audio tests beside it keep their CPU.
    app = make_app(tmp_path, None, tick_s=1.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "No route" in nav_text(app), what="maps loaded")
        app.assistant.drive_sim.car.charge = 0.3  # about 85 miles of range
        await type_text(pilot, "navigate to Sacramento")
        await wait_until(pilot, lambda: "Sacramento" in nav_text(app), what="the route")
        await wait_until(
            pilot,
            lambda: "won't reach Sacramento" in transcript_text(app),
            timeout=15,
            what="the unprompted warning",
        )
        assert "Shall I add a charger on the way?" in transcript_text(app)
        await type_text(pilot, "yes")
        await wait_until(pilot, lambda: "Voltpoint" in nav_text(app), what="the charger stop")
        assert transcript_text(app).count("won't reach") == 1  # said once, not every tick


async def test_the_saved_places_view_by_voice_and_palette_renames_drives_and_forgets(tmp_path):
    from companion.store import SavedPlace
    from companion.ui.screens.saved_places import SavedPlacesScreen

    app = make_app(tmp_path, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.assistant.navigator is not None, what="navigation")
        store = app.assistant.keeper.store
        sample = app.assistant.navigator.gazetteer.samples[0]
        pos = sample.pos
        store.places.save("the gym", SavedPlace("the gym", sample.label, pos.lat, pos.lon))
        await type_text(pilot, "show my saved places")
        await wait_until(pilot, lambda: isinstance(app.screen, SavedPlacesScreen), what="view")
        listing = app.screen.query_one(OptionList)
        assert "the gym" in str(listing.get_option_at_index(0).prompt)
        await pilot.press("r")
        box = app.screen.query_one("#rename-input", Input)
        box.value = "the pool"
        await pilot.press("enter")
        await wait_until(pilot, lambda: store.places.get("the pool") is not None, what="rename")
        assert store.places.get("the gym") is None
        await pilot.press("enter")  # drive to the highlighted place
        await wait_until(pilot, lambda: "the pool" in nav_text(app), what="the route")
        app.action_saved_places()  # the palette's entry
        await wait_until(pilot, lambda: isinstance(app.screen, SavedPlacesScreen), what="view")
        await pilot.press("delete")
        assert store.places.get("the pool") is not None  # one press only asks
        await pilot.press("delete")
        await wait_until(pilot, lambda: not store.places.all(), what="forgotten")
        await pilot.press("escape")
        await wait_until(
            pilot, lambda: not isinstance(app.screen, SavedPlacesScreen), what="closed"
        )
