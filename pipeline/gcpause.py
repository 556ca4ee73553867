"""Cyclic garbage collection held off while a manual is read and compared.

Reading a manual makes hundreds of thousands of small objects (blocks, their texts, changes)
that hold no reference cycles, so the collector's passes over them, triggered by the count
of allocations alone, find nothing to free: on a million-word manual they cost a sixth of a
comparison. Reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def without_gc(function: Callable[P, R]) -> Callable[P, R]:
    """`function` run with the collector paused."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused():
            return function(*args, **kwargs)

    return run
