"""Sign-offs: who approved a release, and whether what they approved is still what is there.

An approval records the git tree id of the release's content: the chapters (`procedures/`)
and the release's notes (`releases/<id>/notes/`), as they stand in the working tree. Any
later edit to either gives another tree id, which makes the approval stale. `release.toml`
itself is outside that tree, so recording an approval does not make it stale.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from pipeline import gitio
from pipeline.errors import ProblemsFound, ReleaseError
from pipeline.manual import Manual
from pipeline.models import Approval, Release
from pipeline.releases import RELEASE_FILE, release_dir, save_release


@dataclass(frozen=True)
class ApprovalState:
    release: str
    tree: str  # the tree id of the release's content now
    approvals: tuple[Approval, ...]
    current: tuple[Approval, ...]  # made on exactly this content
    stale: tuple[Approval, ...]  # made before a later edit
    is_current: bool  # approved, and by nobody whose sign-off went stale

    def to_json(self) -> dict[str, object]:
        return {
            "tree": self.tree,
            "approved": self.is_current,
            "approvals": [{"by": a.by, "role": a.role, "at": a.at, "tree": a.tree,
                           "current": a.tree == self.tree} for a in self.approvals],
        }


def content_paths(manual: Manual, release_id: str) -> list[str]:
    notes = release_dir(manual.config, release_id) / "notes"
    return [manual.config.procedures, notes.relative_to(manual.root).as_posix()]


def content_tree(manual: Manual, release_id: str) -> str:
    """The tree id of the release's chapters and notes in the working tree."""
    return gitio.worktree_tree_id(manual.repo, content_paths(manual, release_id))


def approval_state(manual: Manual, release: Release) -> ApprovalState:
    tree = content_tree(manual, release.id)
    current = tuple(a for a in release.approvals if a.tree == tree)
    stale = tuple(a for a in release.approvals if a.tree != tree)
    return ApprovalState(release=release.id, tree=tree, approvals=release.approvals,
                         current=current, stale=stale,
                         is_current=bool(release.approvals) and not stale)


def _same_person(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def utc_now() -> str:
    return _iso(dt.datetime.now(dt.UTC))


def _iso(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def sign_off_time(text: str) -> str:
    """A sign-off given earlier (at a board meeting) as the approval records it: a date
    (YYYY-MM-DD, taken as midnight UTC) or an ISO 8601 time; never in the future."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ReleaseError(f"invalid time '{text}' (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"
                           ) from None
    moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    if moment > dt.datetime.now(dt.UTC):
        raise ReleaseError(f"'{text}' is in the future: an approval records a sign-off given")
    return _iso(moment)


def approve(manual: Manual, release: Release, by: str, role: str = "",
            at: str | None = None) -> tuple[Release, Approval, Approval | None]:
    """Record a sign-off of the release as it stands; refuses while `check` finds problems.

    Returns the release as saved, the approval, and the stale approval by the same person it
    replaced (if any): someone may sign again after later edits, never twice the same."""
    # Imported here: both import the notes stage, which `publish` need not load to ask for
    # approval_state.
    from pipeline.annotate import open_workspace, sync_notes
    from pipeline.checks import run_checks

    where = (release_dir(manual.config, release.id) / RELEASE_FILE).relative_to(
        manual.root).as_posix()
    by = " ".join(by.split())
    if not by:
        raise ReleaseError("--by needs the approver's name", where)
    if release.status == "published":
        raise ReleaseError(f"release {release.id} is already published", where)
    state = approval_state(manual, release)
    previous = next((a for a in release.approvals if _same_person(a.by, by)), None)
    if previous is not None and previous.tree == state.tree:
        raise ReleaseError(f"already approved by '{previous.by}' (at {previous.at})", where)
    # Unreadable notes are bad input (exit 2), as for every command but `check`.
    workspace = open_workspace(manual, release=release)
    problems = run_checks(manual, release)
    if problems:
        raise ProblemsFound(f"cannot approve release {release.id}: {_count(problems)} "
                            "(see 'editorial check')", [str(p) for p in problems])
    # The tool's own bookkeeping (ids followed after re-edits, anchors) is written now, so
    # that a later `editorial changes` finds nothing to update and the approval stays current.
    sync_notes(workspace)
    tree = content_tree(manual, release.id)
    approval = Approval(by=by, at=at or utc_now(), tree=tree, role=" ".join(role.split()))
    kept = tuple(a for a in release.approvals if a is not previous)
    saved = replace(release, approvals=(*kept, approval), status="approved")
    save_release(manual.config, saved)
    return saved, approval, previous


def _count(problems: list[object]) -> str:
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
