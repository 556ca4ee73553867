"""`editorial publish`: what it writes, commits and tags; what it refuses; and that a run
killed at any point leaves no tag and no half folder, and the next run succeeds."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from test_render_support import Sample, build, copy_sample, git_identity, tree_files

from pipeline.manual import open_manual
from pipeline.publish import render_outputs
from pipeline.releases import load_release, save_release

RECORD = "releases/r2/release.toml"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    base = tmp_path_factory.mktemp("publish")
    with git_identity(base / "home"):
        return build(base / "manual")


@pytest.fixture
def sample(built: Sample, tmp_path: Path) -> Sample:
    return copy_sample(built, tmp_path / "manual")


def assert_published(sample: Sample) -> dict[str, object]:
    """The state a finished publish leaves: tag on the publish commit, a clean tree, the
    record marked published, every output listed in the manifest with its hash."""
    repo = sample.repo
    head = repo.git("rev-parse", "HEAD")
    assert repo.git("rev-parse", "release/r2^{commit}") == head
    assert repo.git("log", "-1", "--format=%s") == "Publish September 2023 (r2)"
    assert repo.git("status", "--porcelain") == ""
    record = tomllib.loads((sample.root / RECORD).read_text())
    source = repo.git("rev-parse", "HEAD~1")
    assert (record["status"], record["source_commit"]) == ("published", source)
    folder = sample.root / "releases/r2/published"
    files = tree_files(folder)
    manifest = json.loads(files.pop("MANIFEST.json"))
    assert manifest["files"] == {name: hashlib.sha256(data).hexdigest()
                                 for name, data in files.items()}
    assert manifest["source_commit"] == source
    assert manifest["source_tree"] == repo.git("rev-parse", f"{source}^{{tree}}")
    assert [a["by"] for a in manifest["approvals"]] == ["Chair Person"]
    assert not list((sample.root / "releases/r2").glob(".published-*"))
    return manifest


def test_publish_writes_commits_and_tags(sample: Sample) -> None:
    result = sample.repo.run("publish")
    assert result.exit_code == 0, result.output
    head = sample.repo.git("rev-parse", "HEAD")
    manifest = assert_published(sample)
    files = manifest["files"]
    assert isinstance(files, dict)
    assert result.stdout == (f"Published release r2: {len(files) + 1} files in "
                             f"releases/r2/published/\nCommit {head[:12]}, tag release/r2\n")
    assert {"bulletin.html", "bulletin.docx", "bulletin.md", "complete-list.html",
            "complete-list.docx", "complete-list.md", "changes.json", "changes.csv",
            "feed.atom", "index.html", "chapters/CP1.html", "chapters/CP1.md",
            "parts/A.docx", "parts/B.docx"} <= set(files)
    assert "Publishing r2 (September 2023) from commit" in result.stderr
    assert "Tagging release/r2" in result.stderr


def test_a_tagged_release_renders_again_to_its_manifest(sample: Sample) -> None:
    """What `verify` relies on: rendering from the tag, or from the recorded source commit,
    gives exactly the published bytes."""
    assert sample.repo.run("publish").exit_code == 0
    manifest = assert_published(sample)
    manual = open_manual(sample.root)
    for ref in ("release/r2", str(manifest["source_commit"])):
        again = render_outputs(manual, "r2", ("html", "docx", "md"), commit=ref).files
        assert {n: hashlib.sha256(d).hexdigest() for n, d in again.items()} == \
            manifest["files"]


def test_refuses_a_dirty_tree(sample: Sample) -> None:
    (sample.root / "procedures/cp3.md").write_text("---\nid: CP3\ntitle: E\npart: A\n---\nx\n")
    result = sample.repo.run("publish")
    assert result.exit_code == 2
    assert result.stderr == ("Error: procedures/cp3.md: uncommitted change (commit first, so "
                             "that what is published is what is recorded)\n")
    assert_untouched(sample)


def test_refuses_an_unapproved_release(sample: Sample) -> None:
    config = open_manual(sample.root).config
    save_release(config, replace(load_release(config, "r2"), approvals=(), status="draft"))
    sample.repo.commit("approval withdrawn")
    result = sample.repo.run("publish")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {RECORD}: release r2 is not approved (run 'editorial "
                             "approve --by NAME')\n")
    assert_untouched(sample)


def test_refuses_a_stale_approval(sample: Sample) -> None:
    path = sample.root / "procedures/cp3.md"
    path.write_text(path.read_text().replace("qualified social worker", "social worker"))
    sample.repo.commit("an edit after the approval")
    result = sample.repo.run("publish")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {RECORD}: the approval by Chair Person is stale: the "
                             "chapters or notes changed after it (check, then approve again)\n")
    assert_untouched(sample)


def test_refuses_an_existing_tag(sample: Sample) -> None:
    sample.repo.tag("release/r2")
    result = sample.repo.run("publish")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {RECORD}: tag 'release/r2' already exists (delete it, "
                             "or publish under another release id)\n")
    assert not (sample.root / "releases/r2/published").exists()


def test_refuses_to_publish_twice(sample: Sample) -> None:
    assert sample.repo.run("publish").exit_code == 0
    head = sample.repo.git("rev-parse", "HEAD")
    result = sample.repo.run("publish", "--release", "r2")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {RECORD}: release r2 is already published\n"
    result = sample.repo.run("publish")
    assert result.exit_code == 2
    assert result.stderr == ("Error: releases: no open release (start one with 'editorial "
                             "release start ID')\n")
    assert sample.repo.git("rev-parse", "HEAD") == head


def assert_untouched(sample: Sample) -> None:
    assert sample.repo.git("tag", "--list", "release/r2") == ""
    assert not (sample.root / "releases/r2/published").exists()
    assert load_release(open_manual(sample.root).config, "r2").status != "published"


# --- Killed at any point ---------------------------------------------------------------------

# The progress lines publish prints before each step; the run is killed as the line appears,
# so the step is under way (or just done) when the process dies.
KILL_POINTS = ("Reading release", "Converting with pandoc", "  converted",
               "Writing", "Committing", "Tagging")


def kill_publish_at(root: Path, marker: str) -> bool:
    """Start `editorial publish` and SIGKILL it when `marker` starts a line of its progress.
    True if it was killed; a run that ends first fails the test with what it said."""
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "-C", str(root), "publish"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    said = []
    for line in proc.stderr:
        said.append(line)
        if line.startswith(marker):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"publish was not killed at {marker!r}: " \
        f"exit {proc.returncode}, it said:\n{''.join(said)}{proc.stderr.read()}"
    return True


def settle(root: Path) -> None:
    """A git command started by the killed run may still be finishing its own work (as it
    would be when a person re-runs by hand, seconds later)."""
    time.sleep(0.5)
    deadline = time.monotonic() + 10
    while (root / ".git/index.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("marker", KILL_POINTS)
def test_killed_publish_leaves_no_tag_or_half_folder_and_reruns(sample: Sample,
                                                                 marker: str) -> None:
    assert kill_publish_at(sample.root, marker)
    settle(sample.root)
    tagged = sample.repo.git("tag", "--list", "release/r2") != ""
    published = sample.root / "releases/r2/published"
    if published.exists():  # whole or not there: never half
        files = tree_files(published)
        manifest = json.loads(files.pop("MANIFEST.json"))
        assert manifest["files"] == {n: hashlib.sha256(d).hexdigest()
                                     for n, d in files.items()}
    if tagged:  # the tag is made last: everything else is done
        assert_published(sample)
    result = sample.repo.run("publish", "--release", "r2")
    if tagged:
        assert result.exit_code == 2
        assert result.stderr == f"Error: {RECORD}: release r2 is already published\n"
    else:
        assert result.exit_code == 0, result.output
    assert_published(sample)


def test_rerun_finishes_a_run_killed_before_its_tag(sample: Sample) -> None:
    # What a run killed between its commit and its tag leaves: the commit, no tag.
    assert sample.repo.run("publish").exit_code == 0
    sample.repo.git("tag", "-d", "release/r2")
    result = sample.repo.run("publish")
    assert result.exit_code == 0, result.output
    assert result.stderr == "Finishing an interrupted publish: tagging release/r2\n"
    assert result.stdout.startswith("Finished publishing release r2: ")
    assert_published(sample)


def test_environment_is_untouched_by_publish(sample: Sample) -> None:
    before = os.environ.get("SOURCE_DATE_EPOCH")
    assert sample.repo.run("publish").exit_code == 0
    assert os.environ.get("SOURCE_DATE_EPOCH") == before


def test_rerun_removes_a_half_written_temp_folder(sample: Sample) -> None:
    # What a run killed while writing leaves: a temp folder beside published/.
    temp = sample.root / "releases/r2/.published-k1ll3d"
    (temp / "chapters").mkdir(parents=True)
    (temp / "bulletin.html").write_text("<p>half")
    result = sample.repo.run("publish")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == ("Removing releases/r2/.published-k1ll3d (left by "
                                             "an interrupted publish)")
    assert not temp.exists()
    assert_published(sample)


def test_an_unknown_published_folder_is_not_removed(sample: Sample) -> None:
    # Not ours (no manifest naming this source): refused, never deleted.
    mine = sample.root / "releases/r2/published"
    mine.mkdir()
    (mine / "notes.txt").write_text("someone's work")
    result = sample.repo.run("publish")
    assert result.exit_code == 2
    assert result.stderr == ("Error: releases/r2/published/notes.txt: uncommitted change "
                             "(commit first, so that what is published is what is recorded)\n")
    assert (mine / "notes.txt").read_text() == "someone's work"
