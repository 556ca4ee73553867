"""`import-history`: adopt a board's past versions, oldest first, as dated commits, published
release records and tags, so `log`, `blame` and `diff` reach back over years the tool never saw.

Every version is read and checked before anything is committed. Commits are built aside (a
throw-away index) and the branch moves once per version, after its commits exist and before its
tag: a failure leaves the repository as it was before the version that failed.

A file keeps its chapter id from version to version while it keeps its path, and across a move
while it keeps its name, so the change engine sees edits and moves, not removals and additions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from pipeline import gitio
from pipeline.chapters import CHAPTER_ID, decode, parse_chapter
from pipeline.config import Config
from pipeline.convert import IMPORT_READERS
from pipeline.errors import ChapterError, EditorialError, ImportError_
from pipeline.gitio import Repo
from pipeline.importer import (
    Draft,
    identify,
    read_document,
    render,
    safe_id,
    slugify,
    split_source_front_matter,
    with_front_matter,
)
from pipeline.locate import ASSET_SUFFIXES, CHAPTER_SUFFIXES
from pipeline.models import Release
from pipeline.releases import default_title, list_releases, release_file, save_release

RELEASE_NAME = re.compile(r"^\d{4}-\d{2}(?:-\d{2})?$")
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2}(?:-\d{2})?)(?!\d)")
DEFAULT_PART = "main"
_STRENGTH = {"front matter": 0, "heading": 1, "name": 2}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Version:
    """One past version: a release folder, or the dated documents that share a date."""

    id: str
    date: str  # YYYY-MM-DD
    name: str  # as the user gave it
    folder: Path | None = None
    documents: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Adopted:
    """A version now in the manual's history."""

    id: str
    date: str
    chapters: int
    added: int
    removed: int
    changed: int
    commit: str  # the source commit (the chapters as they stood)
    tag: str
    warnings: tuple[str, ...] = ()


def release_date(release_id: str, where: str) -> str:
    parts = [int(p) for p in release_id.split("-")]
    try:
        return dt.date(parts[0], parts[1], parts[2] if len(parts) > 2 else 1).isoformat()
    except ValueError:
        raise ImportError_(f"'{release_id}' is not a date (YYYY-MM or YYYY-MM-DD)",
                           where) from None


def find_versions(sources: Iterable[Path]) -> list[Version]:
    """Release folders named YYYY-MM[-DD], or documents with such a date in their name;
    oldest first."""
    versions: list[Version] = []
    dated: dict[str, list[Path]] = {}
    for source in sources:
        if source.is_dir():
            name = source.resolve().name
            if not RELEASE_NAME.match(name):
                raise ImportError_("a release folder is named by its release id, YYYY-MM or "
                                   "YYYY-MM-DD", str(source))
            versions.append(Version(id=name, date=release_date(name, str(source)),
                                    name=str(source), folder=source))
        elif source.is_file():
            match = _DATE_IN_NAME.search(source.name)
            if not match:
                raise ImportError_("a dated document has its release id (YYYY-MM or "
                                   "YYYY-MM-DD) in its name", str(source))
            dated.setdefault(match.group(1), []).append(source)
        else:
            raise ImportError_("no such file or folder", str(source))
    for release_id, documents in dated.items():
        versions.append(Version(id=release_id, date=release_date(release_id, str(documents[0])),
                                name=", ".join(str(d) for d in documents),
                                documents=tuple(documents)))
    seen: dict[str, str] = {}
    for version in versions:
        if version.id in seen:
            raise ImportError_(f"release {version.id} is given twice (also {seen[version.id]})",
                               version.name)
        seen[version.id] = version.name
    return sorted(versions, key=lambda v: (v.date, v.id))


# --- one version, read and checked ----------------------------------------------------------

@dataclass
class _Candidate:
    """A chapter of a version before ids are settled across the whole version."""

    path: str  # in the manual
    source: str
    id: str
    strength: int  # 0 front matter, 1 heading, 2 file name
    part: str
    title: str
    fm_text: str | None = None  # Markdown chapters: kept as written
    rest: str = ""
    draft: Draft | None = None  # converted documents
    folder: str = ""


@dataclass
class _Memory:
    """Ids given so far: by path (previous version) and by file name (for moves)."""

    by_path: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Prepared:
    version: Version
    files: dict[str, Path]  # manual path -> file to commit
    chapters: dict[str, tuple[str, str]]  # id -> (path, sha1 of the text)
    warnings: tuple[str, ...]


def _files_of(config: Config, version: Version) -> tuple[list[tuple[Path, PurePosixPath]],
                                                         list[str]]:
    """(file, path inside the version) of every non-hidden file, and what was left out.

    A version that is a copy of a whole manual (it has a `procedures/` folder) gives the files
    in that folder; its editorial.toml and releases/ are not chapters."""
    if version.folder is None:
        return [(d, PurePosixPath(_undated(d.stem) + d.suffix)) for d in version.documents], []
    top = version.folder
    inner = top / config.procedures
    root = inner if inner.is_dir() else top
    out, left_out = [], []
    for path in sorted(top.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(top).as_posix()
        if any(p.startswith(".") for p in PurePosixPath(rel).parts):
            continue
        if root is inner and not path.is_relative_to(inner):
            if rel != "editorial.toml" and not rel.startswith("releases/"):
                left_out.append(f"{path}: left out (outside {config.procedures}/)")
            continue
        out.append((path, PurePosixPath(path.relative_to(root).as_posix())))
    return out, left_out


def _undated(stem: str) -> str:
    """A dated document's name without its date: "CP3 2019-03" -> "CP3"."""
    return re.sub(r"[\s_.-]*" + _DATE_IN_NAME.pattern + r"[\s_.-]*", " ", stem).strip() or stem


def _prepare(config: Config, version: Version, work: Path, memory: _Memory, part: str | None,
             split: bool) -> _Prepared:
    candidates: list[_Candidate] = []
    files: dict[str, Path] = {}
    found, warnings = _files_of(config, version)
    for n, (path, rel) in enumerate(found):
        name = str(path)
        suffix = path.suffix.lower()
        folder = rel.parent.as_posix()
        target = f"{config.procedures}/{rel.as_posix()}"
        chapter_part = rel.parent.name or part or DEFAULT_PART
        if suffix in CHAPTER_SUFFIXES:
            try:
                text = decode(name, path.read_bytes())
            except OSError as exc:
                raise ImportError_(f"cannot read it ({exc.strerror})", name) from None
            fm_text, meta, rest = split_source_front_matter(name, text)
            who = identify(path.stem, rest, meta, strip_title=False)
            if meta.get("part") not in (None, ""):
                chapter_part = str(meta["part"]).strip()
            candidates.append(_Candidate(target, name, who.id, _STRENGTH[who.named_by],
                                         chapter_part, who.title, fm_text, rest,
                                         folder=folder))
        elif suffix in IMPORT_READERS:
            drafts, more = read_document(path, name, work / f"doc-{n}", split,
                                         stem=rel.stem)
            warnings += more
            for draft in drafts:
                stem = draft.file_stem if split else (slugify(rel.stem) or draft.file_stem)
                draft = replace(draft, file_stem=stem)
                base = f"{config.procedures}/{folder}/" if folder != "." else \
                    f"{config.procedures}/"
                candidates.append(_Candidate(f"{base}{stem}.md", name, draft.id,
                                             _STRENGTH[draft.named_by],
                                             draft.explicit_part or chapter_part, draft.title,
                                             draft=draft, folder=folder))
        elif suffix in ASSET_SUFFIXES:
            files[target] = path
        else:
            warnings.append(f"{name}: left out (not a chapter, document or image)")
    _settle_ids(candidates, memory)
    chapters: dict[str, tuple[str, str]] = {}
    for n, c in enumerate(candidates):
        if c.path in files:
            raise ImportError_(f"two files would become {c.path}", c.source)
        if c.draft is not None:
            draft = replace(c.draft, id=c.id)
            folder = str(PurePosixPath(c.path).parent)
            text, media, more = render(draft, c.part, folder, PurePosixPath(c.path).stem)
            warnings += more
            files.update((rel, source) for rel, source in media)
        else:
            values = {"id": c.id, "title": c.title, "part": c.part}
            text = with_front_matter(c.fm_text, c.rest, values)
        data = text.encode("utf-8")
        try:
            parse_chapter(c.path, data)
        except ChapterError as exc:
            raise ImportError_(exc.message, c.source) from None
        staged = work / "chapters" / f"{n}.md"
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(data)
        files[c.path] = staged
        chapters[c.id] = (c.path, hashlib.sha1(data).hexdigest())
    memory.by_path = {c.path: c.id for c in candidates}
    return _Prepared(version, files, chapters, tuple(warnings))


def _settle_ids(candidates: list[_Candidate], memory: _Memory) -> None:
    """Give every chapter of a version a unique id, stable across versions.

    Ids from front matter are the editors' own: two alike is an error. Ids from headings come
    next. A file named only by its file name keeps the id it had at the same path, or, when it
    moved, the id of the vanished file of the same name; a clash gets the folder's name added.
    """
    paths = {c.path for c in candidates}
    vanished = Counter(PurePosixPath(p).name for p in memory.by_path if p not in paths)
    moved_from = {PurePosixPath(p).name: i for p, i in memory.by_path.items()
                  if p not in paths and vanished[PurePosixPath(p).name] == 1}
    taken: dict[str, _Candidate] = {}
    for c in sorted(candidates, key=lambda c: (c.strength, c.path)):
        if c.strength == 0:
            if not CHAPTER_ID.match(c.id) or ".." in c.id:
                raise ImportError_(f"invalid id '{c.id}' in its front matter", c.source)
            if c.id in taken:
                raise ImportError_(f"duplicate id '{c.id}' (also in {taken[c.id].source})",
                                   c.source)
        else:
            wanted = [c.id]
            if c.strength == 2:
                wanted = [i for i in (memory.by_path.get(c.path),
                                      moved_from.get(PurePosixPath(c.path).name)) if i] + wanted
            c.id = next((i for i in wanted if i not in taken), None) or _unused(c, taken)
        taken[c.id] = c


def _unused(c: _Candidate, taken: dict[str, _Candidate]) -> str:
    folder = slugify(PurePosixPath(c.folder).name, 20)
    base = f"{c.id[: 63 - len(folder)]}-{folder}" if folder else c.id
    n, candidate = 1, base
    while candidate in taken:
        n += 1
        candidate = f"{base[: 60]}-{n}"
    return candidate if CHAPTER_ID.match(candidate) else safe_id(candidate)


# --- into the repository --------------------------------------------------------------------

def _refuse_to_start(config: Config, repo: Repo, versions: list[Version]) -> str | None:
    """The base release of the first version; EditorialError when the manual cannot take
    this history."""
    root = str(config.root)
    if gitio.has_commits(repo):
        if gitio.is_dirty(repo):
            raise EditorialError("the working tree has uncommitted changes; commit or stash "
                                 "them first", root)
    else:
        # A manual just made by `init`: its own files go into the first commit, but chapters
        # nobody committed would silently vanish under the first version.
        staged, untracked = gitio.staged_and_untracked(repo)
        chapters = [p for p in staged + untracked if p.startswith(config.procedures + "/")
                    and not PurePosixPath(p).name.startswith(".")]
        if chapters:
            raise EditorialError(f"{chapters[0]} is not committed; commit the manual first, "
                                 "or import the history into an empty one", root)
    gitio.current_branch(repo)
    existing = list_releases(config)
    for version in versions:
        if release_file(config, version.id).exists():
            raise ImportError_(f"release {version.id} exists already",
                               f"releases/{version.id}/release.toml")
        if gitio.tag_exists(repo, config.tag_for(version.id)):
            raise ImportError_(f"tag {config.tag_for(version.id)} exists already", version.name)
    later = [r for r in existing if r.date >= versions[0].date]
    if later:
        raise ImportError_(f"the manual already has release {later[0].id} ({later[0].date}); "
                           "import-history adds versions older than every release",
                           f"releases/{later[0].id}/release.toml")
    published = [r for r in existing if r.status == "published"]
    return published[-1].id if published else None


def _setup_files(config: Config, repo: Repo) -> list[str]:
    """What the first commit of a manual that has none takes besides the first version:
    everything staged (which syncing to that commit would otherwise drop), and what `init`
    made. Other untracked files are left alone, untracked."""
    staged, untracked = gitio.staged_and_untracked(repo)
    own = ("editorial.toml", ".gitignore", ".gitattributes")
    return staged + [p for p in untracked if p in own or p.startswith("templates/")
                     or (p.startswith((config.procedures + "/", "releases/"))
                         and PurePosixPath(p).name.startswith("."))]


def import_history(config: Config, repo: Repo, sources: list[Path],
                   part: str | None = None, split: bool = False,
                   progress: Progress = lambda _: None) -> list[Adopted]:
    """Adopt every version, oldest first; see the module's docstring."""
    versions = find_versions(sources)
    if not versions:
        raise ImportError_("no release folders or dated documents given")
    base = _refuse_to_start(config, repo, versions)
    with tempfile.TemporaryDirectory(prefix="editorial-history-") as tmp:
        work = Path(tmp)
        memory = _Memory()
        prepared = []
        for n, version in enumerate(versions):
            progress(f"Reading {version.id} ({version.name})")
            prepared.append(_prepare(config, version, work / f"v{n}", memory, part, split))
        return _commit_all(config, repo, prepared, base, work, progress)


def _commit_all(config: Config, repo: Repo, prepared: list[_Prepared], base: str | None,
                work: Path, progress: Progress) -> list[Adopted]:
    branch = gitio.current_branch(repo)
    head = gitio.head_commit(repo)
    prefix = config.procedures + "/"
    if head is None:
        setup = {p: config.root / p for p in _setup_files(config, repo)}
        present = set(setup)
    else:
        setup = {}
        present = {f.path for f in gitio.read_tree(repo, head, config.procedures)}
    previous: dict[str, tuple[str, str]] = {}
    adopted = []
    for n, item in enumerate(prepared):
        version = item.version
        when = f"{version.date}T12:00:00+00:00"
        keep = {p for p in present if p.startswith(prefix)
                and any(part.startswith(".") for part in PurePosixPath(p).parts[1:])}
        remove = sorted(p for p in present if p.startswith(prefix) and p not in item.files
                        and p not in keep)
        files = {**(setup if n == 0 else {}), **item.files}
        progress(f"Committing {version.id}: {len(item.chapters)} chapters")
        source = gitio.write_commit(
            repo, head, files, remove,
            f"Import release {version.id}: the manual as it stood\n\nFrom {version.name}.\n",
            when)
        record = Release(id=version.id, title=default_title(version.date), date=version.date,
                         base=base, status="published", source_commit=source)
        aside = replace(config, root=work / f"record-{n}")
        save_release(aside, record)
        record_path = release_file(config, version.id).relative_to(config.root).as_posix()
        published = gitio.write_commit(
            repo, source, {record_path: release_file(aside, version.id)}, [],
            f"Publish release {version.id} (adopted by import-history)\n", when)
        tag = config.tag_for(version.id)
        gitio.move_branch(repo, branch, published, head)
        try:
            gitio.create_tag_dated(repo, tag, source,
                                   f"Release {version.id} (adopted by import-history)\n", when)
            gitio.sync_worktree(repo)
        except BaseException:
            gitio.move_branch(repo, branch, head, published)
            if gitio.tag_exists(repo, tag):
                gitio.delete_tag(repo, tag)
            gitio.sync_worktree(repo)
            raise
        added = item.chapters.keys() - previous.keys()
        removed = previous.keys() - item.chapters.keys()
        changed = [i for i in item.chapters.keys() & previous.keys()
                   if item.chapters[i] != previous[i]]
        adopted.append(Adopted(version.id, version.date, len(item.chapters), len(added),
                               len(removed), len(changed), source, tag, item.warnings))
        present = (present - set(remove)) | set(files) | {record_path}
        previous, head, base = item.chapters, published, version.id
    return adopted
