"""The article service behind ``Assistant.library``: uploads, names, deletes and the CLI's use of it.

The web app's handlers over the same service are tested in test_app.py; here the service is used
directly, as the CLI does. Each test has its own data and corpus folders (conftest's ``assistant``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import LIGHTHOUSE

from rag.ingest.sources import supported_suffix
from rag.ingest.library import UPLOAD_SUFFIXES, origin_file, safe_filename


@pytest.mark.parametrize(
    "given, expected",
    [
        ("статья.txt", "статья.txt"),
        ("新闻.md", "新闻.md"),
        ("Crème brûlée.html", "Crème_brûlée.html"),
        ("Cre\u0300me.txt", "Crème.txt"),  # decomposed accents are composed, not dropped
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\x\\новости.jsonl.gz", "новости.jsonl.gz"),
        ("☃☃.txt", "upload.txt"),
        ("...", "upload"),
        ("story.txt", "story.txt"),
        ("../../etc/evil.txt", "evil.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("/abs/path/feed.jsonl.gz", "feed.jsonl.gz"),
        ("..", "upload"),
        (".hidden.txt", "hidden.txt"),
        ("my report (final).pdf", "my_report_final_.pdf"),
        ("a" * 300 + ".jsonl.gz", "a" * 151 + ".jsonl.gz"),
    ],
)
def test_safe_filename_keeps_letters_of_every_script(given: str, expected: str) -> None:
    assert safe_filename(given) == expected


def test_safe_filename_caps_the_name_in_bytes_and_keeps_the_extension() -> None:
    name = safe_filename("新" * 300 + ".jsonl.gz")
    assert name.endswith(".jsonl.gz") and len(name.encode()) <= 160
    assert supported_suffix(name) == ".jsonl.gz"


def test_non_ascii_upload_names_are_indexed(assistant, tmp_path: Path) -> None:
    # Finding 8: "статья.txt" and "新闻.md" were rejected as "unsupported file type" (the name was
    # reduced to ASCII, leaving "txt" / "md" with no extension).
    library = assistant.library
    russian = tmp_path / "in" / "статья.txt"
    russian.parent.mkdir()
    russian.write_text("Порт Элсби открыл маяк\n\nГород Порт Элсби во вторник открыл маяк 1880 года после реставрации.\n", encoding="utf-8")
    chinese = tmp_path / "in" / "新闻.md"
    chinese.write_text(LIGHTHOUSE, encoding="utf-8")
    first = library.add_file(russian, "статья.txt")
    second = library.add_file(chinese, "新闻.md")
    assert [o.kind for o in first] == ["added"], first
    assert [o.kind for o in second] == ["added"], second
    stored = sorted(p.name for p in library.uploads_dir.iterdir())
    assert any(name.endswith("_статья.txt") for name in stored) and any(name.endswith("_新闻.md") for name in stored)
    titles = {a.title for a in assistant.articles()}
    assert "Harbour town restores its 1880 lighthouse" in titles


def test_every_advertised_upload_type_is_recognised() -> None:
    for suffix in UPLOAD_SUFFIXES:
        assert supported_suffix(f"статья{suffix.upper()}") == suffix


def test_origin_file_strips_record_numbers_and_ignores_urls() -> None:
    assert origin_file("/data/a.jsonl:12") == Path("/data/a.jsonl")
    assert origin_file("/data/a.json#3") == Path("/data/a.json")
    assert origin_file("https://example.org/a:1") is None and origin_file("") is None


def test_delete_through_the_service_reports_each_article(assistant) -> None:
    assistant.ingest()
    (article,) = assistant.articles()
    outcomes = assistant.library.delete([article.id, "no-such-id"])
    assert [o.kind for o in outcomes] == ["removed", "info"]
    assert "re-sync adds it back" in outcomes[0].text
    assert assistant.articles() == []


def test_an_upload_of_200000_empty_records_gives_a_bounded_summary(tmp_path, make_settings, embedding):
    # Issue 25, finding 3: 200,000 "{}" lines gave 200,000 result lines (22.5 MB of HTML) and held the writer.
    import gzip

    from rag.assistant import Assistant

    bomb = tmp_path / "bomb.jsonl.gz"
    with gzip.open(bomb, "wb") as handle:
        handle.write(b"{}\n" * 200_000)
    library = Assistant(make_settings(max_failures_listed=20), embedding=embedding).library
    lines = library.add_file(bomb, "bomb.jsonl.gz")
    assert len(lines) <= 22, len(lines)
    assert any("gave up after 1,000 failed records" in line.text for line in lines)
    assert lines[-1].kind == "info" and "more lines not shown" in lines[-1].text and "failed 1001" in lines[-1].text
