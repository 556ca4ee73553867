"""Change detection between two snapshots (being built: see issue 2)."""

from __future__ import annotations

from pipeline.models import Change, Snapshot


def detect_changes(old: Snapshot | None, new: Snapshot) -> list[Change]:
    if old is None:
        return []
    before, after = old.by_id(), new.by_id()
    out = []
    for cid in after.keys() - before.keys():
        out.append(Change(id=f"{cid}-added", kind="chapter.added", chapter=cid, location="chapter",
                          new=after[cid].title))
    for cid in before.keys() - after.keys():
        out.append(Change(id=f"{cid}-removed", kind="chapter.removed", chapter=cid,
                          location="chapter", old=before[cid].title))
    return out
