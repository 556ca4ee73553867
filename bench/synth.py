"""A synthetic manual with known changes, for `make bench` and for the planted-changes test.

`build(root, chapters, words)` writes a manual into a new git repository at `root`, tags it
`r1`, plants changes of every kind, tags the result `r2`, and returns what it planted as
`Planted(kind, chapter, text)` records: exactly what `detect_changes` should report.
`text` is the new text of the change (the old one for deletions and removals; the URL for
links; the key for front matter; the old phrase for the term sweep).

The text is made of pseudo-words, so no two paragraphs look alike by chance, and every edit
keeps away from the others (never next to another edit), so each planted change is one
change to find. Deterministic for a given seed.
"""

from __future__ import annotations

import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

TERM_OLD = "contextual safeguarding"
TERM_NEW = "extrafamilial harm"
PARTS = ("A", "B", "C", "D")
_FUNCTION = ("the", "of", "and", "to", "a", "in", "is", "for", "that", "by", "with", "on",
             "be", "or", "are", "as", "at", "this", "should", "will")


@dataclass(frozen=True)
class Planted:
    kind: str
    chapter: str | None
    text: str


@dataclass
class Item:
    kind: str  # "h" heading, "p" paragraph, "li" list item, "link", "table"
    text: str = ""
    url: str = ""
    rows: list[list[str]] = field(default_factory=list)  # table: header first
    touched: bool = False


@dataclass
class Doc:
    id: str
    title: str
    part: str
    owner: str
    items: list[Item]
    folder: str = ""

    @property
    def path(self) -> str:
        return f"procedures/{self.folder or 'part-' + self.part.lower()}/{self.id.lower()}.md"

    def render(self) -> str:
        out = [f"---\nid: {self.id}\ntitle: {self.title}\npart: {self.part}\n"
               f"owner: {self.owner}\n---\n"]
        prev = ""
        for item in self.items:
            tight = item.kind in ("li", "link") and prev == item.kind
            if not tight:
                out.append("")
            if item.kind == "h":
                out.append(f"## {item.text}")
            elif item.kind == "p":
                out.append(item.text)
            elif item.kind == "li":
                out.append(f"- {item.text}")
            elif item.kind == "link":
                out.append(f"- [{item.text}]({item.url})")
            else:
                header, *rows = item.rows
                out.append("| " + " | ".join(header) + " |")
                out.append("|" + "---|" * len(header))
                out.extend("| " + " | ".join(r) + " |" for r in rows)
            prev = item.kind
        return "\n".join(out) + "\n"


class Words:
    """Pseudo-words from syllables, with function words mixed in as in real prose."""

    def __init__(self, rng: random.Random, size: int = 6000) -> None:
        syllables = [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u",
                                                                    "ai", "ou")]
        vocab: set[str] = set()
        while len(vocab) < size:
            vocab.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
        self.vocab = sorted(vocab)
        self.rng = rng
        self.fresh_count = 0

    def word(self) -> str:
        if self.rng.random() < 0.35:
            return self.rng.choice(_FUNCTION)
        return self.rng.choice(self.vocab)

    def fresh(self) -> str:
        """A word used nowhere else."""
        self.fresh_count += 1
        return f"novel{self.fresh_count}x"

    def sentence(self, low: int = 8, high: int = 18) -> str:
        w = [self.word() for _ in range(self.rng.randint(low, high))]
        return " ".join(w).capitalize() + "."

    def paragraph(self, sentences: tuple[int, int] = (2, 4)) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(*sentences)))

    def title(self, n: int = 3) -> str:
        return " ".join(self.rng.choice(self.vocab) for _ in range(n)).title()


def _chapter(words: Words, number: int, target: int, prefix: str = "C") -> Doc:
    rng = words.rng
    cid = f"{prefix}{number:03d}"
    items: list[Item] = []
    count = 0
    section = 0
    numbered = number % 2 == 1
    with_table = number % 10 == 0
    while count < target:
        section += 1
        items.append(Item("h", f"{section}. {words.title()}"))
        for para in range(1, rng.randint(5, 10) + 1):
            text = words.paragraph()
            if numbered:
                text = f"{section}.{para} {text}"
            items.append(Item("p", text))
            count += len(text.split())
        if rng.random() < 0.3:
            for _ in range(rng.randint(3, 6)):
                text = words.sentence(6, 14)
                items.append(Item("li", text))
                count += len(text.split())
            items.append(Item("p", words.paragraph((1, 2))))
        if with_table and section == 2:
            rows = [["Agency", "Role", "Contact"]]
            rows += [[words.title(1), words.sentence(3, 6), words.title(2)] for _ in range(5)]
            items.append(Item("table", rows=rows))
    items.append(Item("h", "Further information"))
    for k in range(rng.randint(2, 4)):
        items.append(Item("link", words.title(4), f"https://example.org/{cid.lower()}/{k}"))
    return Doc(cid, words.title(4), PARTS[number % len(PARTS)], words.title(2), items)


def _write(root: Path, docs: list[Doc]) -> None:
    proc = root / "procedures"
    for old in proc.rglob("*.md"):
        old.unlink()
    for doc in docs:
        path = root / doc.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc.render(), encoding="utf-8")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.org",
                    "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
                   cwd=root, check=True, capture_output=True)


def _release(root: Path, docs: list[Doc], tag: str) -> None:
    _write(root, docs)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", tag)
    _git(root, "tag", tag)


class _Planner:
    def __init__(self, docs: list[Doc], words: Words) -> None:
        self.docs = docs
        self.words = words
        self.rng = words.rng
        self.planted: list[Planted] = []

    def free(self, doc: Doc, kinds: tuple[str, ...] = ("p",)) -> list[int]:
        """Items of these kinds that no edit touches and no edit sits next to."""
        it = doc.items
        return [i for i, item in enumerate(it)
                if item.kind in kinds and not item.touched
                and not (i > 0 and it[i - 1].touched) and not (i + 1 < len(it)
                                                                and it[i + 1].touched)]

    def pick(self, doc: Doc, kinds: tuple[str, ...] = ("p",)) -> int | None:
        options = self.free(doc, kinds)
        return self.rng.choice(options) if options else None

    def plant(self, kind: str, chapter: str | None, text: str) -> None:
        self.planted.append(Planted(kind, chapter, text))

    def modify(self, doc: Doc) -> None:
        i = self.pick(doc)
        if i is None:
            return
        item = doc.items[i]
        sentences = item.text.split(". ")
        how = self.rng.randrange(3)
        if how == 0 or len(sentences) < 2:
            tokens = item.text.split(" ")
            k = self.rng.randrange(1, len(tokens) - 1)
            tokens[k] = self.words.fresh()
            item.text = " ".join(tokens)
        elif how == 1:
            item.text = item.text + " " + self.words.fresh().capitalize() + " " + \
                self.words.sentence(4, 8).lower()
        else:
            k = self.rng.randrange(1, len(sentences))
            del sentences[k]
            item.text = ". ".join(sentences)
            if not item.text.endswith("."):
                item.text += "."
        item.touched = True
        self.plant("paragraph.modified", doc.id, item.text)

    def insert(self, doc: Doc) -> None:
        i = self.pick(doc)
        if i is None:
            return
        item = Item("p", f"{self.words.fresh().capitalize()} {self.words.paragraph()}",
                    touched=True)
        doc.items.insert(i + 1, item)
        self.plant("paragraph.inserted", doc.id, item.text)

    def delete(self, doc: Doc) -> None:
        i = self.pick(doc)
        if i is None:
            return
        item = doc.items[i]
        # Its neighbours become neighbours: keep other edits away from the gap.
        doc.items[i - 1].touched = True
        del doc.items[i]
        self.plant("paragraph.deleted", doc.id, item.text)

    def move(self, source: Doc, target: Doc, edit: bool) -> None:
        i = self.pick(source)
        if i is None:
            return
        item = source.items[i]
        source.items[i - 1].touched = True
        del source.items[i]
        if edit:
            tokens = item.text.split(" ")
            tokens[len(tokens) // 2] = self.words.fresh()
            item.text = " ".join(tokens)
        # Far from where it was: in the other half of its chapter.
        options = [j for j in self.free(target)
                   if source is not target or abs(j - i) > len(source.items) // 3]
        if not options:
            return
        j = self.rng.choice(options)
        item.touched = True
        target.items.insert(j + 1, item)
        self.plant("paragraph.moved", target.id, item.text)

    def heading(self, doc: Doc) -> None:
        i = self.pick(doc, ("h",))
        if i is None or doc.items[i].text == "Further information":
            return
        item = doc.items[i]
        number, _title = item.text.split(". ", 1)
        item.text = f"{number}. {self.words.title()}"
        item.touched = True
        self.plant("heading.changed", doc.id, item.text)

    def link(self, doc: Doc, add: bool) -> None:
        links = [i for i, item in enumerate(doc.items) if item.kind == "link"]
        if add:
            url = f"https://example.org/{doc.id.lower()}/{self.words.fresh()}"
            doc.items.append(Item("link", self.words.title(4), url, touched=True))
            self.plant("link.added", doc.id, url)
            return
        item = doc.items[links[0]]
        item.url = item.url + "-2024"
        item.touched = True
        self.plant("link.changed", doc.id, item.url)

    def row(self, doc: Doc) -> None:
        tables = [item for item in doc.items if item.kind == "table"]
        if not tables:
            return
        row = tables[0].rows[2]
        row[1] = row[1].rstrip(".") + " " + self.words.fresh() + "."
        self.plant("table.row.modified", doc.id, " | ".join(row))


def build(root: Path, chapters: int = 200, words: int = 1_000_000, seed: int = 7,
          ) -> list[Planted]:
    """Write the manual, tag r1 and r2, and return the changes planted between them."""
    rng = random.Random(seed)
    vocab = Words(rng)
    per_chapter = max(60, words // chapters)
    docs = [_chapter(vocab, n, per_chapter) for n in range(1, chapters + 1)]
    root.mkdir(parents=True, exist_ok=True)
    (root / "editorial.toml").write_text(
        'name = "Synthetic Procedures"\npublisher = "Bench Board"\n\n[parts]\n'
        + "".join(f'{p} = "Part {p}"\n' for p in PARTS), encoding="utf-8")
    _git(root, "init", "-q", "-b", "main")
    # The term lives in one paragraph of every third chapter.
    swept = docs[::3]
    for doc in swept:
        i = [k for k, item in enumerate(doc.items) if item.kind == "p"][1]
        item = doc.items[i]
        item.text = f"{item.text} Staff {vocab.word()} {TERM_OLD} {vocab.word()} {vocab.sentence()}"
        item.touched = True
    _release(root, docs, "r1")

    plan = _Planner(docs, vocab)
    for doc in swept:
        for item in doc.items:
            if TERM_OLD in item.text:
                item.text = item.text.replace(TERM_OLD, TERM_NEW)
    plan.plant("term.swept", None, TERM_OLD)
    n = len(docs)
    # Chapters whose whole change is one chapter-level change are kept apart.
    special = rng.sample([d for d in docs if d not in swept], k=min(n // 3, 11))
    removed, moved, renumbered, rest = special[:3], special[3:5], special[5:6], special[6:]
    for doc in removed:
        docs.remove(doc)
        plan.plant("chapter.removed", doc.id, doc.title)
    for doc in moved:
        doc.part = PARTS[(PARTS.index(doc.part) + 1) % len(PARTS)]
        plan.plant("chapter.moved", doc.id, doc.path)
    for doc in renumbered:
        doc.id = doc.id + "R"
        plan.plant("chapter.renumbered", doc.id, doc.id)
    for k in range(3):
        doc = _chapter(vocab, n + 1 + k, per_chapter, prefix="N")
        docs.append(doc)
        plan.plant("chapter.added", doc.id, doc.title)
    editable = [d for d in docs if d not in special and not d.id.startswith("N")]
    for doc in rest[:3]:
        doc.title = vocab.title(4)
        plan.plant("chapter.retitled", doc.id, doc.title)
    for doc in rest[3:5]:
        doc.owner = vocab.title(2)
        plan.plant("metadata.changed", doc.id, "owner")
    paragraphs = sum(item.kind == "p" for d in docs for item in d.items)
    for _ in range(paragraphs * 5 // 100):
        plan.modify(rng.choice(editable))
    for _ in range(max(2, n // 10)):
        plan.insert(rng.choice(editable))
        plan.delete(rng.choice(editable))
        plan.heading(rng.choice(editable))
    for k in range(max(2, n // 10)):
        doc = rng.choice(editable)
        plan.move(doc, doc, edit=k % 4 == 3)
        plan.move(rng.choice(editable), rng.choice(editable), edit=False)
    for doc in rng.sample(editable, k=min(len(editable), max(2, n // 20))):
        plan.link(doc, add=False)
    for doc in rng.sample(editable, k=min(len(editable), max(2, n // 20))):
        plan.link(doc, add=True)
    for doc in [d for d in editable if any(i.kind == "table" for i in d.items)][:5]:
        plan.row(doc)
    _release(root, docs, "r2")
    return plan.planted


def word_count(root: Path) -> int:
    return sum(len(p.read_text(encoding="utf-8").split())
               for p in (root / "procedures").rglob("*.md"))
