"""The Atom feed of published releases (feedgen), one entry per release, newest first.

Nothing in it depends on when it is made: every date is a release's date, so the feed of a
release is the same bytes whenever it is rendered again.
"""

from __future__ import annotations

import datetime as dt
import re

from feedgen.feed import FeedGenerator
from jinja2.sandbox import SandboxedEnvironment

from pipeline.render import feed_entry_html
from pipeline.view import ReleaseRef, ReleaseView

FEED_FILE = "feed.atom"


def _when(release: ReleaseRef) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(release.date)
    except ValueError:
        day = dt.date(1980, 1, 1)
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "manual"


def atom_feed(view: ReleaseView, env: SandboxedEnvironment) -> bytes:
    """Each release's bulletin is expected at `<url>/<release id>/bulletin.html` (publish
    each release's `published/` folder there); without a `url` in editorial.toml, links are
    relative to where the feed is served."""
    manual = view.manual
    base = manual.url.rstrip("/") + "/" if manual.url else ""
    feed_id = base or f"urn:editorial:{_slug(manual.name)}"
    fg = FeedGenerator()
    fg.id(feed_id)
    fg.title(f"Updates to {manual.name}")
    fg.subtitle(f"What changed in each release of {manual.name}, and why.")
    fg.author({"name": manual.publisher or manual.name})
    fg.link(href=base or "./", rel="alternate")
    fg.link(href=f"{base}{view.release.id}/{FEED_FILE}", rel="self")
    fg.language("en")
    fg.generator("editorial")
    fg.updated(_when(view.feed[0].release))
    # feedgen puts the newest entry first when each is prepended; view.feed is newest first.
    for index in reversed(range(len(view.feed))):
        item = view.feed[index]
        ref = item.release
        entry = fg.add_entry()
        entry.id(f"{base}{ref.id}/" if base else f"{feed_id}:release:{ref.id}")
        entry.title(f"Updates to {manual.name} - {ref.month_year}")
        entry.link(href=f"{base}{ref.id}/bulletin.html", rel="alternate")
        entry.published(_when(ref))
        entry.updated(_when(ref))
        entry.content(feed_entry_html(view, env, index), type="html")
    return fg.atom_str(pretty=True)
