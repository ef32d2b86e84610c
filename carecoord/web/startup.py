"""What a web process does once it has started, before it serves anyone."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Put everything made while starting (modules, settings, models, URL patterns) out
    of the garbage collector's reach, for the life of the process.

    Python's occasional full collection walks every object the process holds. A web
    process holds hundreds of thousands made at start that live as long as it does, so
    that walk took about a quarter of a second on the slower test machine: one request
    in twenty paid it, which was most of the slowest pages' 95th percentile (issue 15).
    Frozen objects are never walked again; what requests make is collected as before.
    This is `gc.freeze()` as the Python documentation suggests for a pre-fork server."""
    gc.collect()
    gc.freeze()
