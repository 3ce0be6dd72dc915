"""Every input format and every kind of bad input, on real files and a real local HTTP server."""

import datetime as dt
import gzip
import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import SAMPLE_ARTICLE

from rag.corpus import LoadFailure, load_sources
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


def load(*sources, max_bytes=20 * MB):
    return list(load_sources(sources, max_bytes=max_bytes, fetch_timeout_s=5))


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


def _minimal_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` in Helvetica (hand-built: no PDF writer with text is installed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title (Budget vote delayed) /CreationDate (D:20250801120000Z) >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf(tmp_path):
    path = tmp_path / "budget.pdf"
    path.write_bytes(_minimal_pdf("The budget vote was delayed until September by the finance committee."))
    article = only_article(load(path))
    assert article.title == "Budget vote delayed"
    assert article.date == dt.date(2025, 8, 1)
    assert "budget vote was delayed until September" in article.text


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
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 story".encode("latin-1"))
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
    assert "UTF-8" in failures["latin1.txt"]
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
