"""The one protocol for long work: report progress, and stop when asked.

Every long operation of the core (import, pre-annotation, export, training) takes
`progress(done, total)` and `should_cancel()`, both optional. When `should_cancel()` turns
true the operation raises `Cancelled` at its next step; whatever it was writing is rolled
back or removed, so the project is as it was before.
"""
from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]
ShouldCancel = Callable[[], bool]


class Cancelled(Exception):
    """The user cancelled: the work stopped and left nothing behind."""


def stop_if_cancelled(should_cancel: ShouldCancel | None, what: str = "cancelled") -> None:
    """Raise Cancelled when the caller asked to stop."""
    if should_cancel is not None and should_cancel():
        raise Cancelled(f"{what}; the project is as it was before this step")


def reporter(progress: Progress | None, should_cancel: ShouldCancel | None,
             what: str = "cancelled") -> Progress:
    """One callback for the inner loops: checks for cancel, then reports (both optional)."""
    def report(done: int, total: int) -> None:
        stop_if_cancelled(should_cancel, what)
        if progress is not None:
            progress(done, total)
    return report
