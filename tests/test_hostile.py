"""Hostile text in chapters, notes, the release record and editorial.toml: no script, event
handler or javascript: link reaches any output, Jinja syntax is printed and never run, and
ids or paths that would write outside the output folder are refused."""

from __future__ import annotations

import html
import json
import re
import zipfile
from pathlib import Path

import pytest
from conftest import ManualRepo

from pipeline.errors import PublishError
from pipeline.manual import open_manual
from pipeline.publish import render_preview
from pipeline.releases import start_release
from pipeline.sanitize import safe_join

SCRIPT = "<script>alert('pwned')</script>"
IMG = '<img src="x.png" onerror="alert(1)">'
JINJA = "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %}"
LINK = "[click me](javascript:alert(1))"
HOSTILE = f"{SCRIPT} {IMG} {JINJA} {LINK}"

BODY = """
## 1. Introduction

1.1 A paragraph that stays the same.

1.2 A paragraph that changes{extra}.
{block}"""
BLOCK = """
<script>
alert("block")
</script>

<div onclick="evil()" style="background:url(javascript:alert(1))">a raw block</div>
"""


def hostile_manual(manual: ManualRepo) -> ManualRepo:
    manual.write("editorial.toml",
                 'name = "Procedures <script>alert(1)</script>"\n'
                 'contact = "<img src=x onerror=alert(1)> {{ 7*7 }}"\n'
                 '[parts]\n"../../A" = "Part <script>x</script> A"\n')
    manual.chapter("CP1", "Safe title", BODY.format(extra="", block=""), part="../../A")
    base = manual.commit("base")
    config = open_manual(manual.root).config
    start_release(config, "r1", title="March 2024 {{ 7*7 }}", date="2024-03-25", base=base)
    record = manual.root / "releases/r1/release.toml"
    record.write_text(record.read_text() + f"introduction = {json.dumps(HOSTILE)}\n")
    manual.chapter("CP1", f"Title {SCRIPT}", BODY.format(extra=f" {HOSTILE}", block=BLOCK),
                   part="../../A")
    manual.commit("hostile edit")
    changes = json.loads(manual.run("changes", "--json").stdout)["changes"]
    ids = ", ".join(c["id"] for c in changes)
    yaml_text = json.dumps(HOSTILE)
    manual.write("releases/r1/notes/CP1.yaml",
                 "chapter: ../../escape\nentries:\n"
                 f"  - id: ../../../evil-entry\n    summary: {yaml_text}\n"
                 f"    why: {yaml_text}\n    significance: major\n    changes: [{ids}]\n")
    manual.commit("hostile notes")
    return manual


def texts(folder: Path) -> dict[str, str]:
    """Every output as the text a program reading it would see (DOCX: its XML parts), with
    entities decoded, so an escaped tag in an attribute counts too."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.suffix == ".docx":
            with zipfile.ZipFile(path) as z:
                raw = "".join(z.read(n).decode("utf-8") for n in z.namelist()
                              if n.endswith(".xml") or n.endswith(".rels"))
        else:
            raw = path.read_text(encoding="utf-8")
        out[name] = raw
    return out


def test_nothing_hostile_reaches_any_output(manual: ManualRepo, tmp_path: Path) -> None:
    hostile_manual(manual)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = render_preview(open_manual(manual.root), "r1", tmp_path / "out",
                            ("html", "docx", "md"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "out"])
    outputs = texts(result.folder)
    assert {"bulletin.html", "bulletin.docx", "bulletin.md", "complete-list.html",
            "complete-list.docx", "complete-list.md", "changes.json", "changes.csv",
            "feed.atom", "index.html", "index.md", "chapters/CP1.html", "chapters/CP1.md",
            "parts/A.docx"} <= set(outputs)
    for name, raw in outputs.items():
        seen = html.unescape(html.unescape(raw)).lower()  # the feed escapes its HTML twice
        if name == "changes.json":
            assert "<" not in raw and ">" not in raw  # data, with every < written \u003c
            continue
        assert "<script" not in seen, name
        assert "onerror" not in seen and "onclick" not in seen, name
        assert 'href="javascript' not in seen, name
        if name.endswith(".md"):  # a Markdown link to javascript: (an escaped \] is text)
            assert not re.search(r"(?<!\\)\]\(javascript:", raw), name
        assert "url(javascript" not in seen, name
        assert "looploop" not in seen and not re.search(r"\b49\b", seen), name
    # Jinja syntax in editors' text is printed as written.
    for name in ("bulletin.html", "chapters/CP1.html", "complete-list.html"):
        assert html.unescape(outputs[name]).count("{{ 7*7 }}") >= 1, name
    assert "{{ 7\\*7 }}" in outputs["bulletin.md"]
    # changes.json keeps the editors' words exactly (it is data, escaped for embedding).
    data = json.loads(outputs["changes.json"])
    assert data["entries"][0]["summary"] == HOSTILE
    assert data["entries"][0]["id"] == "../../../evil-entry"
    # The hostile part id names no folder: its DOCX is parts/A.docx, inside the output.
    assert (result.folder / "parts/A.docx").is_file()


def test_a_chapter_id_that_climbs_out_is_refused(manual: ManualRepo, tmp_path: Path) -> None:
    manual.chapter("../evil", "Evil", "1.1 Text.", path="procedures/evil.md")
    manual.commit("evil")
    manual.run("release", "start", "r1", "--date", "2024-03-25")
    result = manual.run("render", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.stderr == ("Reading release r1 from the working tree and detecting its "
                             "changes\nError: procedures/evil.md:2: invalid id '../evil' "
                             "(letters, digits, '.', '-', '_'; such as CP3 or PG37)\n")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.html").exists()


def test_a_release_id_that_climbs_out_is_refused(manual: ManualRepo, tmp_path: Path) -> None:
    result = manual.run("render", "--release", "../../x", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.stderr == ("Error: refusing release id '../../x': it cannot name a file "
                             "(letters, digits, '.', '-', '_')\n")


@pytest.mark.parametrize("name", ["../x.html", "/etc/passwd", "a/../../b", "chapters/../../c",
                                  "", "a\\..\\b"])
def test_output_paths_stay_inside_the_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(PublishError, match="outside the output folder"):
        safe_join(tmp_path, name)
    assert safe_join(tmp_path, "chapters/CP1.html") == tmp_path.resolve() / "chapters/CP1.html"
