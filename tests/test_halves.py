"""Work shared with a forked child (`halves.in_two`) gives what doing it all here gives: in
general, when the child fails, and for the changes between two snapshots."""

from __future__ import annotations

import marshal
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_changes_properties import A_WORDS, B_WORDS, bodies, chapter, edited, snap

from pipeline import changes, halves, parsecache
from pipeline.changes import detect_changes
from pipeline.chapters import parse_chapter

needs_fork = pytest.mark.skipif(not halves.can_fork(), reason="no fork or one core")


@needs_fork
def test_results_come_back_in_the_order_of_the_jobs() -> None:
    def work(n: int) -> list[int]:
        time.sleep(0.005)  # long enough for the child to start taking jobs
        return [n, os.getpid()]

    jobs = list(range(40))
    got = halves.in_two(work, jobs, [1] * 40, marshal.dumps, marshal.loads, 0)
    assert [n for n, _pid in got] == jobs
    assert len({pid for _n, pid in got}) == 2  # both processes took part


@needs_fork
def test_a_process_held_up_by_a_slow_job_leaves_the_others_to_the_other_one() -> None:
    def work(n: int) -> list[int]:
        time.sleep(0.5 if n == 0 else 0.01)  # the weights say all jobs are alike
        return [n, os.getpid()]

    got = halves.in_two(work, list(range(20)), [1] * 20, marshal.dumps, marshal.loads, 0)
    assert [n for n, _pid in got] == list(range(20))
    slow = got[0][1]
    # Shared out by weight beforehand, it would have done ten jobs.
    assert sum(1 for _n, pid in got if pid == slow) <= 3


@needs_fork
def test_a_failing_child_leaves_its_share_to_this_process() -> None:
    here = os.getpid()

    def work(n: int) -> int:
        if os.getpid() != here:
            raise RuntimeError("only in the child")
        return n * n

    assert halves.in_two(work, list(range(10)), [1] * 10, marshal.dumps, marshal.loads,
                         0) == [n * n for n in range(10)]


def test_meanwhile_runs_once_here_with_or_without_a_child() -> None:
    ran: list[int] = []
    for limit in (0, 10**9):
        got = halves.in_two(lambda n: n + 1, list(range(6)), [1] * 6, marshal.dumps,
                            marshal.loads, limit, lambda: ran.append(os.getpid()))
        assert got == [n + 1 for n in range(6)]
    assert ran == [os.getpid(), os.getpid()]


@st.composite
def manuals(draw: st.DrawFn) -> tuple[list[list[str]], list[list[str]], list[str]]:
    old = [draw(bodies(A_WORDS)) for _ in range(draw(st.integers(2, 5)))]
    new = [draw(edited(body, A_WORDS if k % 2 else B_WORDS)) for k, body in enumerate(old)]
    # Some chapters renumbered (a new id, the text kept or edited), some added or removed.
    new_ids = [draw(st.sampled_from([f"C{k}", f"R{k}"])) for k in range(len(old))]
    return old, new, new_ids


@needs_fork
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manuals())
def test_changes_found_in_two_processes_are_those_found_in_one(
        manual: tuple[list[list[str]], list[list[str]], list[str]]) -> None:
    old_bodies, new_bodies, new_ids = manual
    old = snap(*(chapter(f"C{k}", body) for k, body in enumerate(old_bodies)))
    new = snap(*(chapter(cid, body) for cid, body in zip(new_ids, new_bodies, strict=True)))
    limit = changes.FORK_MIN_SIZE
    try:
        changes.FORK_MIN_SIZE = 10**12
        alone = detect_changes(old, new)
        changes.FORK_MIN_SIZE = 0
        shared = detect_changes(old, new)
    finally:
        changes.FORK_MIN_SIZE = limit
    assert shared == alone


def test_held_cache_entries_are_written_on_release(tmp_path: Path) -> None:
    chapter = parse_chapter("procedures/cp3.md", b"---\nid: CP3\ntitle: T\npart: A\n---\nText.\n",
                            "abc")
    parsecache.hold()
    try:
        parsecache.store(tmp_path, chapter)
        assert not list(tmp_path.rglob("*.bin"))  # held in memory
    finally:
        parsecache.release()
    parsecache._PACKS.clear()  # read back as another process would
    assert parsecache.load(tmp_path, chapter.path, chapter.blob) == chapter


@needs_fork
def test_a_child_finishing_late_is_waited_for() -> None:
    got = halves.in_two(lambda n: n, list(range(4)), [1] * 4, marshal.dumps, marshal.loads, 0,
                        child_after=(lambda: None, lambda: time.sleep(0.2)))
    assert got == [0, 1, 2, 3] and halves._CHILDREN  # not waited for yet
    halves._reap()
    assert not halves._CHILDREN


def test_no_fork_beside_another_thread() -> None:
    import threading

    started = threading.Event()
    stop = threading.Event()
    thread = threading.Thread(target=lambda: (started.set(), stop.wait()))
    thread.start()
    try:
        started.wait()
        assert not halves.can_fork()
        pids = halves.in_two(lambda n: os.getpid(), list(range(4)), [1] * 4, marshal.dumps,
                             marshal.loads, 0)
        assert set(pids) == {os.getpid()}
    finally:
        stop.set()
        thread.join()


@needs_fork
def test_more_jobs_than_the_queue_holds_are_taken_a_few_at_a_time() -> None:
    jobs = list(range(halves._QUEUE_NUMBERS + 1))
    got = halves.in_two(lambda n: [n, os.getpid()], jobs, [1] * len(jobs), marshal.dumps,
                        marshal.loads, 0)
    assert [n for n, _pid in got] == jobs
    assert len({pid for _n, pid in got}) == 2


@needs_fork
def test_results_a_child_sent_before_failing_are_kept_and_the_rest_done_here() -> None:
    here = os.getpid()
    done_there: list[int] = []

    def work(n: int) -> list[int]:
        time.sleep(0.005)
        if os.getpid() != here:
            done_there.append(n)  # the child's own count (its memory, not ours)
            if len(done_there) == 3:
                raise RuntimeError("the child fails on its third job")
        return [n, os.getpid()]

    got = halves.in_two(work, list(range(30)), [1] * 30, marshal.dumps, marshal.loads, 0)
    assert [n for n, _pid in got] == list(range(30))
    assert sum(1 for _n, pid in got if pid != here) == 2  # sent before it failed
