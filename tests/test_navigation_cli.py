"""The navigation and search skills in the real `companion chat` process: configuration from
the environment, the simulated drive moving the car, and a bad setting that leaves the rest
of the assistant working."""

from __future__ import annotations

from .helpers import reply
from .nav_helpers import TEST_PLACES
from .test_cli import Repl


def test_a_drive_in_the_terminal_chat(tmp_path, scripted):
    places = tmp_path / "places.toml"
    places.write_text(TEST_PLACES)
    reply_text = "Sure, here's a joke about traffic cones."
    scripted.add(reply(reply_text))
    env = {
        "COMPANION_NAVIGATION_PLACES_FILE": str(places),
        "COMPANION_NAVIGATION_SIM_SPEEDUP": "120",
    }
    repl = Repl("--mute", "--llm-base-url", scripted.base_url, env=env)
    repl.send("navigate to Beanstalk Coffee")
    repl.wait_for("Which one?")
    assert (
        "[Which one? 1. Beanstalk Coffee on Main Street  2. Beanstalk Coffee on Oak Avenue]"
        in repl.out
    )
    repl.send("the second one")
    repl.wait_for("[Navigating to Beanstalk Coffee on Oak Avenue · 2.")
    repl.send("tell me a joke")  # conversation still goes to the persona
    repl.wait_for(reply_text)
    repl.wait_for("(Arrived at Beanstalk Coffee on Oak Avenue.)", timeout=15)
    repl.send("how long until we get there")
    repl.wait_for("We're not navigating anywhere right now.")
    code, out, err = repl.finish()
    assert code == 0 and "Traceback" not in out + err
    # Only the joke went to the language model.
    assert [r.last_user_message for r in scripted.requests] == ["tell me a joke"]


def test_a_broken_places_file_leaves_the_rest_working(tmp_path, scripted):
    places = tmp_path / "places.toml"
    places.write_text('[[place]]\nname = "A"\ncategory = "coffee"\neast_m = "east"\nnorth_m = 1\n')
    scripted.add(reply("Happy to chat."))
    repl = Repl(
        "--mute",
        "--llm-base-url",
        scripted.base_url,
        env={"COMPANION_NAVIGATION_PLACES_FILE": str(places)},
    )
    repl.wait_for(f"Navigation is off: {places}:4:")
    repl.send("what does the turtle symbol mean")
    repl.wait_for("Happy to chat.")  # search still works (summarised by the model)
    code, out, err = repl.finish()
    assert code == 0 and "Traceback" not in out + err
    assert "untrusted" in scripted.requests[0].body["messages"][0]["content"]
