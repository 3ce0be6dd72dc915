"""Every input format and every kind of bad input, on real files and a real local HTTP server."""

import datetime as dt
import gzip
import json
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import SAMPLE_ARTICLE, minimal_pdf

from rag.ingest.articles import LoadFailure
from rag.ingest.corpus import load_sources
from rag.types import Article

MB = 1_000_000
HTML_PAGE = """<!doctype html><html><head><title>Harbour reopens after storm - Coast Times</title>
<meta property="og:title" content="Harbour reopens after storm">
<meta property="article:published_time" content="2025-10-03T09:00:00Z">
<meta name="author" content="Jane Doe"></head>
<body><nav>Home | World | Sport | Subscribe</nav>
<article><h1>Harbour reopens after storm</h1>
<p>The harbour of Port Vale reopened on Friday after a storm closed it for nine days, the port authority said.</p>
<p>Fishing crews returned to sea at dawn, and the first ferry left at noon with 240 passengers on board.</p>
<p>Repairs to the damaged north pier will cost about 3 million euros and take until March, officials said.</p>
</article><footer>© Coast Times. All rights reserved. Cookie settings.</footer></body></html>"""


def load(*sources, max_bytes=20 * MB, allow_private=True, fetch_timeout_s=5):
    return list(load_sources(sources, max_bytes=max_bytes, fetch_timeout_s=fetch_timeout_s, allow_private=allow_private))


def only_article(items) -> Article:
    assert len(items) == 1 and isinstance(items[0], Article), items
    return items[0]


def test_txt_sample(tmp_path):
    article = only_article(load(SAMPLE_ARTICLE))
    assert article.date == dt.date(2025, 11, 28)
    # The bundled sample's front matter gives the real title, source and URL; the date header and the
    # banner below it still work.
    assert article.title == "Peru to declare a state of emergency as migrants leaving Chile trigger backlash"
    assert (article.source, article.url) == ("apnews.com", "https://www.independent.co.uk/news/chile-peru-santiago-venezuelan-people-b2874619.html")
    assert article.authors == ("Nayara Batschke", "David Pereda Zavaleta")
    assert article.text.startswith("President José Jarí of Peru said") and "---" not in article.text
    assert article.id.startswith("f_") and len(article.content_hash) == 64
    assert article.origin == str(SAMPLE_ARTICLE.resolve())


def test_markdown_front_matter(tmp_path):
    path = tmp_path / "story.md"
    path.write_text("---\ntitle: Rail strike ends\ndate: 2025-09-14\nsource: Daily Wire\nurl: https://example.org/rail\nauthors: [A. Writer]\n---\nThe rail strike ended on Sunday after unions accepted a 4% raise.\n", encoding="utf-8")
    article = only_article(load(path))
    assert (article.title, article.date, article.source, article.url) == ("Rail strike ends", dt.date(2025, 9, 14), "Daily Wire", "https://example.org/rail")
    assert article.authors == ("A. Writer",)
    assert article.text.startswith("The rail strike ended on Sunday")


def test_html_main_text_and_metadata(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    article = only_article(load(path))
    assert article.title == "Harbour reopens after storm"
    assert article.date == dt.date(2025, 10, 3)
    assert "reopened on Friday" in article.text and "3 million euros" in article.text
    assert "Subscribe" not in article.text and "Cookie" not in article.text


def test_pdf(tmp_path):
    path = tmp_path / "budget.pdf"
    info = "/Title (Budget vote delayed) /CreationDate (D:20261205120000Z)"  # when the file was made
    path.write_bytes(minimal_pdf("2 December 2025. The budget vote was delayed until September by the finance committee.", info))
    article = only_article(load(path))
    assert article.title == "Budget vote delayed"
    assert article.date == dt.date(2025, 12, 2)  # the date the article's text gives, not the file's
    assert "budget vote was delayed until September" in article.text


def test_a_pdf_without_a_date_in_its_text_is_undated(tmp_path):
    path = tmp_path / "undated.pdf"
    path.write_bytes(minimal_pdf("The budget vote was delayed until September.", "/CreationDate (D:20261205120000Z)"))
    assert only_article(load(path)).date is None


def test_jsonl_gz_in_the_realtimeqa_shape_and_json_list(tmp_path):
    records = [
        {"doc_id": "rtqa_1", "url": "https://www.cnn.com/2022/06/12/a.html", "title": "A title", "text": "First story text about a river.", "authors": ["X"], "publish_date": "2022/06/12", "source_domain": "cnn.com"},
        {"doc_id": "rtqa_2", "url": "https://usatoday.com/b", "title": None, "text": "Second story, without a title, about a mountain.", "authors": [], "publish_date": "2022/07/01", "source_domain": "usatoday.com"},
    ]
    gz = tmp_path / "c.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(r) for r in records) + "\n")
    first, second = load(gz)
    assert (first.id, first.title, first.date, first.source, first.authors) == ("rtqa_1", "A title", dt.date(2022, 6, 12), "cnn.com", ("X",))
    assert second.id == "rtqa_2" and second.title.startswith("Second story") and second.date == dt.date(2022, 7, 1)

    as_list = tmp_path / "c.json"
    as_list.write_text(json.dumps([{"title": "T", "text": "Body of a story about rain.", "date": "2024-01-02"}]), encoding="utf-8")
    article = only_article(load(as_list))
    assert article.title == "T" and article.date == dt.date(2024, 1, 2)
    assert only_article(load(as_list)).id == article.id  # stable id without an explicit one


def test_bad_inputs_each_get_one_line_and_the_rest_loads(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 10)
    (tmp_path / "big.txt").write_text("word " * 300_000, encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "mixed.jsonl").write_text('{"title": "Good", "text": "A good record about trains."}\n{broken\n{"title": "No text"}\n', encoding="utf-8")
    (tmp_path / "good.txt").write_text("A perfectly fine story about a new school opening.", encoding="utf-8")
    items = load(tmp_path, "/nonexistent/file.txt", max_bytes=1 * MB)
    failures = {Path(f.origin.split(":")[0].split("#")[0]).name: f.reason for f in items if isinstance(f, LoadFailure)}
    articles = [a for a in items if isinstance(a, Article)]
    assert sorted(a.title for a in articles) == ["A perfectly fine story about a new school opening.", "Good"]
    assert "empty" in failures["empty.txt"]
    assert "binary" in failures["binary.txt"]
    assert "too large" in failures["big.txt"]
    assert "PDF" in failures["broken.pdf"] or "could not read" in failures["broken.pdf"]
    assert "malformed JSON" in failures["bad.json"]
    assert "unsupported file type" in failures["notes.docx"]
    assert "no such file" in failures["file.txt"]
    mixed = [f.reason for f in items if isinstance(f, LoadFailure) and "mixed.jsonl" in f.origin]
    assert len(mixed) == 2 and any("malformed JSON line" in r for r in mixed) and any("no 'text'" in r for r in mixed)
    assert all("\n" not in f.reason for f in items if isinstance(f, LoadFailure))


@pytest.fixture
def http_server(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "story.html").write_text(HTML_PAGE, encoding="utf-8")
    (site / "plain.txt").write_text("Plain text story about a museum opening on Saturday.", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(site)))
    server.RequestHandlerClass.log_message = lambda *a: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_urls_from_a_local_server(http_server):
    html, text, missing, unreachable = load(
        f"{http_server}/story.html", f"{http_server}/plain.txt", f"{http_server}/missing.html", "http://127.0.0.1:9/x"
    )
    assert isinstance(html, Article) and html.title == "Harbour reopens after storm" and html.url.endswith("/story.html")
    assert html.source and html.id.startswith("u_")
    assert isinstance(text, Article) and "museum" in text.text and text.source == "127.0.0.1"
    assert isinstance(missing, LoadFailure) and "HTTP 404" in missing.reason
    assert isinstance(unreachable, LoadFailure) and "unreachable" in unreachable.reason


# --- issue 11: each finding reproduced ----------------------------------------------------------------


def test_gzip_bomb_line_is_skipped_without_holding_it(tmp_path):
    """Finding 3: a .jsonl.gz line far over the limit fails alone, and is never held in memory whole."""
    import tracemalloc

    good = json.dumps({"title": "Before", "text": "A story about a ferry that came before the bomb."})
    after = json.dumps({"title": "After", "text": "A story about a bridge that came after the bomb."})
    bomb = tmp_path / "bomb.jsonl.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as handle:
        handle.write(good.encode() + b"\n" + b'{"text": "' + b"a" * (60 * MB) + b'"}\n' + after.encode() + b"\n")
    assert bomb.stat().st_size < MB // 10
    tracemalloc.start()
    try:
        items = load(bomb, max_bytes=1 * MB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [a.title for a in items if isinstance(a, Article)] == ["Before", "After"]
    failures = [f for f in items if isinstance(f, LoadFailure)]
    assert len(failures) == 1 and failures[0].origin.endswith(":2") and "too large" in failures[0].reason
    assert peak < 8 * MB, f"peak {peak / MB:.0f} MB while reading a 1 MB-capped file"


def test_wrongly_typed_records_fail_alone_and_later_records_load(tmp_path):
    """Finding 4: ``"authors": 5`` (and other wrong types) used to abort the rest of the file."""
    bad = [
        {"title": "A", "text": "Authors as a number.", "authors": 5},
        {"title": "B", "text": "Authors as a boolean.", "authors": True},
        {"title": "C", "text": "Authors as a list of numbers.", "authors": [1, 2]},
        {"title": {"nested": 1}, "text": "Title as an object."},
        {"title": "E", "text": 5},
        {"title": "F", "text": "Id as a list.", "id": [1]},
        {"title": "G", "text": "Date as a list.", "date": ["2024"]},
        {"title": "H", "text": "URL as a number.", "url": 7},
        {"title": "I", "text": "Source as an object.", "source": {"x": 1}},
    ]
    lines = [{"title": "First good", "text": "A good story about a harbour."}, *bad, {"title": "Last good", "text": "A good story about a railway."}]
    path = tmp_path / "typed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n", encoding="utf-8")
    items = load(path)
    assert [a.title for a in items if isinstance(a, Article)] == ["First good", "Last good"]
    failures = [f for f in items if isinstance(f, LoadFailure)]
    assert [int(f.origin.rsplit(":", 1)[1]) for f in failures] == list(range(2, 2 + len(bad)))
    for failure, field in zip(failures, ["authors", "authors", "authors", "title", "text", "id", "date", "url", "source"]):
        assert f"'{field}'" in failure.reason and "\n" not in failure.reason, failure
    # The same records inside a .json list behave the same way.
    as_list = tmp_path / "typed.json"
    as_list.write_text(json.dumps(lines), encoding="utf-8")
    assert len([a for a in load(as_list) if isinstance(a, Article)]) == 2


def test_same_title_and_date_in_two_files_are_two_articles(tmp_path):
    """Finding 5: without id or URL, title + date alone no longer identify an article across files,
    while the same record read again keeps its id."""
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    one.write_text(json.dumps({"title": "Council meets", "date": "2024-05-01", "text": "The council approved the budget."}) + "\n", encoding="utf-8")
    two.write_text(json.dumps({"title": "Council meets", "date": "2024-05-01", "text": "A different council rejected a plan."}) + "\n", encoding="utf-8")
    first, second = load(one), load(two)
    assert only_article(first).id != only_article(second).id
    assert only_article(load(one)).id == only_article(first).id
    one.write_text(json.dumps({"title": "Council meets", "date": "2024-05-01", "text": "The council approved the budget, corrected."}) + "\n", encoding="utf-8")
    assert only_article(load(one)).id == only_article(first).id  # an edited record updates its article


LATIN1_STORY = "Le café de la gare a rouvert à Besançon, où les habitués ont salué la décision du maire. " * 3


def test_legacy_and_mixed_encodings_are_decoded(tmp_path):
    """Finding 9: Latin-1, mixed UTF-8/Latin-1 and UTF-16 with a BOM are read, not refused."""
    (tmp_path / "latin1.txt").write_bytes(LATIN1_STORY.encode("latin-1"))
    (tmp_path / "utf16.txt").write_bytes(LATIN1_STORY.encode("utf-16"))  # with its BOM
    (tmp_path / "utf8bom.md").write_bytes(b"\xef\xbb\xbf" + LATIN1_STORY.encode("utf-8"))
    (tmp_path / "mixed.txt").write_bytes("José Jarí said ".encode("utf-8") + "the café reopened.".encode("latin-1"))
    (tmp_path / "cyrillic.txt").write_bytes(("Городской совет утвердил бюджет на следующий год после долгих споров. " * 3).encode("cp1251"))
    records = tmp_path / "latin1.jsonl"
    records.write_bytes(json.dumps({"title": "Café", "text": "Un café à Besançon."}, ensure_ascii=False).encode("latin-1") + b"\n")
    texts = {Path(a.origin.split(":")[0]).name: a.text for a in load(tmp_path) if isinstance(a, Article)}
    assert texts["latin1.txt"].startswith("Le café de la gare a rouvert à Besançon")
    assert texts["utf16.txt"].startswith("Le café de la gare") and texts["utf8bom.md"].startswith("Le café")
    assert texts["mixed.txt"] == "José Jarí said the café reopened."
    assert texts["cyrillic.txt"].startswith("Городской совет утвердил бюджет")
    assert texts["latin1.jsonl"] == "Un café à Besançon."


def test_nul_bytes_never_reach_the_text_and_binary_is_still_refused(tmp_path):
    """Finding 9: NUL bytes after the first 8 KB used to be stored."""
    body = "The harbour reopened on Friday after the storm. " * 200  # ~9.6 KB
    (tmp_path / "late_nul.txt").write_bytes(body.encode() + b"\x00\x00Later\x00 text.")
    (tmp_path / "early_nul.txt").write_bytes(b"A story\x00 with one stray NUL near the start. " + body.encode())
    (tmp_path / "nul.jsonl").write_text(json.dumps({"title": "T\u0000", "text": "Escaped \u0000 NUL in JSON."}) + "\n", encoding="utf-8")
    (tmp_path / "image.txt").write_bytes(bytes(range(256)) * 40)
    items = load(tmp_path)
    articles = [a for a in items if isinstance(a, Article)]
    assert len(articles) == 3
    assert all("\x00" not in a.text and "\x00" not in a.title for a in articles)
    assert any(a.text.endswith("Later text.") for a in articles)
    failures = [f for f in items if isinstance(f, LoadFailure)]
    assert len(failures) == 1 and "image.txt" in failures[0].origin and "binary" in failures[0].reason


class HostileHandler(SimpleHTTPRequestHandler):
    """Pages that misbehave on purpose: a slow trickle, an endless body, redirects, a Latin-1 page."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/latin1":
            body = f"<html><body><article><p>{LATIN1_STORY}</p></article></body></html>".encode("latin-1")
            return self._send(body, "text/html; charset=iso-8859-1")
        if self.path == "/latin1.txt":
            return self._send(LATIN1_STORY.encode("latin-1"), "text/plain; charset=ISO-8859-1")
        if self.path == "/trickle":  # one byte every 0.5 s for 10 s: each read is quick, the whole is not
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for _ in range(20):
                self.wfile.write(b"a")
                self.wfile.flush()
                time.sleep(0.5)
            return None
        if self.path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(10_000):
                    self.wfile.write(b"word " * 20_000)
            except OSError:
                pass
            return None
        if self.path.startswith("/redirect-to/"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/redirect-to/"))
            self.end_headers()
            return None
        return super().do_GET()

    def _send(self, body: bytes, content_type: str):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hostile_server(tmp_path):
    site = tmp_path / "hostile"
    site.mkdir()
    (site / "story.html").write_text(HTML_PAGE, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(HostileHandler, directory=str(site)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_declared_latin1_is_decoded(hostile_server):
    """Finding 9: a page served as iso-8859-1 used to be refused with advice to re-save a file."""
    page, plain = load(f"{hostile_server}/latin1", f"{hostile_server}/latin1.txt")
    assert isinstance(page, Article) and "café de la gare a rouvert à Besançon" in page.text
    assert isinstance(plain, Article) and plain.text.startswith("Le café de la gare")


def test_url_total_deadline_cuts_a_trickling_server(hostile_server):
    """Finding 6 / 2: ``fetch_timeout_s`` was per read, so 1 byte every 0.5 s kept the fetch alive."""
    started = time.monotonic()
    (item,) = load(f"{hostile_server}/trickle", fetch_timeout_s=2)
    elapsed = time.monotonic() - started
    assert isinstance(item, LoadFailure) and "fetch_timeout_s" in item.reason
    assert elapsed < 4, f"cut off after {elapsed:.1f} s, deadline 2 s"


def test_url_size_cap_while_streaming(hostile_server):
    (item,) = load(f"{hostile_server}/endless", max_bytes=1 * MB)
    assert isinstance(item, LoadFailure) and "larger than 1 MB" in item.reason


def test_private_addresses_refused_unless_allowed(hostile_server):
    """Finding 6: with ``allow_private=False`` (an app served beyond localhost) loopback is refused,
    with the setting that allows it named; the CLI default may fetch the user's own local server."""
    url = f"{hostile_server}/story.html"
    (refused,) = load(url, allow_private=False)
    assert isinstance(refused, LoadFailure) and "refused" in refused.reason and "fetch_allow_private" in refused.reason
    port = hostile_server.rsplit(":", 1)[1]
    for other in (f"http://localhost:{port}/story.html", f"http://[::1]:{port}/x", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", f"http://0.0.0.0:{port}/"):
        (item,) = load(other, allow_private=False)
        assert isinstance(item, LoadFailure) and "refused" in item.reason, (other, item)
    (allowed,) = load(url, allow_private=True)
    assert isinstance(allowed, Article) and allowed.title == "Harbour reopens after storm"


def test_redirects_are_followed_and_each_hop_rechecked(hostile_server, monkeypatch):
    """A redirect is followed (final URL kept); a hop to a refused address is refused even when the
    first host was allowed. Only the address classification is replaced here (127.0.0.1 counts as
    public), so the real server, resolver and redirect handling run."""
    import rag.ingest.fetch

    (followed,) = load(f"{hostile_server}/redirect-to//story.html")
    assert isinstance(followed, Article) and followed.url.endswith("/story.html")
    monkeypatch.setattr(rag.ingest.fetch, "is_public_address", lambda address: address == "127.0.0.1")
    port = hostile_server.rsplit(":", 1)[1]
    (first_hop_ok,) = load(f"{hostile_server}/story.html", allow_private=False)
    assert isinstance(first_hop_ok, Article)
    (item,) = load(f"{hostile_server}/redirect-to/http://127.0.0.2:{port}/story.html", allow_private=False)
    assert isinstance(item, LoadFailure) and "refused" in item.reason and "127.0.0.2" in item.reason


def test_address_classification():
    from rag.ingest.fetch import allow_private, is_public_address

    for private in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                    "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::"):
        assert not is_public_address(private), private
    for public in ("8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert is_public_address(public), public
    assert allow_private("auto", served_beyond_localhost=False) is True
    assert allow_private("auto", served_beyond_localhost=True) is False
    assert allow_private(True, served_beyond_localhost=True) is True
    assert allow_private(False, served_beyond_localhost=False) is False


# --- issue 25: garbage, UTF-16 without a mark, bombs of small records, empty paths ---------------------


def _load(paths, **caps):
    from rag.ingest.corpus import load_sources

    return list(load_sources(paths, max_bytes=10**7, fetch_timeout_s=5, **caps))


def test_random_bytes_named_txt_or_md_are_refused_with_one_line(tmp_path):
    import random

    rng = random.Random(25)
    paths = []
    for name, size in (("g.txt", 100_000), ("g.md", 5_000), ("small.txt", 300)):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(bytes(rng.getrandbits(8) for _ in range(size)))
    items = _load(paths)
    assert len(items) == 3 and all(type(i).__name__ == "LoadFailure" for i in items), items
    assert all(i.reason.startswith("not text:") and "UTF-8" in i.reason for i in items)


def test_utf16_without_a_byte_order_mark_is_read(tmp_path):
    text = "Peru declared a state of emergency at its border with Chile on Monday, officials said.\n"
    (tmp_path / "le.txt").write_bytes(text.encode("utf-16-le"))
    (tmp_path / "be.md").write_bytes(text.encode("utf-16-be"))
    items = _load([tmp_path / "le.txt", tmp_path / "be.md"])
    assert [i.text.strip() for i in items] == [text.strip()] * 2


def test_a_bomb_of_empty_records_stops_at_its_cap_with_one_line(tmp_path):
    import gzip

    bomb = tmp_path / "bomb.jsonl.gz"
    with gzip.open(bomb, "wb") as handle:
        handle.write(b"{}\n" * 2_000_000)  # 6 MB of "{}" lines in a small gzip
    items = _load([bomb], max_failures=50)
    assert len(items) == 51 and "gave up after 50 failed records" in items[-1].reason


def test_records_past_the_per_file_cap_are_skipped_with_one_line(tmp_path):
    import json

    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps({"text": f"Report number {i} on the harbour works."}) for i in range(30)))
    items = _load([path], max_records=10)
    assert len(items) == 11 and "more than 10 records" in items[-1].reason and "max_records_per_file" in items[-1].reason


def test_an_empty_source_path_is_refused_not_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "stray.txt").write_text("A stray article in the working directory about the harbour works.")
    monkeypatch.chdir(tmp_path)
    items = _load([""])
    assert len(items) == 1 and "empty path" in items[0].reason


def test_a_gzip_past_the_decompressed_cap_is_cut_with_one_line(tmp_path):
    import gzip
    import json

    record = json.dumps({"text": "The harbour works in Port Elsby will cost 4.2 million euros. " * 50}).encode() + b"\n"
    path = tmp_path / "big.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(record * 400)  # ~1.3 MB decompressed, a few kB on disk
    items = _load([path], max_total_bytes=100_000)
    assert 20 <= len(items) <= 40 and "max_decompressed_mb" in items[-1].reason, (len(items), items[-1])
