"""Commands of the notes stage: annotate, status, check, approve (registered on import by
pipeline.cli), and the coverage report `changes` prints for the open release."""

from __future__ import annotations

import sys

import click

from pipeline import approval as approvals
from pipeline.annotate import (
    Workspace,
    find_release,
    open_workspace,
    sync_notes,
    walk,
    write_entry,
)
from pipeline.checks import check_release
from pipeline.cli import State, cli, echo_json
from pipeline.errors import NotesError, ProblemsFound
from pipeline.manual import Manual
from pipeline.merge import MergedEntry
from pipeline.models import Change
from pipeline.report import describe, group_by_chapter
from pipeline.suggest import suggest

pass_state = click.make_pass_decorator(State)
release_option = click.option("--release", "release_id", metavar="ID",
                              help="Release id (default: the open release).")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def _plural(n: int, word: str) -> str:
    many = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return f"{n} {word if n == 1 else many}"


def _needs(n: int) -> str:
    return f"{_plural(n, 'change')} still {'needs' if n == 1 else 'need'} an entry"


# annotate ----------------------------------------------------------------------------------


class ClickPrompter:
    """The walk's questions, asked on the terminal."""

    def echo(self, text: str = "") -> None:
        click.echo(text)

    def ask(self, question: str, default: str = "", show_default: bool = True) -> str:
        return str(click.prompt(question, default=default, show_default=show_default and
                                bool(default)))

    def edit(self, text: str) -> str | None:
        return click.edit(text, require_save=True)


@cli.command()
@click.argument("change_ids", nargs=-1, metavar="[CHANGE]...")
@click.option("--summary", help="What changed, in a sentence or two.")
@click.option("--why", help="Why is this important? (needed for a major entry)")
@click.option("--significance", metavar="major|minor",
              help="major: in the bulletin; minor: only in the complete list.")
@click.option("--audience", multiple=True,
              help="Who it concerns (repeat, or separate with commas).")
@click.option("--action", help="What practitioners must now do.")
@release_option
@click.option("--correct", "correct_id", metavar="ENTRY",
              help="Correct the --summary and/or --why of an entry of a published release "
                   "(with --by and --reason); the old wording is kept in its trail.")
@click.option("--by", help="With --correct: who makes the correction.")
@click.option("--reason", help="With --correct: why the published text was wrong.")
@pass_state
def annotate(state: State, change_ids: tuple[str, ...], summary: str | None, why: str | None,
             significance: str | None, audience: tuple[str, ...], action: str | None,
             release_id: str | None, correct_id: str | None = None, by: str | None = None,
             reason: str | None = None) -> None:
    """Write the entry covering CHANGE(s); with no text, walk the uncovered changes."""
    if correct_id is not None:
        # Imported here: with the history modules it loads, a fifth of what `editorial
        # changes` for the open release loads, which never corrects an entry.
        from pipeline.cli.history_cmds import correct_entry

        correct_entry(state, correct_id, summary, why, by, reason,
                      others=bool(change_ids or significance or audience or action))
        return
    ws = open_workspace(state.manual, release_id)
    texts = (summary, why, significance, action)
    if all(t is None for t in texts) and not audience:
        _walk(ws, change_ids)
        return
    if summary is None or significance is None:
        raise NotesError("--summary and --significance are both needed to write an entry "
                         "(or give no text, to be asked)")
    names = [a.strip() for item in audience for a in item.split(",") if a.strip()]
    done = write_entry(ws, change_ids, summary, why or "", significance, names, action or "")
    click.echo(f"Wrote {done.entry_id} to {done.file}, covering {', '.join(done.changes)}")


def _walk(ws: Workspace, only: tuple[str, ...]) -> None:
    if not only and not ws.result.uncovered:
        click.echo(f"Every change in release {ws.release.id} has an entry.")
        return
    result = walk(ws, ClickPrompter(), only)
    click.echo()
    parts = [f"wrote {_plural(len(result.written), 'entry')}"]
    if result.grouped:
        parts.append(f"grouped {_plural(result.grouped, 'change')}")
    if result.skipped:
        parts.append(f"skipped {result.skipped}")
    head = "Stopped: " if result.quit else "Done: "
    tail = (f"{_needs(result.remaining)}."
            if result.remaining else "every change has an entry.")
    click.echo(f"{head}{', '.join(parts)}; {tail}")


# changes (open release) --------------------------------------------------------------------


def open_release_changes(manual: Manual, as_json: bool) -> None:
    """`editorial changes` for the open release: merge into the notes, then report."""
    ws = open_workspace(manual)
    for where, merged in sync_notes(ws):
        click.echo(f"Updated {where}: {_what_moved(merged)}", err=True)
    if as_json:
        echo_json(coverage_json(ws))
    else:
        click.echo(coverage_text(ws))


def _what_moved(merged: MergedEntry) -> str:
    if merged.orphaned and not merged.entry.orphaned:
        return f"{merged.id} is orphaned (none of its changes exist any more)"
    if merged.entry.orphaned and not merged.orphaned:
        return f"{merged.id} found its change again"
    if merged.followed:
        return f"{merged.id} follows " + ", ".join(f"{a} -> {b}" for a, b in merged.followed)
    return f"{merged.id} anchors refreshed"


def _change_line(change: Change) -> str:
    return f"{change.id}  {change.kind:<20} {change.location}: {describe(change)}"


def coverage_text(ws: Workspace) -> str:
    result, change_set = ws.result, ws.change_set
    changes = change_set.changes
    chapters = {c.chapter for c in changes if c.chapter}
    uncovered = len(result.uncovered)
    lines = [f"Changes from {change_set.from_ref or '(nothing)'} to {change_set.to_ref}: "
             f"{_plural(len(changes), 'change')} in {_plural(len(chapters), 'chapter')}; "
             f"{len(changes) - uncovered} covered, {uncovered} without an entry"]
    for _pid, part_title, groups in group_by_chapter(ws.manual.config, change_set):
        lines += ["", part_title]
        for cid, title, group in groups:
            if cid:
                lines.append(f"  {cid} {title}")
            for change in group:
                lines.append(f"    {_change_line(change)}")
                owner = result.covered_by.get(change.id)
                if owner:
                    lines.append(f"      covered by {owner}")
                else:
                    s = suggest(change)
                    lines.append(f"      no entry; suggested ({s.significance}): {s.summary}")
    lines += _orphan_lines(ws)
    lines.append("")
    lines.append(f"{_needs(uncovered)}: run 'editorial annotate'."
                 if uncovered else "Every change has an entry.")
    return "\n".join(lines)


def _orphan_lines(ws: Workspace) -> list[str]:
    orphans = ws.result.orphans
    if not orphans:
        return []
    lines = ["", "Orphaned entries (kept; none of their changes exist any more):"]
    for merged in orphans:
        e = merged.entry
        lines.append(f"  {e.id}  {e.file}:{e.line}  {e.summary}")
    return lines


def coverage_json(ws: Workspace) -> dict[str, object]:
    data = ws.change_set.to_json()
    result = ws.result
    out = []
    for change in ws.change_set.changes:
        item = change.to_json()
        item["entry"] = result.covered_by.get(change.id)
        if item["entry"] is None:
            item["suggestion"] = suggest(change).to_json()
        out.append(item)
    data["changes"] = out
    data["covered"] = len(result.covered_by)
    data["uncovered"] = len(result.uncovered)
    data["orphaned"] = [_entry_json(m) for m in result.orphans]
    return data


def _entry_json(merged: MergedEntry) -> dict[str, object]:
    e = merged.entry
    return {"id": e.id, "file": e.file, "line": e.line, "summary": e.summary,
            "significance": e.significance, "changes": list(merged.changes)}


# status ------------------------------------------------------------------------------------


@cli.command()
@release_option
@json_option
@pass_state
def status(state: State, release_id: str | None, as_json: bool) -> None:
    """Progress of the open release: coverage, entries, approvals."""
    m = state.manual
    ws = open_workspace(m, release_id)
    state_ = approvals.approval_state(m, ws.release)
    result = ws.result
    entries = [merged.entry for merged in result.entries]
    major = sum(1 for e in entries if e.significance == "major")
    rel = ws.release
    if as_json:
        echo_json({
            "release": rel.id, "title": rel.title, "date": rel.date, "base": rel.base,
            "status": rel.status,
            "changes": {"detected": len(result.changes), "covered": len(result.covered_by),
                        "uncovered": len(result.uncovered)},
            "entries": {"total": len(entries), "major": major, "minor": len(entries) - major,
                        "orphaned": len(result.orphans)},
            "uncovered": [{**c.to_json(), "suggestion": suggest(c).to_json()}
                          for c in result.uncovered],
            "orphaned": [_entry_json(o) for o in result.orphans],
            **state_.to_json(),
        })
        return
    lines = [f"Release {rel.id} ({rel.title}), {rel.status}; base {rel.base or '(none)'}",
             f"Changes: {len(result.changes)} detected, {len(result.covered_by)} covered, "
             f"{len(result.uncovered)} without an entry",
             f"Entries: {len(entries)} ({major} major, {len(entries) - major} minor), "
             f"{len(result.orphans)} orphaned"]
    if not state_.approvals:
        lines.append("Approvals: none")
    else:
        lines.append("Approvals:")
        for a in state_.approvals:
            role = f" ({a.role})" if a.role else ""
            fresh = "current" if a.tree == state_.tree else \
                "stale: chapters or notes changed since"
            lines.append(f"  {a.by}{role} at {a.at}: {fresh}")
    if state_.is_current:
        lines.append("Approved: yes, the approvals cover the chapters and notes as they are now")
    elif state_.approvals:
        lines.append("Approved: no, approve again after the later edits")
    if result.uncovered:
        lines += ["", "Without an entry:"]
        for change in result.uncovered:
            s = suggest(change)
            lines.append(f"  {_change_line(change)}")
            lines.append(f"    suggested ({s.significance}): {s.summary}")
    lines += _orphan_lines(ws)
    click.echo("\n".join(lines))


# check -------------------------------------------------------------------------------------


@cli.command()
@release_option
@json_option
@pass_state
def check(state: State, release_id: str | None, as_json: bool) -> None:
    """Validate chapters, notes, links and coverage; exit 1 on problems."""
    m = state.manual
    release = find_release(m, release_id)
    report = check_release(m, release)
    problems = report.problems
    if as_json:
        echo_json({"release": release.id, "ok": not problems, "changes": report.changes,
                   "entries": report.entries, "problems": [p.to_json() for p in problems]})
        if problems:
            sys.exit(1)
        return
    if problems:
        for problem in problems:
            click.echo(str(problem))
        raise ProblemsFound(f"{_plural(len(problems), 'problem')} in release {release.id}", [])
    click.echo(f"All checks passed: release {release.id}, {_plural(report.changes, 'change')}, "
               f"{_plural(report.entries, 'entry')}.")


# approve -----------------------------------------------------------------------------------


@cli.command()
@click.option("--by", "by", required=True, metavar="NAME", help="Who signs the release off.")
@click.option("--role", default="", metavar="ROLE", help="Their role, such as Chair.")
@click.option("--at", "at", metavar="WHEN",
              help="When the sign-off was given, if earlier (a board meeting): YYYY-MM-DD or "
                   "an ISO time; default now.")
@release_option
@pass_state
def approve(state: State, by: str, role: str, at: str | None, release_id: str | None) -> None:
    """Record a sign-off of the release as it stands (refused while check fails)."""
    m = state.manual
    release = find_release(m, release_id)
    when = approvals.sign_off_time(at) if at is not None else None
    saved, approval, previous = approvals.approve(m, release, by, role, at=when)
    role_text = f" ({approval.role})" if approval.role else ""
    click.echo(f"Approved release {saved.id} by {approval.by}{role_text} at {approval.at}, "
               f"tree {approval.tree[:12]}")
    if previous is not None:
        click.echo(f"This replaces {previous.by}'s approval of {previous.at}, made before "
                   "later edits.")
