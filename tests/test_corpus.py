"""Real text: notable changes of the GitHub Site Policy corpus (tests/data/site-policy, CC0)
are found with the right kinds. Each document becomes a chapter with an id from its file
name and a part from its folder, as `import-history` would give it."""

from __future__ import annotations

from pathlib import Path

from conftest import ManualRepo

from pipeline.manual import compare, open_manual
from pipeline.models import Change

DATA = Path(__file__).parent / "data" / "site-policy"


def _as_chapter(text: str, stem: str, part: str) -> str:
    assert text.startswith("---\n")
    return f"---\nid: {stem}\npart: {part}\n" + text[4:]


def _release(manual: ManualRepo, release: str, names: set[str]) -> None:
    for old in (manual.root / "procedures").rglob("*.md"):
        old.unlink()
    policies = DATA / release / "Policies"
    for path in sorted(policies.rglob("*.md")):
        if path.stem not in names:
            continue
        rel = path.relative_to(policies)
        part = rel.parent.as_posix() if rel.parent.as_posix() != "." else "policies"
        manual.write(f"procedures/{rel.as_posix()}",
                     _as_chapter(path.read_text(encoding="utf-8"), path.stem, part))
    manual.commit(release)
    manual.tag(release)


def changes_between(manual: ManualRepo, old: str, new: str, names: set[str]) -> list[Change]:
    _release(manual, old, names)
    _release(manual, new, names)
    return list(compare(open_manual(manual.root, explicit=True), old, new).changes)


def test_sensitive_data_policy_renamed_and_retitled_and_heading_changed(
        manual: ManualRepo) -> None:
    names = {"github-sensitive-data-removal-policy", "github-private-information-removal-policy",
             "github-acceptable-use-policies"}
    changes = changes_between(manual, "2020-10", "2021-04", names)
    renumbered = [c for c in changes if c.kind == "chapter.renumbered"]
    assert [(c.old_chapter, c.new_chapter, c.old_path, c.new_path) for c in renumbered] == [
        ("github-sensitive-data-removal-policy", "github-private-information-removal-policy",
         "procedures/github-sensitive-data-removal-policy.md",
         "procedures/github-private-information-removal-policy.md")]
    retitled = [(c.chapter, c.old, c.new) for c in changes if c.kind == "chapter.retitled"]
    assert retitled == [("github-private-information-removal-policy",
                         "GitHub Sensitive Data Removal Policy",
                         "GitHub Private Information Removal Policy")]
    assert not [c for c in changes if c.kind in ("chapter.added", "chapter.removed")]
    headings = [(c.chapter, c.old, c.new) for c in changes if c.kind == "heading.changed"
                and c.old and "Scraping" in c.old]
    assert headings == [("github-acceptable-use-policies",
                         "5. Scraping and API Usage Restrictions",
                         "5. Information Usage Restrictions")]
    sweeps = [(c.old, c.new) for c in changes if c.kind == "term.swept"]
    assert ("sensitive data", "private information") in [(o.lower(), n.lower())
                                                         for o, n in sweeps]


def test_heading_levels_promoted_give_no_word_changes(manual: ManualRepo) -> None:
    names = {"github-username-policy", "github-government-takedown-policy",
             "github-trademark-policy"}
    before = (DATA / "2021-04/Policies/github-username-policy.md").read_text(encoding="utf-8")
    after = (DATA / "2021-10/Policies/github-username-policy.md").read_text(encoding="utf-8")
    assert "#### " in before and "#### " not in after  # the headings did move up
    changes = changes_between(manual, "2021-04", "2021-10", names)
    assert changes
    assert {c.kind for c in changes} == {"metadata.changed"}
    assert {dict(c.detail)["key"] for c in changes} == {"versions", "topics"}


def test_the_same_front_matter_edit_in_three_documents_is_one_change(
        manual: ManualRepo) -> None:
    names = {"github-username-policy", "github-government-takedown-policy",
             "github-trademark-policy"}
    changes = changes_between(manual, "2021-04", "2021-10", names)
    assert [(c.kind, c.chapter, c.location, c.old, c.new) for c in changes] == [
        ("metadata.changed", None, "front matter 'versions' in 3 chapters", "free-pro-team: *",
         "fpt: *"),
        ("metadata.changed", None, "front matter 'topics' in 3 chapters", None,
         "Policy, Legal")]
    for change in changes:
        assert change.chapters == tuple(sorted(names))
        assert [p.chapter for p in change.places] == sorted(names)
        assert change.id.startswith("meta-")


def test_folder_reorganisation_is_chapters_moved(manual: ManualRepo) -> None:
    names = {"github-bug-bounty-program-legal-safe-harbor", "dmca-takedown-policy"}
    changes = changes_between(manual, "2022-04", "2022-10", names)
    moved = sorted((c.chapter, c.location, c.old_path, c.new_path) for c in changes
                   if c.kind == "chapter.moved")
    assert moved == [
        ("dmca-takedown-policy", "part and file", "procedures/dmca-takedown-policy.md",
         "procedures/content-removal-policies/dmca-takedown-policy.md"),
        ("github-bug-bounty-program-legal-safe-harbor", "part and file",
         "procedures/github-bug-bounty-program-legal-safe-harbor.md",
         "procedures/security-policies/github-bug-bounty-program-legal-safe-harbor.md")]
    # the safe harbor moved byte for byte: its move is its only change
    assert [c.kind for c in changes
            if c.chapter == "github-bug-bounty-program-legal-safe-harbor"] == ["chapter.moved"]


def test_professional_services_swept_to_expert_services(manual: ManualRepo) -> None:
    names = {"github-corporate-terms-of-service"}
    changes = changes_between(manual, "2023-10", "2024-04", names)
    sweeps = [c for c in changes if c.kind == "term.swept"]
    assert [(c.old, c.new, c.chapters) for c in sweeps] == [
        ("Professional Services", "Expert Services", ("github-corporate-terms-of-service",))]
    sweep = sweeps[0]
    assert len(sweep.places) >= 5
    assert "heading 'Q. Expert Services'" in [p.location for p in sweep.places]
    # the paragraphs whose only edit was the term are in the sweep, not changes of their own
    for change in changes:
        if change.kind == "paragraph.modified":
            assert change.redline_text() != (change.old or "").replace(
                "Professional Services", "[-Professional-]{+Expert+} Services")
    # the dropped "Professional Services Credits" clause is a deletion, not part of the sweep
    assert any(c.kind == "heading.changed" and c.old == "3. Professional Services Credits."
               and c.new is None for c in changes)


def test_same_texts_give_the_same_ids_on_every_run(manual: ManualRepo) -> None:
    names = {"github-corporate-terms-of-service"}
    first = changes_between(manual, "2023-10", "2024-04", names)
    again = compare(open_manual(manual.root, explicit=True), "2023-10", "2024-04").changes
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
