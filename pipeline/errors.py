"""The user errors the core raises. The CLI turns each into one line, `Error: <where>: <what>`.

Every error carries the file (and line, where known) it is about, so a user can go straight
to the cause. Exit code 2 is bad input or usage; `ProblemsFound` (exit 1) is a command that ran
and found problems.
"""

from __future__ import annotations


class EditorialError(Exception):
    """Bad input or usage: exit 2."""

    exit_code = 2

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    @property
    def where(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class NotAManual(EditorialError):
    """No editorial.toml found where a manual was expected."""


class ConfigError(EditorialError):
    """editorial.toml is malformed."""


class ChapterError(EditorialError):
    """A chapter file cannot be read: front matter, encoding, conflict markers, duplicates."""


class RefError(EditorialError):
    """A git ref (tag, branch, commit) or release that does not exist."""


class ReleaseError(EditorialError):
    """A release record is missing, malformed or in the wrong state for the command."""


class NotesError(EditorialError):
    """A notes file is malformed or names changes that do not exist."""


class PublishError(EditorialError):
    """Publishing was refused: dirty tree, unapproved release, existing tag."""


class ImportError_(EditorialError):
    """A document cannot be imported."""


class ProblemsFound(EditorialError):
    """The command ran and found problems (check, verify): exit 1."""

    exit_code = 1

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems
