"""Shared fixtures: a real manual in a real temporary git repository."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

from pipeline.cli import cli
from pipeline.manual import init_manual

# CI runs the property tests on a fixed sequence of examples, so a submission passes or fails
# on its own merits; a developer's runs draw new examples each time and keep exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Editor",
    "GIT_AUTHOR_EMAIL": "editor@example.org",
    "GIT_COMMITTER_NAME": "Test Editor",
    "GIT_COMMITTER_EMAIL": "editor@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A temp HOME with a fixed identity, no signing and `main` as the default branch."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Editor\n\temail = editor@example.org\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
        "[tag]\n\tgpgsign = false\n")
    monkeypatch.setenv("HOME", str(home))
    for key, value in _GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)


@dataclass
class ManualRepo:
    """A manual in a temp git repository, with helpers to edit, commit and run the CLI."""

    root: Path

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True,
                              text=True, env={**os.environ, **_GIT_ENV}).stdout.strip()

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def chapter(self, chapter_id: str, title: str, body: str, part: str = "A",
                path: str | None = None, **extra: object) -> Path:
        """Write a chapter file; `body` is dedented Markdown."""
        rel = path or f"procedures/{chapter_id.lower()}.md"
        fm = [f"id: {chapter_id}", f"title: {title}", f"part: {part}"]
        fm += [f"{k}: {v}" for k, v in extra.items()]
        text = "---\n" + "\n".join(fm) + "\n---\n\n" + textwrap.dedent(body).strip() + "\n"
        return self.write(rel, text)

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink()

    def commit(self, message: str = "edit") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str) -> None:
        self.git("tag", name)

    def run(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, ["-C", str(self.root), *args], input=input,
                                  catch_exceptions=False)


@pytest.fixture
def manual(tmp_path: Path) -> Iterator[ManualRepo]:
    root = tmp_path / "manual"
    init_manual(root, "Test Procedures")
    (root / "editorial.toml").write_text(
        'name = "Test Procedures"\npublisher = "Test Board"\n'
        'contact = "Queries to board@example.org"\n'
        '[parts]\nA = "Core procedures"\nB = "Practice guidance"\n', encoding="utf-8")
    repo = ManualRepo(root)
    repo.commit("init")
    yield repo
