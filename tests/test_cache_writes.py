"""When the caches are written: held entries wait until they are released, and the `editorial`
program leaves them to a process of its own, so its answer is out (and its output closed)
before they are written; `wait_for_writers` waits for that process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ManualRepo

from pipeline import parsecache

EDITORIAL = Path(sys.executable).with_name("editorial")
DIGEST = b"k" * 20


def entries(folder: Path) -> parsecache.Pack:
    """The entries of `folder` as a process starting now lists them."""
    return parsecache.Pack(folder)


def test_held_entries_are_made_and_written_only_when_released(tmp_path: Path) -> None:
    folder = tmp_path / "editorial-cache" / "x"
    made: list[int] = []

    def data() -> bytes:
        made.append(1)
        return b"entry"

    parsecache.hold()
    try:
        parsecache.pack(folder).add(DIGEST, data)
        assert made == [] and entries(folder).get(DIGEST) is None
        assert (tmp_path / "editorial-cache" / parsecache.LOCK_NAME).exists()
    finally:
        parsecache.release()
    assert made == [1] and entries(folder).get(DIGEST) == b"entry"
    # Released: the next entry is written at once.
    parsecache.pack(folder).add(b"j" * 20, b"now")
    assert entries(folder).get(b"j" * 20) == b"now"


def test_an_entry_that_cannot_be_made_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "editorial-cache" / "x"

    def broken() -> bytes:
        raise ValueError("a value marshal cannot keep")

    parsecache.pack(folder).add(DIGEST, broken)
    parsecache.pack(folder).add(b"j" * 20, b"kept")
    assert entries(folder).get(DIGEST) is None
    assert entries(folder).get(b"j" * 20) == b"kept"


# A process that holds an entry which takes a while to make, prints its answer, and leaves
# the entry to a detached writer.
_SLOW_WRITER = """
import os, sys, time
from pathlib import Path
from pipeline import parsecache
folder = Path(sys.argv[1])
def slow():
    time.sleep(1.5)
    return b"written late"
parsecache.hold()
parsecache.pack(folder).add(b"k" * 20, slow)
print("answer", flush=True)
parsecache.release_detached()
os._exit(0)
"""


def test_a_detached_writer_lets_the_answer_end_first_and_is_waited_for(tmp_path: Path) -> None:
    git_dir = tmp_path / ".git"
    folder = git_dir / "editorial-cache" / "x"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(folder)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=30)  # the pipes close when the process ends
    assert proc.returncode == 0, err
    assert out == b"answer\n"
    assert entries(folder).get(DIGEST) is None  # still being made by the writer
    parsecache.wait_for_writers(git_dir)
    assert entries(folder).get(DIGEST) == b"written late"


def test_the_program_leaves_its_caches_written_and_used_by_the_next_run(
        manual: ManualRepo) -> None:
    manual.chapter("CP1", "Referrals", "## Purpose\n\nA referral is made within one day.\n")
    manual.commit()
    manual.tag("r1")
    manual.chapter("CP1", "Referrals", "## Purpose\n\nA referral is made within two days.\n")
    manual.commit()
    manual.tag("r2")
    env = {**os.environ, "EDITORIAL_REPLAY": "0"}
    env.pop("EDITORIAL_CACHE", None)
    args = [str(EDITORIAL), "changes", "--from", "r1", "--to", "r2", "--json"]
    first = subprocess.run(args, cwd=manual.root, capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr
    git_dir = manual.root / ".git"
    parsecache.wait_for_writers(git_dir)
    cache = git_dir / "editorial-cache"
    assert list(cache.rglob("changes/*.bin")) and [p for p in cache.glob("*/*.bin")]
    second = subprocess.run(args, cwd=manual.root, capture_output=True, text=True, env=env)
    assert second.returncode == 0 and second.stdout == first.stdout
    assert '"paragraph.modified"' in first.stdout
