"""All git access: the only module that imports `git`.

Trees are read with one `git ls-tree` and one `git cat-file --batch` process, never a process
per file. What reading a manual at a ref needs (resolve, list_files, blobs_stream, tag_exists)
runs git itself; the rest goes through gitpython, imported when first used, as loading it
costs a read-only command such as `changes` a sixth of its time when every answer is cached.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pipeline.errors import EditorialError, RefError
from pipeline.prefetch import commit_of, listing_of

if TYPE_CHECKING:
    import git


class Repo:
    """A git repository: its folders, and gitpython's Repo for it, made when first needed
    (every other attribute is gitpython's). Other modules name a repository by this class,
    so that only this module imports git."""

    def __init__(self, git_dir: str, working_tree_dir: str | None,
                 made: git.Repo | None = None) -> None:
        self.git_dir = git_dir
        self.working_tree_dir = working_tree_dir
        self._made = made
        self._batch: tuple[int, subprocess.Popen[bytes]] | None = None

    def read_blob(self, blob: str) -> bytes:
        """The bytes of one blob, through a `git cat-file --batch` process kept for the
        repository's life (history reads one version at a time, dozens of them): a process
        of this one's own, so a forked child never shares its pipes with its parent."""
        if self._batch is None or self._batch[0] != os.getpid() \
                or self._batch[1].poll() is not None:
            proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=self.cwd,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
            weakref.finalize(self, _end_batch, proc, os.getpid())
            self._batch = (os.getpid(), proc)
        proc = self._batch[1]
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(f"{blob}\n".encode())
            proc.stdin.flush()
            header, data = _next_object(proc.stdout)
        except OSError:
            header, data = b"", None
        if data is None:
            raise _missing(blob, header)
        return data

    @property
    def cwd(self) -> str:
        """Where git commands for this repository run."""
        return self.working_tree_dir or self.git_dir

    @property
    def gitpython(self) -> git.Repo:
        if self._made is None:
            import git

            self._made = git.Repo(self.cwd, search_parent_directories=False)
        return self._made

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_made":
            raise AttributeError(name)
        return getattr(self.gitpython, name)


def _next_object(out: IO[bytes]) -> tuple[bytes, bytes | None]:
    """(the header `git cat-file --batch` wrote next, the object's bytes; None when the
    header names no object: "<id> missing", or nothing at all when git stopped)."""
    header = out.readline()
    fields = header.split()
    if len(fields) != 3:
        return header, None
    size = int(fields[2])
    return header, out.read(size + 1)[:size]  # the object, then a newline


def _missing(blob: str, header: bytes) -> RefError:
    """What to raise when git cat-file answered `header` (or nothing) for `blob`."""
    said = header.decode(errors="replace").strip() or "no answer"
    return RefError(f"cannot read blob {blob}: git cat-file says {said}")


def _end_batch(proc: subprocess.Popen[bytes], started_by: int) -> None:
    """Close a batch process's input (git then ends) and wait for it, in the process that
    started it (a forked child's copy of the pipes is not its to close)."""
    if os.getpid() != started_by:
        return
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
    proc.wait()


def _wrapped(made: git.Repo) -> Repo:
    tree = made.working_tree_dir
    return Repo(str(made.git_dir), str(tree) if tree is not None else None, made)


def _plain_git_dir(root: Path) -> bool:
    """`root/.git` is a git folder as gitpython recognises one (HEAD, objects and refs):
    the common case, told without loading gitpython."""
    dot = root / ".git"
    return ((dot / "HEAD").is_file() and (dot / "objects").is_dir()
            and (dot / "refs").is_dir())


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


def open_repo(root: Path) -> Repo:
    if _plain_git_dir(root):
        return Repo(str(root / ".git"), str(root))
    import git
    from git.exc import InvalidGitRepositoryError, NoSuchPathError

    try:
        return _wrapped(git.Repo(root, search_parent_directories=False))
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise EditorialError("not a git repository (run 'git init' or 'editorial init')",
                             str(root)) from None


def init_repo(root: Path) -> Repo:
    import git
    from git.exc import InvalidGitRepositoryError, NoSuchPathError

    try:
        return _wrapped(git.Repo(root))
    except (InvalidGitRepositoryError, NoSuchPathError):
        return _wrapped(git.Repo.init(root, initial_branch="main"))


def _run(repo: Repo, *args: str, stdin: bytes | None = None
         ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=repo.cwd, input=stdin, capture_output=True,
                          check=False)


def _safe_ref(ref: str) -> bool:
    """A ref that can go on git's command line or its input as one argument, never an
    option or two lines."""
    return bool(ref) and not ref.startswith("-") and "\n" not in ref


def has_commits(repo: Repo) -> bool:
    try:
        repo.head.commit  # noqa: B018 - raises when the branch is unborn
    except ValueError:
        return False
    return True


def resolve(repo: Repo, ref: str) -> str:
    """The commit sha a ref names; RefError when there is none."""
    if (repo.git_dir, ref) in _COMMITS:
        return ref
    adopted = commit_of(repo.cwd, ref)  # resolved by the process reading ahead
    if adopted is not None:
        _COMMITS.add((repo.git_dir, adopted))
        return adopted
    result = None
    if _safe_ref(ref):
        result = _run(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if result is None or result.returncode != 0:
        raise RefError(f"unknown git ref or release '{ref}'")
    commit = result.stdout.decode().strip()
    _COMMITS.add((repo.git_dir, commit))
    return commit


# Commits this process has resolved, by repository: a commit id names the same commit
# forever, so it is never resolved again (a comparison names each commit several times).
_COMMITS: set[tuple[str, str]] = set()


def adopt(repo: Repo, commits: Iterable[str], prefix: str,
          listings: Iterable[dict[str, str]]) -> None:
    """Take commits and their listings under `prefix` as another process found them a moment
    ago, at this command's start (see prefetch)."""
    for commit, listing in zip(commits, listings, strict=True):
        _COMMITS.add((repo.git_dir, commit))
        _LISTINGS[repo.git_dir, commit, prefix] = listing


def resolve_many(repo: Repo, refs: list[str]) -> list[str]:
    """The commit sha each ref names, through one `git cat-file --batch-check` (a history of
    40 releases resolves in one process, not 40); RefError for the first that names none."""
    if not refs:
        return []
    for ref in refs:
        if not _safe_ref(ref):
            raise RefError(f"unknown git ref or release '{ref}'")
    result = _run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)",
                  stdin="".join(f"{ref}^{{commit}}\n" for ref in refs).encode())
    lines = result.stdout.decode().splitlines()
    if result.returncode != 0 or len(lines) != len(refs):
        return [resolve(repo, ref) for ref in refs]  # git said something else: one by one
    out = []
    for ref, line in zip(refs, lines, strict=True):
        sha, _, kind = line.partition(" ")
        if kind != "commit":
            raise RefError(f"unknown git ref or release '{ref}'")
        out.append(sha)
    return out


def read_tree(repo: Repo, commit: str, prefix: str) -> list[FileBlob]:
    """Every file under `prefix` at `commit`, with its bytes."""
    from git.exc import GitCommandError

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


def file_at(repo: Repo, commit: str, path: str) -> bytes | None:
    """The bytes of `path` at `commit`, or None when it does not exist there."""
    from git.exc import GitCommandError

    try:
        sha = repo.git.rev_parse(f"{commit}:{path}")
    except GitCommandError:
        return None
    return repo.git.get_object_data(sha)[3]


def tags(repo: Repo) -> dict[str, str]:
    """Tag name -> commit sha."""
    return {t.name: t.commit.hexsha for t in repo.tags}


def tag_exists(repo: Repo, name: str) -> bool:
    if not _safe_ref(name):
        return False
    return _run(repo, "rev-parse", "--verify", "--quiet", f"refs/tags/{name}").returncode == 0


def create_tag(repo: Repo, name: str, commit: str, message: str) -> None:
    repo.create_tag(name, ref=commit, message=message)


def delete_tag(repo: Repo, name: str) -> None:
    repo.delete_tag(name)


def head_commit(repo: Repo) -> str | None:
    return repo.head.commit.hexsha if has_commits(repo) else None


def is_dirty(repo: Repo, paths: Iterable[str] = ()) -> bool:
    """Uncommitted or untracked changes (under `paths`, when given)."""
    args = ["--porcelain", "--untracked-files=all"]
    paths = list(paths)
    if paths:
        args += ["--", *paths]
    return bool(repo.git.status(*args).strip())


def dirty_paths(repo: Repo) -> list[str]:
    """Paths with uncommitted or untracked changes, as `git status` lists them."""
    raw = repo.git.status("--porcelain", "-z", "--untracked-files=all")
    out: list[str] = []
    records = iter(raw.split("\0"))
    for record in records:
        if len(record) < 4:
            continue
        out.append(record[3:])
        if record[0] in "RC":  # a rename's second field is its old path
            next(records, None)
    return out


def commit_paths(repo: Repo, paths: Iterable[str], message: str,
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


def tree_id(repo: Repo, commit: str, path: str = "") -> str | None:
    """The tree id of `path` (the whole tree when empty) at `commit`."""
    from git.exc import GitCommandError

    spec = f"{commit}:{path}" if path else f"{commit}^{{tree}}"
    try:
        return repo.git.rev_parse(spec)
    except GitCommandError:
        return None


def worktree_tree_id(repo: Repo, paths: Iterable[str]) -> str:
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


def commits_touching(repo: Repo, path: str, rev: str = "HEAD") -> list[CommitInfo]:
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


def commit_date(repo: Repo, commit: str) -> str:
    return repo.commit(commit).committed_datetime.isoformat()


@dataclass(frozen=True)
class FileChange:
    """A file that differs between two states; a blob id is None where the file is absent."""

    path: str
    old_blob: str | None
    new_blob: str | None


def list_files(repo: Repo, commit: str, prefix: str) -> dict[str, str]:
    """Path -> blob id of every file under `prefix` at `commit`, without reading the files
    (listed once a process: a commit's tree never changes)."""
    key = (repo.git_dir, commit, prefix)
    if key not in _LISTINGS:
        _LISTINGS[key] = _listed(repo, commit, prefix)
    return dict(_LISTINGS[key])


_LISTINGS: dict[tuple[str, str, str], dict[str, str]] = {}


def _listed(repo: Repo, commit: str, prefix: str) -> dict[str, str]:
    result = None
    if _safe_ref(commit):
        result = _run(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", prefix)
    if result is None or result.returncode != 0:
        raise RefError(f"unknown git ref '{commit}'")
    return listing_of(result.stdout)


def blob_bytes(repo: Repo, blob: str) -> bytes:
    """The bytes of a blob, through the repository's long-lived `cat-file --batch` process."""
    return repo.read_blob(blob)


def blobs_stream(repo: Repo, blobs: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """(blob id, bytes) of many blobs, each distinct id once and in the order given, as git
    writes them out in one `git cat-file --batch` run: the caller works on a file while git
    reads the next ones (on another core)."""
    wanted = list(dict.fromkeys(blobs))
    if not wanted:
        return
    proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=repo.cwd,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    ids = "".join(f"{b}\n" for b in wanted).encode()

    def feed() -> None:  # in a thread: git may fill its output pipe before reading all ids
        try:
            proc.stdin.write(ids)  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except OSError:  # git has gone: said below
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    done = False
    try:
        for blob in wanted:
            header, data = _next_object(proc.stdout)
            if data is None:
                if not header:  # git stopped early: its own words are on stderr
                    said = proc.stderr.read().decode(errors="replace").strip()
                    raise RefError("cannot read the files: " + said)
                raise _missing(blob, header)
            yield blob, data
        done = True
    finally:
        if not done:  # an error, or the caller stopped reading: git need not go on
            proc.kill()
        proc.stdout.close()
        writer.join()
        proc.wait()
        proc.stderr.close()


class Ahead:
    """Blobs a `git cat-file --batch` reads into a temporary file from now on, taken later
    (`take`): git reads them on another core while this process works on something else
    (the other side of a comparison). A pipe would hold only a few of them before git had
    to wait for a reader."""

    def __init__(self, repo: Repo, blobs: Iterable[str]) -> None:
        self.blobs = list(dict.fromkeys(blobs))
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by `close`)
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            ["git", "cat-file", "--batch"], cwd=repo.cwd, stdin=subprocess.PIPE,
            stdout=self._file, stderr=subprocess.DEVNULL)
        self._opened: Callable[[], int | None] | None = None
        assert self._proc.stdin is not None
        try:  # git never waits to write (into a file), so it reads every id
            self._proc.stdin.write("".join(f"{b}\n" for b in self.blobs).encode())
            self._proc.stdin.close()
        except OSError:  # git has gone: `take` finds out
            pass

    @classmethod
    def written(cls, blobs: list[str], opened: Callable[[], int | None]) -> Ahead:
        """The blobs another process has `git cat-file --batch` write into a file, whose
        descriptor `opened` gives once they are all there (None if git failed): see
        prefetch."""
        made = object.__new__(cls)
        made.blobs, made._proc, made._opened = blobs, None, opened
        return made

    def take(self, wanted: Iterable[str]) -> Iterator[tuple[str, bytes]] | None:
        """(blob id, bytes) of each wanted blob once, in the order they were read; None
        when some were not read ahead, or git could not read them (then the caller reads
        them itself, and git's own words come then)."""
        want = set(wanted)
        if not want <= set(self.blobs):
            self.close()
            return None
        if self._opened is not None:
            fd = self._opened()
            if fd is None:
                return None
            self._file = os.fdopen(fd, "rb", closefd=False)
        else:
            assert self._proc is not None
            self._proc.wait()
            if self._proc.returncode != 0:
                self.close()
                return None
        return self._taken(want)

    def _taken(self, want: set[str]) -> Iterator[tuple[str, bytes]]:
        try:
            self._file.seek(0)
            for blob in self.blobs:
                header, data = _next_object(self._file)
                if data is None:
                    raise _missing(blob, header)
                if blob in want:
                    yield blob, data
        finally:
            self.close()

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if "_file" in self.__dict__:
            self._file.close()


def diff_commits(repo: Repo, pairs: list[tuple[str, str]],
                 prefix: str) -> list[list[FileChange]]:
    """Files under `prefix` that differ between each (old, new) commit pair.

    One `git diff-tree --stdin` for all pairs: a history of forty releases costs one process,
    not forty.
    """
    if not pairs:
        return []
    lines = "".join(f"{new} {old}\n" for old, new in pairs)
    result = _run(repo, "diff-tree", "--stdin", "-r", "-z", "--no-renames", "--no-abbrev",
                  "--always", "--", prefix, stdin=lines.encode())
    if result.returncode != 0:
        raise RefError(f"cannot compare commits: {result.stderr.decode(errors='replace').strip()}")
    groups: list[list[FileChange]] = []
    tokens = result.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    i = 0
    while i < len(tokens):
        token = tokens[i].strip("\n")
        if token.startswith(":"):
            _old_mode, _new_mode, old, new, _status = token[1:].split()
            null = "0" * len(old)
            groups[-1].append(FileChange(path=tokens[i + 1], old_blob=None if old == null else old,
                                         new_blob=None if new == null else new))
            i += 2
            continue
        if token:  # the header that --always prints for each input line
            groups.append([])
        i += 1
    if len(groups) != len(pairs):
        raise RefError("cannot compare commits: git diff-tree gave an unexpected answer")
    return groups


def commit_only(repo: Repo, paths: Iterable[str], message: str) -> str:
    """Commit exactly `paths`, whatever else is staged (`git commit --only`)."""
    paths = list(paths)
    repo.git.add("--", *paths)
    repo.git.commit("-q", "--only", "-m", message, "--", *paths)
    return repo.head.commit.hexsha


# --- Commits built aside (import-history): HEAD, index and files move only once all is made --

_NO_COMMIT = "0" * 40


def _git(root: str, *args: str, env: dict[str, str] | None = None, stdin: str = "") -> str:
    result = subprocess.run(["git", *args], cwd=root, env=env, input=stdin.encode("utf-8"),
                            capture_output=True, check=False)
    if result.returncode != 0:
        said = result.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise EditorialError(f"git {args[0]} failed: {said[-1] if said else 'no reason given'}",
                             root)
    return result.stdout.decode("utf-8", errors="surrogateescape")


def current_branch(repo: Repo) -> str:
    """The full name of the checked-out branch (it may have no commits yet)."""
    from git.exc import GitCommandError

    try:
        return repo.git.symbolic_ref("-q", "HEAD")
    except GitCommandError:
        raise EditorialError("HEAD is detached (check out a branch first)",
                             repo.working_tree_dir) from None


def staged_and_untracked(repo: Repo) -> tuple[list[str], list[str]]:
    """(files in the index, files present that git neither tracks nor ignores)."""
    root = str(repo.working_tree_dir)
    staged = _git(root, "ls-files", "-z", "--cached").split("\0")
    others = _git(root, "ls-files", "-z", "--others", "--exclude-standard").split("\0")
    return sorted({p for p in staged if p}), sorted({p for p in others if p})


def write_commit(repo: Repo, parent: str | None, files: dict[str, Path],
                 remove: Iterable[str], message: str, date: str | None = None) -> str:
    """A commit of `parent`'s tree less `remove`, with `files` (repository path -> file on
    disk) written, made with a throw-away index: HEAD, the index and the working tree are left
    alone. `date` sets the author and committer dates (ISO 8601)."""
    root = str(repo.working_tree_dir)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GIT_INDEX_FILE=str(Path(tmp) / "index"))
        _git(root, "read-tree", *([parent] if parent else ["--empty"]), env=env)
        paths = list(files)
        shas = _git(root, "hash-object", "-w", "--stdin-paths", env=env,
                    stdin="".join(f"{files[p]}\n" for p in paths)).split()
        records = [f"0 {_NO_COMMIT}\t{p}\0" for p in remove]
        records += [f"{'100755' if os.access(files[p], os.X_OK) else '100644'} {sha}\t{p}\0"
                    for p, sha in zip(paths, shas, strict=True)]
        _git(root, "update-index", "-z", "--index-info", env=env, stdin="".join(records))
        tree = _git(root, "write-tree", env=env).strip()
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    args = ["commit-tree", tree, "-F", "-", *(["-p", parent] if parent else [])]
    return _git(root, *args, env=env, stdin=message).strip()


def move_branch(repo: Repo, branch: str, new: str | None, old: str | None) -> None:
    """Point `branch` at `new` (None: back to no commits), only if it still points at `old`."""
    root = str(repo.working_tree_dir)
    if new is None:
        _git(root, "update-ref", "-d", branch, old or _NO_COMMIT)
    else:
        _git(root, "update-ref", branch, new, old or _NO_COMMIT)


def create_tag_dated(repo: Repo, name: str, commit: str, message: str,
                     date: str | None = None) -> None:
    """An annotated tag whose tagger date is `date` (ISO 8601), for history adopted late."""
    env = dict(os.environ, **({"GIT_COMMITTER_DATE": date} if date else {}))
    _git(str(repo.working_tree_dir), "tag", "-a", "-F", "-", name, commit, env=env,
         stdin=message)


def sync_worktree(repo: Repo) -> None:
    """Make the index and the tracked files match HEAD (after HEAD was moved by
    move_branch on a clean tree); untracked files are left alone."""
    if has_commits(repo):
        _git(str(repo.working_tree_dir), "read-tree", "--reset", "-u", "HEAD")


def diff_worktree(repo: Repo, commit: str, prefix: str) -> list[FileChange]:
    """Files under `prefix` that differ between `commit` and the working tree, untracked files
    included. `new_blob` is "" for a file whose bytes git has not hashed (edited since it was
    staged): the caller hashes it. Plumbing only, so the index is never rewritten."""
    root = str(repo.working_tree_dir)
    raw = subprocess.run(["git", "diff-index", "-z", "--no-renames", "--no-abbrev", commit,
                          "--", prefix], cwd=root, capture_output=True, check=False)
    if raw.returncode != 0:
        raise RefError(f"unknown git ref '{commit}'")
    out: list[FileChange] = []
    tokens = raw.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    for meta, path in zip(tokens[0::2], tokens[1::2], strict=False):
        if not meta.startswith(":"):
            continue
        _old_mode, _new_mode, old, new, status = meta[1:].split()
        null = "0" * len(old)
        out.append(FileChange(path=path, old_blob=None if old == null else old,
                              new_blob=None if status == "D" else ("" if new == null else new)))
    others = subprocess.run(["git", "ls-files", "-z", "--others", "--", prefix], cwd=root,
                            capture_output=True, check=True).stdout
    out += [FileChange(path=p, old_blob=None, new_blob="")
            for p in others.decode("utf-8", errors="surrogateescape").split("\0") if p]
    return out


def git_dir(repo: Repo) -> Path:
    """The repository's .git folder (where tools keep what must never be committed)."""
    return Path(repo.git_dir)


def restore_paths(repo: Repo, paths: Iterable[str]) -> None:
    """Put `paths` back as HEAD has them, in the index and the working tree (what HEAD lacks
    is unstaged and removed); paths git knows nothing of are left alone."""
    known = [p for p in paths
             if repo.git.ls_files("--", p) or repo.git.ls_tree("HEAD", "--", p)]
    if known:
        repo.git.restore("--source=HEAD", "--staged", "--worktree", "--", *known)


def commit_tree_id(repo: Repo, commit: str, paths: Iterable[str]) -> str:
    """The tree id `paths` alone have at `commit`: what `worktree_tree_id` gave for them when
    that commit was the working tree. A throw-away index, as there."""
    root = repo.working_tree_dir
    listing = subprocess.run(["git", "ls-tree", "-r", "-z", "--full-tree", commit, "--",
                              *paths], cwd=root, check=True, capture_output=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GIT_INDEX_FILE=str(Path(tmp) / "index"))
        subprocess.run(["git", "update-index", "-z", "--index-info"], cwd=root, env=env,
                       input=listing, check=True, capture_output=True)
        result = subprocess.run(["git", "write-tree"], cwd=root, env=env, check=True,
                                capture_output=True, text=True)
    return result.stdout.strip()


def overlay_commit(repo: Repo, base: str, overlay: str, paths: Iterable[str],
                   message: str) -> str:
    """A commit (on no branch) holding `base`'s tree with `paths` as they are in `overlay`:
    a past state of the manual read with data committed since. Made in a throw-away index;
    nothing the user sees (branches, index, files) changes."""
    root = repo.working_tree_dir
    paths = list(paths)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GIT_INDEX_FILE=str(Path(tmp) / "index"))

        def git_(*args: str, data: bytes | None = None) -> bytes:
            return subprocess.run(["git", *args], cwd=root, env=env, input=data, check=True,
                                  capture_output=True).stdout

        git_("read-tree", base)
        git_("update-index", "-z", "--force-remove", "--stdin",
             data=git_("ls-files", "-z", "--cached", "--", *paths))
        git_("update-index", "-z", "--index-info",
             data=git_("ls-tree", "-r", "-z", "--full-tree", overlay, "--", *paths))
        tree = git_("write-tree").decode().strip()
        return git_("commit-tree", tree, "-p", base, "-m", message).decode().strip()
