"""Commands that set a manual up and look at its changes: init, release, changes, diff."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline import releases
from pipeline.cli import State, cli, echo_json
from pipeline.manual import compare, init_manual, release_changes

pass_state = click.make_pass_decorator(State)


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", required=True, help="The manual's name, as readers know it.")
@pass_state
def init(state: State, directory: Path | None, name: str) -> None:
    """Make a manual repository in DIRECTORY (default: here)."""
    folder = directory or state.directory or Path.cwd()
    init_manual(folder, name)
    click.echo(f"Made a manual '{name}' in {folder}")


@cli.group()
def release() -> None:
    """Open and list releases."""


@release.command("start")
@click.argument("release_id")
@click.option("--title", help='Default: the month of the date, e.g. "September 2023".')
@click.option("--date", help="YYYY-MM-DD, default today.")
@click.option("--base", help="Release id or git ref to compare with; default the last published.")
@pass_state
def release_start(state: State, release_id: str, title: str | None, date: str | None,
                  base: str | None) -> None:
    """Open a draft release RELEASE_ID (such as 2023-09)."""
    m = state.manual
    rel = releases.start_release(m.config, release_id, title=title, date=date, base=base,
                                 repo=m.repo)
    click.echo(f"Started release {rel.id} ({rel.title}, {rel.date}), "
               f"base {rel.base or '(none: first release)'}")


@release.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def release_list(state: State, as_json: bool) -> None:
    """Every release with its status and date."""
    records = releases.list_releases(state.manual.config)
    if as_json:
        echo_json([{"id": r.id, "title": r.title, "date": r.date, "status": r.status,
                    "base": r.base, "approvals": [a.by for a in r.approvals]} for r in records])
        return
    if not records:
        click.echo("No releases yet (start one with 'editorial release start ID').")
    for r in records:
        click.echo(f"{r.id:<12} {r.status:<10} {r.date}  {r.title}")


@cli.command()
@click.option("--from", "from_ref",
              help="Release id or git ref (default: the open release's base).")
@click.option("--to", "to_ref", help="Release id or git ref (default: the working tree).")
@click.option("--json", "as_json", is_flag=True, help="Every change as JSON.")
@pass_state
def changes(state: State, from_ref: str | None, to_ref: str | None, as_json: bool) -> None:
    """Detect what changed since the base release."""
    m = state.manual
    if from_ref is None and to_ref is None:
        # The open release: merge into its notes and say what still needs an entry.
        from pipeline.cli.notes_cmds import open_release_changes

        open_release_changes(m, as_json)
        return
    if from_ref is not None:
        change_set = compare(m, from_ref, to_ref)
    else:
        change_set = release_changes(m, to_ref=to_ref)
    if as_json:
        echo_json(change_set.to_json())
    else:
        from pipeline.report import summary_text  # here: --json has no use for it

        click.echo(summary_text(m.config, change_set))


@cli.command()
@click.argument("ref_a")
@click.argument("ref_b")
@click.argument("chapter", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "html", "json"]), default="text")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@pass_state
def diff(state: State, ref_a: str, ref_b: str, chapter: str | None, fmt: str,
         as_json: bool) -> None:
    """Redline between two releases or git refs (read-only). Use WORKTREE for the files."""
    # Imported here: `changes`, in the same module, has no use for the history reader.
    from pipeline.history import between_html, between_json, between_text, explain_between

    m = state.manual
    change_set = compare(m, ref_a, None if ref_b == "WORKTREE" else ref_b)
    if chapter:
        change_set = change_set.only_chapter(chapter)
    # Between two published releases: the entries of every release in between, by chapter.
    between = explain_between(m, change_set, chapter)
    if as_json or fmt == "json":
        echo_json({**change_set.to_json(), **(between_json(between) if between else {})})
    elif fmt == "html":
        from pipeline.report import diff_html

        page = diff_html(m.config, change_set)
        if between:
            page = page.replace("</body>", between_html(between) + "</body>")
        click.echo(page, nl=False)
    else:
        color = sys.stdout.isatty()
        from pipeline.report import diff_text

        click.echo(diff_text(m.config, change_set, color=color)
                   + (between_text(between) if between else ""), color=color)
