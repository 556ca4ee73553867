"""Front matter of plain `key: words` lines is read without YAML (chapters._simple_front_matter)
exactly as YAML reads it, and anything else is left to YAML."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import chapters

KEY = st.sampled_from(["id", "title", "part", "owner", "on", "Yes", "null", "x_y", "a-b",
                       "_k", "order", "y", "N", "TRUE"])
VALUE = st.sampled_from(["C004", "CP3", "A", "Child Protection", "Ann's plan", "a.b", "x -y",
                         "a - b", "e1", "yes", "No", "off", "On", "null", "NULL", "y", "n",
                         "1.5", "2023-03-01", "12:30", "0x1F", ".inf", "~", "a: b", "a #b",
                         "x  y", "trail ", "", "'q'", "\"q\"", "[a, b]", "Café", "a\tb", "-x",
                         "B2.6", "v.", "a_b", "&x", "*y", "!t", "%p", "@q", "`r"])
LINE = st.one_of(st.tuples(KEY, st.sampled_from([": ", ":  ", ":"]), VALUE).map("".join),
                 st.sampled_from(["", " ", "# c", "  - item", "...", "---x"]))
BOUNDARY = st.sampled_from(["---", "----", "--- ", "---\n"])


@settings(max_examples=500, deadline=None)
@given(BOUNDARY, st.lists(LINE, max_size=6), BOUNDARY, st.sampled_from(["", "\n", "\n\nBody.\n"]))
def test_plain_front_matter_is_read_as_yaml_reads_it(start: str, lines: list[str], end: str,
                                                      body: str) -> None:
    text = start + "\n" + "\n".join(lines) + "\n" + end + body
    fast = chapters._simple_front_matter(text)
    if fast is None:
        return
    handler = chapters._handler()
    assert handler.detect(text)
    fm_text, slow_body = handler.split(text)
    meta = chapters._load_yaml(fm_text) if fm_text.strip() else {}
    assert fast == (meta, slow_body, text[: len(text) - len(slow_body)].count("\n"))
    assert [type(v) for v in fast[0].values()] == [type(v) for v in meta.values()]


def test_a_manual_s_usual_front_matter_needs_no_yaml() -> None:
    text = "---\nid: CP3\ntitle: Child Protection Enquiries\npart: A\nowner: Ann\n---\n\nText.\n"
    assert chapters._simple_front_matter(text) == (
        {"id": "CP3", "title": "Child Protection Enquiries", "part": "A", "owner": "Ann"},
        "\nText.\n", 6)
    for other in ("order: 2", "on: x", "tags: [a, b]", "title: 'Quoted'", "id: 4.21"):
        assert chapters._simple_front_matter(f"---\nid: CP3\n{other}\n---\nx\n") is None
