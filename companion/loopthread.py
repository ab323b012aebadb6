"""An asyncio loop on a thread of its own, for front ends whose main thread blocks on
input (`chat`, `listen`), shut down the way `asyncio.run` shuts its loop down."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Awaitable, Callable


class LoopThread:
    def __init__(self, name: str = "core") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def close(self, last: Callable[[], Awaitable[None]] | None = None, timeout: float = 15) -> None:
        """Run `last` (the owner's own shutdown), then cancel and await whatever tasks are
        left, finalise async generators, stop and close the loop. A reply stopped
        mid-stream leaves HTTP generators whose aclose the collector schedules as tasks:
        left pending on a loop that just stops, they end in "Task was destroyed but it is
        pending" at exit."""

        async def shut_down() -> None:
            if last is not None:
                await last()
            gc.collect()  # generators in reference cycles: finalised now, while we run
            await asyncio.sleep(0)
            current = asyncio.current_task()
            rest = [task for task in asyncio.all_tasks() if task is not current]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)
            await self.loop.shutdown_asyncgens()

        try:
            asyncio.run_coroutine_threadsafe(shut_down(), self.loop).result(timeout=timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
            if not self._thread.is_alive():
                self.loop.close()  # from here on a collected generator schedules nothing
