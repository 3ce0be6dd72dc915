"""Reading one document of each format into an ``Article``: Markdown, HTML, PDF, and a fetched URL's body.

Each format is read with a well-kept library (python-frontmatter for Markdown, trafilatura for HTML,
pypdf for PDF); the text is then made an article by ``articles.make_article``. JSON files are
``records.py``'s; which reader a file or URL gets, and the size limits, are ``corpus.py``'s; fetching is
``fetch.py``'s.
"""

from __future__ import annotations

import io
from dataclasses import replace

from rag.ingest.articles import BadSource, domain, make_article, make_id, scalar
from rag.ingest.decode import decode_text
from rag.types import Article


def from_markdown(text: str, origin: str, article_id: str) -> Article:
    import frontmatter

    post = frontmatter.loads(text)
    meta = dict(post.metadata)
    given_id = scalar(meta, "id")
    return make_article(
        post.content,
        origin=origin,
        article_id=given_id or article_id,
        title=scalar(meta, "title"),
        date=meta.get("date") or meta.get("publish_date") or None,
        url=scalar(meta, "url") or "",
        source=scalar(meta, "source") or "",
        authors=meta.get("authors") or meta.get("author") or (),
    )


def from_html(html: str, origin: str, article_id: str, url: str) -> Article:
    import trafilatura

    document = trafilatura.bare_extraction(html, url=url or None, with_metadata=True, include_comments=False)
    if document is None or not (document.text or "").strip():
        raise BadSource("no article text found in the HTML page")
    url = url or document.url or ""
    return make_article(
        document.text,
        origin=origin,
        article_id=article_id,
        title=document.title,
        date=document.date,
        url=url,
        source=document.sitename or domain(url),
        authors=document.author or (),
    )


def from_pdf(data: bytes, origin: str, article_id: str) -> Article:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
        meta = reader.metadata
    except PdfReadError as error:
        raise BadSource(f"damaged or encrypted PDF ({error})") from None
    title = (meta.title if meta else None) or None
    authors = (meta.author,) if meta and meta.author else ()
    # No date from the PDF's /CreationDate: that is when the file was made (often the day it was saved or
    # exported), not when the article was published. ``make_article`` reads one written near the top of
    # the text ("2 December 2025"); with none the article is undated.
    return make_article(text, origin=origin, article_id=article_id, title=title, authors=authors)


def article_from_fetched(fetched, url: str) -> Article:
    """The article in a fetched response (``fetch.Fetched``) of ``url``; ``BadSource`` when there is none."""
    data, final_url, content_type = fetched.data, fetched.url, fetched.content_type.lower()
    if not data:
        raise BadSource("empty response")
    article_id = make_id("u", url)
    if "pdf" in content_type or data.startswith(b"%PDF") or url.lower().endswith(".pdf"):
        article = from_pdf(data, url, article_id)
        return replace(article, url=final_url, source=article.source or domain(final_url))
    if "html" in content_type or data.lstrip()[:1] == b"<":
        return from_html(decode_text(data, fetched.charset), url, article_id, url=final_url)
    text = decode_text(data, fetched.charset)
    return make_article(text, origin=url, article_id=article_id, url=final_url, source=domain(final_url))
