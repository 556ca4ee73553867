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
