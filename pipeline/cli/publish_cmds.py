"""Commands of the publish stage: render (a preview) and publish (registered on import by
pipeline.cli)."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli import State, cli, echo_json
from pipeline.publish import publish as publish_release
from pipeline.publish import render_preview
from pipeline.timeline import as_it_stood

pass_state = click.make_pass_decorator(State)
formats_option = click.option(
    "--formats", "formats", multiple=True, metavar="LIST",
    help="Formats, comma-separated: html, docx, md, pdf (default: editorial.toml's formats). "
         "changes.json, changes.csv and feed.atom are always written.")
release_option = click.option("--release", "release_id", metavar="ID",
                              help="Release id (default: the open release).")


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _shown(state: State, path: Path) -> str:
    root = state.manual.root
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


@cli.command()
@release_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write into (default: _preview/ in the manual, ignored by git).")
@formats_option
@click.option("--at", "at", metavar="RELEASE|DATE",
              help="Render the manual as it stood at a release, or at a date (the last release "
                   "published on or before it), with that release's boxes and its entries as "
                   "corrected since; any git ref also works (read from git, not the working "
                   "tree).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def render(state: State, release_id: str | None, out: Path | None, formats: tuple[str, ...],
           at: str | None, as_json: bool) -> None:
    """Preview every output of a release, any time: nothing is committed."""
    stood = as_it_stood(state.manual, at) if at is not None and release_id is None else None
    if stood is not None:  # a release or a date: see pipeline.timeline.as_it_stood
        release_id, at = stood
    result = render_preview(state.manual, release_id, out, formats, at, progress=_progress)
    for note in result.notes:
        click.echo(f"Warning: {note}", err=True)
    if as_json:
        echo_json({"release": result.release, "folder": str(result.folder),
                   "files": list(result.files), "notes": list(result.notes)})
        return
    folder = _shown(state, result.folder)
    click.echo(f"Rendered release {result.release}: {len(result.files)} files in {folder}/")
    if "bulletin.html" in result.files:
        click.echo(f"Bulletin: {folder}/bulletin.html")


@cli.command()
@release_option
@formats_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def publish(state: State, release_id: str | None, formats: tuple[str, ...],
            as_json: bool) -> None:
    """Render an approved release into releases/<id>/published/ with MANIFEST.json, commit
    it and tag it. Refuses a dirty tree, an unapproved or stale release, an existing tag."""
    result = publish_release(state.manual, release_id, formats, progress=_progress)
    for note in result.notes:
        click.echo(f"Warning: {note}", err=True)
    if as_json:
        echo_json({"release": result.release, "folder": _shown(state, result.folder),
                   "files": list(result.files), "commit": result.commit, "tag": result.tag,
                   "source_commit": result.source_commit, "resumed": result.resumed,
                   "notes": list(result.notes)})
        return
    folder = _shown(state, result.folder)
    verb = "Finished publishing" if result.resumed else "Published"
    click.echo(f"{verb} release {result.release}: {len(result.files)} files in {folder}/")
    click.echo(f"Commit {result.commit[:12]}, tag {result.tag}")
