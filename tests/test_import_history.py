"""`editorial import-history`: past versions become dated commits, published releases and tags,
in real git repositories, from folders made here and from real site-policy releases."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import docx
from click.testing import CliRunner, Result
from conftest import ManualRepo

from pipeline.cli import cli
from pipeline.config import load_config
from pipeline.gitio import open_repo
from pipeline.snapshot import read_snapshot

DATA = Path(__file__).parent / "data" / "import" / "site-policy"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def board_versions(tmp_path: Path) -> list[Path]:
    """Three versions of a small manual as a board kept them: no ids, parts by folder."""
    v1, v2, v3 = (tmp_path / "past" / name for name in ("2021-03", "2021-09", "2022-03-15"))
    write(v1, "Core/cp1.md", "---\ntitle: Recognising Abuse\n---\n\n1.1 Abuse is harm.\n\n"
          "1.2 Report it the same day.\n")
    write(v1, "Core/referral.md", "# CP2 - Referral\n\n2.1 Refer by telephone.\n")
    write(v1, "Guidance/bullying.md", "---\ntitle: Bullying\n---\n\nBe kind.\n")
    write(v2, "Core/cp1.md", "---\ntitle: Recognising Abuse\n---\n\n1.1 Abuse is harm.\n\n"
          "1.2 Report it within one working day.\n")
    write(v2, "Core/referral.md", "# CP2 - Referral\n\n2.1 Refer by telephone.\n")
    write(v2, "Guidance/bullying.md", "---\ntitle: Bullying\n---\n\nBe kind.\n")
    write(v3, "Core/cp1.md", "---\ntitle: Recognising Abuse\n---\n\n1.1 Abuse is harm.\n\n"
          "1.2 Report it within one working day.\n")
    write(v3, "Core/referral.md", "# CP2 - Referral\n\n2.1 Refer online.\n")
    write(v3, "Roles/bullying.md", "---\ntitle: Bullying\n---\n\nBe kind.\n")  # moved
    document = docx.Document()
    document.add_heading("PA1 - Roles and Responsibilities", level=1)
    document.add_paragraph("Every agency names a lead.")
    (v3 / "Roles").mkdir(parents=True, exist_ok=True)
    document.save(str(v3 / "Roles" / "Roles.docx"))
    return [v3, v1, v2]  # given in any order: taken oldest first


def new_manual(tmp_path: Path) -> Path:
    root = tmp_path / "adopted"
    result = CliRunner().invoke(cli, ["init", str(root), "--name", "Adopted"])
    assert result.exit_code == 0, result.output
    return root


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), *args], catch_exceptions=False)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_three_dated_folders_become_history(tmp_path: Path) -> None:
    root = new_manual(tmp_path)

    result = run(root, "import-history", *map(str, board_versions(tmp_path)))

    assert result.exit_code == 0, result.output
    commits = [git(root, "rev-parse", f"release/{r}^{{commit}}") for r in ("2021-03", "2021-09",
                                                                 "2022-03-15")]
    assert result.stdout == (
        f"2021-03    2021-03-01     3 chapters  +3 -0 ~0  commit {commits[0][:10]}  "
        "tag release/2021-03\n"
        f"2021-09    2021-09-01     3 chapters  +0 -0 ~1  commit {commits[1][:10]}  "
        "tag release/2021-09\n"
        f"2022-03-15 2022-03-15     4 chapters  +1 -0 ~2  commit {commits[2][:10]}  "
        "tag release/2022-03-15\n")
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    # Each version is a source commit and a publish commit, dated to the release.
    assert git(root, "log", "--format=%ad|%cd|%s", "--date=short").splitlines() == [
        "2022-03-15|2022-03-15|Publish release 2022-03-15 (adopted by import-history)",
        "2022-03-15|2022-03-15|Import release 2022-03-15: the manual as it stood",
        "2021-09-01|2021-09-01|Publish release 2021-09 (adopted by import-history)",
        "2021-09-01|2021-09-01|Import release 2021-09: the manual as it stood",
        "2021-03-01|2021-03-01|Publish release 2021-03 (adopted by import-history)",
        "2021-03-01|2021-03-01|Import release 2021-03: the manual as it stood"]
    assert git(root, "show", "--format=", "--name-only", commits[0]).splitlines() == [
        "editorial.toml", "procedures/.gitkeep", "procedures/Core/cp1.md",
        "procedures/Core/referral.md", "procedures/Guidance/bullying.md", "releases/.gitkeep"]
    assert (root / "releases/2021-09/release.toml").read_text() == (
        'id = "2021-09"\ntitle = "September 2021"\ndate = "2021-09-01"\nbase = "2021-03"\n'
        f'status = "published"\nsource_commit = "{commits[1]}"\n')

    # Ids and parts written into front matter, keeping what was there; ids stable across moves.
    assert (root / "procedures/Core/cp1.md").read_text() == (
        "---\nid: cp1\ntitle: Recognising Abuse\npart: Core\n---\n\n1.1 Abuse is harm.\n\n"
        "1.2 Report it within one working day.\n")
    config = load_config(root)
    repo = open_repo(root)
    first = read_snapshot(config, repo, commits[0])
    last = read_snapshot(config, repo, commits[2])
    assert [(c.id, c.part, c.path) for c in first] == [
        ("cp1", "Core", "procedures/Core/cp1.md"),
        ("CP2", "Core", "procedures/Core/referral.md"),
        ("bullying", "Guidance", "procedures/Guidance/bullying.md")]
    assert [(c.id, c.title, c.part, c.path) for c in last] == [
        ("cp1", "Recognising Abuse", "Core", "procedures/Core/cp1.md"),
        ("CP2", "Referral", "Core", "procedures/Core/referral.md"),
        ("bullying", "Bullying", "Roles", "procedures/Roles/bullying.md"),
        ("PA1", "Roles and Responsibilities", "Roles", "procedures/Roles/roles.md")]

    listed = run(root, "release", "list")
    assert listed.output == (
        "2021-03      published  2021-03-01  March 2021\n"
        "2021-09      published  2021-09-01  September 2021\n"
        "2022-03-15   published  2022-03-15  March 2022\n")
    log = run(root, "log")
    assert log.exit_code == 0, log.output
    assert [line.split()[0] for line in log.output.splitlines()
            if line[:4].isdigit()] == ["2022-03-15", "2021-09", "2021-03"]

    diff = run(root, "diff", "2021-03", "2022-03-15", "--json")
    assert diff.exit_code == 0, diff.output
    changes = json.loads(diff.output)["changes"]
    kinds = {(c["kind"], c["chapter"]) for c in changes}
    assert ("chapter.added", "PA1") in kinds
    assert ("chapter.moved", "bullying") in kinds
    assert ("paragraph.modified", "cp1") in kinds
    assert ("paragraph.modified", "CP2") in kinds
    assert not any(k == "chapter.removed" for k, _ in kinds)


def test_deleted_files_are_deleted_in_the_commit(manual: ManualRepo, tmp_path: Path) -> None:
    write(tmp_path / "2020-01", "a.md", "# A1 - First\n\nText.\n")
    write(tmp_path / "2020-01", "b.md", "# B1 - Second\n\nText.\n")
    write(tmp_path / "2020-07", "a.md", "# A1 - First\n\nText.\n")

    result = manual.run("import-history", str(tmp_path / "2020-01"), str(tmp_path / "2020-07"),
                        "--part", "A")

    assert result.exit_code == 0, result.output
    assert manual.git("show", "--format=", "--name-status", "release/2020-07^{commit}") == \
        "D\tprocedures/b.md"
    assert sorted(p.name for p in (manual.root / "procedures").iterdir()) == [".gitkeep", "a.md"]
    assert (manual.root / "procedures/a.md").read_text().startswith(
        "---\nid: A1\ntitle: First\npart: A\n---\n")


def test_site_policy_releases(tmp_path: Path) -> None:
    """Real documents: front matter with a title only, folders reorganised, a rename."""
    root = new_manual(tmp_path)

    result = run(root, "import-history", *(str(DATA / r) for r in ("2021-10", "2022-04",
                                                                   "2022-10")))

    assert result.exit_code == 0, result.output
    original = (DATA / "2022-10/Policies/other-site-policies/github-logo-policy.md").read_text()
    adopted = (root / "procedures/Policies/other-site-policies/github-logo-policy.md").read_text()
    # Only the id and part lines were added: every other byte is as published.
    assert adopted == original.replace(
        "---\ntitle: GitHub Logo Policy\n",
        "---\nid: github-logo-policy\ntitle: GitHub Logo Policy\npart: other-site-policies\n", 1)
    config, repo = load_config(root), open_repo(root)
    snaps = {r: read_snapshot(config, repo, f"release/{r}") for r in ("2021-10", "2022-04",
                                                                     "2022-10")}
    assert [(c.id, c.part) for c in snaps["2022-10"]] == [
        ("github-logo-policy", "other-site-policies"),
        ("coordinated-disclosure-of-security-vulnerabilities", "security-policies")]
    assert snaps["2021-10"].get("github-logo-policy").path == \
        "procedures/Policies/github-logo-policy.md"

    moved = json.loads(run(root, "diff", "2022-04", "2022-10", "--json").output)["changes"]
    assert {(c["kind"], c["chapter"]) for c in moved if c["kind"] == "chapter.moved"} == {
        ("chapter.moved", "github-logo-policy"),
        ("chapter.moved", "coordinated-disclosure-of-security-vulnerabilities")}
    changes = run(root, "changes", "--from", "2021-10", "--to", "2022-04")
    assert changes.exit_code == 0, changes.output


def test_dirty_tree_is_refused(manual: ManualRepo, tmp_path: Path) -> None:
    write(tmp_path / "2020-01", "a.md", "# A1 - First\n\nText.\n")
    manual.write("notes.txt", "uncommitted")

    result = manual.run("import-history", str(tmp_path / "2020-01"))

    assert result.exit_code == 2
    assert result.output == (f"Error: {manual.root}: the working tree has uncommitted changes; "
                             "commit or stash them first\n")
    assert manual.git("tag") == ""


def test_folder_not_named_by_a_release(manual: ManualRepo, tmp_path: Path) -> None:
    write(tmp_path / "March 2020", "a.md", "# A1 - First\n")
    result = manual.run("import-history", str(tmp_path / "March 2020"))
    assert result.exit_code == 2
    assert result.output == (f"Error: {tmp_path / 'March 2020'}: a release folder is named by "
                             "its release id, YYYY-MM or YYYY-MM-DD\n")


def test_failure_part_way_keeps_the_versions_before(manual: ManualRepo, tmp_path: Path) -> None:
    for n, release in enumerate(("2020-01", "2020-07", "2021-01")):
        write(tmp_path / release, "a.md", f"# A1 - First\n\nVersion {n}.\n")
    # A stale lock on the third tag makes git refuse to write it: a real failure, mid-run.
    lock = manual.root / ".git" / "refs" / "tags" / "release" / "2021-01.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("")
    head = manual.git("rev-parse", "HEAD")

    result = manual.run("import-history", *(str(tmp_path / r) for r in ("2020-01", "2020-07",
                                                                         "2021-01")))

    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith("Error: ")
    assert "git tag failed" in result.output
    assert manual.git("tag").splitlines() == ["release/2020-01", "release/2020-07"]
    assert manual.git("log", "--format=%s", f"{head}..HEAD").splitlines()[0] == \
        "Publish release 2020-07 (adopted by import-history)"
    assert manual.git("status", "--porcelain", "--untracked-files=all") == ""
    assert not (manual.root / "releases/2021-01").exists()
    assert "Version 1." in (manual.root / "procedures/a.md").read_text()


def test_dated_documents_split_into_chapters(manual: ManualRepo, tmp_path: Path) -> None:
    for release, deadline in (("2019-03", "same day"), ("2020-01", "next day")):
        document = docx.Document()
        for title, text in (("CP1 - Recognising Abuse", "Abuse is harm."),
                            ("CP2 - Referral", f"Refer on the {deadline}.")):
            document.add_heading(title, level=1)
            document.add_paragraph(text)
        document.save(str(tmp_path / f"Manual {release}.docx"))

    result = manual.run("import-history", str(tmp_path / "Manual 2020-01.docx"),
                        str(tmp_path / "Manual 2019-03.docx"), "--split", "--part", "A")

    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["2019-03", "2020-01"]
    assert manual.git("show", "--format=", "--name-status", "release/2020-01^{commit}") == \
        "M\tprocedures/cp2-referral.md"
    assert (manual.root / "procedures/cp2-referral.md").read_text() == (
        "---\nid: CP2\ntitle: Referral\npart: A\n---\n\nRefer on the next day.\n")


def test_copies_of_a_whole_manual(manual: ManualRepo, tmp_path: Path) -> None:
    """A version kept as a copy of the manual's folder: its procedures/ are the chapters."""
    for release, text in (("2023-03", "Report the same day."), ("2023-09", "Report at once.")):
        write(tmp_path / release, "procedures/core/cp1.md",
              f"---\nid: CP1\ntitle: Recognising Abuse\npart: core\n---\n\n{text}\n")
        write(tmp_path / release, "editorial.toml", 'name = "Old"\n')
        write(tmp_path / release, f"releases/{release}/release.toml", 'title = "Old"\n')
        write(tmp_path / release, "notes.txt", "to do\n")

    result = manual.run("import-history", str(tmp_path / "2023-03"), str(tmp_path / "2023-09"))

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-2:] == [
        f"Warning: {tmp_path / '2023-03' / 'notes.txt'}: left out (outside procedures/)",
        f"Warning: {tmp_path / '2023-09' / 'notes.txt'}: left out (outside procedures/)"]
    assert manual.git("show", "--format=", "--name-only", "release/2023-09^{commit}") == \
        "procedures/core/cp1.md"
    # Chapters that already have id, title and part are committed byte for byte.
    assert (manual.root / "procedures/core/cp1.md").read_bytes() == \
        (tmp_path / "2023-09/procedures/core/cp1.md").read_bytes()


def test_a_bad_file_in_a_later_version_commits_nothing(manual: ManualRepo,
                                                       tmp_path: Path) -> None:
    write(tmp_path / "2020-01", "a.md", "# A1 - First\n\nText.\n")
    write(tmp_path / "2020-07", "a.md", "---\ntitle: [First\n---\n\nText.\n")
    head = manual.git("rev-parse", "HEAD")

    result = manual.run("import-history", str(tmp_path / "2020-01"), str(tmp_path / "2020-07"))

    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: {tmp_path / '2020-07' / 'a.md'}:3: invalid front matter: expected ',' or ']', "
        "but got '<stream end>'")
    assert manual.git("rev-parse", "HEAD") == head
    assert manual.git("tag") == ""
    assert manual.git("status", "--porcelain", "--untracked-files=all") == ""
