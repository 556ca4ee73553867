"""`make demo` end to end: every sample release published by the tool in a scratch repository,
and the bulletin a reader gets shows the editors' major entries and none of the minor ones."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline import demo
from pipeline.config import load_config
from pipeline.releases import list_releases

SAMPLE_RELEASES = ["2023-03", "2023-09", "2024-03"]


def visible_text(page: Path) -> str:
    """What a reader sees of an HTML page: tags dropped, entities decoded, spaces collapsed."""
    raw = page.read_text(encoding="utf-8")
    raw = re.sub(r"(?is)<(style|script|head)\b.*?</\1>", " ", raw)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def entries(release_id: str, significance: str) -> list[dict[str, object]]:
    out = []
    for path in sorted((demo.PROJECT / "releases" / release_id / "notes").glob("*.yaml")):
        out += [e for e in yaml.safe_load(path.read_text("utf-8"))["entries"]
                if e["significance"] == significance]
    return out


def opening(text: object, words: int = 8) -> str:
    """The first words of an editor's text: enough to recognise it, short of any line break
    or typographic change a template might make further on."""
    return " ".join(str(text).split()[:words])


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[demo.DemoResult, str]:
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    return demo.run_demo(out), str(out)


def test_every_sample_release_is_published(demo_run: tuple[demo.DemoResult, str]) -> None:
    result, _ = demo_run
    records = list_releases(load_config(result.manual))
    assert [r.id for r in records] == SAMPLE_RELEASES
    assert {r.status for r in records} == {"published"}
    assert all(r.source_commit and r.approvals for r in records)
    tags = subprocess.run(["git", "tag", "--list"], cwd=result.manual, check=True,
                          capture_output=True, text=True).stdout.split()
    assert tags == [f"release/{r}" for r in SAMPLE_RELEASES]
    clean = subprocess.run(["git", "status", "--porcelain"], cwd=result.manual, check=True,
                           capture_output=True, text=True).stdout
    assert clean == ""


def test_outputs_exist_and_bulletin_shows_major_entries(
        demo_run: tuple[demo.DemoResult, str]) -> None:
    result, _ = demo_run
    assert result.release == "2024-03"
    for path in (result.bulletin, result.complete_list, result.chapter):
        assert path.is_file() and path.stat().st_size > 0
    bulletin = visible_text(result.bulletin)
    majors = entries("2024-03", "major")
    assert len(majors) == 5
    for entry in majors:
        assert opening(entry["summary"]) in bulletin
        assert opening(entry["why"]) in bulletin
    for entry in entries("2024-03", "minor"):
        assert opening(entry["summary"]) not in bulletin
    complete = visible_text(result.complete_list)
    for entry in entries("2024-03", "minor") + majors:
        assert opening(entry["summary"]) in complete


def test_highlighted_chapter_lists_its_entries(demo_run: tuple[demo.DemoResult, str]) -> None:
    result, _ = demo_run
    page = visible_text(result.chapter)
    assert "Updated March 2024" in page
    cp4 = [e for e in entries("2024-03", "major") if e["id"] in ("e-3b53c05b", "e-0dfd1615")]
    assert len(cp4) == 2  # visits every two weeks; child in need plans every 12 weeks
    for entry in cp4:
        assert opening(entry["summary"]) in page


def test_refuses_a_folder_it_did_not_make(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("someone's work")
    assert demo.main(["--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"Error: {tmp_path}: exists and was not made by the demo (not touching it)\n")
    assert (tmp_path / "notes.txt").read_text() == "someone's work"


def test_rerun_replaces_the_previous_output_and_prints_paths(
        demo_run: tuple[demo.DemoResult, str], capsys: pytest.CaptureFixture[str]) -> None:
    # Runs last in this module: it rebuilds the folder the other tests read.
    result, out = demo_run
    (Path(out) / "left-over").write_text("from an earlier run")
    assert demo.main(["--out", out]) == 0
    assert not (Path(out) / "left-over").exists()
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-3] == f"Bulletin:            {result.bulletin}"
    assert lines[-2] == f"Complete list:       {result.complete_list}"
    assert lines[-1] == f"Highlighted chapter: {result.chapter}"


def test_readme_walkthrough_publishes_a_first_bulletin(tmp_path: Path) -> None:
    """Steps 3 to 10 of the README's walkthrough, as written there."""
    from click.testing import CliRunner

    from pipeline.cli import cli

    source = tmp_path / "Documents"
    source.mkdir()
    (source / "cp1.md").write_text(
        "# CP1 - Recognising Abuse and Neglect\n\n"
        "## 1. Introduction\n\n"
        "1.1 Everyone who works with children must act on a concern.\n", encoding="utf-8")
    manual = tmp_path / "our-procedures"

    def editorial(*args: str) -> str:
        result = CliRunner().invoke(cli, ["-C", str(manual), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    editorial("init", str(manual), "--name", "Our Child Protection Procedures")
    editorial("import", str(source / "cp1.md"), "--part", "core")
    editorial("release", "start", "2024-09", "--date", "2024-09-30")
    assert editorial("check").startswith("All checks passed")
    editorial("approve", "--by", "A. Chair", "--role", "Chair of the Editorial Board")
    subprocess.run(["git", "add", "-A"], cwd=manual, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "First edition, approved"], cwd=manual,
                   check=True)
    editorial("publish")
    published = manual / "releases" / "2024-09" / "published"
    bulletin = visible_text(published / "bulletin.html")
    assert "Our Child Protection Procedures" in bulletin
    assert "September 2024" in bulletin
    assert (published / "complete-list.html").is_file()
    assert "Recognising Abuse and Neglect" in visible_text(published / "chapters" / "CP1.html")
