"""The `editorial` program has git read the two releases a comparison names while Python
loads the tool (pipeline/prefetch.py): what it prints is the same as when it reads them
itself (EDITORIAL_PREFETCH=0), errors included, and a run that finds its chapters in the
parse cache reads nothing ahead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ManualRepo

from pipeline import prefetch

EDITORIAL = Path(sys.executable).with_name("editorial")


def run(manual: ManualRepo, *args: str, prefetching: bool = True,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, EDITORIAL_REPLAY="0", EDITORIAL_PREFETCH="1" if prefetching else "0")
    return subprocess.run([str(EDITORIAL), *args], cwd=cwd or manual.root, env=env,
                          capture_output=True, text=True, timeout=120)


def two_releases(manual: ManualRepo) -> None:
    manual.chapter("CP1", "Referrals", "## 1. Making a referral\n\n1.1 Call the team.\n\n"
                   "1.2 Write it down.\n")
    manual.chapter("CP2", "Strategy", "## 2. Meetings\n\n2.1 The meeting decides.\n")
    manual.write("procedures/chart.png", "not read")
    manual.commit("first")
    manual.tag("r1")
    manual.chapter("CP1", "Referrals", "## 1. Making a referral\n\n1.1 Call the duty team.\n\n"
                   "1.2 Write it down.\n")
    manual.chapter("CP3", "Enquiries", "3.1 Enquiries follow.\n")
    manual.commit("second")
    manual.tag("r2")


@pytest.mark.parametrize("args", [
    ("changes", "--from", "r1", "--to", "r2", "--json"),
    ("changes", "--from=r1", "--to=r2"),
    ("diff", "r1", "r2", "--format", "json"),
    ("diff", "--format", "text", "r2", "r1", "CP1"),
])
def test_a_comparison_prints_the_same_whether_git_read_ahead_or_not(
        manual: ManualRepo, args: tuple[str, ...]) -> None:
    two_releases(manual)
    cache = manual.root / ".git" / "editorial-cache"
    shutil.rmtree(cache, ignore_errors=True)
    ahead = run(manual, *args)
    shutil.rmtree(cache, ignore_errors=True)
    itself = run(manual, *args, prefetching=False)
    assert ahead.returncode == itself.returncode == 0, ahead.stderr
    assert ahead.stdout == itself.stdout and "duty" in ahead.stdout
    # From another folder, naming the manual's.
    shutil.rmtree(cache, ignore_errors=True)
    elsewhere = run(manual, "-C", str(manual.root), *args, cwd=manual.root.parent)
    assert elsewhere.stdout == itself.stdout


def test_errors_are_the_same_whether_git_read_ahead_or_not(manual: ManualRepo) -> None:
    two_releases(manual)
    manual.write("procedures/cp2.md", "---\nid: CP2\ntitle: Strategy\n---\n\nNo part.\n")
    manual.commit("broken")
    manual.tag("r3")
    for args in (("changes", "--from", "r1", "--to", "nosuch"),
                 ("changes", "--from", "r1", "--to", "r3")):
        shutil.rmtree(manual.root / ".git" / "editorial-cache", ignore_errors=True)
        ahead = run(manual, *args)
        itself = run(manual, *args, prefetching=False)
        assert ahead.returncode == itself.returncode == 2
        assert ahead.stderr == itself.stderr and ahead.stderr.count("\n") == 1
        assert "Traceback" not in ahead.stderr
    assert "procedures/cp2.md" in itself.stderr and "'part'" in itself.stderr


def test_the_refs_of_a_comparison_are_read_from_its_command_line() -> None:
    refs = prefetch._refs
    assert refs(["changes", "--from", "r1", "--to", "r2", "--json"]) == ("r1", "r2")
    assert refs(["-C", "m", "changes", "--to=b", "--from=a"]) == ("a", "b")
    assert refs(["diff", "--format", "json", "a", "b", "CP1"]) == ("a", "b")
    assert refs(["diff", "a", "--format", "html", "b"]) == ("a", "b")
    # A working tree, one ref, another command, or a ref that could be an option: nothing.
    assert refs(["changes", "--from", "r1"]) is None
    assert refs(["changes"]) is None
    assert refs(["status"]) is None
    assert refs(["diff", "a"]) is None
    assert refs(["diff", "a", "WORKTREE"]) is None
    assert refs(["changes", "--from", "-x", "--to", "r2"]) is None
    assert refs(["changes", "--from", "main@{1}", "--to", "r2"]) is None


def test_the_files_read_are_the_first_release_and_what_the_second_changed() -> None:
    first = {"procedures/a.md": "1", "procedures/b.md": "2", "procedures/c.png": "3",
             "procedures/d.md": "2"}
    second = {"procedures/a.md": "1", "procedures/b.md": "4", "procedures/e.md": "5",
              "procedures/c.png": "6"}
    assert prefetch.wanted(first, second) == (["1", "2"], ["4", "5"])


def test_nothing_is_read_ahead_where_the_parse_cache_is(manual: ManualRepo) -> None:
    """With the caches in place, the child lists the two trees and stops: the command reads
    only what its cache lacks."""
    two_releases(manual)
    assert run(manual, "changes", "--from", "r1", "--to", "r2").returncode == 0
    assert (manual.root / ".git" / "editorial-cache").is_dir()
    here = os.getcwd()
    os.chdir(manual.root)
    try:
        prefetch.start(["changes", "--from", "r1", "--to", "r2"], str(manual.root))
        running = prefetch._RUNNING
        assert running is not None
        read = prefetch.taken(str(manual.root.resolve()), "procedures", ("r1", "r2"))
        assert read is not None and read.listings[1]["procedures/cp3.md"]
        assert running.wait(b"1") is False  # the files were not read
    finally:
        prefetch.stop()
        os.chdir(here)


def test_the_files_read_ahead_are_the_releases_files(manual: ManualRepo) -> None:
    two_releases(manual)
    shutil.rmtree(manual.root / ".git" / "editorial-cache", ignore_errors=True)
    from pipeline import gitio

    prefetch.start(["-C", str(manual.root), "diff", "r1", "r2"], "/")
    try:
        read = prefetch.taken(str(manual.root.resolve()), "procedures", ("r1", "r2"))
        assert read is not None
        assert read.commits == [manual.git("rev-parse", "r1"), manual.git("rev-parse", "r2")]
        repo = gitio.open_repo(manual.root)
        for side, ref in enumerate(("r1", "r2")):
            assert read.listings[side] == gitio._listed(repo, ref, "procedures")
            blobs, opened = read.blobs(side)
            got = dict(gitio.Ahead.written(blobs, opened).take(blobs) or ())
            assert got and got == {b: gitio.blob_bytes(repo, b) for b in blobs}
        assert "procedures/cp3.md" not in read.listings[0]
        assert read.listings[1]["procedures/cp3.md"] in read.blobs(1)[0]
    finally:
        prefetch.stop()


def test_release_ids_are_read_ahead_as_the_command_resolves_them(manual: ManualRepo) -> None:
    """`changes --from 2023-09 --to 2024-03` names releases: their recorded source commits,
    else their tags, as the command itself resolves them."""
    two_releases(manual)
    manual.write("releases/2023-09/release.toml", 'id = "2023-09"\ntitle = "September"\n'
                 f'source_commit = "{manual.git("rev-parse", "r1")}"\n')
    manual.write("releases/2024-03/release.toml", 'id = "2024-03"\ntitle = "March"\n')
    manual.commit("records")
    manual.git("tag", "release/2024-03", "r2")
    shutil.rmtree(manual.root / ".git" / "editorial-cache", ignore_errors=True)
    prefetch.start(["-C", str(manual.root), "changes", "--from", "2023-09", "--to", "2024-03"],
                   "/")
    try:
        commits = [manual.git("rev-parse", "r1"), manual.git("rev-parse", "r2")]
        root = str(manual.root.resolve())
        read = prefetch.taken(root, "procedures", (commits[0], commits[1]))
        assert read is not None and read.commits == commits
        assert prefetch.commit_of(root, "release/2024-03") == commits[1]
        assert prefetch.commit_of(root, "2024-03") is None  # a release id is not a git ref
    finally:
        prefetch.stop()
    args = ("changes", "--from", "2023-09", "--to", "2024-03", "--json")
    shutil.rmtree(manual.root / ".git" / "editorial-cache", ignore_errors=True)
    ahead = run(manual, *args)
    shutil.rmtree(manual.root / ".git" / "editorial-cache", ignore_errors=True)
    itself = run(manual, *args, prefetching=False)
    assert ahead.returncode == itself.returncode == 0 and ahead.stdout == itself.stdout
    assert "duty" in ahead.stdout


def test_a_read_ahead_not_taken_is_stopped_and_reaped(manual: ManualRepo) -> None:
    two_releases(manual)
    shutil.rmtree(manual.root / ".git" / "editorial-cache", ignore_errors=True)
    prefetch.start(["-C", str(manual.root), "changes", "--from", "r1", "--to", "r2"], "/")
    running = prefetch._RUNNING
    assert running is not None
    prefetch.stop()  # at once, git perhaps still reading
    assert prefetch._RUNNING is None
    with pytest.raises(ChildProcessError):
        os.waitpid(running.pid, os.WNOHANG)  # reaped: no process left behind
    prefetch.stop()  # twice is harmless
    # Another manual's, or other refs: nothing is taken.
    prefetch.start(["-C", str(manual.root), "diff", "r1", "r2"], "/")
    try:
        root = str(manual.root.resolve())
        assert prefetch.taken(root, "procedures", ("r2", "r1")) is None
        assert prefetch.taken(root + "x", "procedures", ("r1", "r2")) is None
        assert prefetch.taken(root, "chapters", ("r1", "r2")) is None
        assert prefetch.taken(root, "procedures", ("r1", "r2")) is not None
    finally:
        prefetch.stop()
