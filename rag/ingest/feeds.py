"""Feeds: RSS 2.0 and Atom subscriptions that keep the index current.

A feed is read into items by ``feed_parse.py`` (feedparser); each new item's linked page is fetched and cleaned like any URL
(``corpus.load_sources``: ``fetch.py``'s total deadline, size cap and private-address rules, trafilatura
for the page), and the feed's title, date and link fill in what the page lacks. A page that cannot be
fetched falls back to the item's own summary or content when that is an article's worth of text (and
the result line says so). Items already indexed are skipped by URL before anything is fetched, and by
content hash when indexed (the ``Ingestor``'s duplicate check). A failing item gets one line and never
stops the feed; a feed that cannot be read changes nothing in the index.

Pages are fetched outside the writer queue; only the indexing of the loaded articles goes through
``Assistant.ingest`` (one writer at a time, questions answered meanwhile). Subscriptions live in
``data_dir/feeds.json`` (``subscriptions.py``), with each feed's last refresh and its outcome.
``FeedRefresher`` refreshes them on the ``feed_refresh_minutes`` interval on a background thread.
Parsing pages, chunking and storage are the other stages'; the Feeds section of the web app is
``rag/web/news.py``'s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.ingest.library import Outcome, one_line
from rag.ingest.articles import domain
from rag.ingest.sources import is_url
from rag.ingest.feed_parse import FeedError, FeedItem, ParsedFeed, looks_like_feed, parse_feed
from rag.ingest.subscriptions import FEEDS_FILE, FeedList, Subscription
from rag.types import Article

log = logging.getLogger("newsdesk.feeds")

MIN_SUMMARY_WORDS = 40  # an item summary shorter than this is a teaser, not an article to index
PAGE_WORKERS = 4  # item pages fetched at once (network-bound; the deadline applies to each)


@dataclass
class FeedResult:
    """What reading one feed did: a line per item that was added, fell back, was a duplicate or failed."""

    url: str
    title: str = ""
    ok: bool = True  # False: the feed itself could not be read (nothing changed)
    error: str = ""
    items: int = 0
    added: int = 0
    skipped: int = 0  # already indexed (by URL or content)
    failed: int = 0
    lines: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.ok:
            return f"failed: {self.error}"
        return f"{self.items} items: {self.added} added, {self.skipped} already indexed, {self.failed} failed"


# --- the service ---------------------------------------------------------------------------------------


class FeedService:
    """Subscribe, unsubscribe, refresh and ingest feeds for one ``Assistant``; results as ``Outcome`` lines."""

    def __init__(self, assistant) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.feeds = FeedList(Path(self.settings.storage.data_dir) / FEEDS_FILE)
        self._refreshing = threading.Lock()  # one refresh at a time (background and "refresh now")

    def _fetch(self, url: str):
        from rag.ingest.fetch import fetch

        s = self.settings.ingest
        return fetch(url, max_bytes=int(s.max_file_mb * 1e6), deadline_s=s.fetch_timeout_s, allow_private=self.assistant.library.allow_private)

    def read(self, url: str) -> ParsedFeed:
        """Fetch and parse the feed at ``url``; ``FeedError`` (one line) when that fails."""
        from rag.ingest.fetch import FetchError

        url = (url or "").strip()
        if not is_url(url):
            raise FeedError(f"“{url}” is not a web address: it must start with http:// or https://")
        try:
            fetched = self._fetch(url)
        except FetchError as error:
            raise FeedError(str(error)) from None
        return parse_feed(fetched.data, fetched.url)

    # --- subscriptions -----------------------------------------------------------------------------

    def subscriptions(self) -> list[Subscription]:
        return self.feeds.load()

    def add(self, url: str, *, refresh: bool = True) -> list[Outcome]:
        """Subscribe to the feed at ``url`` (it must parse as a feed), then index its items."""
        url = (url or "").strip()
        try:
            if any(s.url == url for s in self.subscriptions()):
                return [Outcome("info", f"already subscribed to {url}")]
            feed = self.read(url)
            stamp = _now()
            self.feeds.update(lambda subs: subs.append(Subscription(url=url, title=feed.title, added=stamp)))
        except FeedError as error:
            return [Outcome("failed", f"{url}: {error}")]
        lines = [Outcome("info", f"subscribed to “{feed.title}” ({len(feed.items)} items)")]
        if refresh:
            lines += self.refresh([url])[0].lines
        return lines

    def remove(self, url: str) -> list[Outcome]:
        """Unsubscribe; the articles it brought stay indexed (delete them in the article list)."""
        url = (url or "").strip()
        try:
            before = self.subscriptions()
            if not any(s.url == url for s in before):
                return [Outcome("info", f"not subscribed to {url}")]
            self.feeds.update(lambda subs: subs.__setitem__(slice(None), [s for s in subs if s.url != url]))
        except FeedError as error:
            return [Outcome("failed", str(error))]
        title = next(s.title for s in before if s.url == url)
        return [Outcome("removed", f"unsubscribed from “{title or url}”; its articles stay in the index")]

    def refresh(self, urls: list[str] | None = None, on_progress=None) -> list[FeedResult]:
        """Read the subscribed feeds (or those of ``urls``) and index their new items; one result per feed."""
        with self._refreshing:
            try:
                subscriptions = self.subscriptions()
            except FeedError as error:
                return [FeedResult(url=FEEDS_FILE, ok=False, error=str(error))]
            wanted = [s for s in subscriptions if urls is None or s.url in urls]
            results = []
            for number, subscription in enumerate(wanted, 1):
                if on_progress:
                    on_progress(number, f"feed {number} of {len(wanted)}: {subscription.title or subscription.url}")
                result = self.ingest_feed(subscription.url)
                results.append(result)
                self._record(result)
            return results

    def _record(self, result: FeedResult) -> None:
        def change(subscriptions: list[Subscription]) -> None:
            for s in subscriptions:
                if s.url == result.url:
                    s.last_refresh, s.last_outcome, s.last_ok, s.last_failed = _now(), result.summary(), result.ok, result.failed
                    s.title = result.title or s.title

        try:
            self.feeds.update(change)
        except (FeedError, OSError):
            log.exception("recording the refresh of %s failed", result.url)

    # --- ingesting ---------------------------------------------------------------------------------

    def ingest_feed(self, url: str, feed: ParsedFeed | None = None) -> FeedResult:
        """Index the items of the feed at ``url`` once (no subscription); ``feed``: already parsed."""
        started = time.perf_counter()
        result = FeedResult(url=url)
        try:
            feed = feed or self.read(url)
        except FeedError as error:
            result.ok, result.error = False, str(error)
            result.lines.append(Outcome("failed", f"{url}: {error}"))
            return result
        result.title, result.items = feed.title, len(feed.items)
        known = self._known_urls()
        fresh = [item for item in feed.items if not (item.link and item.link in known) and _item_origin(feed, item) not in known]
        result.skipped = len(feed.items) - len(fresh)
        articles = []
        # One deadline for the whole feed (feed_deadline_s), not one per item: 40 slow pages cannot hold
        # a refresh (and the writer after it) for 40 fetch deadlines. Items left wait for the next refresh.
        deadline = time.monotonic() + self.settings.news.feed_deadline_s
        with ThreadPoolExecutor(max_workers=PAGE_WORKERS) as pool:
            for item, (article, line) in zip(fresh, pool.map(lambda item: self._load_item(feed, item, deadline), fresh)):
                if line is not None:
                    result.lines.append(line)
                if article is None:
                    result.failed += 1
                else:
                    articles.append(article)
        if articles:
            try:
                report = self.assistant.ingest(articles)
            except Exception as error:  # the store failed: nothing of this feed was half-written (store.py)
                log.exception("indexing the items of %s failed", url)
                result.ok, result.error = False, f"could not index ({one_line(error)})"
                result.lines.append(Outcome("failed", f"{feed.title}: {result.error}"))
                return result
            result.added = len(report.added) + len(report.updated)
            result.skipped += len(report.unchanged) + len(report.duplicates)
            result.failed += len(report.failed)
            result.lines += self.assistant.library.report_outcomes(report, "")
        result.lines.insert(0, Outcome("info", f"“{feed.title}”: {result.summary()}"))
        result.seconds = time.perf_counter() - started
        return result

    def _known_urls(self) -> set[str]:
        """URLs and origins of everything indexed (items already there are not fetched again)."""
        known = {e.origin for e in self.assistant.store.registry().values() if e.origin}
        return known | {a.url for a in self.assistant.articles() if a.url}

    def _load_item(self, feed: ParsedFeed, item: FeedItem, deadline: float) -> tuple[Article | None, Outcome | None]:
        """The item's article (its page, else its summary) and a line when something is worth saying;
        its page is fetched only within the feed's ``deadline`` (``time.monotonic()``)."""
        from rag.ingest.articles import LoadFailure
        from rag.ingest.corpus import load_sources

        name = item.title or item.link or "untitled item"
        reason = "the item has no link"
        left = deadline - time.monotonic()
        if left <= 0:
            seconds = self.settings.news.feed_deadline_s
            return None, Outcome("failed", f"“{name}”: not fetched, the feed's {seconds:g} s (setting feed_deadline_s) ran out; the next refresh tries it")
        if item.link:
            s = self.settings.ingest
            try:
                loaded = next(
                    load_sources(
                        [item.link], max_bytes=int(s.max_file_mb * 1e6), fetch_timeout_s=min(s.fetch_timeout_s, left), allow_private=self.assistant.library.allow_private
                    ),
                    None,
                )
            except Exception as error:  # load_sources turns loader errors into LoadFailures; this is a safety net
                loaded = LoadFailure(item.link, one_line(error))
            if isinstance(loaded, Article):
                return _with_feed_metadata(loaded, feed, item), None
            reason = loaded.reason if loaded is not None else "no article in the page"
        if len(item.summary.split()) >= MIN_SUMMARY_WORDS:
            article = self._summary_article(feed, item)
            if article is not None:
                return article, Outcome("info", f"“{name}”: the page could not be read ({reason}); indexed the feed's own text instead")
        return None, Outcome("failed", f"“{name}” ({item.link or feed.url}): {reason}")

    def _summary_article(self, feed: ParsedFeed, item: FeedItem) -> Article | None:
        from rag.ingest.articles import BadSource, make_article, make_id

        origin = _item_origin(feed, item)
        try:
            return make_article(
                item.summary,
                origin=origin,
                article_id=make_id("u", origin),  # the id fetching the page would give it
                title=item.title or None,
                date=item.date,
                url=item.link,
                source=feed_source(feed, ""),
            )
        except BadSource:
            return None

    # --- the CLI's ``ingest`` ---------------------------------------------------------------------------

    def expand(self, sources: list) -> tuple[list, list[FeedResult], list[tuple[str, str]]]:
        """``ingest``'s sources with each feed URL ingested as a feed: (the other sources, feed results,
        (url, reason) of URLs that failed).

        A URL is fetched once: a feed is ingested item by item, a page becomes its ``Article`` for the
        normal ingest. Files and folders pass through untouched."""
        from rag.ingest.articles import BadSource
        from rag.ingest.readers import article_from_fetched
        from rag.ingest.fetch import FetchError

        rest, results, failed = [], [], []
        for source in sources:
            if not is_url(str(source)):
                rest.append(source)
                continue
            try:
                fetched = self._fetch(str(source))
            except FetchError as error:
                failed.append((str(source), str(error)))
                continue
            if looks_like_feed(fetched.content_type, fetched.data):
                try:
                    results.append(self.ingest_feed(str(source), parse_feed(fetched.data, fetched.url)))
                    continue
                except FeedError:
                    pass  # XML that is no feed: read it as a page
            try:
                rest.append(article_from_fetched(fetched, str(source)))
            except BadSource as error:
                failed.append((str(source), str(error)))
            except Exception as error:
                failed.append((str(source), f"could not read: {one_line(error)}"))
        return rest, results, failed


def _item_origin(feed: ParsedFeed, item: FeedItem) -> str:
    """Where an item's article comes from: its link, else the feed URL with the item's id."""
    return item.link or f"{feed.url}#{item.guid or hashlib.sha256(item.title.encode()).hexdigest()[:12]}"


def _with_feed_metadata(article: Article, feed: ParsedFeed, item: FeedItem) -> Article:
    """The page's article with the feed's title, date, source and link where the page lacks them."""
    from rag.ingest.clean import derive_title

    changes: dict = {}
    if item.title and (not article.title or article.title == derive_title(article.text)):
        changes["title"] = item.title  # the page had no title of its own (one was made from its first words)
    if article.date is None and item.date is not None:
        changes["date"] = item.date
    if not article.url and item.link:
        changes["url"] = item.link
    source = feed_source(feed, article.source)
    if source != article.source:
        changes["source"] = source
    return replace(article, **changes) if changes else article


# A source that is only an address ("127.0.0.1:8765", "example.org"): what a page without a site name gets.
_ADDRESS = re.compile(r"(?i)^(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d+)?$")


def feed_source(feed: ParsedFeed, page_source: str) -> str:
    """A feed item's source: the feed's publisher (its title), else the page's own site name, never a
    bare host and port; the feed's host (without port) when nothing names the publisher."""
    if feed.publisher:
        return feed.publisher
    if page_source and not (_ADDRESS.match(page_source) and ("." in page_source or ":" in page_source)):
        return page_source
    return domain(feed.url) or page_source


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


# --- background refresh ---------------------------------------------------------------------------------


class FeedRefresher:
    """Refreshes the subscribed feeds every ``minutes`` on a daemon thread (first right after ``start``)."""

    def __init__(self, service: FeedService, minutes: float) -> None:
        self.service = service
        self.interval_s = minutes * 60
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> FeedRefresher:
        self._thread = threading.Thread(target=self._loop, name="newsdesk-feeds", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                for result in self.service.refresh():
                    log.info("feed %s: %s", result.url, result.summary())
            except Exception:  # a refresh must never end the loop (nor the app)
                log.exception("refreshing the feeds failed")
            self.runs += 1
            self._stop.wait(self.interval_s)

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def start_refresher(assistant) -> FeedRefresher | None:
    """Start refreshing ``assistant``'s feeds every ``feed_refresh_minutes``; None when the setting is 0."""
    minutes = assistant.settings.news.feed_refresh_minutes
    return FeedRefresher(assistant.feeds, minutes).start() if minutes > 0 else None


__all__ = [
    "FeedError", "FeedItem", "FeedList", "FeedRefresher", "FeedResult", "FeedService", "ParsedFeed", "Subscription",
    "looks_like_feed", "parse_feed", "start_refresher",
]  # fmt: skip
