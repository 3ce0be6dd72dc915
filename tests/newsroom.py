"""Test helpers for the news workflow: a small dated story corpus, RSS/Atom builders and a local web site.

``NewsSite`` serves pages and feeds from a dict on 127.0.0.1 (a free port), counts the requests per
path and can be changed between requests (a feed that gets new items); the test stops it.
"""

from __future__ import annotations

import threading
import time
from email.utils import format_datetime
from datetime import datetime, timezone
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (slug, title, date, source, paragraphs): a story followed over days, and unrelated articles.
STORY = [
    ("border-1", "Chile's candidate tells migrants to leave before the vote", "2025-11-18", "latin-wire.example", [
        "José Antonio Kast, the front-runner in Chile's presidential race, told migrants without legal status to leave the country before he takes office.",
        "Hundreds of Venezuelan migrants gathered at the northern border town of Arica in the days after the speech, aid workers said.",
    ]),
    ("border-2", "Migrants crowd the Chile-Peru border crossing", "2025-11-24", "andes-daily.example", [
        "Thousands of migrants leaving Chile crowded the Chacalluta border crossing with Peru on Monday, waiting for days in the desert heat.",
        "Peruvian officials said the border post at Santa Rosa could not process so many people without documents.",
    ]),
    ("border-3", "Peru declares a state of emergency at its border with Chile", "2025-11-28", "apnews.example", [
        "Peru declared a state of emergency at its southern border with Chile on Friday as migrants leaving Chile triggered a backlash in Tacna.",
        "The decree sends soldiers to support the police along the border for sixty days, the government said.",
    ]),
    ("border-4", "Chile and Peru agree on a humanitarian corridor for migrants", "2025-12-03", "latin-wire.example", [
        "Chile and Peru agreed on Wednesday to open a humanitarian corridor so that migrants stranded at the border can travel on to Bolivia and Venezuela.",
        "The foreign ministers of both countries said buses would carry families with children first.",
    ]),
    ("lighthouse", "Harbour town restores its 1880 lighthouse", "2024-03-05", "coastal-herald.example", [
        "The town of Port Elsby reopened its 1880 lighthouse on Tuesday after a two-year restoration that cost 4.2 million euros.",
        "Volunteers replaced the copper lantern roof and rebuilt the spiral staircase, said the restoration committee chair, Mira Oduya.",
    ]),
    ("railway", "Night train returns between two alpine valleys", "2025-06-10", "rail-news.example", [
        "A night train between the two alpine valleys of Orsen and Valdiera resumed service on Sunday after twelve years.",
        "The operator said sleeper cabins were sold out for the first month of the summer timetable.",
    ]),
]


def page_html(title: str, paragraphs: list[str], *, date: str | None = None, with_title: bool = True) -> str:
    """An article page; ``date`` adds a publication-date meta tag, ``with_title`` a <title> and <h1>."""
    head = f"<title>{escape(title)}</title>" if with_title else ""
    if date:
        head += f'<meta property="article:published_time" content="{date}">'
    h1 = f"<h1>{escape(title)}</h1>" if with_title else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"<html><head>{head}</head><body><article>{h1}{body}</article></body></html>"


def _rfc822(day: str) -> str:
    return format_datetime(datetime.fromisoformat(day).replace(hour=9, tzinfo=timezone.utc))


def rss(title: str, items: list[dict]) -> str:
    """An RSS 2.0 feed; items: dicts with title, link, date (YYYY-MM-DD), summary (all optional)."""
    entries = []
    for item in items:
        parts = [f"<title>{escape(item['title'])}</title>"] if item.get("title") else []
        if item.get("link"):
            parts.append(f"<link>{escape(item['link'])}</link><guid>{escape(item['link'])}</guid>")
        if item.get("date"):
            parts.append(f"<pubDate>{_rfc822(item['date'])}</pubDate>")
        if item.get("summary"):
            parts.append(f"<description>{escape(item['summary'])}</description>")
        entries.append(f"<item>{''.join(parts)}</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.invalid/</link><description>test feed</description>"
        f"{''.join(entries)}</channel></rss>"
    )


def atom(title: str, items: list[dict]) -> str:
    """An Atom 1.0 feed with the same item dicts as ``rss``."""
    entries = []
    for n, item in enumerate(items):
        parts = [f"<title>{escape(item.get('title', ''))}</title>", f"<id>urn:test:{n}:{escape(item.get('link', ''))}</id>"]
        if item.get("link"):
            parts.append(f'<link rel="alternate" href="{escape(item["link"])}"/>')
        if item.get("date"):
            parts.append(f"<updated>{item['date']}T09:00:00Z</updated>")
        if item.get("summary"):
            parts.append(f'<summary type="html">{escape(item["summary"])}</summary>')
        entries.append(f"<entry>{''.join(parts)}</entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test:feed</id><updated>2025-12-03T09:00:00Z</updated>"
        f"{''.join(entries)}</feed>"
    )


class NewsSite:
    """Pages and feeds served from ``routes`` (path -> (status, content type, body)) on 127.0.0.1."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        self.hits: dict[str, int] = {}
        self.delays: dict[str, float] = {}  # path -> seconds to wait before answering (a slow page)
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                time.sleep(site.delays.get(self.path, 0))
                status, kind, body = site.routes.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def page(self, path: str, html: str) -> str:
        self.routes[path] = (200, "text/html; charset=utf-8", html.encode())
        return self.url(path)

    def feed(self, path: str, xml: str, kind: str = "application/rss+xml") -> str:
        self.routes[path] = (200, kind, xml.encode())
        return self.url(path)

    def story_pages(self, slugs: list[str] | None = None, *, dated: bool = False) -> list[dict]:
        """Serve the ``STORY`` pages (all, or these slugs); the feed item dicts pointing at them."""
        items = []
        for slug, title, date, source, paragraphs in STORY:
            if slugs is None or slug in slugs:
                link = self.page(f"/news/{slug}.html", page_html(title, paragraphs, date=date if dated else None))
                items.append({"title": title, "link": link, "date": date, "summary": paragraphs[0]})
        return items

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_story(folder, slugs: list[str] | None = None) -> list:
    """The ``STORY`` articles as Markdown files with front matter (title, date, source, url) in ``folder``."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for slug, title, date, source, paragraphs in STORY:
        if slugs is None or slug in slugs:
            path = folder / f"{slug}.md"
            front = f"---\ntitle: \"{title}\"\ndate: {date}\nsource: {source}\nurl: https://{source}/{slug}\n---\n"
            path.write_text(front + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
            paths.append(path)
    return paths
