"""SIGTERM and SIGHUP unwind like Ctrl-C while servers run, so they are always stopped."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def signals_as_keyboard_interrupt() -> Iterator[None]:
    """Let SIGTERM and SIGHUP unwind like Ctrl-C, so `finally` blocks stop the servers.

    Only where nobody chose a handler already (a supervisor may have its own), and only in
    the main thread, the one place Python allows it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    replaced = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            replaced[sig] = signal.signal(sig, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        for sig, previous in replaced.items():
            signal.signal(sig, previous)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)
