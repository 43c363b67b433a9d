"""Python's cyclic garbage collector, paused while a large result is built (pure; no Django).

A month's report pack builds about half a million lists, tuples and dicts that all stay
alive until the snapshot is saved. None of them forms a cycle, so the cyclic collector
finds nothing to free among them, yet each of its full passes walks every object in the
process: at 1,000,000 customers one such pass cost 80 ms of the monthly pack's 400
(docs/performance.md, sixth session). Reference counting still frees everything as usual
while the collector is paused; only cycles wait until it resumes at the end of the block.

Nesting and threads are safe: the collector resumes when the outermost block of any thread
ends, and only if it was running when the first block began (a process that switched it off
itself keeps it off).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_resume = False


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector switched off (see the module docstring)."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
