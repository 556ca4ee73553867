"""Reading a manual at a ref runs git itself, without gitpython: refs resolve and tags are
found as gitpython finds them, and gitpython is loaded only for what needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import git
import pytest
from conftest import ManualRepo

from pipeline import gitio
from pipeline.errors import RefError


def test_refs_resolve_as_gitpython_resolves_them(manual: ManualRepo) -> None:
    manual.chapter("CP3", "Enquiries", "One.\n")
    first = manual.commit("r1")
    manual.git("tag", "-a", "-m", "annotated", "release/r1")
    manual.tag("light")
    manual.chapter("CP3", "Enquiries", "Two.\n")
    manual.commit("r2")
    repo = gitio.open_repo(manual.root)
    theirs = git.Repo(manual.root)
    for ref in ("HEAD", "HEAD~1", "main", "release/r1", "light", first, first[:10],
                "refs/tags/release/r1"):
        assert gitio.resolve(repo, ref) == theirs.commit(ref).hexsha, ref
    for bad in ("nope", "-x", "", "HEAD:procedures", "a\nb", "release/r2"):
        with pytest.raises(RefError):
            gitio.resolve(repo, bad)
        with pytest.raises(RefError, match="unknown git ref"):
            gitio.resolve_many(repo, ["HEAD", bad])
    many = ["HEAD", "HEAD~1", "release/r1", first, first[:10]]
    assert gitio.resolve_many(repo, many) == [theirs.commit(r).hexsha for r in many]
    assert gitio.resolve_many(repo, []) == []
    blob = theirs.commit(first).tree["procedures/cp3.md"]
    assert gitio.blob_bytes(repo, blob.hexsha) == blob.data_stream.read()
    assert gitio.blob_bytes(repo, blob.hexsha) == blob.data_stream.read()  # the same process
    with pytest.raises(RefError, match="cannot read blob"):
        gitio.blob_bytes(repo, "0" * 40)
    assert gitio.tag_exists(repo, "release/r1") and gitio.tag_exists(repo, "light")
    assert not gitio.tag_exists(repo, "release/r2") and not gitio.tag_exists(repo, "-x")
    tree = theirs.commit(first).tree
    assert gitio.list_files(repo, first, "procedures") == {
        blob.path: blob.hexsha for blob in tree["procedures"].traverse()}
    with pytest.raises(RefError):
        gitio.list_files(repo, "0" * 40, "procedures")


def test_gitpython_is_there_when_asked_for(manual: ManualRepo) -> None:
    repo = gitio.open_repo(manual.root)
    assert Path(repo.git_dir) == manual.root / ".git"
    assert repo.head.commit.hexsha == manual.git("rev-parse", "HEAD")  # gitpython's own
    assert gitio.has_commits(repo)


def test_reading_a_ref_loads_no_gitpython(manual: ManualRepo) -> None:
    manual.chapter("CP3", "Enquiries", "One.\n")
    manual.commit("r1")
    code = ("import sys; from pathlib import Path; from pipeline.manual import open_manual; "
            f"m = open_manual(Path({str(manual.root)!r}), explicit=True); "
            "m.snapshot('HEAD', defer=True); print('git' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_a_folder_that_is_no_repository_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not a git repository"):
        gitio.open_repo(tmp_path)


def test_blobs_stream_in_order_and_stops_cleanly(manual: ManualRepo) -> None:
    for k in range(30):
        manual.chapter(f"C{k}", f"Chapter {k}", f"Text {k}.\n" * 3000)  # past a pipe's buffer
    commit = manual.commit("many")
    repo = gitio.open_repo(manual.root)
    blobs = list(gitio.list_files(repo, commit, "procedures").values())
    got = list(gitio.blobs_stream(repo, [*blobs, blobs[0]]))
    assert [b for b, _data in got] == list(dict.fromkeys(blobs))
    assert got[3][1] == subprocess.run(["git", "cat-file", "blob", blobs[3]], cwd=manual.root,
                                       capture_output=True, check=True).stdout
    stream = gitio.blobs_stream(repo, blobs)
    next(stream)
    stream.close()  # the caller stops reading: git is stopped, nothing hangs
    with pytest.raises(RefError, match="cannot read blob"):
        list(gitio.blobs_stream(repo, [blobs[0], "0" * 40]))


def test_the_first_bad_chapter_in_file_order_is_named(manual: ManualRepo) -> None:
    manual.chapter("CP1", "One", "Text.\n")
    manual.write("procedures/cp2.md", "no front matter\n")
    manual.write("procedures/cp3.md", "---\nid: CP3\n---\nx\n")
    manual.commit("bad")
    from pipeline.errors import ChapterError
    from pipeline.manual import open_manual

    m = open_manual(manual.root, explicit=True)
    for defer in (False, True):
        with pytest.raises(ChapterError, match="missing front matter") as caught:
            m.snapshot("HEAD", defer=defer)
        assert "cp2.md" in str(caught.value)


def test_blobs_read_ahead_are_the_blobs_and_a_gap_is_read_as_usual(manual: ManualRepo) -> None:
    manual.chapter("CP3", "Enquiries", "One.\n")
    manual.chapter("CP4", "Conferences", "Four.\n")
    manual.commit("r1")
    repo = gitio.open_repo(manual.root)
    listing = gitio.list_files(repo, gitio.resolve(repo, "HEAD"), "procedures")
    blobs = list(listing.values())
    ahead = gitio.Ahead(repo, blobs)
    taken = ahead.take(blobs[:1])
    assert taken is not None
    assert list(taken) == [(blobs[0], gitio.blob_bytes(repo, blobs[0]))]
    partial = gitio.Ahead(repo, blobs[:1])
    assert partial.take(blobs) is None  # one was not read ahead: the caller reads them
    missing = gitio.Ahead(repo, ["0" * 40])
    gone = missing.take(["0" * 40])
    assert gone is not None
    with pytest.raises(RefError, match="cannot read blob"):
        list(gone)


def test_two_releases_read_together_are_the_releases_read_one_by_one(
        manual: ManualRepo) -> None:
    from pipeline import snapshot
    from pipeline.manual import open_manual

    manual.chapter("CP3", "Enquiries", "## Scope\n\nOne.\n")
    manual.chapter("CP4", "Conferences", "Four.\n")
    manual.commit("r1")
    manual.tag("r1")
    manual.chapter("CP3", "Enquiries", "## Scope\n\nOne, edited.\n")
    manual.chapter("CP5", "Reviews", "Five.\n")
    manual.commit("r2")
    manual.tag("r2")
    m = open_manual(manual.root)
    snapshot._PARSED.clear()
    together = m.snapshots("r1", "r2", defer=True)
    snapshot._PARSED.clear()
    apart = (m.snapshot("r1"), m.snapshot("r2"))
    assert together == apart
    assert [c.id for c in together[1].chapters] == ["CP3", "CP4", "CP5"]
