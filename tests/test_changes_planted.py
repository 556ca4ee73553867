"""The engine finds exactly the changes the benchmark's generator plants, nothing more."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from pipeline.manual import compare, open_manual
from pipeline.models import Change

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import synth


def planted_text(change: Change) -> str | None:
    """The text the generator records for a change of this kind."""
    if change.kind in ("chapter.removed", "paragraph.deleted", "term.swept"):
        return change.old
    if change.kind == "metadata.changed":
        return dict(change.detail)["key"]
    return change.new


def test_engine_finds_exactly_the_planted_changes(tmp_path: Path) -> None:
    planted = synth.build(tmp_path / "m", chapters=30, words=45_000, seed=3)
    changes = compare(open_manual(tmp_path / "m", explicit=True), "r1", "r2").changes
    found = Counter((c.kind, c.chapter, planted_text(c)) for c in changes)
    wanted = Counter((p.kind, p.chapter, p.text) for p in planted)
    assert found - wanted == Counter()
    assert wanted - found == Counter()
    # every kind the generator knows how to plant is in this instance
    assert {p.kind for p in planted} >= {
        "chapter.added", "chapter.removed", "chapter.retitled", "chapter.moved",
        "chapter.renumbered", "heading.changed", "paragraph.inserted", "paragraph.deleted",
        "paragraph.modified", "paragraph.moved", "link.added", "link.changed",
        "metadata.changed", "term.swept", "table.row.modified"}
    sweep = next(c for c in changes if c.kind == "term.swept")
    assert (sweep.old, sweep.new) == (synth.TERM_OLD, synth.TERM_NEW)
    assert len(sweep.chapters) == 10
