"""`editorial verify [RELEASE]`: every output rendered again from the tag matches MANIFEST.json,
and the tag, the source tree and the approvals agree; exit 1 listing each mismatch."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ManualRepo
from history_fixture import build_published, chapter, correct_cp1_why, cp1_text


def _tag(manual: ManualRepo, release_id: str) -> str:
    return manual.git("rev-parse", f"release/{release_id}^{{commit}}")


def _verified(manual: ManualRepo, release_id: str, source: str) -> str:
    return (f"{release_id}: verified (tag release/{release_id} at "
            f"{_tag(manual, release_id)[:12]}, source {source[:12]}; 13 outputs match "
            "MANIFEST.json)")


def test_verify_proves_every_published_release(manual: ManualRepo) -> None:
    sources = build_published(manual)
    result = manual.run("verify")
    assert result.exit_code == 0, result.output
    assert result.stdout == "".join(f"{_verified(manual, r, s)}\n" for r, s in sources.items())
    assert result.stderr == "".join(
        f"Rendering release {r} again from release/{r} ({_tag(manual, r)[:12]})\n"
        for r in sources)
    one = manual.run("verify", "2023-09", "--json")
    assert one.exit_code == 0
    assert json.loads(one.stdout) == [{
        "release": "2023-09", "ok": True, "tag": "release/2023-09",
        "tag_commit": _tag(manual, "2023-09"), "source_commit": sources["2023-09"],
        "outputs": 13, "problems": [], "notes": []}]


def test_verify_fails_when_one_byte_of_an_output_changes(manual: ManualRepo) -> None:
    build_published(manual)
    page = manual.root / "releases/2023-09/published/bulletin.html"
    data = bytearray(page.read_bytes())
    data[data.index(b"<body")] = ord(" ")  # one byte
    page.write_bytes(bytes(data))
    result = manual.run("verify", "2023-09")
    assert result.exit_code == 1
    assert result.stdout == ("2023-09: 1 mismatch\n"
                             "  releases/2023-09/published/bulletin.html: differs from "
                             "MANIFEST.json\n")
    assert result.stderr.endswith("Error: 1 mismatch in 2023-09\n")
    # committed, it is still found; the other releases still verify
    manual.commit("tamper with the bulletin")
    everything = manual.run("verify")
    assert everything.exit_code == 1
    assert everything.stdout.splitlines()[1:3] == [
        "2023-09: 1 mismatch",
        "  releases/2023-09/published/bulletin.html: differs from MANIFEST.json"]


def test_verify_fails_when_a_chapter_changes_under_an_existing_tag(manual: ManualRepo) -> None:
    sources = build_published(manual)
    # Someone rewrites history: the tag is moved to a commit with other text in CP1.
    chapter(manual, "CP1", "Recognising Abuse and Neglect",
            cp1_text("contextual safeguarding", "within two working days"))
    moved = manual.commit("quietly change CP1")
    manual.git("tag", "-f", "-a", "release/2024-03", "-m", "moved", moved)
    result = manual.run("verify", "2024-03")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("2024-03: ") and lines[0].endswith(" mismatches")
    assert lines[1] == (f"  release/2024-03: the tagged commit {moved[:12]} holds other "
                        f"chapters or notes than the published source "
                        f"{sources['2024-03'][:12]}")
    rerendered = [line.strip() for line in lines[2:]]
    assert "chapters/CP1.html: rendered again from the tagged source, it differs from " \
           "MANIFEST.json" in rerendered
    assert all(line.endswith("differs from MANIFEST.json") for line in rerendered)
    assert manual.run("verify", "2023-09").exit_code == 0


def test_verify_finds_approvals_and_manifest_that_disagree(manual: ManualRepo) -> None:
    build_published(manual)
    record = manual.root / "releases/2023-09/release.toml"
    record.write_text(record.read_text().replace('role = "Chair"', 'role = "Vice-chair"'))
    manifest = manual.root / "releases/2023-09/published/MANIFEST.json"
    data = json.loads(manifest.read_text())
    data["source_tree"] = "0" * 40
    manifest.write_text(json.dumps(data, indent=2) + "\n")
    result = manual.run("verify", "2023-09")
    assert result.exit_code == 1
    assert result.stdout == (
        "2023-09: 2 mismatches\n"
        "  releases/2023-09/published/MANIFEST.json: source tree 000000000000 is not the tree "
        f"of the source commit ({manual.git('rev-parse', 'release/2023-09^^{tree}')[:12]})\n"
        "  releases/2023-09/published/MANIFEST.json: its approvals are not those of the "
        "release record\n")


def test_verify_after_a_correction_passes_and_says_so(manual: ManualRepo) -> None:
    build_published(manual)
    entry, at = correct_cp1_why(
        manual, "Same-day sharing could not be met at weekends or bank holidays.")
    result = manual.run("verify", "2023-09")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        f"  Note: entry {entry}: its why was corrected on {at} by A. Editor (the published "
        "outputs keep the approved wording; verify renders the notes as tagged)"]
    published = (manual.root / "releases/2023-09/published/bulletin.html").read_text()
    assert "could not be met at weekends." in published


def test_verify_errors(manual: ManualRepo) -> None:
    build_published(manual)
    manual.run("release", "start", "2024-09", "--date", "2024-09-30")
    for args, expected in {
        ("verify", "2099-01"): "Error: releases/2099-01/release.toml: no release '2099-01' "
                               "(see 'editorial release list')\n",
        ("verify", "2024-09"): "Error: releases/2024-09/release.toml: release '2024-09' is "
                               "not published (draft)\n",
    }.items():
        result = manual.run(*args)
        assert (result.exit_code, result.output) == (2, expected), args


def test_verify_a_missing_tag_and_a_missing_output(manual: ManualRepo) -> None:
    build_published(manual)
    manual.git("tag", "-d", "release/2023-03")
    Path(manual.root / "releases/2023-03/published/index.md").unlink()
    result = manual.run("verify", "2023-03")
    assert result.exit_code == 1
    assert result.stdout == ("2023-03: 1 mismatch\n"
                             "  releases/2023-03/published/index.md: missing\n"
                             "  Note: the tag release/2023-03 is not in this repository (fetch it "
                             "with 'git fetch --tags'); verified against the recorded source "
                             "commit instead\n")


def test_verify_without_tags_proves_against_the_recorded_source_commit(
        manual: ManualRepo) -> None:
    """A clone that carries no tags still verifies: the release record names its source."""
    build_published(manual)
    manual.git("tag", "-d", "release/2023-03")
    result = manual.run("verify", "2023-03")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2023-03: verified (no tag, source ")
    assert "Note: the tag release/2023-03 is not in this repository" in result.stdout
    output = next((manual.root / "releases/2023-03/published").glob("*.html"))
    output.write_bytes(output.read_bytes() + b" ")
    tampered = manual.run("verify", "2023-03")
    assert tampered.exit_code == 1
    assert f"releases/2023-03/published/{output.name}" in tampered.stdout


def test_history_and_verify_of_releases_adopted_by_import_history(manual: ManualRepo,
                                                                  tmp_path: Path) -> None:
    def version(folder: str, **files: str) -> str:
        for name, text in files.items():
            path = tmp_path / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return str(tmp_path / folder)

    first = version("2020-01", **{"a.md": "# A1 - First\n\nOld text.\n\nKept text.\n"})
    second = version("2020-07", **{"a.md": "# A1 - First\n\nNew text.\n\nKept text.\n"})
    assert manual.run("import-history", first, second, "--part", "A").exit_code == 0
    result = manual.run("verify")
    assert result.exit_code == 0, result.output
    note = ("  Note: adopted by import-history: nothing was published by the tool, so only the "
            "tag and the source commit are checked")
    assert result.stdout.splitlines() == [
        f"2020-01: verified (tag release/2020-01 at {_tag(manual, '2020-01')[:12]}, source "
        f"{_tag(manual, '2020-01')[:12]}; no outputs)", note,
        f"2020-07: verified (tag release/2020-07 at {_tag(manual, '2020-07')[:12]}, source "
        f"{_tag(manual, '2020-07')[:12]}; no outputs)", note]
    rows = json.loads(manual.run("blame", "A1", "--json").stdout)["rows"]
    assert [(r["text"], r["release"], r["why"]) for r in rows if r["kind"] == "paragraph"] == [
        ("New text.", "2020-07", ""), ("Kept text.", "2020-01", "first published")]
    assert manual.run("show", "A1", "--at", "2020-03-01").stdout.endswith(
        "Old text.\n\nKept text.\n")


def test_verify_says_when_an_older_tool_made_the_outputs(manual: ManualRepo) -> None:
    """Outputs that no longer render the same, published by another version of the tool: the
    mismatch stands, and the reader is told where it may come from."""
    import hashlib

    build_published(manual)
    folder = manual.root / "releases/2023-09/published"
    page = folder / "bulletin.html"
    page.write_bytes(page.read_bytes().replace(b"<body", b"<body ", 1))
    listing = json.loads((folder / "MANIFEST.json").read_text())
    listing["files"]["bulletin.html"] = hashlib.sha256(page.read_bytes()).hexdigest()
    listing["generator"] = "editorial 0.0.1"
    (folder / "MANIFEST.json").write_text(json.dumps(listing, indent=2) + "\n")
    result = manual.run("verify", "2023-09")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        "  bulletin.html: rendered again from the tagged source, it differs from MANIFEST.json",
        "  Note: published by editorial 0.0.1, rendered again by editorial 0.1.0: the "
        "differences may come from the tool, not from the text"]
