"""JSON text for people and scripts: `dumps(data)` is `json.dumps(data, indent=2,
ensure_ascii=False)`, the same text, written faster.

With an indent, CPython (before 3.13) leaves its C encoder aside and writes the text with a
chain of Python generators, a few steps per value: a large change set spent more time in
json.dumps than in finding its term sweeps. Here the C encoder writes each list, tuple or
dict (not a subclass) that holds only strings, numbers, booleans and nulls (most changes) in
one call: told to put a newline and the container's inner indent between items, it writes
them as json.dumps does (the same escaping function for strings, the same `repr` for
numbers), and only its two brackets are left to put on lines of their own. Other containers
are written here, item by item, with json.dumps's separators. Anything else (a value
json.dumps would hand to its `default`, a cycle, a key that is not a string in an object the
C encoder does not write, any error) is left to json.dumps itself, so it fails or succeeds
exactly as it would.

The pieces are joined once, at the end: a large change set is a megabyte or two of text, and
each copy of it costs about a millisecond.
"""

from __future__ import annotations

import json
from json.encoder import INFINITY, c_make_encoder, encode_basestring
from typing import Any

_INDENT = "  "
# Values the C encoder writes as json.dumps does. Exact types: a subclass of str or int goes
# the longer way, which writes it as json.dumps does too.
_PLAIN = frozenset({str, int, float, bool, type(None)})
# Containers the C encoder reads as json.dumps does (it reads a subclass's items its own way).
_SEQUENCES = (list, tuple)
# The C encoder that puts items on lines indented `depth` times, by depth (made when needed).
_encoders: list[Any] = []


class _Unusual(Exception):
    """A value the fast writer leaves to json.dumps."""


def dumps(data: Any, end: str = "") -> str:
    """`json.dumps(data, indent=2, ensure_ascii=False) + end`."""
    out: list[str] = []
    try:
        _value(data, 0, out)
    except (_Unusual, RecursionError, TypeError, ValueError):
        # json.dumps raises its own error, as it would have
        return json.dumps(data, indent=2, ensure_ascii=False) + end
    out.append(end)
    return "".join(out)


def _flat(o: dict[Any, Any] | list[Any] | tuple[Any, ...], level: int) -> str:
    """A non-empty container at `level` of plain values only."""
    depth = level + 1
    while len(_encoders) <= depth:
        indent = "\n" + _INDENT * len(_encoders)
        _encoders.append(c_make_encoder(None, None, encode_basestring, None, ": ",
                                        "," + indent, False, False, True))
    text = "".join(_encoders[depth](o, 0))
    return "".join((text[0], "\n", _INDENT * depth, text[1:-1], "\n", _INDENT * level,
                    text[-1]))


def _value(o: Any, level: int, out: list[str]) -> None:
    # In the order of json's own tests: a str subclass is a string, True is not an int.
    if isinstance(o, str):
        out.append(encode_basestring(o))
    elif o is None:
        out.append("null")
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif isinstance(o, int):
        out.append(int.__repr__(o))
    elif isinstance(o, float):
        out.append(_float(o))
    elif isinstance(o, (list, tuple)):
        _list(o, level, out)
    elif isinstance(o, dict):
        _dict(o, level, out)
    else:
        raise _Unusual


def _float(o: float) -> str:
    if o != o:
        return "NaN"
    if o == INFINITY:
        return "Infinity"
    if o == -INFINITY:
        return "-Infinity"
    return float.__repr__(o)


def _list(lst: list[Any] | tuple[Any, ...], level: int, out: list[str]) -> None:
    if not lst:
        out.append("[]")
        return
    if (c_make_encoder is not None and type(lst) in _SEQUENCES
            and _PLAIN.issuperset(map(type, lst))):
        out.append(_flat(lst, level))
        return
    inner = level + 1
    indent = "\n" + _INDENT * inner
    sep = "[" + indent
    for value in lst:
        out.append(sep)
        sep = "," + indent
        if type(value) is dict:
            _dict(value, inner, out)
        else:
            _value(value, inner, out)
    out.append("\n" + _INDENT * level + "]")


def _dict(dct: dict[Any, Any], level: int, out: list[str]) -> None:
    if not dct:
        out.append("{}")
        return
    if (c_make_encoder is not None and type(dct) is dict
            and _PLAIN.issuperset(map(type, dct.values()))):
        out.append(_flat(dct, level))
        return
    inner = level + 1
    indent = "\n" + _INDENT * inner
    sep = "{" + indent
    for key, value in dct.items():
        if not isinstance(key, str):
            raise _Unusual
        out.append(sep)
        sep = "," + indent
        out.append(encode_basestring(key) + ": ")
        _value(value, inner, out)
    out.append("\n" + _INDENT * level + "}")
