"""The pure merge of detected changes into entries (pipeline.merge).

The property test plays an editor and a change detector against each other for thousands of
cycles: edit the manual, detect the changes again (ids move on with every edit of a
paragraph, as the engine's do), merge, sometimes annotate. Every paragraph carries a hidden
identity, so the test knows which change is really which. No entry may ever be lost; none
may take a change that already existed, on the previous run, as another paragraph's change
(that would be a silent move); none may let go of its own change while that still exists
after small edits. A change that did not exist on the previous run may be adopted: a new
paragraph reading like the one an entry lost is how "its change comes back" looks.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.merge import Anchor, anchors_for, merge, similarity_score
from pipeline.models import Change, Entry
from pipeline.notes import make_entry_id


def change(cid: str, kind: str = "paragraph.modified", chapter: str | None = "CP3",
           location: str = "paragraph 4.21", old: str | None = "old text here",
           new: str | None = "new text here", section: str = "S") -> Change:
    return Change(id=cid, kind=kind, chapter=chapter, location=location, old=old, new=new,
                  section=section)


def entry(eid: str, *changes: Change, ids: tuple[str, ...] = (), orphaned: bool = False) -> Entry:
    return Entry(id=eid, summary="S", why="W", significance="minor",
                 changes=ids or tuple(c.id for c in changes), chapter="CP3",
                 anchors=tuple(("anchor", tuple(Anchor.of(c).to_dict().items()))
                               for c in changes),
                 orphaned=orphaned, file="releases/r/notes/CP3.yaml", line=3)


P1 = "The decision whether to convene an initial conference should be made at the meeting."
P2 = "The social worker must visit the child within ten working days of the referral."


def test_exact_ids_are_kept() -> None:
    c = change("CP3-mod-1", old=P1, new=P1 + " Now.")
    result = merge([entry("e-1", c)], [c])
    assert result.covered_by == {"CP3-mod-1": "e-1"}
    assert result.entries[0].followed == () and not result.orphans


def test_an_edited_paragraph_is_followed_by_its_old_text() -> None:
    first = change("CP3-mod-1", old=P1, new=P1.replace("should", "must"))
    again = change("CP3-mod-2", old=P1, new=P1.replace("should", "shall"),
                   location="section 'S', paragraph 3")
    other = change("CP3-mod-3", old=P2, new=P2.replace("ten", "fifteen"))
    result = merge([entry("e-1", first)], [other, again])
    assert result.covered_by == {"CP3-mod-2": "e-1"}
    merged = result.entries[0]
    assert merged.changes == ("CP3-mod-2",) and merged.followed == (("CP3-mod-1", "CP3-mod-2"),)
    assert merged.anchors[0].change == "CP3-mod-2"


def test_an_insertion_is_followed_by_its_new_text() -> None:
    first = change("CP3-ins-1", "paragraph.inserted", old=None, new=P1)
    again = change("CP3-ins-2", "paragraph.inserted", old=None, new=P1.replace("meeting",
                                                                              "discussion"))
    assert merge([entry("e-1", first)], [again]).covered_by == {"CP3-ins-2": "e-1"}


def test_a_different_paragraph_is_never_taken() -> None:
    first = change("CP3-mod-1", old=P1, new=P1 + " x")
    other = change("CP3-mod-2", old=P2, new=P2 + " x")
    result = merge([entry("e-1", first)], [other])
    assert result.covered_by == {}
    assert result.entries[0].orphaned and result.entries[0].changes == ("CP3-mod-1",)
    assert result.entries[0].anchors[0].text == P1  # kept, so the change can come back


def test_a_near_copy_inserted_elsewhere_is_another_change() -> None:
    first = change("CP3-mod-1", old=P1, new=P1.replace("should", "must"))
    copy = change("CP3-ins-1", "paragraph.inserted", old=None, new=P1)
    assert merge([entry("e-1", first)], [copy]).covered_by == {}


def test_a_modified_paragraph_later_deleted_is_still_that_paragraph() -> None:
    first = change("CP3-mod-1", old=P1, new=P1.replace("should", "must"))
    deleted = change("CP3-del-1", "paragraph.deleted", old=P1, new=None)
    assert merge([entry("e-1", first)], [deleted]).covered_by == {"CP3-del-1": "e-1"}


def test_an_orphan_is_kept_and_found_again() -> None:
    first = change("CP3-mod-1", old=P1, new=P1.replace("should", "must"))
    orphaned = merge([entry("e-1", first)], [])
    assert orphaned.entries[0].orphaned
    assert orphaned.entries[0].fields()["orphaned"] is True
    back = change("CP3-mod-9", old=P1, new=P1.replace("should", "may"))
    again = merge([entry("e-1", first, orphaned=True)], [back])
    assert not again.entries[0].orphaned and again.covered_by == {"CP3-mod-9": "e-1"}
    assert again.entries[0].fields()["orphaned"] is False


def test_two_equally_good_candidates_leave_the_entry_orphaned() -> None:
    first = change("CP3-mod-1", old=P1, new=P1 + " a", location="paragraph 1")
    twin_a = change("CP3-mod-2", old=P1, new=P1 + " b", location="paragraph 2")
    twin_b = change("CP3-mod-3", old=P1, new=P1 + " c", location="paragraph 3")
    result = merge([entry("e-1", first)], [twin_a, twin_b])
    assert result.covered_by == {} and result.entries[0].orphaned


def test_place_breaks_a_tie() -> None:
    first = change("CP3-mod-1", old=P1, new=P1 + " a", location="paragraph 2")
    twin_a = change("CP3-mod-2", old=P1, new=P1 + " b", location="paragraph 2")
    twin_b = change("CP3-mod-3", old=P1, new=P1 + " c", location="paragraph 3")
    assert merge([entry("e-1", first)], [twin_a, twin_b]).covered_by == {"CP3-mod-2": "e-1"}


def test_one_change_per_chapter_kinds_match_by_chapter() -> None:
    first = change("CP1-retitled-1", "chapter.retitled", "CP1", "title", "Old", "New")
    again = change("CP1-retitled-2", "chapter.retitled", "CP1", "title", "Old", "Newer")
    elsewhere = change("CP2-retitled-3", "chapter.retitled", "CP2", "title", "Old", "New")
    result = merge([entry("e-1", first)], [elsewhere, again])
    assert result.covered_by == {"CP1-retitled-2": "e-1"}


def test_a_renumbered_chapter_keeps_its_entries() -> None:
    first = change("CP3-mod-1", old=P1, new=P1 + " x")
    renumbered = Change(id="CP3A-renumbered-1", kind="chapter.renumbered", chapter="CP3A",
                        location="chapter", old="CP3", new="CP3A", old_chapter="CP3",
                        new_chapter="CP3A")
    moved = change("CP3A-mod-2", chapter="CP3A", old=P1, new=P1 + " x")
    result = merge([entry("e-1", first)], [renumbered, moved])
    assert result.covered_by == {"CP3A-mod-2": "e-1"}


def test_a_renumbering_cascade_is_one_per_chapter() -> None:
    def cascade(cid: str, old: str, new: str, chapter: str = "CP3") -> Change:
        return Change(id=cid, kind="paragraph.modified", chapter=chapter, location=new,
                      old=old, new=new, detail=(("renumbering", f"{old} renumbered {new}"),))

    first = cascade("CP3-mod-1", "paragraphs 4.1-9.3", "paragraphs 5.1-10.3")
    wider = cascade("CP3-mod-2", "paragraphs 4.1-9.3", "paragraphs 6.1-11.3")
    anchor = Anchor.of(first)
    assert anchor.renumbering and anchor.to_dict()["renumbering"] is True
    assert Anchor.from_plain(tuple(anchor.to_dict().items())) == anchor
    plain = change("CP3-mod-3", old="paragraphs 4.1-9.3", new="paragraphs 4.1-9.3 and more")
    elsewhere = cascade("CP4-mod-4", "paragraphs 4.1-9.3", "paragraphs 5.1-10.3", "CP4")
    result = merge([entry("e-1", first)], [plain, elsewhere, wider])
    assert result.covered_by == {"CP3-mod-2": "e-1"}
    narrower = cascade("CP3-mod-5", "paragraphs 6.1-9.3", "paragraphs 7.1-10.3")
    assert merge([entry("e-1", first)], [narrower]).covered_by == {"CP3-mod-5": "e-1"}
    assert merge([entry("e-2", plain)], [narrower]).covered_by == {}


def test_unknown_ids_and_double_cover_are_issues() -> None:
    c = change("CP3-mod-1", old=P1, new=P1 + " x")
    result = merge([entry("e-1", c), entry("e-2", c), entry("e-3", ids=("CP3-typo",))], [c])
    assert [(i.message, i.line) for i in result.issues] == [
        ("change 'CP3-mod-1' is covered by two entries: e-2 and e-1 "
         "(releases/r/notes/CP3.yaml:3); keep one", 3),
        ("entry e-3 names change 'CP3-typo', which does not exist in this release "
         "(see 'editorial changes')", 3)]


def test_a_partly_vanished_entry_keeps_the_rest() -> None:
    a = change("CP3-mod-1", old=P1, new=P1 + " x")
    b = change("CP3-mod-2", old=P2, new=P2 + " x")
    result = merge([entry("e-1", a, b)], [b])
    merged = result.entries[0]
    assert merged.changes == ("CP3-mod-1", "CP3-mod-2") and merged.live == ("CP3-mod-2",)
    assert not merged.orphaned


def test_an_insertion_never_takes_a_twin_it_already_knew() -> None:
    mine = change("CP3-ins-1", "paragraph.inserted", old=None, new=P2)
    twin = change("CP3-ins-2", "paragraph.inserted", old=None,
                  new=P2.replace("child", "parents"))
    first = merge([entry("e-1", mine)], [mine, twin])
    anchor = first.entries[0].anchors[0]
    assert anchor.others == ("CP3-ins-2",)
    assert anchor.to_dict()["others"] == ["CP3-ins-2"]
    remembered = replace(entry("e-1", mine), anchors=(
        ("anchor", tuple(anchor.to_dict().items())),))
    # The editor deletes their paragraph: the twin is another change, not this one.
    assert merge([remembered], [twin]).covered_by == {}
    # Edited again instead: followed, the twin still left alone.
    again = change("CP3-ins-3", "paragraph.inserted", old=None, new=P2 + " Record it.")
    assert merge([remembered], [twin, again]).covered_by == {"CP3-ins-3": "e-1"}


def test_old_text_must_match_exactly() -> None:
    first = change("CP3-mod-1", old=P1, new=P1 + " x")
    almost = change("CP3-mod-2", old=P1.replace("meeting", "meetings"), new=P1)
    assert merge([entry("e-1", first)], [almost]).covered_by == {}


def test_similarity_needs_the_same_chapter_family() -> None:
    a = Anchor.of(change("x", "link.added", old=None, new="https://a.example/x"))
    b = Anchor.of(change("y", "paragraph.inserted", old=None, new="https://a.example/x"))
    assert similarity_score(a, b) is None


# The property test -------------------------------------------------------------------------

WORDS = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ro", "si", "tu", "va", "ze",
                              "bo", "de", "fi", "gu", "ha")
         for b in ("ran", "tel", "mos", "dun", "pix", "gal", "sor", "bev", "lin", "wom",
                   "cat", "rud", "fen", "jol", "tiv", "nep", "qua", "yor", "hum", "zil")]
CHAPTERS = ("CP1", "CP2", "CP3")


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


@dataclass
class Para:
    uid: str
    text: str


@dataclass
class World:
    """The base manual, the working copy, and what the test knows about both."""

    base: dict[str, tuple[str, list[Para]]]  # chapter -> (title, paragraphs)
    cur: dict[str, tuple[str, list[Para]]]
    shelved: dict[str, tuple[str, list[Para]]] = field(default_factory=dict)
    next_uid: int = 0
    waived: set[str] = field(default_factory=set)  # rewritten beyond recognition

    def uid(self) -> str:
        self.next_uid += 1
        return f"u{self.next_uid}"


def make_world(rng: random.Random) -> World:
    base = {}
    for ch in CHAPTERS:
        base[ch] = (f"Title of {ch}", [Para(f"{ch}-{i}", words(rng, rng.randint(10, 16)))
                                       for i in range(5)])
    cur = {ch: (t, [Para(p.uid, p.text) for p in ps]) for ch, (t, ps) in base.items()}
    return World(base, cur)


def _id(kind: str, chapter: str, old: str | None, new: str | None) -> str:
    digest = hashlib.sha1(f"{kind}\0{chapter}\0{old}\0{new}".encode()).hexdigest()[:8]
    return f"{chapter}-{kind.split('.')[-1]}-{digest}"


def detect(world: World) -> tuple[list[Change], dict[str, tuple[str, str]]]:
    """The changes, with ids that move on with every edit, and the truth: change id -> what
    it really is (("p", paragraph uid), ("t", chapter) or ("c", chapter))."""
    out: list[Change] = []
    truth: dict[str, tuple[str, str]] = {}

    def add(c: Change, key: tuple[str, str]) -> None:
        n = sum(1 for x in out if x.id == c.id or x.id.startswith(c.id + "-"))
        c = c if n == 0 else replace(c, id=f"{c.id}-{n + 1}")
        out.append(c)
        truth[c.id] = key

    for ch, (title, paras) in world.cur.items():
        if ch not in world.base:
            add(Change(id=_id("chapter.added", ch, None, title), kind="chapter.added",
                       chapter=ch, location="chapter", new=title), ("c", ch))
            continue
        base_title, base_paras = world.base[ch]
        if title != base_title:
            add(Change(id=_id("chapter.retitled", ch, base_title, title),
                       kind="chapter.retitled", chapter=ch, location="title", old=base_title,
                       new=title), ("t", ch))
        before = {p.uid: (i, p.text) for i, p in enumerate(base_paras)}
        now = {p.uid for p in paras}
        for i, p in enumerate(paras):
            where = f"section 'Main', paragraph {i + 1}"
            if p.uid not in before:
                kind, old, new = "paragraph.inserted", None, p.text
            elif before[p.uid][1] != p.text:
                kind, old, new = "paragraph.modified", before[p.uid][1], p.text
            else:
                continue
            add(Change(id=_id(kind, ch, old, new), kind=kind, chapter=ch, location=where,
                       old=old, new=new, section="Main"), ("p", p.uid))
        for uid, (i, text) in before.items():
            if uid not in now:
                add(Change(id=_id("paragraph.deleted", ch, text, None),
                           kind="paragraph.deleted", chapter=ch,
                           location=f"section 'Main', paragraph {i + 1}", old=text,
                           section="Main"), ("p", uid))
    for ch, (title, _paras) in world.base.items():
        if ch not in world.cur:
            add(Change(id=_id("chapter.removed", ch, title, None), kind="chapter.removed",
                       chapter=ch, location="chapter", old=title), ("c", ch))
    return out, truth


def apply_edit(world: World, rng: random.Random, op: str) -> None:
    live = [ch for ch in world.cur if world.cur[ch][1]]
    ch = rng.choice(live) if live else rng.choice(list(world.cur))
    title, paras = world.cur[ch]
    base_paras = world.base.get(ch, ("", []))[1]
    if op == "modify" and paras:
        p = rng.choice(paras)
        p.text = _one_word_changed(p.text, paras, rng)
    elif op == "rewrite" and paras:
        p = rng.choice(paras)
        p.text = words(rng, rng.randint(10, 16))
        world.waived.add(p.uid)
    elif op == "insert":
        paras.insert(rng.randint(0, len(paras)), Para(world.uid(), words(rng, rng.randint(10,
                                                                                    16))))
    elif op == "copy" and paras:
        # A near copy of a paragraph, inserted elsewhere: bait for a wrong match.
        source = rng.choice(paras)
        paras.insert(rng.randint(0, len(paras)),
                     Para(world.uid(), _one_word_changed(source.text, paras, rng)))
    elif op == "delete" and paras:
        paras.pop(rng.randrange(len(paras)))
    elif op == "revert" and base_paras:
        target = rng.choice(base_paras)
        for p in paras:
            if p.uid == target.uid:
                p.text = target.text
                break
        else:
            paras.insert(min(base_paras.index(target), len(paras)),
                         Para(target.uid, target.text))
    elif op == "retitle":
        base_title = world.base.get(ch, (title, []))[0]
        new_title = base_title if rng.random() < 0.3 else f"{base_title} {rng.choice(WORDS)}"
        world.cur[ch] = (new_title, paras)
    elif op == "shelve" and ch in world.base and len(world.cur) > 1:
        world.shelved[ch] = world.cur.pop(ch)  # the chapter is removed...
    elif op == "unshelve" and world.shelved:
        back = rng.choice(sorted(world.shelved))
        world.cur[back] = world.shelved.pop(back)  # ...and comes back as it was
    elif op == "new_chapter":
        name = rng.choice(("PG1", "PG2"))
        if name in world.cur and len(world.cur) > 1:
            del world.cur[name]
        elif name not in world.cur:
            world.cur[name] = (f"New {rng.choice(WORDS)}", [Para(world.uid(), words(rng, 12))])


def _one_word_changed(text: str, paras: list[Para], rng: random.Random) -> str:
    """The text with one word replaced, never the same as another paragraph's: identical
    paragraphs cannot be told apart by anyone (the engine numbers them "-2", "-3")."""
    taken = {p.text for p in paras}
    while True:
        tokens = text.split()
        tokens[rng.randrange(len(tokens))] = rng.choice(WORDS)
        if " ".join(tokens) not in taken:
            return " ".join(tokens)


def to_entry(e: Entry, merged_changes: tuple[str, ...], anchors: tuple[Anchor, ...],
             orphaned: bool) -> Entry:
    """The entry as it reads back after the merge was written into its file."""
    return replace(e, changes=merged_changes, orphaned=orphaned,
                   anchors=tuple(("anchor", tuple(a.to_dict().items())) for a in anchors))


CYCLES = {"count": 0}
OPS = st.sampled_from(["modify", "modify", "modify", "insert", "delete", "revert", "revert",
                       "retitle", "rewrite", "copy", "shelve", "unshelve", "new_chapter"])


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1),
       steps=st.lists(st.tuples(OPS, st.booleans(), st.integers(1, 3)), min_size=20,
                      max_size=40))
def _cycles(seed: int, steps: list[tuple[str, bool, int]]) -> None:
    rng = random.Random(seed)
    world = make_world(rng)
    entries: list[Entry] = []
    owns: dict[str, set[tuple[str, str]]] = {}  # entry id -> what it was written for
    seen: set[tuple[str, str]] = set()  # what the changes of the previous run were
    for op, annotate, group in steps:
        apply_edit(world, rng, op)
        changes, truth = detect(world)
        result = merge(entries, changes)
        CYCLES["count"] += 1
        assert result.issues == ()
        assert [m.id for m in result.entries] == [e.id for e in entries]  # none lost
        claimed: set[str] = set()
        for merged in result.entries:
            for cid in merged.live:
                assert cid not in claimed  # one entry per change
                claimed.add(cid)
                if truth[cid] not in owns[merged.id]:
                    assert truth[cid] not in seen, "an entry moved to another change"
                    owns[merged.id].add(truth[cid])  # adopted: new on this run
            assert merged.orphaned == (not merged.live)
        seen = set(truth.values())
        by_key = {key: cid for cid, key in truth.items()}
        for merged in result.entries:
            for key in owns[merged.id]:
                if key in by_key and not (key[0] == "p" and key[1] in world.waived):
                    assert by_key[key] in merged.live, "an entry let go of its change"
        entries = [to_entry(m.entry, m.changes, m.anchors, m.orphaned) for m in result.entries]
        if annotate and result.uncovered:
            chosen = result.uncovered[:group]
            eid = make_entry_id([c.id for c in chosen], owns)
            entries.append(Entry(
                id=eid, summary="s", why="w", significance="minor",
                changes=tuple(c.id for c in chosen), chapter=chosen[0].chapter,
                anchors=tuple(("anchor", tuple(a.to_dict().items()))
                              for a in anchors_for(chosen, changes)), file="f", line=1))
            owns[eid] = {truth[c.id] for c in chosen}


def test_no_entry_is_lost_or_moved_over_many_edit_and_merge_cycles() -> None:
    CYCLES["count"] = 0
    _cycles()
    assert CYCLES["count"] >= 1000
