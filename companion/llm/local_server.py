"""The child process that runs llama.cpp's own HTTP server (through xllamacpp) on one GGUF
model: `python -m companion.llm.local_server --model FILE`.

It listens on 127.0.0.1 on a free port the operating system picks, writes one JSON line to
stdout (`{"url": "http://127.0.0.1:PORT"}` or `{"error": "..."}`), then serves until its
standard input closes. The parent (`companion.llm.local.LocalServer`) holds the other end of
that pipe, so however the parent ends - a clean exit, Ctrl+C, a crash, `kill -9` - the server
ends with it and no llama.cpp process is left behind. llama.cpp's own log goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys


def _say(message: dict[str, str]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _die_with_parent() -> None:
    """Linux: also end at once if the parent dies (before it could close the pipe)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


BACKGROUND_NICENESS = 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m companion.llm.local_server")
    parser.add_argument("--model", required=True, help="a GGUF model file")
    parser.add_argument("--ctx", type=int, default=4096, help="context window in tokens")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
    args = parser.parse_args(argv)
    _die_with_parent()
    # The microphone comes first: capture, the recogniser and playback must never wait for
    # the model's threads. A lower priority costs nothing when the machine is otherwise
    # idle; when it is busy, the listener wins.
    with contextlib.suppress(OSError):
        os.nice(BACKGROUND_NICENESS)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops a reply, not the brain
    try:
        import xllamacpp
    except ImportError:
        _say({"error": "the local model needs llama.cpp's server: pip install 'companion[local]'"})
        return 1
    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the operating system picks a free port: no clash with anything
    params.n_ctx = args.ctx
    params.n_parallel = 1  # one driver, one conversation at a time
    if args.threads > 0:
        params.cpuparams.n_threads = args.threads
        params.cpuparams_batch.n_threads = args.threads
    # Threads that wait for each other sleep instead of spinning (llama.cpp spins by default):
    # on a busy machine, a spinning thread burns the core its partner needs, and a reply took
    # ten times longer while the listener and the voice shared the CPU with it.
    params.cpuparams.poll = 0
    params.cpuparams_batch.poll = 0
    try:
        server = xllamacpp.Server(params)
    except Exception as exc:  # the model did not load; llama.cpp said why on stderr
        _say({"error": str(exc)})
        return 1
    _say({"url": str(server.listening_address)})
    with contextlib.suppress(OSError, KeyboardInterrupt):
        sys.stdin.buffer.read()  # until the parent closes the pipe (or dies)
    # The server's threads are native; leave without waiting for a graceful teardown.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
