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
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

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
           encode: Callable[[R], bytes], decode: Callable[[bytes], R],
           min_weight: int, meanwhile: Callable[[], None] = lambda: None,
           child_after: tuple[Callable[[], None], Callable[[], None]] | None = None
           ) -> list[R]:
    """[work(job) for job in jobs], part of it done by a forked child when the total weight
    reaches `min_weight`. `meanwhile` runs in this process first (while the child works).
    `child_after` is (hold, release): the child calls hold before its work and release once
    its results are sent, for what it may finish while this process goes on (writing
    caches); this process waits for it only when it exits.

    The two processes take the jobs one at a time, heaviest first, from a queue they share
    (a pipe filled before the fork, each number read whole by one of them; beyond what a
    pipe holds, a number stands for a few jobs in a row): whichever is free takes the next,
    so both end at about the same time however the weights mislead (a split by weight made
    beforehand left one process waiting for the other a fifth of the time). The child sends
    each result as soon as it is done, and this process decodes them between its own jobs,
    so little is left to send or decode when both are done."""
    if len(jobs) < 2 or sum(weights) < min_weight or not can_fork():
        meanwhile()
        return [work(job) for job in jobs]
    order = sorted(range(len(jobs)), key=lambda k: -weights[k])
    size = -(-len(order) // _QUEUE_NUMBERS)  # jobs a number in the queue stands for
    groups = [order[at: at + size] for at in range(0, len(order), size)]
    take_end, fill_end = os.pipe()
    os.write(fill_end, b"".join(n.to_bytes(_NUMBER, "little") for n in range(len(groups))))
    os.close(fill_end)  # the queue fits the pipe: writing it never waited

    def send(pipe: int) -> None:  # in the child: each job it takes, sent once done
        for n in _taken(take_end):
            for k in groups[n]:
                _send(pipe, k, encode(work(jobs[k])))

    read_end = _fork_child(send, child_after)
    theirs = _Received(read_end, decode)
    meanwhile()
    results: dict[int, R] = {}
    for n in _taken(take_end):
        for k in groups[n]:
            results[k] = work(jobs[k])
            theirs.take()  # what the child has sent meanwhile is decoded between jobs here
    os.close(take_end)
    results.update(theirs.rest())
    # A job the child took but did not send (it failed) is done here, so any error is
    # raised here.
    return [results[k] if k in results else work(jobs[k]) for k in range(len(jobs))]


def _send(fd: int, job: int, data: bytes) -> None:
    """One job's result into the pipe: its number, its length, its bytes."""
    view = memoryview(job.to_bytes(_NUMBER, "little") + len(data).to_bytes(_NUMBER, "little")
                      + data)
    while view:
        view = view[os.write(fd, view):]


class _Received(Generic[R]):
    """The results a child sends (see `_send`), read without waiting while this process
    still works, then to the end."""

    def __init__(self, fd: int, decode: Callable[[bytes], R]) -> None:
        self.fd = fd
        self.decode = decode
        self.buffer = bytearray()
        self.done: dict[int, R] = {}
        os.set_blocking(fd, False)

    def take(self) -> None:
        """Decode what has arrived."""
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.buffer += chunk
        self._decode()

    def rest(self) -> dict[int, R]:
        """Every result sent, once the child has ended (job number -> result)."""
        os.set_blocking(self.fd, True)
        while chunk := os.read(self.fd, 1 << 16):
            self.buffer += chunk
        os.close(self.fd)
        self._decode()
        return self.done

    def _decode(self) -> None:
        at, buffer, header = 0, self.buffer, 2 * _NUMBER
        while len(buffer) - at >= header:
            job = int.from_bytes(buffer[at: at + _NUMBER], "little")
            size = int.from_bytes(buffer[at + _NUMBER: at + header], "little")
            if len(buffer) - at - header < size:
                break  # the rest of it is still on its way (or was cut short)
            data = bytes(buffer[at + header: at + header + size])
            at += header + size
            try:
                self.done[job] = self.decode(data)
            except Exception:  # done again here (see in_two)
                continue
        del buffer[:at]


def _fork_child(send: Callable[[int], None],
                child_after: tuple[Callable[[], None], Callable[[], None]] | None) -> int:
    """Fork a child that sends its results into a pipe (`send` is given the pipe's end),
    then is gone without cleanup (between sending and going it calls `child_after`, see
    `in_two`); the end of the pipe this process reads."""
    _reap(block=False)
    read_end, write_end = os.pipe()
    _widen(write_end)
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(read_end)
            if child_after is not None:
                child_after[0]()
            send(write_end)
            os.close(write_end)
            if child_after is not None:
                detach_from_caller()
                child_after[1]()
            status = 0
        finally:
            os._exit(status)
    _CHILDREN.append(pid)
    os.close(write_end)
    return read_end


def _widen(fd: int) -> None:
    """Let the pipe hold up to a megabyte where the system allows it (Linux): the child's
    results for a large manual are most of that, and it would otherwise wait, with 64 KiB
    sent, for this process to read them between its own jobs."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    except (ImportError, AttributeError, OSError):  # another system, or a lower limit
        pass


_PIPE_SIZE = 1 << 20
# A number's size in the queue, and the most numbers the queue holds (a pipe holds 16 KiB
# on any system before a writer must wait for a reader; Linux holds 64 KiB).
_NUMBER = 4
_QUEUE_NUMBERS = 16 * 1024 // _NUMBER


def _taken(queue: int) -> Iterator[int]:
    """The numbers of the jobs this process takes from the shared queue, until it is empty
    (a read of one number from a pipe is never split with another reader)."""
    while True:
        got = os.read(queue, _NUMBER)
        if len(got) < _NUMBER:
            return
        yield int.from_bytes(got, "little")


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
