"""`make demo`: the whole release cycle, run by the tool itself on the bundled sample manual.

The sample keeps the manual as it stood at each release (`sample/history/<id>/procedures`) and
the editors' records beside it (`releases/<id>/release.toml` and `releases/<id>/notes/`). The
demo replays them, oldest first, in a scratch repository (`demo-output/manual`), exactly as a
board would work: commit the editors' text, `release start`, `changes`, write the notes (here:
copy the editors' notes in), `changes` again to merge them, `check`, `approve`, `publish`.

It relies on nothing a fresh clone lacks: no tags (publishing makes them in the scratch
repository) and no network. Commits carry the board's name and the release's date, so `git
log` in the scratch repository reads like the board's own history.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline import gitio, releases
from pipeline.cli import cli
from pipeline.config import CONFIG_NAME, load_config

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path("demo-output")
MARKER = ".editorial-demo"  # marks a folder the demo may wipe and rebuild
BOARD_NAME = "Northmere Procedures Editorial Board"
BOARD_EMAIL = "procedures@northmere-scp.example.org"
APPROVER = ("Amira Okafor", "Chair, Procedures Editorial Board")
# The chapter whose page the demo points to: changed in the newest release.
HIGHLIGHT = "CP4"


class DemoError(Exception):
    """The demo cannot run, or a step of the cycle failed."""


@dataclass(frozen=True)
class SampleRelease:
    id: str
    title: str
    date: str  # YYYY-MM-DD
    introduction: str
    procedures: Path  # the manual as it stood: sample/history/<id>/procedures
    notes: Path  # the editors' notes: releases/<id>/notes (may not exist)


@dataclass(frozen=True)
class DemoResult:
    manual: Path  # the scratch repository
    release: str  # the newest release published
    bulletin: Path
    complete_list: Path
    chapter: Path  # the page of a changed chapter, with its highlighted box
    seconds: float


def sample_releases(source: Path) -> list[SampleRelease]:
    """The sample's releases, oldest first: one per folder of sample/history."""
    history = source / "sample" / "history"
    if not history.is_dir():
        raise DemoError(f"{history}: no sample history (run the demo from a clone of the "
                        "project)")
    out = []
    for folder in sorted(p for p in history.iterdir() if p.is_dir()):
        record = source / "releases" / folder.name / releases.RELEASE_FILE
        if not record.is_file():
            raise DemoError(f"{record}: missing (each sample state needs its release record)")
        data = tomllib.loads(record.read_text("utf-8"))
        out.append(SampleRelease(
            id=folder.name,
            title=str(data.get("title", folder.name)),
            date=str(data["date"]),
            introduction=str(data.get("introduction", "")).strip(),
            procedures=folder / "procedures",
            notes=record.parent / "notes",
        ))
    if not out:
        raise DemoError(f"{history}: no releases in the sample")
    return out


@contextlib.contextmanager
def _git_as_board(date: str | None) -> Iterator[None]:
    """Commits (ours and those `publish` makes) by the board, dated to the release, unsigned
    whatever the user's own git configuration says."""
    env = {
        "GIT_AUTHOR_NAME": BOARD_NAME, "GIT_AUTHOR_EMAIL": BOARD_EMAIL,
        "GIT_COMMITTER_NAME": BOARD_NAME, "GIT_COMMITTER_EMAIL": BOARD_EMAIL,
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "commit.gpgsign", "GIT_CONFIG_VALUE_0": "false",
        "GIT_CONFIG_KEY_1": "tag.gpgsign", "GIT_CONFIG_VALUE_1": "false",
    }
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def editorial(manual: Path, *args: str) -> None:
    """Run one `editorial` command in this process, as a user would type it."""
    command = shlex.join(("editorial", *args))
    print(f"$ {command}", file=sys.stderr, flush=True)
    try:
        cli.main(args=["-C", str(manual), *args], prog_name="editorial",
                 standalone_mode=False)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise DemoError(f"'{command}' failed (exit {exc.code})") from None
    except Exception as exc:  # a usage error from the command line parser
        raise DemoError(f"'{command}' failed: {exc}") from exc
    sys.stdout.flush()


def prepare(out: Path, source: Path) -> Path:
    """An empty scratch repository holding the sample's editorial.toml."""
    if out.exists():
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise DemoError(f"{out}: exists and was not made by the demo (not touching it)")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("Made by `make demo`; rebuilt on every run.\n", encoding="utf-8")
    manual = out / "manual"
    manual.mkdir()
    shutil.copy2(source / CONFIG_NAME, manual / CONFIG_NAME)
    repo = gitio.init_repo(manual)
    with _git_as_board(None):
        gitio.commit_paths(repo, [CONFIG_NAME], "Start the Northmere Child Protection "
                           "Procedures")
    return manual


def replay(manual: Path, sample: SampleRelease, first: bool) -> None:
    """One release: the editors' text, then the tool's cycle from start to publish."""
    print(f"\n== {sample.id}: {sample.title} ==", file=sys.stderr, flush=True)
    repo = gitio.open_repo(manual)
    config = load_config(manual)
    target = manual / config.procedures
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(sample.procedures, target)
    with _git_as_board(f"{sample.date}T09:00:00+00:00"):
        message = ("The procedures as first published" if first
                   else f"The procedures as edited for {sample.title}")
        gitio.commit_paths(repo, [config.procedures], message)
    editorial(manual, "release", "start", sample.id, "--title", sample.title,
              "--date", sample.date)
    if sample.introduction:
        record = releases.load_release(config, sample.id)
        releases.save_release(config, replace(record, introduction=sample.introduction))
    editorial(manual, "changes")
    if sample.notes.is_dir():
        notes = releases.release_dir(config, sample.id) / "notes"
        notes.mkdir(parents=True, exist_ok=True)
        for path in sorted(sample.notes.glob("*.yaml")):
            shutil.copy2(path, notes / path.name)
        editorial(manual, "changes")  # merges the editors' entries with what it detects
    with _git_as_board(f"{sample.date}T12:00:00+00:00"):
        gitio.commit_paths(repo, ["releases"], f"Editors' notes for {sample.title}")
        editorial(manual, "check")
        # The board signed each release off on its date, as its commits say.
        editorial(manual, "approve", "--by", APPROVER[0], "--role", APPROVER[1],
                  "--at", f"{sample.date}T12:00:00Z")
        gitio.commit_paths(repo, ["releases"], f"{sample.title} approved by {APPROVER[0]}")
        editorial(manual, "publish")


def find_outputs(manual: Path, release_id: str) -> tuple[Path, Path, Path]:
    """(bulletin, complete list, highlighted chapter page) among what publish wrote."""
    published = manual / "releases" / release_id / "published"
    if not published.is_dir():
        raise DemoError(f"{published}: publish wrote nothing")
    pages = sorted(p for p in published.rglob("*.html"))

    def first(what: str, *needles: str) -> Path:
        for needle in needles:
            for page in pages:
                if needle in page.relative_to(published).as_posix().lower():
                    return page
        raise DemoError(f"{published}: no {what} among the published HTML files")

    return (first("bulletin", "bulletin"),
            first("complete list", "complete", "changes"),
            first(f"page for {HIGHLIGHT}", f"{HIGHLIGHT.lower()}."))


def run_demo(out: Path = DEFAULT_OUT, source: Path = PROJECT) -> DemoResult:
    started = time.monotonic()
    samples = sample_releases(source)
    manual = prepare(out.resolve(), source)
    for index, sample in enumerate(samples):
        replay(manual, sample, first=index == 0)
    bulletin, complete, chapter = find_outputs(manual, samples[-1].id)
    return DemoResult(manual=manual, release=samples[-1].id, bulletin=bulletin,
                      complete_list=complete, chapter=chapter,
                      seconds=time.monotonic() - started)


BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# (file name, published page, window width x height): the top of each page, as a reader's
# screen shows it.
SHOTS = (("bulletin.png", "bulletin", "1000,1500"), ("chapter.png", "chapter", "1000,1100"))


def screenshots(result: DemoResult, folder: Path) -> list[Path]:
    """PNGs of the bulletin and the highlighted chapter, taken by headless Chromium."""
    browser = next((b for b in map(shutil.which, BROWSERS) if b), None)
    if browser is None:
        raise DemoError("no Chromium found for screenshots (apt-get install chromium)")
    folder.mkdir(parents=True, exist_ok=True)
    pages = {"bulletin": result.bulletin, "chapter": result.chapter}
    out = []
    with tempfile.TemporaryDirectory() as profile:
        for name, page, size in SHOTS:
            target = folder / name
            subprocess.run(
                [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--hide-scrollbars",
                 f"--user-data-dir={profile}", f"--window-size={size}",
                 f"--screenshot={target}", pages[page].as_uri()],
                check=True, capture_output=True, timeout=120)
            if not target.is_file():
                raise DemoError(f"{target}: Chromium wrote no screenshot")
            out.append(target)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.demo",
        description="Publish every release of the bundled sample manual in a scratch "
                    "repository, with the tool itself.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder to (re)build, default demo-output")
    parser.add_argument("--screenshots", type=Path, metavar="DIR",
                        help="also save PNGs of the bulletin and a highlighted chapter in DIR "
                             "(needs Chromium)")
    args = parser.parse_args(argv)
    try:
        result = run_demo(args.out)
        shots = screenshots(result, args.screenshots) if args.screenshots else []
    except (DemoError, subprocess.SubprocessError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    cwd = Path.cwd()

    def show(path: Path) -> str:
        return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)

    print(f"\nPublished {result.release} and every release before it in "
          f"{result.seconds:.1f} s. The sample manual's repository: {show(result.manual)}")
    print(f"Bulletin:            {show(result.bulletin)}")
    print(f"Complete list:       {show(result.complete_list)}")
    print(f"Highlighted chapter: {show(result.chapter)}")
    for shot in shots:
        print(f"Screenshot:          {show(shot)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
