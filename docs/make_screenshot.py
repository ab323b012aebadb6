"""Regenerate the README's screenshot (docs/screenshot.svg) from the real app.

    python docs/make_screenshot.py [OUTPUT.svg]

The app runs headless (Textual's run_test) with a scripted LLM server on loopback, the test
places and a fixed clock, and is driven like a driver would: a route to the nearest charger,
a coffee stop and a chat turn. Textual's own
save_screenshot() writes the SVG.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = (120, 34)


async def render(output: Path) -> None:
    from companion.llm.scripted_server import ScriptedLLMServer, ScriptedReply
    from tests.ui_helpers import make_app, nav_text, transcript_text, type_text, wait_until

    replies = [
        ScriptedReply(
            "Here's one: the first electric cars were on the road "
            "before petrol ones took over, back in the 1890s. Enjoy the "
            "coffee stop right away!"
        )
    ]
    with ScriptedLLMServer(replies) as server, tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "No route" in nav_text(app), what="maps")
            await type_text(pilot, "take me to the nearest charger")
            await wait_until(pilot, lambda: "Voltpoint" in nav_text(app), what="route")
            await type_text(pilot, "add a stop at a coffee shop")
            await wait_until(pilot, lambda: "via" in nav_text(app), what="stop")
            await type_text(pilot, "tell me a fun fact about electric cars")
            await wait_until(pilot, lambda: "right away" in transcript_text(app), what="chat reply")
            await wait_until(pilot, lambda: app.state == "idle", what="idle")
            app.set_focus(None)
            await pilot.pause(0.3)
            app.save_screenshot(filename=output.name, path=str(output.parent))


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.svg"
    asyncio.run(render(output.resolve()))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
