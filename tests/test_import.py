"""`editorial import`: real documents (made here with python-docx and pandoc) into chapters."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import docx
import pypandoc
import pytest

from pipeline.config import load_config
from pipeline.errors import ChapterError
from pipeline.importer import front_matter, heading_id, slugify
from pipeline.snapshot import read_snapshot
from tests.conftest import ManualRepo


def png(width: int = 3, height: int = 2) -> bytes:
    """A real (tiny, red) PNG, so no image library is needed."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pandoc_document(markdown: str, out: Path) -> Path:
    """A .docx/.odt/.html made by pandoc from Markdown (images relative to `out`'s folder)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    pypandoc.convert_text(markdown, out.suffix.lstrip(".").replace("html", "html5"),
                          format="markdown", outputfile=str(out),
                          extra_args=[f"--resource-path={out.parent}"],
                          cworkdir=str(out.parent))
    return out


def manual_files(manual: ManualRepo) -> list[str]:
    return sorted(p.relative_to(manual.root).as_posix()
                  for p in (manual.root / "procedures").rglob("*") if p.is_file())


@pytest.mark.parametrize(("text", "expected"), [
    ("CP3 - Child Protection Enquiries", ("CP3", "Child Protection Enquiries")),
    ("CP3 – Child Protection Enquiries", ("CP3", "Child Protection Enquiries")),
    ("PG 37 - Sexual Abuse", ("PG37", "Sexual Abuse")),
    ("B2.6: Strategy  meetings", ("B2.6", "Strategy meetings")),
    ("Part 1 - Scope", None),
    ("1. Definitions", None),
    ("GitHub Terms of Service", None),
])
def test_ids_are_read_from_numbered_headings(text: str,
                                             expected: tuple[str, str] | None) -> None:
    assert heading_id(text) == expected


def test_file_names_are_slugged_safely() -> None:
    assert slugify("CP3 Child Protection Enquiries") == "cp3-child-protection-enquiries"
    assert slugify("Réunions / stratégie: ../étape 2") == "reunions-strategie-etape-2"
    assert slugify("x" * 100 + "-tail", limit=64) == "x" * 64


def test_front_matter_keeps_what_the_file_had() -> None:
    kept = "title: GitHub Logo Policy  # as published\nredirect_from:\n  - /logo\n"
    assert front_matter(kept, {"id": "logo", "title": "GitHub Logo Policy", "part": "Policies"}) \
        == ("---\nid: logo\ntitle: GitHub Logo Policy  # as published\npart: Policies\n"
            "redirect_from:\n  - /logo\n---\n")


def test_docx_from_python_docx(manual: ManualRepo, tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("PG 37 - Sexual Abuse", level=1)
    document.add_paragraph("37.1 Sexual abuse involves forcing or enticing a child to take part "
                           "in sexual activities.")
    document.add_heading("Definitions", level=2)
    para = document.add_paragraph("See ")
    para.add_run("CP3").bold = True
    para.add_run(" for enquiries.")
    source = tmp_path / "pg37.docx"
    document.save(str(source))

    result = manual.run("import", str(source), "--part", "B")

    assert result.exit_code == 0, result.output
    assert result.output == ("Wrote procedures/b/pg37-sexual-abuse.md: PG37 \"Sexual Abuse\", "
                             f"part B, from {source}\n")
    assert (manual.root / "procedures/b/pg37-sexual-abuse.md").read_text() == (
        "---\nid: PG37\ntitle: Sexual Abuse\npart: B\n---\n\n"
        "37.1 Sexual abuse involves forcing or enticing a child to take part in sexual "
        "activities.\n\n## Definitions\n\nSee **CP3** for enquiries.\n")


def test_docx_image_is_extracted_beside_the_chapter(manual: ManualRepo, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "flow.png").write_bytes(png())
    source = pandoc_document(
        "# CP3 – Child Protection Enquiries\n\n3.1 Enquiries follow the strategy meeting.\n\n"
        "![Enquiry flow](flow.png)\n\n| Step | Within |\n|---|---|\n| Visit | 1 day |\n",
        tmp_path / "src" / "CP3.docx")

    result = manual.run("import", str(source), "--part", "A")

    assert result.exit_code == 0, result.output
    chapter = "procedures/a/cp3-child-protection-enquiries.md"
    media = [p for p in manual_files(manual) if "-media/" in p]
    assert len(media) == 1
    assert result.output == (f'Wrote {chapter}: CP3 "Child Protection Enquiries", part A, from '
                             f"{source}\n  with {media[0]}\n")
    assert media[0].startswith("procedures/a/cp3-child-protection-enquiries-media/")
    assert (manual.root / media[0]).read_bytes() == png()
    text = (manual.root / chapter).read_text()
    link = media[0].removeprefix("procedures/a/")
    assert f"![Enquiry flow]({link})" in text
    assert "| Visit | 1 day |" in text.replace("   ", " ").replace("  ", " ")
    # The manual reads it back: ids, parts and images all in order.
    snap = read_snapshot(load_config(manual.root), None, None)
    assert [(c.id, c.title, c.part) for c in snap] == [("CP3", "Child Protection Enquiries", "A")]


def test_html_takes_its_part_from_its_folder(manual: ManualRepo, tmp_path: Path) -> None:
    folder = tmp_path / "Practice guidance"
    folder.mkdir()
    source = folder / "bullying.html"
    source.write_text(
        "<!DOCTYPE html><html><head><title>Intranet | Bullying</title></head><body>"
        "<div class='page'><h1>PG 4 – Bullying</h1><p>4.1 Bullying is <em>deliberately</em> "
        "hurtful behaviour.</p><p>See <a href='cp1.html'>CP1</a>.</p>"
        "<p><img src='https://example.org/logo.png' alt='Board logo'></p></div></body></html>",
        encoding="utf-8")

    result = manual.run("import", str(source))

    assert result.exit_code == 0, result.output
    assert result.output == ('Wrote procedures/practice-guidance/pg4-bullying.md: PG4 '
                             f'"Bullying", part Practice guidance, from {source}\n')
    assert (manual.root / "procedures/practice-guidance/pg4-bullying.md").read_text() == (
        "---\nid: PG4\ntitle: Bullying\npart: Practice guidance\n---\n\n"
        "4.1 Bullying is *deliberately* hurtful behaviour.\n\nSee [CP1](cp1.html).\n\n"
        "![Board logo](https://example.org/logo.png)\n")


def test_odt_split_into_chapters(manual: ManualRepo, tmp_path: Path) -> None:
    source = pandoc_document(
        "Northmere procedures, as adopted by the board.\n\n"
        "# CP1 - Recognising Abuse\n\n1.1 Abuse takes many forms.\n\n## Definitions\n\nA child.\n\n"
        "# CP2 – Referral\n\n2.1 Refer the same day.\n\n"
        "# Appendix\n\nUseful contacts.\n", tmp_path / "Northmere Manual.odt")

    result = manual.run("import", str(source), "--split", "--part", "A")

    assert result.exit_code == 0, result.output
    assert result.output == (
        f'Wrote procedures/a/northmere-manual.md: northmere-manual "Northmere Manual", part A, '
        f"from {source}\n"
        f'Wrote procedures/a/cp1-recognising-abuse.md: CP1 "Recognising Abuse", part A, '
        f"from {source}\n"
        f'Wrote procedures/a/cp2-referral.md: CP2 "Referral", part A, from {source}\n'
        f'Wrote procedures/a/appendix.md: appendix "Appendix", part A, from {source}\n')
    assert (manual.root / "procedures/a/cp1-recognising-abuse.md").read_text() == (
        "---\nid: CP1\ntitle: Recognising Abuse\npart: A\n---\n\n"
        "1.1 Abuse takes many forms.\n\n## Definitions\n\nA child.\n")
    assert (manual.root / "procedures/a/northmere-manual.md").read_text().endswith(
        "---\n\nNorthmere procedures, as adopted by the board.\n")


def test_markdown_keeps_its_front_matter(manual: ManualRepo, tmp_path: Path) -> None:
    source = tmp_path / "roles" / "PA2 Health.md"
    source.parent.mkdir()
    source.write_text("---\n# reviewed yearly\nowner: Designated Nurse\n---\n\n"
                      "# PA2 - Health Services\n\nGPs share information.\n", encoding="utf-8")

    result = manual.run("import", str(source))

    assert result.exit_code == 0, result.output
    assert (manual.root / "procedures/roles/pa2-health-services.md").read_text() == (
        "---\nid: PA2\ntitle: Health Services\npart: roles\n# reviewed yearly\n"
        "owner: Designated Nurse\n---\n\nGPs share information.\n")


def test_unreadable_document_writes_nothing(manual: ManualRepo, tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("# CP9 - Information Sharing\n\nShare early.\n", encoding="utf-8")
    broken = tmp_path / "broken.docx"
    broken.write_text("this is not a Word document", encoding="utf-8")
    before = manual_files(manual)

    result = manual.run("import", str(good), str(broken), "--part", "A")

    assert result.exit_code == 2
    assert result.output == (f"Error: {broken}: pandoc cannot read it (couldn't unpack docx "
                             "container: Did not find end of central directory signature)\n")
    assert manual_files(manual) == before
    assert manual.git("status", "--porcelain", "--untracked-files=all") == ""


def test_unknown_kind_and_missing_file(manual: ManualRepo, tmp_path: Path) -> None:
    pdf = tmp_path / "notes.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    result = manual.run("import", str(pdf))
    assert result.exit_code == 2
    assert result.output == (f"Error: {pdf}: cannot import '.pdf' files (.docx, .htm, .html, "
                             ".markdown, .md, .odt)\n")
    result = manual.run("import", str(tmp_path / "nowhere.docx"))
    assert result.exit_code == 2
    assert result.output == f"Error: {tmp_path / 'nowhere.docx'}: no such file\n"


def test_existing_chapter_is_replaced_only_with_force(manual: ManualRepo,
                                                     tmp_path: Path) -> None:
    manual.chapter("CP3", "Child Protection Enquiries", "Old text.",
                   path="procedures/part-a/cp3.md", owner="Board")
    manual.commit("CP3")
    source = tmp_path / "cp3.md"
    source.write_text("# CP3 - Child Protection Enquiries\n\nNew text.\n", encoding="utf-8")

    refused = manual.run("import", str(source), "--part", "A")

    assert refused.exit_code == 2
    assert refused.output == (f"Error: {source}: the manual already has a chapter CP3 "
                              "(procedures/part-a/cp3.md); use --force to replace it\n")
    assert (manual.root / "procedures/part-a/cp3.md").read_text().endswith("Old text.\n")

    forced = manual.run("import", str(source), "--part", "A", "--force")

    assert forced.exit_code == 0, forced.output
    assert forced.output == ('Replaced procedures/part-a/cp3.md: CP3 "Child Protection '
                             f'Enquiries", part A, from {source}\n')
    assert (manual.root / "procedures/part-a/cp3.md").read_text() == (
        "---\nid: CP3\ntitle: Child Protection Enquiries\npart: A\n---\n\nNew text.\n")
    assert manual.git("status", "--porcelain") == "M procedures/part-a/cp3.md"


def test_two_documents_for_one_id_are_refused(manual: ManualRepo, tmp_path: Path) -> None:
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text("# CP5 - Core Groups\n\nText.\n", encoding="utf-8")
    result = manual.run("import", str(tmp_path / "a.md"), str(tmp_path / "b.md"), "--part", "A")
    assert result.exit_code == 2
    assert result.output == (f"Error: {tmp_path / 'b.md'}: two chapters would have the id CP5 "
                             f"(also from {tmp_path / 'a.md'})\n")
    assert manual_files(manual) == ["procedures/.gitkeep"]


def test_titles_without_a_number(manual: ManualRepo, tmp_path: Path) -> None:
    """A web page's lone heading beats its <title>; Word's Title style gives id and title."""
    page = tmp_path / "Safeguarding adults.html"
    page.write_text("<html><head><title>Intranet | Adults</title></head><body>"
                    "<h1>Safeguarding Adults at Risk</h1><p>Text.</p></body></html>",
                    encoding="utf-8")
    document = docx.Document()
    document.add_heading("CP7 - Allegations against Staff", level=0)  # Word's Title style
    document.add_paragraph("7.1 Tell the designated officer.")
    word = tmp_path / "allegations.docx"
    document.save(str(word))

    result = manual.run("import", str(page), str(word), "--part", "A")

    assert result.exit_code == 0, result.output
    assert result.output == (
        'Wrote procedures/a/safeguarding-adults.md: safeguarding-adults "Safeguarding Adults at '
        f'Risk", part A, from {page}\n'
        'Wrote procedures/a/cp7-allegations-against-staff.md: CP7 "Allegations against Staff", '
        f"part A, from {word}\n")
    assert (manual.root / "procedures/a/safeguarding-adults.md").read_text().endswith(
        "---\n\nText.\n")


def test_a_document_inside_the_procedures_folder_is_imported_with_a_warning(
        manual: ManualRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = docx.Document()
    document.add_heading("CP3 - Child Protection Enquiries", level=1)
    document.add_paragraph("3.1 An enquiry starts when harm is suspected.")
    document.save(manual.root / "procedures" / "cp3.docx")
    monkeypatch.chdir(manual.root)
    result = manual.run("import", "procedures/cp3.docx", "--part", "A")
    assert result.exit_code == 0, result.output
    chapter = "procedures/a/cp3-child-protection-enquiries.md"
    assert result.stdout == (f'Wrote {chapter}: CP3 "Child Protection Enquiries", part A, '
                             "from procedures/cp3.docx\n")
    assert result.stderr == ("Warning: procedures/cp3.docx: the original document is still in "
                             "the procedures folder, where editorial refuses binary files; "
                             f"move or delete it (its text is now in {chapter})\n")
    config = load_config(manual.root)
    with pytest.raises(ChapterError, match="binary file under the procedures folder"):
        read_snapshot(config, None, None)
    (manual.root / "procedures" / "cp3.docx").unlink()  # as the warning says
    assert [c.id for c in read_snapshot(config, None, None).chapters] == ["CP3"]


def test_a_document_outside_the_procedures_folder_gives_no_warning(
        manual: ManualRepo, tmp_path: Path) -> None:
    source = pandoc_document("# CP4 - Strategy\n\n4.1 Text.\n", tmp_path / "cp4.odt")
    result = manual.run("import", str(source), "--part", "A")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_a_document_in_the_procedures_folder_itself_takes_no_part_from_it(
        manual: ManualRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    document = docx.Document()
    document.add_heading("CP5 - Core Groups", level=1)
    document.add_paragraph("5.1 The core group meets within ten working days.")
    document.save(manual.root / "procedures" / "cp5.docx")
    monkeypatch.chdir(manual.root)
    result = manual.run("import", "procedures/cp5.docx")
    assert result.exit_code == 0, result.output
    assert result.stdout == ('Wrote procedures/main/cp5-core-groups.md: CP5 "Core Groups", '
                             "part main, from procedures/cp5.docx\n")
