"""Git reads the two releases a comparison names while Python loads the tool.

Loading the tool takes Python most of a tenth of a second, on one core; git takes about as
long to read the chapter files of two releases. So the command, before it loads anything
else, forks a small process (`start`) that asks git for what `changes --from A --to B` and
`diff A B` read first: the two commits, their listings of the chapters' folder, the files of
the first release and those of the second that differ from the first's, each into a file in
memory. The comparison then takes them (`taken`) where they are what it would read itself
(the same manual, folder and refs), and reads for itself otherwise. Whatever is not taken is
stopped (`stop`), so a run that needs none of it (its parse cache knows every chapter) does
not share its cores with git for long.

Runs before the tool is loaded: it imports nothing but what Python has at start (the child
imports subprocess and tomllib, on the other core).
"""

from __future__ import annotations

import atexit
import os

from pipeline.locate import ASSET_SUFFIXES, CACHE_FOLDER, CONFIG_NAME, manual_root

TYPE_CHECKING = False  # typing itself is not imported (see replay)
if TYPE_CHECKING:
    from collections.abc import Callable

# What the child says on its status pipe, each once its file is complete.
_LISTED, _FIRST, _SECOND, _FAILED = b"L", b"1", b"2", b"X"


class _Running:
    """The forked process, its status pipe and its three files (listings, first, second)."""

    def __init__(self, pid: int, root: str, refs: tuple[str, str], status: int,
                 files: list[int]) -> None:
        self.pid = pid
        self.root = root
        self.refs = refs
        self.status = status
        self.files = files
        self.said = b""
        self.head: tuple[str, list[str], list[str], list[str], list[bytes]] | None = None

    def wait(self, stage: bytes) -> bool:
        """Whether the child completed `stage` (waiting until it does, fails or ends)."""
        while stage not in self.said and _FAILED not in self.said:
            try:
                got = os.read(self.status, 16)
            except OSError:
                got = b""
            if not got:
                break
            self.said += got
        return stage in self.said


_RUNNING: _Running | None = None


def start(argv: list[str], cwd: str) -> None:
    """Fork the process that reads ahead, when `argv` (the command line less its program)
    compares two refs of a manual found from `cwd`, and files in memory can be made."""
    global _RUNNING
    refs = _refs(argv)
    if (refs is None or not hasattr(os, "memfd_create") or not hasattr(os, "fork")
            or os.environ.get("EDITORIAL_PREFETCH", "1") == "0"):
        return
    folder = argv[1] if argv[:1] == ["-C"] and len(argv) > 1 else None
    start_at = os.path.realpath(cwd if folder is None else os.path.join(cwd, folder))
    if folder is not None:  # -C names the manual's folder itself
        root = start_at if os.path.isfile(os.path.join(start_at, CONFIG_NAME)) else None
    else:
        root = manual_root(start_at)
    if root is None:
        return
    try:
        files = [os.memfd_create(f"editorial-{name}") for name in ("listed", "a", "b")]
        status_read, status_write = os.pipe()
    except OSError:
        return
    pid = os.fork()
    if pid == 0:  # the child: say what it read, and go without running the parent's exit hooks
        code = 1
        try:
            os.close(status_read)
            os.setpgid(0, 0)  # its own group, so that `stop` stops git with it
            code = _read(root, refs, files, status_write)
        finally:
            os._exit(code)
    try:  # noqa: SIM105 (contextlib is not loaded yet, and need not be)
        os.setpgid(pid, pid)  # also here: whichever runs first, the group is made
    except OSError:
        pass
    os.close(status_write)
    _RUNNING = _Running(pid, root, refs, status_read, files)
    atexit.register(stop)


def _refs(argv: list[str]) -> tuple[str, str] | None:
    """The two refs `changes --from A --to B` or `diff A B` compares; None for any other
    command line (a working tree, one ref, or refs that look like options)."""
    args = argv[2:] if argv[:1] == ["-C"] else argv
    if not args:
        return None
    found: tuple[str, str] | None = None
    if args[0] == "changes":
        named: dict[str, str] = {}
        rest = args[1:]
        for k, arg in enumerate(rest):
            for option in ("--from", "--to"):
                if arg == option and k + 1 < len(rest):
                    named[option] = rest[k + 1]
                elif arg.startswith(option + "="):
                    named[option] = arg[len(option) + 1:]
        if "--from" in named and "--to" in named:
            found = (named["--from"], named["--to"])
    elif args[0] == "diff":
        plain = [arg for k, arg in enumerate(args[1:])
                 if not arg.startswith("-") and (k == 0 or args[k] != "--format")]
        if len(plain) >= 2:
            found = (plain[0], plain[1])
    if found is None or any(ref.startswith("-") or "@{" in ref or not ref or ref == "WORKTREE"
                            for ref in found):
        return None  # (WORKTREE: `diff`'s name for the files as they are)
    return found


def _read(root: str, refs: tuple[str, str], files: list[int], status: int) -> int:
    """In the child: resolve the refs and list both trees, then read the files of both
    releases, git working on each at once; each file complete is said on the status pipe.
    0 when all was read."""
    import marshal
    import subprocess
    import tomllib

    def git(*args: str, stdin: bytes = b"", out: int = subprocess.PIPE
            ) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["git", *args], cwd=root, stdin=subprocess.PIPE, stdout=out,
                                stderr=subprocess.DEVNULL)
        assert proc.stdin is not None
        proc.stdin.write(stdin)  # a few ids: the pipe holds them all
        proc.stdin.close()
        return proc

    def done(proc: subprocess.Popen[bytes]) -> bytes:
        out = proc.stdout.read() if proc.stdout is not None else b""
        if proc.wait() != 0:
            raise ValueError("git failed")
        return out

    try:
        with open(os.path.join(root, CONFIG_NAME), "rb") as handle:
            config = tomllib.load(handle)
        prefix = str(config.get("procedures", "procedures")).strip("/")
        names = [_git_name(root, ref, str(config.get("tag_pattern", "release/{id}")))
                 for ref in refs]
        resolving = git("cat-file", "--batch-check=%(objectname) %(objecttype)",
                        stdin="".join(f"{name}^{{commit}}\n" for name in names).encode())
        listing = [git("ls-tree", "-r", "-z", "--full-tree", f"{name}^{{commit}}", "--", prefix)
                   for name in names]
        commits = [line.split()[0] for line in done(resolving).decode().splitlines()
                   if line.endswith(" commit")]
        raw = [done(proc) for proc in listing]
        if len(commits) != 2:
            raise ValueError("a ref names no commit")
        os.write(files[0], marshal.dumps((prefix, list(refs), names, commits, raw)))
        os.write(status, _LISTED)
        git_dir = os.path.join(root, ".git")
        if not os.path.isdir(git_dir) or os.path.exists(os.path.join(git_dir, CACHE_FOLDER)):
            # The parse cache may know the chapters already: reading them all would only
            # take a core from the command. (Nor is a repository found elsewhere read.)
            return 0
        reading = [git("cat-file", "--batch", stdin="".join(f"{b}\n" for b in ids).encode(),
                       out=file)
                   for ids, file in zip(wanted(listing_of(raw[0]), listing_of(raw[1])),
                                        files[1:], strict=True)]
        for proc, stage in zip(reading, (_FIRST, _SECOND), strict=True):
            done(proc)
            os.write(status, stage)
        return 0
    except Exception:  # the comparison reads for itself, and says what is wrong
        os.write(status, _FAILED)
        return 1


def _git_name(root: str, ref: str, tag_pattern: str) -> str:
    """What git is asked for a ref of the command line, as releases.resolve_ref reads it: a
    release id names its recorded source commit, else its tag; anything else is git's."""
    import re
    import tomllib

    record = os.path.join(root, "releases", ref, "release.toml")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", ref) or not os.path.isfile(record):
        return ref
    with open(record, "rb") as handle:
        source = tomllib.load(handle).get("source_commit")
    return str(source) if source else tag_pattern.format(id=ref)


def listing_of(raw: bytes) -> dict[str, str]:
    """Path -> blob id of the files in `git ls-tree -r -z` output (submodules left out)."""
    out = {}
    for entry in raw.decode().split("\0"):
        if entry:
            meta, path = entry.split("\t", 1)
            _mode, kind, sha = meta.split()
            if kind == "blob":
                out[path] = sha
    return out


def wanted(first: dict[str, str], second: dict[str, str]) -> tuple[list[str], list[str]]:
    """The blobs read of each release: every file of the first but images, and those of the
    second that are not the first's at the same path (each id once, in listing order)."""
    return (list(dict.fromkeys(blob for path, blob in first.items()
                               if not path.lower().endswith(ASSET_SUFFIXES))),
            list(dict.fromkeys(blob for path, blob in second.items()
                               if first.get(path) != blob
                               and not path.lower().endswith(ASSET_SUFFIXES))))


class Taken:
    """What the child read, as the comparison takes it: the commits the refs name, the two
    listings, and for each release a function giving (the blobs read, in order, and a file
    holding them as `git cat-file --batch` wrote them), or None if git failed."""

    def __init__(self, running: _Running, commits: list[str], listings: list[dict[str, str]]
                 ) -> None:
        self.commits = commits
        self.listings = listings
        self._running = running
        self._ids = wanted(listings[0], listings[1])

    def blobs(self, side: int) -> tuple[list[str], Callable[[], int | None]]:
        """The blobs read of release `side` (0 or 1), and a function that waits for them and
        gives the file's descriptor (None when git failed)."""
        stage = (_FIRST, _SECOND)[side]
        fd = self._running.files[side + 1]
        return self._ids[side], lambda: fd if self._running.wait(stage) else None


def _head(root: str) -> tuple[str, list[str], list[str], list[str], list[bytes]] | None:
    """(prefix, the two refs, the names git was asked for them, their commits, the raw
    listings) the child found for the manual at `root`, once it has; None when it read for
    another manual, or failed."""
    running = _RUNNING
    if running is None or running.root != root or not running.wait(_LISTED):
        return None
    if running.head is None:
        import marshal

        try:
            running.head = marshal.loads(os.pread(running.files[0], 1 << 26, 0))
        except (OSError, ValueError, EOFError, TypeError):
            return None
    return running.head


def commit_of(root: str, ref: str) -> str | None:
    """The commit the git ref `ref` named when the child resolved it, if it did (for the
    manual at `root`): the command need not ask git again."""
    head = _head(root)
    if head is None or ref not in head[2]:  # the names git was asked (see _git_name)
        return None
    return head[3][head[2].index(ref)]


def taken(root: str, prefix: str, refs: tuple[str, str]) -> Taken | None:
    """What was read ahead for comparing `refs` (as given, or the commits they name) of the
    manual at `root` whose chapters are under `prefix`; None when nothing was, or something
    else."""
    running = _RUNNING
    head = _head(root)
    if running is None or head is None:
        return None
    read_prefix, read_refs, _names, commits, raw = head
    if read_prefix != prefix or refs not in (tuple(read_refs), tuple(commits)):
        return None
    return Taken(running, commits, [listing_of(raw[0]), listing_of(raw[1])])


def stop() -> None:
    """Stop the child (and git) if it is still reading, and reap it."""
    global _RUNNING
    running, _RUNNING = _RUNNING, None
    if running is None:
        return
    import signal  # here: with enum, 4 ms at start, which a replayed answer takes whole

    try:  # noqa: SIM105 (as above)
        os.killpg(running.pid, signal.SIGKILL)
    except OSError:
        pass
    try:  # noqa: SIM105
        os.waitpid(running.pid, 0)
    except ChildProcessError:
        pass
    os.close(running.status)
    # The files stay open: a comparison may still be reading them (closed at exit).
