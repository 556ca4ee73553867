"""`verify [RELEASE]`: prove that what a release published is what its tagged source makes.

For each published release:
1. the tag `release/<id>` exists, and the chapters and the release's notes at the tagged
   commit are those of the recorded source commit (publish tags the commit that adds
   `published/` on top of the source; import-history tags the source itself);
2. MANIFEST.json names that release, that source commit and that source tree;
3. the approvals in the manifest are those of the record, and each approved the chapters and
   notes exactly as they stand in the source commit (the same tree id);
4. the release is rendered again from the tagged commit into a temp folder, with the
   publishing code (pipeline.publish.render_outputs), and every output's sha256 is compared
   with the manifest; so is every file in `releases/<id>/published/`.

Corrections made after publication (`annotate --correct`) are committed later than the tag,
so the re-render, which reads the notes as tagged, reproduces the outputs as approved and
published: a correction is never a mismatch. Each one is reported as a note, so the reader
knows the published wording has since been corrected.

A release adopted by import-history has no outputs and no approvals: only the tag is checked.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline import gitio
from pipeline.corrections import trail
from pipeline.errors import ProblemsFound, RefError, ReleaseError
from pipeline.history import Reader
from pipeline.manual import Manual
from pipeline.models import Release
from pipeline.notes import load_entries
from pipeline.publish import GENERATOR, MANIFEST, PUBLISHED_DIR, render_outputs, write_files
from pipeline.releases import RELEASE_FILE, load_release, release_dir

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Verified:
    release: str
    tag: str
    source_commit: str
    tag_commit: str | None
    outputs: int  # outputs compared with the manifest
    problems: tuple[str, ...]
    notes: tuple[str, ...]  # not problems: what the reader should know

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {"release": self.release, "ok": self.ok, "tag": self.tag,
                "tag_commit": self.tag_commit, "source_commit": self.source_commit,
                "outputs": self.outputs, "problems": list(self.problems),
                "notes": list(self.notes)}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _short(sha: str | None) -> str:
    return (sha or "")[:12]


def verify(manual: Manual, release_id: str | None = None,
           progress: Progress = lambda _: None) -> list[Verified]:
    """Verify one published release, or every one (oldest first)."""
    if release_id is not None:
        return [verify_release(manual, load_release(manual.config, release_id), progress)]
    records = [r for r in Reader(manual).records() if r.status == "published"]
    if not records:
        raise ReleaseError("no published release to verify")
    return [verify_release(manual, r, progress) for r in records]


def verify_release(manual: Manual, record: Release,
                   progress: Progress = lambda _: None) -> Verified:
    config, repo = manual.config, manual.repo
    folder = release_dir(config, record.id)
    where = folder.relative_to(manual.root).as_posix()
    if record.status != "published":
        raise ReleaseError(f"release '{record.id}' is not published ({record.status})",
                           f"{where}/{RELEASE_FILE}")
    problems: list[str] = []
    notes: list[str] = []
    source = _resolve(manual, record.source_commit)
    if source is None:
        problems.append(f"{where}/{RELEASE_FILE}: source commit "
                        f"'{record.source_commit or ''}' is not in this repository")
    tag = config.tag_for(record.id)
    tagged = _resolve(manual, tag) if gitio.tag_exists(repo, tag) else None
    if tagged is None and source is not None:
        # Clones and many hostings carry no tags; the record's source commit is the anchor
        # the contract promises to work without them, so the proof falls back to it.
        notes.append(f"the tag {tag} is not in this repository (fetch it with 'git fetch "
                     "--tags'); verified against the recorded source commit instead")
    content = [config.procedures, f"{where}/notes"]
    if source and tagged and tagged != source and any(
            gitio.tree_id(repo, tagged, p) != gitio.tree_id(repo, source, p) for p in content):
        problems.append(f"{tag}: the tagged commit {_short(tagged)} holds other chapters or "
                        f"notes than the published source {_short(source)}")
    published = folder / PUBLISHED_DIR
    manifest_path = published / MANIFEST
    shown = f"{where}/{PUBLISHED_DIR}/{MANIFEST}"
    if not manifest_path.is_file():
        if not record.approvals and not published.exists():
            notes.append("adopted by import-history: nothing was published by the tool, so "
                         "only the tag and the source commit are checked")
        else:
            problems.append(f"{shown}: missing")
        return Verified(record.id, tag, source or "", tagged, 0, tuple(problems), tuple(notes))
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except (OSError, ValueError):
        problems.append(f"{shown}: not valid JSON")
        return Verified(record.id, tag, source or "", tagged, 0, tuple(problems), tuple(notes))
    problems += _manifest_problems(manual, record, manifest, source, shown)
    expected: dict[str, str] = dict(manifest.get("files") or {})
    problems += _file_problems(published, expected, f"{where}/{PUBLISHED_DIR}")
    rendered_from = tagged or source
    if rendered_from is not None:
        label = tag if tagged else "its source commit"
        progress(f"Rendering release {record.id} again from {label} ({_short(rendered_from)})")
        rerendered = _rerender_problems(manual, record.id, rendered_from,
                                        list(manifest.get("formats") or ()), expected)
        generator = manifest.get("generator")
        if rerendered and generator and generator != GENERATOR:
            notes.append(f"published by {generator}, rendered again by {GENERATOR}: the "
                         "differences may come from the tool, not from the text")
        problems += rerendered
    notes += _corrections(manual, record.id)
    return Verified(record.id, tag, source or "", tagged, len(expected), tuple(problems),
                    tuple(notes))


def _resolve(manual: Manual, ref: str | None) -> str | None:
    if not ref:
        return None
    try:
        return gitio.resolve(manual.repo, ref)
    except RefError:
        return None


def _manifest_problems(manual: Manual, record: Release, manifest: dict[str, object],
                       source: str | None, shown: str) -> list[str]:
    out = []
    if manifest.get("release") != record.id:
        out.append(f"{shown}: names release '{manifest.get('release')}', not '{record.id}'")
    if manifest.get("source_commit") != record.source_commit:
        out.append(f"{shown}: source commit {_short(str(manifest.get('source_commit')))} is "
                   f"not the record's {_short(record.source_commit)}")
    if source is None:
        return out
    tree = gitio.tree_id(manual.repo, source)
    if manifest.get("source_tree") != tree:
        out.append(f"{shown}: source tree {_short(str(manifest.get('source_tree')))} is not "
                   f"the tree of the source commit ({_short(tree)})")
    approved = [{"by": a.by, "role": a.role, "at": a.at, "tree": a.tree}
                for a in record.approvals]
    if manifest.get("approvals") != approved:
        out.append(f"{shown}: its approvals are not those of the release record")
    folder = release_dir(manual.config, record.id).relative_to(manual.root).as_posix()
    content = gitio.commit_tree_id(manual.repo, source,
                                   [manual.config.procedures, f"{folder}/notes"])
    if "content_tree" in manifest and manifest["content_tree"] != content:
        out.append(f"{shown}: content tree {_short(str(manifest['content_tree']))} is not "
                   f"the chapters and notes of the source commit ({_short(content)})")
    for a in record.approvals:
        if a.tree != content:
            out.append(f"{folder}/{RELEASE_FILE}: the approval by {a.by} is of tree "
                       f"{_short(a.tree)}, not of the chapters and notes published "
                       f"({_short(content)})")
    return out


def _file_problems(folder: Path, expected: dict[str, str], shown: str) -> list[str]:
    """The files in published/ against the manifest."""
    out = []
    present = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*")
               if p.is_file() and p.name != MANIFEST}
    for name, digest in sorted(expected.items()):
        path = present.get(name)
        if path is None:
            out.append(f"{shown}/{name}: missing")
        elif _sha256(path.read_bytes()) != digest:
            out.append(f"{shown}/{name}: differs from MANIFEST.json")
    out += [f"{shown}/{name}: not in MANIFEST.json" for name in sorted(present)
            if name not in expected]
    return out


def _rerender_problems(manual: Manual, release_id: str, commit: str, formats: list[str],
                       expected: dict[str, str]) -> list[str]:
    """Render again from `commit` into a temp folder and compare with the manifest."""
    outputs = render_outputs(manual, release_id, formats, commit)
    out = []
    with tempfile.TemporaryDirectory(prefix="editorial-verify-") as tmp:
        write_files(Path(tmp), outputs.files)
        made = {name: _sha256((Path(tmp) / name).read_bytes()) for name in outputs.files}
    for name, digest in sorted(expected.items()):
        if name not in made:
            why = f" ({'; '.join(outputs.notes)})" if outputs.notes else ""
            out.append(f"{name}: not made again from the tagged source{why}")
        elif made[name] != digest:
            out.append(f"{name}: rendered again from the tagged source, it differs from "
                       "MANIFEST.json")
    out += [f"{name}: made from the tagged source but not in MANIFEST.json"
            for name in sorted(made) if name not in expected]
    return out


def _corrections(manual: Manual, release_id: str) -> list[str]:
    out = []
    for entry in load_entries(manual.config, release_id):
        for c in trail(entry):
            out.append(f"entry {entry.id}: its {c.field} was corrected on {c.at} by {c.by} "
                       "(the published outputs keep the approved wording; verify renders the "
                       "notes as tagged)")
    return out


def verified_text(results: list[Verified]) -> str:
    lines = []
    for r in results:
        if r.ok:
            what = f"{r.outputs} outputs match MANIFEST.json" if r.outputs else "no outputs"
            tagged = f"tag {r.tag} at {_short(r.tag_commit)}" if r.tag_commit else "no tag"
            lines.append(f"{r.release}: verified ({tagged}, source {_short(r.source_commit)}; "
                         f"{what})")
        else:
            lines.append(f"{r.release}: {len(r.problems)} mismatch"
                         f"{'es' if len(r.problems) != 1 else ''}")
            lines += [f"  {p}" for p in r.problems]
        lines += [f"  Note: {n}" for n in r.notes]
    return "\n".join(lines)


def raise_if_mismatched(results: list[Verified]) -> None:
    bad = [r for r in results if not r.ok]
    if bad:
        count = sum(len(r.problems) for r in bad)
        raise ProblemsFound(f"{count} mismatch{'es' if count != 1 else ''} in "
                            f"{', '.join(r.release for r in bad)}", [])
