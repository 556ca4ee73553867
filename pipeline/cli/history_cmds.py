"""Commands of the history stage: log, blame, show, verify; registered on import."""

from __future__ import annotations

import textwrap

import click

from pipeline import blame as blame_mod
from pipeline import corrections, history
from pipeline.cli import State, cli, echo_json
from pipeline.corrections import trail
from pipeline.errors import NotesError
from pipeline.models import Entry, Release

pass_state = click.make_pass_decorator(State)
_WIDTH = 100


def _wrap(text: str, indent: str, hanging: str | None = None) -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=indent,
                         subsequent_indent=indent if hanging is None else hanging,
                         break_long_words=False, break_on_hyphens=False) or [indent.rstrip()]


def approvals_text(release: Release | None) -> str:
    if release is None:
        return "not yet released"
    if not release.approvals:
        return "no approvals recorded"
    return "; ".join(f"{a.by}{f' ({a.role})' if a.role else ''} {a.at}".rstrip()
                     for a in release.approvals)


def entry_lines(entry: Entry, indent: str = "  ") -> list[str]:
    lines = _wrap(f"[{entry.significance}] {entry.summary}  ({entry.id})", indent,
                  indent + "    ")
    if entry.why:
        lines += _wrap(f"Why is this important? {entry.why}", indent + "  ", indent + "    ")
    for c in trail(entry):
        lines += _wrap(f"Corrected {c.at} by {c.by} ({c.field}; was: \"{c.old}\"). "
                       f"Reason: {c.reason}", indent + "  ", indent + "    ")
    return lines


@cli.command()
@click.argument("chapter", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def log(state: State, chapter: str | None, as_json: bool) -> None:
    """Every release (newest first), or every release that changed CHAPTER with its entries."""
    m = state.manual
    if chapter is None:
        summaries = history.release_log(m)
        if as_json:
            echo_json(history.release_log_json(summaries))
            return
        if not summaries:
            click.echo("No releases yet (start one with 'editorial release start ID').")
        lines = []
        for s in summaries:
            r = s.release
            corrected = f"; {s.corrections} correction{'s' * (s.corrections != 1)}" \
                if s.corrections else ""
            lines += [f"{r.id}  {r.title}  ({r.date}, {r.status})",
                      f"  Approved by: {approvals_text(r)}",
                      f"  Entries: {s.major} major, {s.minor} minor{corrected}"]
        if lines:
            click.echo("\n".join(lines))
        return
    chapter_log = history.chapter_log(m, chapter)
    if as_json:
        echo_json(history.chapter_log_json(chapter_log))
        return
    click.echo("\n".join(chapter_log_text(chapter_log)))


def _open_release(st: history.State) -> str:
    return "" if st.name == history.WORKTREE else f" (release {st.name})"


def _state_name(st: history.State) -> str:
    if st.release is not None:
        return f"release {st.name}"
    return f"the working tree, not yet released{_open_release(st)}"


def chapter_log_text(log: history.ChapterLog) -> list[str]:
    lin = log.lineage
    lines = [f"{lin.current.chapter_id} {log.title}", "Ids and files:"]
    spans = log.spans()
    width = max(len(i) for i, _p, _a, _b in spans)
    pwidth = max(len(p) for _i, p, _a, _b in spans)
    for cid, path, first, last in spans:
        when = first if first == last else f"{first} to {last}"
        lines.append(f"  {cid:<{width}}  {path:<{pwidth}}  {when}")
    if lin.removed_in is not None:
        lines.append(f"Removed in {_state_name(lin.removed_in)}.")
    for rev in log.revisions:
        st = rev.state
        r = st.release
        lines.append("")
        if r is None:
            lines.append(f"Unreleased changes{_open_release(st)}")
        else:
            lines.append(f"{r.id}  {r.title}  ({r.date})")
            lines.append(f"  Approved by: {approvals_text(r)}")
        if rev.version.event == "first published":
            lines.append("  First published.")
        elif rev.version.event == "removed":
            lines.append("  Chapter removed.")
        lines += [f"  {line}" for line in chapter_events(rev)]
        rest = [c for c in rev.changes if not c.kind.startswith("chapter.")]
        if rest:
            lines.append(f"  {len(rest)} change{'s' * (len(rest) != 1)} to the text")
        if not rev.entries and rev.version.event != "first published":
            lines.append("  No entry explains these changes.")
        for entry in rev.entries:
            lines += entry_lines(entry)
    return lines


def chapter_events(rev: history.Revision) -> list[str]:
    """What happened to the chapter as a whole in a revision, in words."""
    v = rev.version
    out = []
    if v.renamed_from:
        out.append(f"Renumbered: {v.renamed_from} -> {v.chapter_id}")
    if v.moved_from:
        out.append(f"File moved: {v.moved_from} -> {v.path}")
    for change in rev.changes:
        if change.kind == "chapter.added":
            out.append(f"Chapter added: '{change.new}'")
        elif change.kind == "chapter.retitled":
            out.append(f"Retitled: '{change.old}' -> '{change.new}'")
        elif change.kind == "chapter.moved" and "part" in change.location:
            parts = dict(change.detail)
            out.append(f"Moved to part {parts.get('new_part')} (was {parts.get('old_part')})")
    return out


@cli.command()
@click.argument("chapter")
@click.option("--at", "at", metavar="RELEASE|DATE", help="Blame the chapter as it stood then.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def blame(state: State, chapter: str, at: str | None, as_json: bool) -> None:
    """Each paragraph of CHAPTER with the release that last changed it and why."""
    result = blame_mod.blame(state.manual, chapter, at)
    if as_json:
        echo_json(blame_mod.blame_json(result))
        return
    top = result.chapter
    lines = [f"{top.id} {top.title} ({top.path})"]
    for row in result.rows:
        lines += ["", f"{row.version.state.label} | {row.location}", *_wrap(row.text, "    ")]
        if row.first_published:
            lines.append("  first published")
        elif row.version.state.release is None:
            lines.append("  not yet released")
        elif row.why:
            lines += _wrap(f"Why: {row.why}", "  ")
        else:
            lines.append("  no entry explains this change")
    click.echo("\n".join(lines))


@cli.command()
@click.argument("chapter")
@click.option("--at", "at", required=True, metavar="RELEASE|DATE",
              help="A published release, or a date (the last release on or before it).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def show(state: State, chapter: str, at: str, as_json: bool) -> None:
    """CHAPTER as it stood at a release: its front matter and body."""
    shown = blame_mod.show(state.manual, chapter, at)
    if as_json:
        echo_json(blame_mod.show_json(shown))
        return
    v = shown.version
    release = v.state.release
    click.echo(f"{v.chapter_id} as it stood in release {v.state.name}"
               f"{f' ({release.date})' if release else ''}: {v.path}", err=True)
    click.echo(shown.text, nl=not shown.text.endswith("\n"))


@cli.command()
@click.argument("release", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def verify(state: State, release: str | None, as_json: bool) -> None:
    """Render RELEASE (default: every published release) again from its tag and compare every
    output with MANIFEST.json; check the tag, the source tree and the approvals agree.
    Exit 1 listing each mismatch."""
    # Imported here: it brings in the publishing code (jinja2, pandoc), which log and blame
    # never need (commands load lazily, see pipeline.cli).
    from pipeline import verify as verify_mod

    results = verify_mod.verify(state.manual, release,
                                progress=lambda msg: click.echo(msg, err=True))
    if as_json:
        echo_json([r.to_json() for r in results])
    else:
        click.echo(verify_mod.verified_text(results))
    verify_mod.raise_if_mismatched(results)


def correct_entry(state: State, entry_id: str, summary: str | None, why: str | None,
                  by: str | None, reason: str | None, others: bool = False) -> None:
    """`annotate --correct ENTRY`: the published wording corrected, its trail kept, the notes
    file committed on its own (registered as an option of `annotate`, in notes_cmds)."""
    if others:
        raise NotesError("--correct changes only --summary and --why (with --by and --reason)")
    found, made = corrections.correct(state.manual, entry_id, by or "", reason or "",
                                      {"summary": summary, "why": why})
    fields = " and ".join(c.field for c in made)
    click.echo(f"Corrected the {fields} of {entry_id} (release {found.release.id}) in "
               f"{found.file}; the old wording is kept in its corrections, and the change is "
               "committed.")
