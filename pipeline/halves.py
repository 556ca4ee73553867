"""Work done in two halves at once: one in this process, one in a forked child.

Comparing two releases of a large manual is a few hundred independent jobs (one pair of
chapter versions each), and most machines have a second core. `in_two` gives part of the jobs
to a child made with fork (it shares everything read so far, without copying it), does the
rest itself, and reads the child's results back through a pipe, encoded by the caller (the
results are small beside the work). The child only adds what it computed; the order of the
results is the order of the jobs, so the outcome is the same as doing them all here.

Where fork is missing, with one core, for little work, or when the child fails (then its
share is done here, so any error is raised as if there were no child), the jobs run here.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# The child's share of the weight: it also encodes its results, and this process decodes
# them while the child has exited, so the child is given a little less.
CHILD_SHARE = 0.5


def split(weights: Sequence[int], share: float = CHILD_SHARE, here: int = 0
          ) -> tuple[list[int], list[int]]:
    """(indexes kept here, indexes for the child), heaviest first to the side further from
    its target, so both finish at about the same time; `here` is the weight of other work
    this process does meanwhile."""
    targets = (1.0 - share, share)
    loads = [here, 0]
    sides: tuple[list[int], list[int]] = ([], [])
    for k in sorted(range(len(weights)), key=lambda k: -weights[k]):
        side = 0 if loads[0] / targets[0] <= loads[1] / targets[1] else 1
        sides[side].append(k)
        loads[side] += weights[k]
    return sorted(sides[0]), sorted(sides[1])


def cores() -> int:
    """The cores this process may run on (fewer than the machine's when it is pinned)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """fork is there, a second core too, and this process runs one thread (a child forked
    beside other threads may find a lock held by one of them forever)."""
    threading = sys.modules.get("threading")
    return (hasattr(os, "fork") and cores() >= 2
            and (threading is None or threading.active_count() == 1))


def in_two(work: Callable[[T], R], jobs: Sequence[T], weights: Sequence[int],
           encode: Callable[[list[R]], bytes], decode: Callable[[bytes], list[R]],
           min_weight: int, meanwhile: Callable[[], None] = lambda: None,
           meanwhile_weight: int = 0,
           child_after: tuple[Callable[[], None], Callable[[], None]] | None = None
           ) -> list[R]:
    """[work(job) for job in jobs], part of it done by a forked child when the total weight
    reaches `min_weight`. `meanwhile` runs in this process first (while the child works),
    and weighs `meanwhile_weight`. `child_after` is (hold, release): the child calls hold
    before its work and release once its results are sent, for what it may finish while this
    process goes on (writing caches); this process waits for it only when it exits."""
    if len(jobs) < 2 or sum(weights) < min_weight or not can_fork():
        meanwhile()
        return [work(job) for job in jobs]
    mine, theirs = split(weights, here=meanwhile_weight)
    if not theirs:
        meanwhile()
        return [work(job) for job in jobs]
    _reap(block=False)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its share, encoded into the pipe, then gone without cleanup
        status = 1
        try:
            os.close(read_end)
            if child_after is not None:
                child_after[0]()
            data = encode([work(jobs[k]) for k in theirs])
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            if child_after is not None:
                detach_from_caller()
                child_after[1]()
            status = 0
        finally:
            os._exit(status)
    _CHILDREN.append(pid)
    os.close(write_end)
    meanwhile()
    results: dict[int, R] = {k: work(jobs[k]) for k in mine}
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    theirs_done: list[R] | None = None
    try:  # all of the answer, or a child that failed (its answer cut short or missing)
        theirs_done = decode(data)
    except Exception:  # the share is done again here, so any error is raised here
        theirs_done = None
    if theirs_done is None or len(theirs_done) != len(theirs):
        theirs_done = [work(jobs[k]) for k in theirs]
    results.update(zip(theirs, theirs_done, strict=True))
    return [results[k] for k in range(len(jobs))]


# Children that may still be finishing (see in_two's child_after): waited for at exit, so a
# process never leaves one writing behind it, unless it says so (`leave_children`).
_CHILDREN: list[int] = []


def detach_from_caller() -> None:
    """Make this (forked) process stand apart from whoever ran its parent: its own session
    (the terminal's signals are not for it), and no standard streams (a caller reading the
    command's output sees it end with the command, not with this process)."""
    with contextlib.suppress(OSError):  # already a session's leader
        os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def leave_children() -> None:
    """Exit without waiting for the children still finishing (they have sent their results
    and stand apart: see `detach_from_caller`); init reaps them."""
    _CHILDREN.clear()


def _reap(block: bool = True) -> None:
    for pid in list(_CHILDREN):
        try:
            done, _status = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _CHILDREN.remove(pid)


atexit.register(_reap)
