"""Work done in two halves at once: one in this process, one in a forked child.

Comparing two releases of a large manual is a few hundred independent jobs (one pair of
chapter versions each), and most machines have a second core. `in_two` makes a child with
fork (it shares everything read so far, without copying it); the two take the jobs one by one
from a queue they share, and this process reads the child's results back through a pipe,
encoded by the caller (the results are small beside the work). The child only adds what it
computed; the order of the results is the order of the jobs, so the outcome is the same as
doing them all here.

Where fork is missing, with one core, for little work, or when the child fails (then its
share is done here, so any error is raised as if there were no child), the jobs run here.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
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
    process goes on (writing caches); this process waits for it only when it exits.

    The two processes take the jobs one at a time, heaviest first, from a queue they share
    (a pipe filled before the fork, each job's number read whole by one of them): whichever
    is free takes the next, so both end at about the same time however the weights mislead
    (a static split by weight left one process waiting for the other a fifth of the time)."""
    if len(jobs) < 2 or sum(weights) < min_weight or not can_fork():
        meanwhile()
        return [work(job) for job in jobs]
    queue = b"".join(k.to_bytes(_NUMBER, "little")
                     for k in sorted(range(len(jobs)), key=lambda k: -weights[k]))
    if len(queue) > _QUEUE_MAX:
        return _split_in_two(work, jobs, weights, encode, decode, meanwhile,
                             meanwhile_weight, child_after)
    take_end, fill_end = os.pipe()
    os.write(fill_end, queue)  # fits the pipe: never waits
    os.close(fill_end)

    def theirs() -> bytes:  # in the child
        taken: list[int] = []
        done: list[R] = []
        for k in _taken(take_end):
            taken.append(k)
            done.append(work(jobs[k]))
        return _numbers(taken) + encode(done)

    answer = _in_child(theirs, child_after)
    meanwhile()
    results = {k: work(jobs[k]) for k in _taken(take_end)}
    os.close(take_end)
    data = answer()
    count = int.from_bytes(data[:_NUMBER], "little")
    if len(data) >= _NUMBER * (count + 1):  # else the child failed: its jobs are done here
        taken = [int.from_bytes(data[_NUMBER * n: _NUMBER * (n + 1)], "little")
                 for n in range(1, count + 1)]
        try:
            done = decode(data[_NUMBER * (count + 1):])
        except Exception:  # its jobs are done again here, so any error is raised here
            done = []
        if len(done) == len(taken):
            results.update(zip(taken, done, strict=True))
    return [results[k] if k in results else work(jobs[k]) for k in range(len(jobs))]


def _in_child(produce: Callable[[], bytes],
              child_after: tuple[Callable[[], None], Callable[[], None]] | None
              ) -> Callable[[], bytes]:
    """Fork a child that sends what `produce` gives through a pipe, then is gone without
    cleanup (between sending and going it calls `child_after`, see `in_two`); what is given
    is the child's answer, read once when first asked for (empty if the child failed)."""
    _reap(block=False)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(read_end)
            if child_after is not None:
                child_after[0]()
            data = produce()
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
    read: list[bytes] = []

    def answer() -> bytes:
        if not read:
            with os.fdopen(read_end, "rb") as pipe:
                read.append(pipe.read())
        return read[0]

    return answer


def _numbers(numbers: list[int]) -> bytes:
    """How many numbers, then the numbers, each in _NUMBER bytes."""
    return b"".join(n.to_bytes(_NUMBER, "little") for n in [len(numbers), *numbers])


# A job's number in the queue, and the most the queue may hold (a pipe holds 16 KiB on any
# system before a writer must wait for a reader; Linux holds 64 KiB).
_NUMBER = 4
_QUEUE_MAX = 16 * 1024


def _taken(queue: int) -> Iterator[int]:
    """The numbers of the jobs this process takes from the shared queue, until it is empty
    (a read of one number from a pipe is never split with another reader)."""
    while True:
        got = os.read(queue, _NUMBER)
        if len(got) < _NUMBER:
            return
        yield int.from_bytes(got, "little")


def _split_in_two(work: Callable[[T], R], jobs: Sequence[T], weights: Sequence[int],
                  encode: Callable[[list[R]], bytes], decode: Callable[[bytes], list[R]],
                  meanwhile: Callable[[], None], meanwhile_weight: int,
                  child_after: tuple[Callable[[], None], Callable[[], None]] | None
                  ) -> list[R]:
    """`in_two` for more jobs than the queue holds: shared out by weight beforehand."""
    mine, theirs = split(weights, here=meanwhile_weight)
    if not theirs:
        meanwhile()
        return [work(job) for job in jobs]
    answer = _in_child(lambda: encode([work(jobs[k]) for k in theirs]), child_after)
    meanwhile()
    results: dict[int, R] = {k: work(jobs[k]) for k in mine}
    theirs_done: list[R] | None = None
    try:  # all of the answer, or a child that failed (its answer cut short or missing)
        theirs_done = decode(answer())
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
