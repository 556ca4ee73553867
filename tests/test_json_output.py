"""`jsonout.dumps` writes exactly what `json.dumps(data, indent=2, ensure_ascii=False)` writes
(hypothesis over nested data of every kind JSON has, and some it has not), and fails the same
way where json.dumps fails."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import jsonout


class Name(str):
    """A str subclass: json writes it as a string."""


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def reference(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


# Text that needs escaping: quotes, backslashes, every control character, the separators the
# fast writer puts between items, brackets, non-ASCII and lone surrogates.
TRICKY = st.lists(st.sampled_from(
    ['"', "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", ",", ":", " ", "{", "}",
     "[", "]", "a", "Z", "0", "é", "中", "\u2028", "\ud800", "😀", ",\n  ", '": "', "},\n  {",
     "\\u000a"]), max_size=12).map("".join)
KEYS = st.one_of(st.text(max_size=8), TRICKY, st.sampled_from(["id", "kind", "old", "new"]))
LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(), TRICKY,
    st.builds(Name, TRICKY), st.sampled_from(list(Level)),
)


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=6),
        st.lists(children, max_size=6).map(tuple),
        st.dictionaries(KEYS, children, max_size=6),
        # Lists of objects, as a change set is: runs of flat ones with others among them.
        st.lists(st.dictionaries(KEYS, children, max_size=4), max_size=6),
    )


DATA = st.recursive(LEAVES, containers, max_leaves=40)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(DATA)
def test_same_text_as_json_dumps(data: Any) -> None:
    assert jsonout.dumps(data) == reference(data)
    assert jsonout.dumps(data, end="\n") == reference(data) + "\n"


@given(st.dictionaries(st.one_of(st.integers(), st.floats(), st.booleans(), st.none(),
                                 st.sampled_from(list(Level))),
                       st.one_of(LEAVES, st.lists(LEAVES, max_size=3)), max_size=5))
def test_keys_that_are_not_strings(data: dict[Any, Any]) -> None:
    """json.dumps writes int, float, bool and None keys as strings."""
    assert jsonout.dumps(data) == reference(data)
    assert jsonout.dumps({"outer": data, "more": [data]}) == reference({"outer": data,
                                                                      "more": [data]})


def test_a_change_set_shape() -> None:
    change = {"id": "CP1-mod-0a1b2c3d", "kind": "paragraph.modified", "chapter": "CP1",
              "location": 'section "Scope", paragraph 2', "old": "a\tb", "new": "a b",
              "redline": "a[-\t-]{+ +}b", "line": 12}
    moved = {**change, "kind": "paragraph.moved", "detail": {"from": "paragraph 1"},
             "chapters": ["CP1", "CP2"]}
    sweep = {**change, "places": [{"chapter": "CP1", "location": "x", "line": None},
                                  {"chapter": "CP2", "location": "y", "line": 3}],
             "detail": {"occurrences": 2, "other_old_values": (("CP1", "a"), ("CP2", None))}}
    data = {"from": "r1", "to": None,
            "changes": [change, change, moved, change, {}, sweep, change, {}, {}, change]}
    assert jsonout.dumps(data) == reference(data)
    assert jsonout.dumps({"from": None, "to": "r2", "changes": []}) == reference(
        {"from": None, "to": "r2", "changes": []})


@pytest.mark.parametrize("data", [{"a": object()}, [1, {2, 3}], {("a",): 1}, {"a": [b"x"]}])
def test_what_json_cannot_write_fails_the_same_way(data: Any) -> None:
    with pytest.raises(TypeError) as expected:
        reference(data)
    with pytest.raises(TypeError) as got:
        jsonout.dumps(data)
    assert str(got.value) == str(expected.value)


def test_a_cycle_fails_the_same_way() -> None:
    data: dict[str, Any] = {"a": [1]}
    data["a"].append(data)
    with pytest.raises(ValueError, match="Circular reference detected"):
        jsonout.dumps(data)


class Reversed(list[Any]):
    """A list whose items json.dumps reads through its own iteration."""

    def __iter__(self) -> Iterator[Any]:
        return reversed(list(super().__iter__()))


class Keys(dict[str, Any]):
    """A dict whose items json.dumps reads through its own items()."""

    def items(self) -> Any:
        return [(k, v) for k, v in super().items() if k != "hidden"]


def test_subclasses_are_read_as_json_dumps_reads_them() -> None:
    data = {"list": Reversed(["a", "b", 1]), "dict": Keys({"a": 1, "hidden": 2}),
            "nested": [Keys({"hidden": "x", "b": None}), Reversed([])]}
    assert jsonout.dumps(data) == reference(data)
