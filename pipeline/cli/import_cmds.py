"""Commands of the import stage (registered on import by pipeline.cli): import, import-history."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline.cli import State, cli, echo_json
from pipeline.import_history import DEFAULT_PART, import_history
from pipeline.importer import import_documents

pass_state = click.make_pass_decorator(State)


def _warn(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"Warning: {line}", err=True)


@cli.command("import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--part", help="Part of every imported chapter (default: the document's folder).")
@click.option("--split", is_flag=True,
              help="Cut each document into chapters at its top-level headings.")
@click.option("--force", is_flag=True,
              help="Replace a chapter file that exists, or the chapter with the same id.")
@click.option("--json", "as_json", is_flag=True, help="What was written, as JSON.")
@pass_state
def import_(state: State, sources: tuple[Path, ...], part: str | None, split: bool,
            force: bool, as_json: bool) -> None:
    """Turn documents (.docx, .odt, .html, .md, or folders of them) into chapter files."""
    m = state.manual
    written, warnings = import_documents(m.config, list(sources), part=part, split=split,
                                         force=force)
    _warn(warnings)
    if as_json:
        echo_json([{"path": w.path, "id": w.id, "title": w.title, "part": w.part,
                    "source": w.source, "replaced": w.replaced, "media": list(w.media)}
                   for w in written])
        return
    for w in written:
        verb = "Replaced" if w.replaced else "Wrote"
        click.echo(f'{verb} {w.path}: {w.id} "{w.title}", part {w.part}, from {w.source}')
        for media in w.media:
            click.echo(f"  with {media}")


@cli.command("import-history")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--part", help=f"Part of files directly in a release folder (default "
              f"'{DEFAULT_PART}'); files in sub-folders take the sub-folder's name.")
@click.option("--split", is_flag=True,
              help="Cut each document into chapters at its top-level headings.")
@click.option("--json", "as_json", is_flag=True, help="The releases adopted, as JSON.")
@pass_state
def import_history_(state: State, sources: tuple[Path, ...], part: str | None, split: bool,
                    as_json: bool) -> None:
    """Adopt past versions, oldest first: each SOURCE is a folder named by its release id
    (YYYY-MM or YYYY-MM-DD) holding the manual's files as they stood, or a document with such
    a date in its name. Each becomes a dated commit, a published release record and a tag."""
    m = state.manual
    adopted = import_history(m.config, m.repo, list(sources), part=part, split=split,
                             progress=lambda line: click.echo(line, err=True))
    for a in adopted:
        _warn(list(a.warnings))
    if as_json:
        click.echo(json.dumps([{"id": a.id, "date": a.date, "chapters": a.chapters,
                                "added": a.added, "removed": a.removed, "changed": a.changed,
                                "commit": a.commit, "tag": a.tag} for a in adopted], indent=2))
        return
    for a in adopted:
        click.echo(f"{a.id:<10} {a.date}  {a.chapters:>4} chapters  +{a.added} -{a.removed} "
                   f"~{a.changed}  commit {a.commit[:10]}  tag {a.tag}")
