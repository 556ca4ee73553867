"""The HTML bulletin and a changed chapter in a real browser: headless Chromium reads them,
its visible text is checked, and screenshots are kept in test-artifacts/.

Chromium is a system package (`apt-get install chromium`; .ci/run installs it). Without it
the tests are skipped with a reason, unless EDITORIAL_REQUIRE_BROWSER=1 (set by CI), which
makes a missing browser a failure.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_render_support import MAJOR_CP1, MAJOR_SWEEP, MINOR_CP2, Sample, build, git_identity

from pipeline.manual import open_manual
from pipeline.publish import render_preview

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
BROWSERS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
# Puts what the browser shows into the DOM, for --dump-dom to print: the page's rendered text
# (innerText: CSS applied, hidden text left out) and the computed colours of the box.
PROBE = """<script>
const box = document.querySelector('.updated');
const mark = document.querySelector('.changed');
const out = document.createElement('pre');
out.id = 'probe';
document.body.appendChild(out);
out.textContent = JSON.stringify({
  text: document.querySelector('main').innerText,
  box: box ? getComputedStyle(box).backgroundColor : null,
  mark: mark ? getComputedStyle(mark).backgroundColor : null,
  width: document.documentElement.scrollWidth});
</script>"""


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("EDITORIAL_REQUIRE_BROWSER") == "1":
        pytest.fail("EDITORIAL_REQUIRE_BROWSER=1 but no Chromium found (apt-get install "
                    "chromium)")
    pytest.skip("no Chromium here (apt-get install chromium); CI sets "
                "EDITORIAL_REQUIRE_BROWSER=1 to make this a failure")


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True)


def seen(page: Path, tmp: Path) -> dict[str, object]:
    """What Chromium shows of `page` (probed in a copy beside it, so links still resolve)."""
    probe = page.with_name(f".probe-{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                     encoding="utf-8")
    dom = chromium(probe, tmp / "profile", "--dump-dom").stdout
    probe.unlink()
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom[-2000:]
    return json.loads(html.unescape(found.group(1)))


def screenshot(page: Path, tmp: Path, name: str, size: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    target.unlink(missing_ok=True)
    chromium(page, tmp / "profile", f"--window-size={size}", f"--screenshot={target}")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return target


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    browser()
    base = tmp_path_factory.mktemp("browser")
    with git_identity(base / "home"):
        sample: Sample = build(base / "manual")
    return render_preview(open_manual(sample.root), "r2", base / "out", ("html",)).folder


def test_bulletin_as_chromium_shows_it(pages: Path, tmp_path: Path) -> None:
    shown = seen(pages / "bulletin.html", tmp_path)
    lines = [line.strip() for line in str(shown["text"]).splitlines() if line.strip()]
    assert lines[:3] == ["Test Board", "Updates to Test Procedures - September 2023",
                         "Date: 25 September 2023"]
    assert "Across the procedures" in lines and "CP1 - Recognising Abuse" in lines
    text = " ".join(lines)
    for summary, why in (MAJOR_SWEEP, MAJOR_CP1):
        assert summary in text and f"Why is this important? {why}" in text
    assert MINOR_CP2[0] not in text
    assert lines[-1] == "Queries to board@example.org"
    assert shown["width"] <= 1000  # no sideways scrolling at a desktop mail width
    shot = screenshot(pages / "bulletin.html", tmp_path, "bulletin.png", "1000,1400")
    assert shot.stat().st_size > 10_000


def test_changed_chapter_shows_its_box_and_marks(pages: Path, tmp_path: Path) -> None:
    shown = seen(pages / "chapters/CP1.html", tmp_path)
    text = str(shown["text"])
    assert "Updated September 2023" in text
    assert MAJOR_CP1[0] in text
    assert "UPDATED 2.1 Safeguarding means" in text  # the label, as the CSS shows it
    assert shown["box"] == "rgb(255, 244, 206)"
    assert shown["mark"] == "rgb(255, 248, 220)"
    screenshot(pages / "chapters/CP1.html", tmp_path, "chapter.png", "1000,1100")
    unchanged = seen(pages / "chapters/CP3.html", tmp_path)
    assert unchanged["box"] is None and unchanged["mark"] is None
    assert "Updated" not in str(unchanged["text"])
