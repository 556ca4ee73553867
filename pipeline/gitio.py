"""All git access: the only module that imports `git`.

Trees are read with one `git ls-tree` and one long-lived `git cat-file --batch` process
(gitpython keeps it open), never a process per file.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import git
from git.exc import BadName, GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from pipeline.errors import EditorialError, RefError


@dataclass(frozen=True)
class FileBlob:
    path: str  # posix path relative to the repository root
    blob: str  # git blob id
    data: bytes


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    date: str  # ISO 8601 committer date
    message: str


def open_repo(root: Path) -> git.Repo:
    try:
        return git.Repo(root, search_parent_directories=False)
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise EditorialError("not a git repository (run 'git init' or 'editorial init')",
                             str(root)) from None


def init_repo(root: Path) -> git.Repo:
    try:
        return git.Repo(root)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return git.Repo.init(root, initial_branch="main")


def has_commits(repo: git.Repo) -> bool:
    try:
        repo.head.commit  # noqa: B018 - raises when the branch is unborn
    except ValueError:
        return False
    return True


def resolve(repo: git.Repo, ref: str) -> str:
    """The commit sha a ref names; RefError when there is none."""
    try:
        return repo.commit(ref).hexsha
    except (BadName, ValueError, GitCommandError, IndexError):
        raise RefError(f"unknown git ref or release '{ref}'") from None


def read_tree(repo: git.Repo, commit: str, prefix: str) -> list[FileBlob]:
    """Every file under `prefix` at `commit`, with its bytes."""
    try:
        listing = repo.git.ls_tree("-r", "-z", "--full-tree", commit, "--", prefix)
    except GitCommandError:
        raise RefError(f"unknown git ref '{commit}'") from None
    out = []
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, path = entry.split("\t", 1)
        _mode, kind, sha = meta.split()
        if kind != "blob":
            continue
        _sha, _type, _size, data = repo.git.get_object_data(sha)
        out.append(FileBlob(path=path, blob=sha, data=data))
    return out


def file_at(repo: git.Repo, commit: str, path: str) -> bytes | None:
    """The bytes of `path` at `commit`, or None when it does not exist there."""
    try:
        sha = repo.git.rev_parse(f"{commit}:{path}")
    except GitCommandError:
        return None
    return repo.git.get_object_data(sha)[3]


def tags(repo: git.Repo) -> dict[str, str]:
    """Tag name -> commit sha."""
    return {t.name: t.commit.hexsha for t in repo.tags}


def tag_exists(repo: git.Repo, name: str) -> bool:
    return any(t.name == name for t in repo.tags)


def create_tag(repo: git.Repo, name: str, commit: str, message: str) -> None:
    repo.create_tag(name, ref=commit, message=message)


def delete_tag(repo: git.Repo, name: str) -> None:
    repo.delete_tag(name)


def head_commit(repo: git.Repo) -> str | None:
    return repo.head.commit.hexsha if has_commits(repo) else None


def is_dirty(repo: git.Repo, paths: Iterable[str] = ()) -> bool:
    """Uncommitted or untracked changes (under `paths`, when given)."""
    args = ["--porcelain", "--untracked-files=all"]
    paths = list(paths)
    if paths:
        args += ["--", *paths]
    return bool(repo.git.status(*args).strip())


def commit_paths(repo: git.Repo, paths: Iterable[str], message: str,
                 date: str | None = None) -> str:
    """Stage `paths` (additions and deletions) and commit; `date` sets both author and committer
    dates (ISO 8601), for history adopted from the past."""
    repo.git.add("-A", "--", *paths)
    env = {}
    if date:
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    with repo.git.custom_environment(**env):
        repo.git.commit("--allow-empty", "-q", "-m", message)
    return repo.head.commit.hexsha


def tree_id(repo: git.Repo, commit: str, path: str = "") -> str | None:
    """The tree id of `path` (the whole tree when empty) at `commit`."""
    spec = f"{commit}:{path}" if path else f"{commit}^{{tree}}"
    try:
        return repo.git.rev_parse(spec)
    except GitCommandError:
        return None


def worktree_tree_id(repo: git.Repo, paths: Iterable[str]) -> str:
    """The tree id the working tree's `paths` would have if committed now.

    Uses a throw-away index so the user's staging area is never touched.
    """
    root = repo.working_tree_dir
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GIT_INDEX_FILE=str(Path(tmp) / "index"))
        existing = [p for p in paths if (Path(root) / p).exists()]
        if existing:
            subprocess.run(["git", "add", "-A", "--", *existing], cwd=root, env=env,
                           check=True, capture_output=True)
        result = subprocess.run(["git", "write-tree"], cwd=root, env=env, check=True,
                                capture_output=True, text=True)
    return result.stdout.strip()


def commits_touching(repo: git.Repo, path: str, rev: str = "HEAD") -> list[CommitInfo]:
    """Commits that changed `path`, newest first."""
    if not has_commits(repo):
        return []
    raw = repo.git.log(rev, "--format=%H%x1f%cI%x1f%s%x1e", "--", path)
    out = []
    for rec in raw.split("\x1e"):
        rec = rec.strip()
        if rec:
            sha, date, msg = rec.split("\x1f", 2)
            out.append(CommitInfo(sha=sha, date=date, message=msg))
    return out


def commit_date(repo: git.Repo, commit: str) -> str:
    return repo.commit(commit).committed_datetime.isoformat()
