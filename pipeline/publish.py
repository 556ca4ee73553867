"""`render` (a preview, any time) and `publish` (render, manifest, commit, tag).

Publishing is all or nothing. Outputs are written into a temp folder beside their target and
renamed into `releases/<id>/published/` in one step; the record is marked published; one
commit holds both; the tag is made last. A run killed at any point leaves no tag and no half
folder, and the next run recognises what it left (a temp folder, an uncommitted
`published/`, a record marked but not committed, a commit without its tag) and cleans it up
or finishes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline import __version__, gitio, jsonout
from pipeline.approval import approval_state, content_tree
from pipeline.config import KNOWN_FORMATS, Config
from pipeline.convert import run_conversions
from pipeline.errors import EditorialError, PublishError, ReleaseError
from pipeline.feed import FEED_FILE, atom_feed
from pipeline.manual import Manual
from pipeline.models import Release
from pipeline.releases import (
    RELEASE_FILE,
    list_releases,
    load_release,
    open_release,
    release_dir,
    resolve_ref,
    save_release,
)
from pipeline.render import (
    commit_loader,
    environment,
    finish,
    follow_ups,
    release_epoch,
    render_plan,
    worktree_loader,
)
from pipeline.sanitize import safe_join, safe_name
from pipeline.view import build_view, commit_data, worktree_data

PREVIEW_DIR = "_preview"
PREVIEW_MARKER = ".editorial-render"  # marks a folder `render` may replace
PUBLISHED_DIR = "published"
MANIFEST = "MANIFEST.json"
GENERATOR = f"editorial {__version__}"  # which tool made the outputs (MANIFEST.json)
TEMP_PREFIX = ".published-"  # temp folders beside published/: ours, by name

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Outputs:
    files: dict[str, bytes]  # relative path -> bytes
    notes: tuple[str, ...]  # what could not be made, and how to make it


@dataclass(frozen=True)
class Rendered:
    release: str
    folder: Path
    files: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Published:
    release: str
    folder: Path
    files: tuple[str, ...]
    commit: str
    tag: str
    source_commit: str
    notes: tuple[str, ...]
    resumed: bool = False  # an interrupted run was finished rather than started again


def parse_formats(values: Sequence[str], config: Config) -> tuple[str, ...]:
    """`--formats html,docx --formats md` (default: editorial.toml's formats)."""
    wanted = [f.strip().lower() for v in values for f in v.split(",") if f.strip()]
    if not wanted:
        return config.formats
    unknown = [f for f in wanted if f not in KNOWN_FORMATS]
    if unknown:
        raise EditorialError(f"unknown format '{unknown[0]}' (choose from "
                             f"{', '.join(KNOWN_FORMATS)})")
    return tuple(dict.fromkeys(wanted))


def render_outputs(manual: Manual, release_id: str, formats: Sequence[str],
                   commit: str | None = None, progress: Progress = _quiet) -> Outputs:
    """Every output of a release, in memory: from the working tree, or (`commit`) exactly as
    the release stood in that commit. The same input gives the same bytes."""
    where = f"commit {commit[:12]}" if commit else "the working tree"
    progress(f"Reading release {release_id} from {where} and detecting its changes")
    data = worktree_data(manual, release_id) if commit is None \
        else commit_data(manual, release_id, commit)
    view = build_view(data)
    loader = worktree_loader(manual.root) if commit is None else commit_loader(manual, commit)
    env = environment(loader)
    progress(f"Rendering {len(view.chapters)} chapter pages, the index, the bulletin and "
             "the complete list")
    plan = render_plan(view, env, formats)
    files = dict(plan.files)
    files[FEED_FILE] = atom_feed(view, env)
    epoch = release_epoch(view.release.date)
    if plan.conversions:
        progress(f"Converting with pandoc ({len(plan.conversions)} conversions, then "
                 f"{len(plan.docx_from_md)} from their Markdown)")
    converted = run_conversions(plan.conversions, epoch,
                                progress=lambda msg: progress("  " + msg),
                                then=lambda made: follow_ups(plan, made))
    files.update(finish(plan, converted))
    return Outputs(files=dict(sorted(files.items())), notes=plan.notes)


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    for name, data in files.items():
        target = safe_join(folder, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder, so a rename after it never exposes unwritten data."""
    for path in sorted(folder.rglob("*"), reverse=True):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- render: a preview ----------------------------------------------------------------------

def _pick_release(manual: Manual, release_id: str | None, at: str | None) -> str:
    if release_id:
        return safe_name(release_id, "release id")
    if at is not None and (manual.config.releases_dir / at / RELEASE_FILE).is_file():
        return at
    try:
        return open_release(manual.config).id
    except ReleaseError:
        records = list_releases(manual.config)
        if not records:
            raise
        return records[-1].id


def render_preview(manual: Manual, release_id: str | None = None, out: Path | None = None,
                   formats: Sequence[str] = (), at: str | None = None,
                   progress: Progress = _quiet) -> Rendered:
    """Every output of a release (default: the open one) into `out` (default `_preview/`
    in the manual, which git ignores), replacing what an earlier render left there."""
    config = manual.config
    release_id = _pick_release(manual, release_id, at)
    commit = resolve_ref(config, manual.repo, at) if at is not None else None
    chosen = parse_formats(formats, config)
    folder = (out if out is not None else manual.root / PREVIEW_DIR).resolve()
    if folder.exists() and not folder.is_dir():
        raise EditorialError("exists and is not a folder", str(folder))
    if folder.is_dir() and any(folder.iterdir()) and not (folder / PREVIEW_MARKER).exists():
        raise EditorialError("exists and was not made by 'editorial render' (not touching "
                             "it; choose another --out)", str(folder))
    outputs = render_outputs(manual, release_id, chosen, commit, progress)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        write_files(staging, outputs.files)
        (staging / PREVIEW_MARKER).write_text(
            "Made by 'editorial render'; replaced by the next render.\n", encoding="utf-8")
        if folder == (manual.root / PREVIEW_DIR).resolve():
            (staging / ".gitignore").write_text("*\n", encoding="utf-8")
        # Swap: the old preview aside, the new one in, then the old one away.
        old = None
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}-old-", dir=folder.parent))
            os.rename(folder, old / "previous")
        os.rename(staging, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return Rendered(release=release_id, folder=folder, files=tuple(outputs.files),
                    notes=outputs.notes)


# --- publish --------------------------------------------------------------------------------

def manifest(manual: Manual, release: Release, source: str, formats: Sequence[str],
             files: Mapping[str, bytes]) -> bytes:
    data = {
        "release": release.id,
        "title": release.title,
        "date": release.date,
        "source_commit": source,
        "source_tree": gitio.tree_id(manual.repo, source),
        "content_tree": content_tree(manual, release.id),
        "approvals": [{"by": a.by, "role": a.role, "at": a.at, "tree": a.tree}
                      for a in release.approvals],
        "formats": list(formats),
        "generator": GENERATOR,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    return jsonout.dumps(data, end="\n").encode("utf-8")


def _rel(manual: Manual, path: Path) -> str:
    return path.relative_to(manual.root).as_posix()


def _record_at(manual: Manual, commit: str, release_id: str) -> dict[str, object] | None:
    raw = gitio.file_at(manual.repo, commit, f"releases/{release_id}/{RELEASE_FILE}")
    try:
        return tomllib.loads(raw.decode("utf-8")) if raw is not None else None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None


def _manifest_of(folder: Path) -> dict[str, object] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def recover(manual: Manual, release_id: str, progress: Progress = _quiet) -> str | None:
    """Clean up after a publish that was killed; returns the commit to tag when the run got
    as far as its commit (so only the tag is missing), else None."""
    repo, config = manual.repo, manual.config
    folder = release_dir(config, release_id)
    head = gitio.head_commit(repo)
    if not folder.is_dir() or head is None:
        return None
    for temp in sorted(folder.glob(TEMP_PREFIX + "*")):
        progress(f"Removing {_rel(manual, temp)} (left by an interrupted publish)")
        shutil.rmtree(temp, ignore_errors=True)
    at_head = _record_at(manual, head, release_id) or {}
    record_path = _rel(manual, folder / RELEASE_FILE)
    published_path = _rel(manual, folder / PUBLISHED_DIR)
    if at_head.get("status") == "published":
        # The commit was made: only the tag can be missing.
        source = at_head.get("source_commit")
        shown = gitio.file_at(repo, head, f"{published_path}/{MANIFEST}")
        if (source and shown and not gitio.tag_exists(repo, config.tag_for(release_id))
                and json.loads(shown).get("source_commit") == source
                and not gitio.is_dirty(repo, [_rel(manual, folder)])):
            return head
        return None
    # Not committed: take back a published/ and a record this tool wrote for HEAD.
    ours = _manifest_of(folder / PUBLISHED_DIR)
    marked = False
    if (folder / RELEASE_FILE).is_file():
        try:
            now = tomllib.loads((folder / RELEASE_FILE).read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            now = {}
        marked = now.get("status") == "published" and now.get("source_commit") == head
    left_by_us = ours is not None and ours.get("source_commit") == head \
        and ours.get("release") == release_id
    if not (left_by_us or marked):
        return None
    progress(f"Undoing an interrupted publish of {release_id} (it never reached its commit)")
    gitio.restore_paths(repo, [published_path, record_path])
    if left_by_us and (folder / PUBLISHED_DIR).exists():
        shutil.rmtree(folder / PUBLISHED_DIR)
    return None


def _to_publish(manual: Manual) -> Release:
    """The open release; or, when there is none, the newest one if a killed run marked it
    published without making its tag (so a plain re-run finishes it)."""
    try:
        return open_release(manual.config)
    except ReleaseError:
        records = list_releases(manual.config)
        last = records[-1] if records else None
        if last is None or last.status != "published" \
                or gitio.tag_exists(manual.repo, manual.config.tag_for(last.id)):
            raise
        return last


def publish(manual: Manual, release_id: str | None = None, formats: Sequence[str] = (),
            progress: Progress = _quiet) -> Published:
    config, repo = manual.config, manual.repo
    release = load_release(config, release_id) if release_id else _to_publish(manual)
    folder = release_dir(config, release.id)
    target = folder / PUBLISHED_DIR
    record_path = _rel(manual, folder / RELEASE_FILE)
    tag = config.tag_for(release.id)
    chosen = parse_formats(formats, config)

    pending = recover(manual, release.id, progress)
    if pending is not None:
        progress(f"Finishing an interrupted publish: tagging {tag}")
        gitio.create_tag(repo, tag, pending, f"{config.name}: {release.title}")
        record = load_release(config, release.id)
        files = tuple(sorted(p.relative_to(target).as_posix()
                             for p in target.rglob("*") if p.is_file()))
        return Published(release.id, target, files, pending, tag,
                         record.source_commit or "", (), resumed=True)
    release = load_release(config, release.id)  # recovery may have restored the record
    if release.status == "published":
        raise PublishError(f"release {release.id} is already published", record_path)
    if gitio.tag_exists(repo, tag):
        raise PublishError(f"tag '{tag}' already exists (delete it, or publish under another "
                           "release id)", record_path)
    if gitio.head_commit(repo) is None:
        raise PublishError("nothing committed yet (commit the manual first)", str(manual.root))
    dirty = gitio.dirty_paths(repo)
    if dirty:
        more = f", and {len(dirty) - 1} more" if len(dirty) > 1 else ""
        raise PublishError(f"uncommitted change{more} (commit first, so that what is "
                           "published is what is recorded)", dirty[0])
    if not release.approvals:
        raise PublishError(f"release {release.id} is not approved (run 'editorial approve "
                           "--by NAME')", record_path)
    state = approval_state(manual, release)
    if not state.is_current:
        names = ", ".join(a.by for a in state.stale)
        raise PublishError(f"the approval by {names} is stale: the chapters or notes changed "
                           "after it (check, then approve again)", record_path)
    if target.exists():
        raise PublishError("already exists (remove it: publish writes it)", _rel(manual, target))

    source = gitio.head_commit(repo) or ""
    progress(f"Publishing {release.id} ({release.title}) from commit {source[:12]}")
    outputs = render_outputs(manual, release.id, chosen, source, progress)
    files = dict(outputs.files)
    made = tuple(f for f in chosen if f != "pdf" or any(n.endswith(".pdf") for n in files))
    files[MANIFEST] = manifest(manual, release, source, made, outputs.files)

    progress(f"Writing {len(files)} files into {_rel(manual, target)}/")
    staging = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=folder))
    write_files(staging, files)
    _fsync_tree(staging)
    os.rename(staging, target)
    save_release(config, replace(release, status="published", source_commit=source))

    progress("Committing the published files and the release record")
    commit = gitio.commit_paths(repo, [_rel(manual, target), record_path],
                                f"Publish {release.title} ({release.id})")
    progress(f"Tagging {tag}")
    gitio.create_tag(repo, tag, commit, f"{config.name}: {release.title}")
    return Published(release.id, target, tuple(sorted(files)), commit, tag, source,
                     outputs.notes)
