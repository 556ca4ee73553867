"""Import figures: `import-history` of the real site-policy corpus (12 releases, when
../shared is present) and `import` of Word documents made from the synthetic manual."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pypandoc

from pipeline.import_history import import_history
from pipeline.importer import import_documents
from pipeline.manual import compare, init_manual, open_manual

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "site-policy" / "releases"
DOCUMENTS = 20


def run(manual: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="editorial-import-bench-") as tmp:
        work = Path(tmp)
        if CORPUS.is_dir():
            _history(work / "site-policy")
        else:
            print(f"import-history: {CORPUS} not found, skipped")
        _documents(manual, work)


def _history(root: Path) -> None:
    init_manual(root, "Site Policy")
    m = open_manual(root, explicit=True)
    releases = sorted(p for p in CORPUS.iterdir() if p.is_dir())
    files = [p for r in releases for p in r.rglob("*.md")]
    size = sum(p.stat().st_size for p in files)
    started = time.perf_counter()
    adopted = import_history(m.config, m.repo, releases)
    took = time.perf_counter() - started
    print(f"import-history: {len(adopted)} releases, {len(files)} files, {size / 1e6:.1f} MB "
          f"in {took:.1f} s ({len(files) / took:.0f} files/s)")
    started = time.perf_counter()
    found = compare(open_manual(root, explicit=True), "2021-04", "2021-10").changes
    print(f"  then changes 2021-04 -> 2021-10: {len(found)} changes in "
          f"{time.perf_counter() - started:.1f} s")


def _documents(manual: Path, work: Path) -> None:
    sources = work / "docx"
    sources.mkdir()
    for chapter in sorted((manual / "procedures").rglob("*.md"))[:DOCUMENTS]:
        pypandoc.convert_file(str(chapter), "docx", format="markdown",
                              outputfile=str(sources / f"{chapter.stem}.docx"))
    words = sum(len(p.read_text().split())
                for p in sorted((manual / "procedures").rglob("*.md"))[:DOCUMENTS])
    target = work / "imported"
    init_manual(target, "Imported")
    started = time.perf_counter()
    written, _ = import_documents(open_manual(target, explicit=True).config, [sources],
                                  part="A")
    took = time.perf_counter() - started
    print(f"import: {len(written)} Word documents, {words:,} words, in {took:.1f} s "
          f"({took / len(written) * 1000:.0f} ms a document)")
    shutil.rmtree(target)
