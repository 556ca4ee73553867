"""Drafts for the editor: a summary and a significance for each uncovered change.

Suggestions, never decisions: nothing here is written into the notes unless an editor accepts
it. The significance follows the board's rule of thumb: links, punctuation and spelling only
are minor; a new chapter, a changed duty word (must, should, may) or a changed timescale or
number is major. Every suggestion says why, so the editor can judge it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from pipeline.models import Change

DUTY_WORDS = frozenset({"must", "should", "may", "shall", "might", "ought", "required",
                        "require", "requires", "mandatory", "optional", "cannot", "can",
                        "need", "needs", "not"})
# "not" counts only next to a duty word ("must not"); see _duty_change.
_CORE_DUTY = DUTY_WORDS - {"not", "can", "need", "needs"}
_WORDS = str.split  # word lists below read as prose
NUMBER_WORDS = frozenset(_WORDS(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty hundred first second "
    "third fourth half twice once"))
TIME_WORDS = frozenset(_WORDS(
    "hour hours day days week weeks fortnight fortnightly month months year years weekly "
    "monthly annually annual daily yearly quarterly immediately working"))
_TOKEN = re.compile(r"\w+(?:['’.-]\w+)*|[^\w\s]")
# A paragraph or heading number ("4.21", "4.", "4)") is where the text is, not what it says.
_PARA_REF = re.compile(r"^\s*\d+(?:\.\d+)*[.)]?\s+")
_REF_IN_LOCATION = re.compile(r"paragraph (\d+(?:\.\d+)+)")
_EXCERPT_WORDS = 12


@dataclass(frozen=True)
class Suggestion:
    summary: str
    significance: str  # major or minor
    reason: str  # why this significance, in a few words

    def to_json(self) -> dict[str, str]:
        return {"summary": self.summary, "significance": self.significance,
                "reason": self.reason}


@dataclass(frozen=True)
class WordEdit:
    """What a text edit did, word by word (paragraph numbers left out)."""

    removed: tuple[str, ...]
    added: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # replaced spans, old and new, with a little context
    punctuation_only: bool
    spelling_only: bool

    @property
    def words_changed(self) -> int:
        return sum(1 for t in self.removed + self.added if t[0].isalnum())


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(_PARA_REF.sub("", text or ""))


def word_edit(old: str, new: str) -> WordEdit:
    a, b = tokens(old), tokens(new)
    matcher = SequenceMatcher(None, [t.lower() for t in a], [t.lower() for t in b],
                              autojunk=False)
    removed: list[str] = []
    added: list[str] = []
    pairs: list[tuple[str, str]] = []
    spelling = True
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        removed += a[i1:i2]
        added += b[j1:j2]
        pairs.append((" ".join(a[max(0, i1 - 1):_context_end(a, i2)]),
                      " ".join(b[max(0, j1 - 1):_context_end(b, j2)])))
        if op != "replace" or i2 - i1 != j2 - j1 or not all(
                _looks_like_respelling(x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=True)):
            spelling = False
    words_a = [t.lower() for t in a if t[0].isalnum()]
    words_b = [t.lower() for t in b if t[0].isalnum()]
    punctuation_only = words_a == words_b
    return WordEdit(tuple(removed), tuple(added), tuple(pairs), punctuation_only,
                    spelling and bool(pairs) and not punctuation_only)


def _context_end(words: list[str], end: int) -> int:
    """One word of context after an edit, more while they finish a timescale ("10 working
    days")."""
    stop = min(len(words), end + 1)
    while stop < len(words) and (words[stop].lower() in TIME_WORDS
                                 or words[stop - 1].lower() in NUMBER_WORDS):
        stop += 1
    return stop


def _looks_like_respelling(x: str, y: str) -> bool:
    if not (x[0].isalpha() and y[0].isalpha()):
        return x == y
    if x.lower() in DUTY_WORDS and y.lower() in DUTY_WORDS:
        return False  # 'may' -> 'must' is a new duty, not a typo
    return SequenceMatcher(None, x.lower(), y.lower()).ratio() >= 0.75


def _duty_change(edit: WordEdit) -> tuple[str, str] | None:
    """(old, new) wording when the edit changes what practitioners must do: a duty word
    replaced ('should' -> 'must'), added or removed, or negated ('must' -> 'must not')."""
    old = [t.lower() for t in edit.removed if t.lower() in DUTY_WORDS]
    new = [t.lower() for t in edit.added if t.lower() in DUTY_WORDS]
    core = any(w in _CORE_DUTY for w in old + new)
    negated = "not" in old + new and any(
        w in _CORE_DUTY for pair in edit.pairs for w in " ".join(pair).lower().split())
    if not core and not negated:
        return None
    if len(edit.pairs) == 1 and len(old) == 1 and len(new) == 1 and old != ["not"] \
            and new != ["not"] and len(edit.removed) == 1 and len(edit.added) == 1:
        return old[0], new[0]
    first_old, first_new = edit.pairs[0]
    return _clip_words(first_old), _clip_words(first_new)


def _numbers(words: Sequence[str]) -> list[str]:
    """Numbers first ("two" says more than "weeks"), then units of time."""
    numbers = [w for w in words if any(ch.isdigit() for ch in w) or w.lower() in NUMBER_WORDS]
    return numbers + [w for w in words if w.lower() in TIME_WORDS]


def _excerpt(text: str | None) -> str:
    words = _PARA_REF.sub("", text or "").split()
    if len(words) <= _EXCERPT_WORDS:
        return " ".join(words).rstrip(".;:,")
    return " ".join(words[:_EXCERPT_WORDS]).rstrip(".;:,") + " ..."


def see_paragraph(change: Change) -> str:
    """" See paragraph 4.21." when the change has a paragraph number, as the bulletins say."""
    match = _REF_IN_LOCATION.search(change.location or "")
    return f" See paragraph {match.group(1)}." if match else ""


def _in_section(change: Change) -> str:
    return f" in '{change.section}'" if change.section else ""


def _detail(change: Change, key: str) -> str:
    value = dict(change.detail).get(key)
    return str(value) if value else ""


def suggest(change: Change) -> Suggestion:
    """A draft summary and significance for one change."""
    s = _suggest(change)
    return Suggestion(s.summary[:1].upper() + s.summary[1:], s.significance, s.reason)


def _suggest(change: Change) -> Suggestion:
    kind = change.kind
    see = see_paragraph(change)
    renumbering = _detail(change, "renumbering")
    if renumbering and kind in ("paragraph.modified", "heading.changed"):
        # One change for a chapter's renumbering cascade (pipeline/renumbering.py).
        return Suggestion(renumbering, "minor", "renumbered only; the words are unchanged")
    if kind == "chapter.added":
        title = change.new if change.new and change.new != change.chapter else ""
        return Suggestion(f"New chapter: {' '.join(filter(None, (change.chapter, title)))}",
                          "major", "a new chapter")
    if kind == "chapter.removed":
        return Suggestion(f"Chapter removed: {change.old or change.chapter}", "major",
                          "a chapter is withdrawn")
    if kind == "chapter.retitled":
        return _text_change(change, f"Chapter retitled: '{change.old}' is now '{change.new}'",
                            default=("major", "the chapter's title changed"))
    if kind == "chapter.moved":
        return Suggestion(f"Chapter moved: '{change.old}' is now '{change.new}'", "minor",
                          "moved only; the text is unchanged")
    if kind == "chapter.renumbered":
        old = change.old_chapter or change.old
        new = change.new_chapter or change.new
        return Suggestion(f"Chapter renumbered: {old} is now {new}", "minor",
                          "renumbered only; the text is unchanged")
    if kind == "heading.changed":
        return _heading(change)
    if kind in ("paragraph.inserted", "table.row.inserted"):
        what = "Added" if kind == "paragraph.inserted" else "Table row added"
        return _new_or_removed(change, f"{what}{_in_section(change)}: "
                               f"'{_excerpt(change.new)}'.{see}", change.new, "new text")
    if kind in ("paragraph.deleted", "table.row.deleted"):
        what = "Removed" if kind == "paragraph.deleted" else "Table row removed"
        return _new_or_removed(change, f"{what}{_in_section(change)}: "
                               f"'{_excerpt(change.old)}'.{see}", change.old, "text removed")
    if kind in ("paragraph.modified", "table.row.modified"):
        return _modified(change, see)
    if kind == "paragraph.moved":
        return Suggestion(f"Moved{_in_section(change)}: '{_excerpt(change.new or change.old)}'."
                          f"{see}", "minor", "moved; the words are kept")
    if kind.startswith("link."):
        return _link(change)
    if kind == "metadata.changed":
        return Suggestion(f"Chapter details updated ({change.location})", "minor",
                          "front matter only")
    if kind == "term.swept":
        where = ", ".join(change.chapters) or (change.chapter or "")
        return _text_change(change, f"References to '{change.old}' now say '{change.new}' "
                            f"in {where}", default=("minor", "terminology brought up to date"))
    return Suggestion(f"Updated: {change.location}", "minor", "no rule for this kind")


def _heading(change: Change) -> Suggestion:
    if not change.old:
        return Suggestion(f"New section: '{change.new}'", "minor",
                          "a heading; its paragraphs are changes of their own")
    if not change.new:
        return Suggestion(f"Section heading removed: '{change.old}'", "minor",
                          "a heading; its paragraphs are changes of their own")
    if _number_of(change.old) != _number_of(change.new) and \
            word_edit(change.old, change.new).punctuation_only:
        return Suggestion(f"Section renumbered: '{change.old}' is now '{change.new}'", "minor",
                          "renumbered only")
    return _text_change(change, f"Heading '{change.old}' is now '{change.new}'",
                        default=("minor", "a heading changed"))


def _number_of(text: str | None) -> str:
    match = _PARA_REF.match(text or "")
    return match.group(0).strip() if match else ""


def _text_change(change: Change, summary: str, default: tuple[str, str]) -> Suggestion:
    edit = word_edit(change.old or "", change.new or "")
    if edit.punctuation_only:
        return Suggestion(summary, "minor", "punctuation or capitals only")
    if edit.spelling_only:
        return Suggestion(summary, "minor", "spelling only")
    duty = _duty_change(edit)
    if duty:
        return Suggestion(summary, "major", _duty_reason(duty))
    numbers = _numbers(edit.removed + edit.added)
    if numbers:
        return Suggestion(summary, "major", f"a number or timescale changed ({numbers[0]})")
    return Suggestion(summary, *default)


def _duty_reason(duty: tuple[str, str]) -> str:
    old, new = duty
    return f"duty changed: '{old}' is now '{new}'"


def _new_or_removed(change: Change, summary: str, text: str | None,
                    plain: str) -> Suggestion:
    words = tokens(text or "")
    duty = [w for w in words if w.lower() in _CORE_DUTY]
    if duty:
        return Suggestion(summary, "major", f"{plain} with a duty word ('{duty[0].lower()}')")
    numbers = _numbers(words)
    if numbers:
        return Suggestion(summary, "major", f"{plain} with a number or timescale "
                          f"('{numbers[0]}')")
    return Suggestion(summary, "minor", f"{plain}; no duty word, number or timescale")


def _modified(change: Change, see: str) -> Suggestion:
    edit = word_edit(change.old or "", change.new or "")
    row = "Table row" if change.kind == "table.row.modified" else ""
    renumbered = _number_of(change.old) != _number_of(change.new)
    if edit.punctuation_only and renumbered and not row and \
            _PARA_REF.sub("", change.old or "") == _PARA_REF.sub("", change.new or ""):
        return Suggestion(f"Paragraph {_number_of(change.old).rstrip('.)')} is now "
                          f"{_number_of(change.new).rstrip('.)')}", "minor", "renumbered only")
    if edit.punctuation_only:
        what = "Table row: punctuation corrected" if row else "Punctuation corrected"
        return Suggestion(f"{what}{_in_section(change)}.{see}", "minor",
                          "punctuation or capitals only")
    if edit.spelling_only:
        old, new = edit.pairs[0]
        return Suggestion(f"Spelling corrected: '{' '.join(edit.removed)}' is now "
                          f"'{' '.join(edit.added)}'.{see}", "minor", "spelling only")
    duty = _duty_change(edit)
    if duty:
        old, new = duty
        if max(len(old.split()), len(new.split())) > 6:  # a rewrite that touches a duty
            return Suggestion(f"Updated{_in_section(change)}: {_pair_text(edit)}.{see}",
                              "major", "reworded, with a change of duty word")
        return Suggestion(f"Now says '{new}' where it said '{old}'.{see}", "major",
                          _duty_reason(duty))
    numbers = _numbers(edit.removed + edit.added)
    if numbers:
        return Suggestion(f"{_pair_text(edit)}.{see}", "major",
                          f"a number or timescale changed ('{numbers[0]}')")
    if edit.words_changed > 8:
        return Suggestion(f"Updated{_in_section(change)}: {_pair_text(edit)}.{see}", "major",
                          f"reworded ({edit.words_changed} words changed)")
    return Suggestion(f"Updated{_in_section(change)}: {_pair_text(edit)}.{see}", "minor",
                      f"small wording change ({edit.words_changed} words)")


def _pair_text(edit: WordEdit) -> str:
    old, new = edit.pairs[0]
    extra = len(edit.pairs) - 1
    more = f" (and {extra} more edit{'s' if extra > 1 else ''})" if extra else ""
    if not edit.removed:
        return f"now includes '{_clip_words(' '.join(edit.added))}'{more}"
    if not edit.added:
        return f"no longer says '{_clip_words(' '.join(edit.removed))}'{more}"
    return f"'{_clip_words(old)}' is now '{_clip_words(new)}'{more}"


def _clip_words(text: str, limit: int = 14) -> str:
    text = re.sub(r"\s+([.,;:!?)’'])", r"\1", text)
    text = re.sub(r"([(‘])\s+", r"\1", text).strip(" .,;:")
    words = text.split()
    return text if len(words) <= limit else " ".join(words[:limit]) + " ..."


def _link(change: Change) -> Suggestion:
    target = (_detail(change, "text") or _detail(change, "url") or change.new or change.old
              or change.location)
    if change.kind == "link.added":
        return Suggestion(f"Links added to {target}", "minor", "links only")
    if change.kind == "link.removed":
        target = _detail(change, "text") or _detail(change, "url") or change.old or target
        return Suggestion(f"Link removed: {target}", "minor", "links only")
    return Suggestion(f"Link updated: {target}", "minor", "links only")


def suggest_group(changes: Sequence[Change]) -> Suggestion:
    """One draft for an entry covering several changes."""
    if not changes:
        raise ValueError("no changes")
    parts = [suggest(c) for c in changes]
    significance = "major" if any(p.significance == "major" for p in parts) else "minor"
    reason = next(p.reason for p in parts if p.significance == significance)
    if len(changes) == 1:
        return parts[0]
    if all(c.kind == "link.added" for c in changes):
        targets = [p.summary.removeprefix("Links added to ") for p in parts]
        return Suggestion(f"Links added to {_and(targets)}", significance, reason)
    more = len(changes) - 1
    return Suggestion(f"{parts[0].summary.rstrip('.')} (and {more} related "
                      f"change{'s' if more > 1 else ''})", significance, reason)


def _and(items: Sequence[str]) -> str:
    unique = list(dict.fromkeys(items))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]
