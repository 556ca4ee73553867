"""The command line: the only place that imports click. Each command parses its options,
calls one core function and prints; errors from the core become one `Error: ...` line."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from pipeline import __version__
from pipeline.errors import EditorialError, ProblemsFound
from pipeline.manual import Manual, open_manual


class State:
    """What the group's options give every command: where the manual is."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._manual: Manual | None = None

    @property
    def manual(self) -> Manual:
        if self._manual is None:
            start = self.directory or Path.cwd()
            self._manual = open_manual(start, explicit=self.directory is not None)
            for warning in self._manual.config.warnings:
                click.echo(f"Warning: {warning}", err=True)
        return self._manual


def echo_json(data: object) -> None:
    """`data` as json.dumps writes it with an indent of 2 (see jsonout), and a newline: how
    every command prints JSON."""
    from pipeline import jsonout

    click.echo(jsonout.dumps(data, end="\n"), nl=False)


# Which module defines each command. Modules are imported only when their command runs, so
# `editorial changes` does not pay for jinja2, pandoc and feed libraries it never uses.
_COMMAND_MODULES = {
    "init": "manual_cmds", "release": "manual_cmds", "changes": "manual_cmds",
    "diff": "manual_cmds",
    "annotate": "notes_cmds", "status": "notes_cmds", "check": "notes_cmds",
    "approve": "notes_cmds",
    "render": "publish_cmds", "publish": "publish_cmds",
    "log": "history_cmds", "blame": "history_cmds", "show": "history_cmds",
    "verify": "history_cmds",
    "import": "import_cmds", "import-history": "import_cmds",
}


class EditorialGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(_COMMAND_MODULES) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _COMMAND_MODULES.get(cmd_name)
        if cmd_name not in self.commands and module is not None:
            importlib.import_module(f"pipeline.cli.{module}")
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProblemsFound as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except EditorialError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=EditorialGroup)
@click.option("-C", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Run as if started in DIR (the manual's root).")
@click.version_option(__version__, prog_name="editorial")
@click.pass_context
def cli(ctx: click.Context, directory: Path | None) -> None:
    """Track, explain, approve and publish the changes to a procedures manual."""
    ctx.obj = State(directory)


def main() -> None:
    cli(prog_name="editorial")

