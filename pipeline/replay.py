"""Answers of read-only commands, replayed while nothing they read has changed.

`blame`, `log`, `show`, `diff` and `changes` print what follows from the manual's files, its
git history and the tool's own code, and nothing else. The first run of one keeps what it
printed, filed under its command line and a fingerprint of everything it may have read: the
stat data (size, times, inode) of every file and folder in the manual's chapters, releases and
templates, its editorial.toml, git's HEAD, refs and config, and the tool's code and installed
libraries. A later run with the same command line and the same fingerprint prints the kept
answer without loading the tool: Python starts, a few hundred `stat` calls are made, the
answer is written. An edit, a commit, a tag, a checkout, a correction or an upgrade changes
the fingerprint, and the command then runs again. (`changes` also merges what it detects into
the open release's notes: a run that writes them changes what it covers, so its answer is not
kept, and it is replayed only once a run found nothing to write.)

Stat data can miss an edit only when a file changes twice within the file system's clock
tick with its size unchanged; git calls such a file "racily clean". As git does, an answer
is not kept when anything it depends on was modified within the last two seconds, so what is
replayed is always what the command would print.

This module runs before anything else is imported, so it uses only what Python has loaded at
start (os, sys) and a few small built-in modules; it never imports the rest of the tool.
`EDITORIAL_REPLAY=0` (or `EDITORIAL_CACHE=0`, which turns every cache off) disables it.
"""

from __future__ import annotations

import io
import os
import sys
import time

from pipeline.locate import CONFIG_NAME, manual_root

TYPE_CHECKING = False  # typing itself is not imported: it would cost more than a replay
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

COMMANDS = frozenset({"blame", "log", "show", "diff", "changes"})
MAGIC = b"editorial-replay 1\n"
# Kept answers per repository, newest first, up to a count and a total size (a `changes
# --json` of a large manual is megabytes); the oldest go first.
KEEP = 200
KEEP_BYTES = 64 * 1024 * 1024
RACY_NS = 2_000_000_000  # what changed this recently is not trusted (see the docstring)
# The environment a command's output may depend on: colours, encodings, git's own settings.
_ENV_PREFIXES = ("EDITORIAL_", "GIT_", "LC_", "PYTHON")
# Refs kept as files at the top of the git folder, any of which a command line may name.
_GIT_HEADS = ("HEAD", "FETCH_HEAD", "ORIG_HEAD", "MERGE_HEAD", "CHERRY_PICK_HEAD",
              "REVERT_HEAD", "REBASE_HEAD", "BISECT_HEAD", "AUTO_MERGE")
_ENV_NAMES = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR", "TERM", "LANG", "TZ", "HOME",
              "XDG_CONFIG_HOME")


class Plan:
    """A command line that may be replayed: where its answer is kept and what names it.
    (Plain classes here: importing dataclasses would cost more than a whole replay.)"""

    __slots__ = ("git_dir", "key", "root", "store")

    def __init__(self, key: str, store: str, root: str, git_dir: str) -> None:
        self.key = key  # the command line, folder and environment, as one line of text
        self.store = store  # the file its answer is kept in
        self.root = root  # the manual's root
        self.git_dir = git_dir


def split_folder(argv: list[str]) -> tuple[str | None, list[str]]:
    """(the folder `-C DIR` names, if the command line opens with it, the rest of it): -C is
    the only option that comes before the command."""
    if argv[:1] == ["-C"] and len(argv) > 1:
        return argv[1], list(argv[2:])
    return None, list(argv)


def plan(argv: list[str], cwd: str, env: dict[str, str], ttys: tuple[bool, bool]
         ) -> Plan | None:
    """The plan for `editorial ARGV` run in `cwd`, or None when it is not a replayable
    command or its manual cannot be found without the tool (then it simply runs)."""
    if env.get("EDITORIAL_REPLAY", "1") == "0" or env.get("EDITORIAL_CACHE", "1") == "0":
        return None
    folder, args = split_folder(argv)
    start, explicit = (cwd, False) if folder is None else (os.path.join(cwd, folder), True)
    if not args or args[0] not in COMMANDS:
        return None
    if any("@{" in arg for arg in args):
        return None  # a reflog ref ("main@{yesterday}") can name another commit tomorrow
    start = os.path.realpath(start)
    if explicit:  # -C names the manual's folder itself, as open_manual takes it
        root = start if os.path.isfile(os.path.join(start, CONFIG_NAME)) else None
    else:
        root = manual_root(start)
    if root is None:
        return None
    git_dir = _git_dir(root)
    if git_dir is None:
        return None
    environment = sorted((k, v) for k, v in env.items()
                         if k.startswith(_ENV_PREFIXES) or k in _ENV_NAMES)
    key = repr((argv, cwd, root, ttys, environment))
    name = f"{_fnv1a(key.encode('utf-8', 'surrogateescape')):016x}.out"
    return Plan(key=key, store=os.path.join(git_dir, "editorial", "replay", name), root=root,
                git_dir=git_dir)


def _fnv1a(data: bytes) -> int:
    """A 64-bit FNV-1a hash, to name the file an answer is kept in (the key itself is kept
    inside and compared; hashlib or zlib would cost more to import than this to run)."""
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def _git_dir(root: str) -> str | None:
    """The repository's .git folder at or above the root; None for a linked worktree or a
    submodule (.git is then a file), which is left to run."""
    folder = root
    while True:
        candidate = os.path.join(folder, ".git")
        if os.path.isdir(candidate):
            return candidate
        if os.path.exists(candidate):
            return None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


# --- The fingerprint ------------------------------------------------------------------------

def watched_paths(plan_: Plan, manual_folders: Iterable[str], code_folders: Iterable[str]
                  ) -> list[str]:
    """Everything a replayable command may read, besides git objects (which never change
    under their ids): the manual's folders, git's refs and settings, the tool and its
    libraries (every folder Python imports from: an install or upgrade changes them)."""
    git = plan_.git_dir
    home = os.environ.get("HOME", "")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    walked = [os.path.join(plan_.root, CONFIG_NAME),
              os.path.join(plan_.root, ".gitattributes"), *manual_folders,
              *(os.path.join(git, name) for name in _GIT_HEADS), os.path.join(git, "packed-refs"),
              os.path.join(git, "config"), os.path.join(git, "refs"), os.path.join(git, "info"),
              os.path.join(git, "shallow"), os.path.join(git, "objects", "info"),
              "/etc/gitconfig", os.path.join(home, ".gitconfig"), os.path.join(xdg, "git"),
              *code_folders]
    # Library folders are only stat'ed: installing, removing or upgrading a package adds or
    # renames an entry in them, which changes the folder's own times.
    return [*("d" + p for p in walked), *("s" + p for p in sys.path if p)]


def _stat(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "-"
    return f"{st.st_mtime_ns} {st.st_ctime_ns} {st.st_size} {st.st_ino} {st.st_mode}"


def survey(roots: Iterable[str]) -> tuple[tuple[tuple[str, str], ...], int]:
    """(the stat data of every root, and of every file and folder under the walked ones;
    the newest modification or change time among them, in ns). Walked only when an answer
    is kept: checking it again needs no listing of folders, since adding, removing or
    renaming anything in a folder changes the folder's own times."""
    rows: list[tuple[str, str]] = []
    for marked in roots:
        path = marked[1:]
        rows.append((path, _stat(path)))
        if marked[:1] == "d" and os.path.isdir(path):
            _walk(path, rows)
    newest = 0
    for _path, data in rows:
        if data != "-":
            mtime, ctime = data.split(" ", 2)[:2]
            newest = max(newest, int(mtime), int(ctime))
    return tuple(rows), newest


def _walk(top: str, rows: list[tuple[str, str]]) -> None:
    folders = [top]
    while folders:
        for entry in sorted(os.scandir(folders.pop()), key=lambda e: e.name):
            if entry.name == "__pycache__":
                continue  # Python's own bytecode, written by the runs themselves
            rows.append((entry.path, _stat(entry.path)))
            if entry.is_dir():
                folders.append(entry.path)


def unchanged(rows: Iterable[tuple[str, str]]) -> bool:
    """Whether every path still has the stat data it had (a stat call each, stopping at
    the first difference)."""
    return all(_stat(path) == data for path, data in rows)


# --- Kept answers ---------------------------------------------------------------------------

class Answer:
    """What a command printed, and the stat data of everything it may have read."""

    __slots__ = ("stderr", "stdout", "watched")

    def __init__(self, watched: tuple[tuple[str, str], ...], stdout: bytes, stderr: bytes
                 ) -> None:
        self.watched = watched
        self.stdout = stdout
        self.stderr = stderr


def encode(key: str, answer: Answer) -> bytes:
    watched = "\0".join(f"{path}\1{data}" for path, data in answer.watched)
    head = watched.encode("utf-8", "surrogateescape")
    sizes = (len(head), len(answer.stdout), len(answer.stderr))
    return b"".join((MAGIC, key.encode("utf-8", "surrogateescape"), b"\n",
                     " ".join(map(str, sizes)).encode(), b"\n", head, answer.stdout,
                     answer.stderr))


def decode(key: str, data: bytes) -> Answer | None:
    """The answer kept in `data` for `key`; None for another key (a hash clash), another
    version of this format or a damaged file."""
    if not data.startswith(MAGIC):
        return None
    kept_key, _, rest = data[len(MAGIC):].partition(b"\n")
    sizes, _, rest = rest.partition(b"\n")
    if kept_key != key.encode("utf-8", "surrogateescape"):
        return None
    try:
        head, out, err = (int(n) for n in sizes.split())
    except ValueError:
        return None
    if head + out + err != len(rest) or not head:
        return None
    rows = []
    for item in rest[:head].decode("utf-8", "surrogateescape").split("\0"):
        path, _, stat = item.rpartition("\1")
        rows.append((path, stat))
    return Answer(tuple(rows), rest[head: head + out], rest[head + out:])


def kept_answer(plan_: Plan) -> Answer | None:
    """The kept answer for the plan, if every path it covers is as it was."""
    try:
        with open(plan_.store, "rb") as handle:
            answer = decode(plan_.key, handle.read())
    except OSError:
        return None
    if answer is None or not unchanged(answer.watched):
        return None
    return answer


def keep(plan_: Plan, answer: Answer, newest_ns: int, now_ns: int) -> bool:
    """Store the answer (atomically) unless something it covers is too new to be trusted;
    whether it was stored. Failures to write are ignored: the next run simply runs."""
    import contextlib  # here, not at the top: a replay never writes, and it costs 3 ms

    if newest_ns > now_ns - RACY_NS:
        return False
    folder = os.path.dirname(plan_.store)
    temp = f"{plan_.store}.{os.getpid()}.tmp"
    try:
        os.makedirs(folder, exist_ok=True)
        with open(temp, "wb") as handle:
            handle.write(encode(plan_.key, answer))
        os.replace(temp, plan_.store)
        _prune(folder)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return False
    return True


def _prune(folder: str) -> None:
    import contextlib

    entries = []
    for entry in os.scandir(folder):
        with contextlib.suppress(OSError):
            if entry.name.endswith(".out"):
                st = entry.stat()
                entries.append((st.st_mtime_ns, st.st_size, entry.path))
    entries.sort(reverse=True)
    total = 0
    for count, (_mtime, size, path) in enumerate(entries, start=1):
        total += size
        if count > KEEP or total > KEEP_BYTES:
            with contextlib.suppress(OSError):
                os.unlink(path)


# --- Running a command with its answer kept -------------------------------------------------

class _Tee(io.RawIOBase):
    """Bytes written to a stream, also kept."""

    def __init__(self, target: io.BufferedIOBase) -> None:
        super().__init__()
        self.target = target
        self.kept = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.kept += data
        self.target.write(data)
        self.target.flush()
        return len(data)

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()


def _teed(stream: io.TextIOWrapper) -> tuple[io.TextIOWrapper, _Tee]:
    tee = _Tee(stream.buffer)  # type: ignore[arg-type]
    wrapper = io.TextIOWrapper(io.BufferedWriter(tee), encoding=stream.encoding,
                               errors=stream.errors, line_buffering=stream.line_buffering)
    return wrapper, tee


def run_and_keep(plan_: Plan, run: Callable[[], object],
                 paths: Callable[[], list[str]]) -> None:
    """Run the command (which ends by raising SystemExit, as click does), its output teed;
    keep its answer when it succeeded and nothing it covers changed while it ran."""
    try:
        before, newest = survey(paths())
        stdout, out = _teed(sys.stdout)  # type: ignore[arg-type]
        stderr, err = _teed(sys.stderr)  # type: ignore[arg-type]
    except Exception:
        # A broken manual (the command reports it), or streams without bytes beneath them
        # (no console at all): the command runs, and nothing is kept.
        run()
        return
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    code: object = "raised"  # anything but SystemExit(0) keeps nothing
    try:
        run()
        code = 0
    except SystemExit as exc:
        code = exc.code
        raise
    finally:
        for stream in (stdout, stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                code = "unflushed"
        sys.stdout, sys.stderr = saved
        if code in (0, None) and unchanged(before):
            keep(plan_, Answer(before, bytes(out.kept), bytes(err.kept)), newest,
                 time.time_ns())


def replay(answer: Answer) -> None:
    """Print a kept answer as the command printed it."""
    try:
        if answer.stderr:
            sys.stderr.flush()
            sys.stderr.buffer.write(answer.stderr)
            sys.stderr.buffer.flush()
        sys.stdout.buffer.write(answer.stdout)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): as for any command, nothing more to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except AttributeError:
        pass  # no console to print to (sys.stdout is None), as click then prints nothing
