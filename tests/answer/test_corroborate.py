"""Corroboration (``rag/answer/corroborate.py``): who else states each cited claim, wire copies counted
once, and a conflicting number shown; over small real articles, with the real embedding model and store."""

from __future__ import annotations

import json

import pytest

CHARGED = (
    "Prosecutors charged former Springfield mayor Dana Whitcomb with 34 counts of fraud on Tuesday, "
    "accusing her of steering city contracts to a relative's firm."
)
AP_STORY = [
    f"SPRINGFIELD, Ill. (AP) — {CHARGED}",
    "Whitcomb pleaded not guilty at a brief hearing and was released without bail, her lawyer said.",
    "The contracts were worth about $2.3 million over four years, according to the indictment filed in county court.",
    "Whitcomb served two terms as mayor before losing a re-election bid to a former schoolteacher last spring.",
]
# (slug, source, date, paragraphs): one AP story carried by two sites, an outlet's own story stating the
# same claim, an outlet giving another count, and an unrelated article.
ARTICLES = [
    ("ap-herald", "dailyherald.example", "2025-11-18", AP_STORY),
    ("ap-riverside", "riverside-news.example", "2025-11-18", AP_STORY + ["Follow Riverside News for more on this story."]),
    ("capitol", "capitol-times.example", "2025-11-19", [
        "City hall was quiet on Wednesday as staff learned the news from their phones.",
        f"On Tuesday, {CHARGED[0].lower()}{CHARGED[1:-1]}, court records show.",
        "Council members said they had asked for an audit of the contracts two years ago and were ignored.",
        "The mayor's office declined to comment, citing the open case, and referred questions to the city attorney.",
    ]),
    ("metro", "metro-wire.example", "2025-11-19", [
        "A former mayor is in court again, the third Illinois mayor charged this decade.",
        CHARGED.replace("34 counts", "30 counts"),
        "Her lawyer told reporters outside the courthouse that the case was political and would collapse at trial.",
    ]),
    ("lighthouse", "coastal-herald.example", "2025-11-10", [
        "The town of Port Elsby reopened its 1880 lighthouse on Tuesday after a two-year restoration that cost 4.2 million euros.",
        "Volunteers replaced the copper lantern roof and rebuilt the spiral staircase, the restoration committee said.",
    ]),
]
QUESTION = "How many counts of fraud was former Springfield mayor Dana Whitcomb charged with?"


def write_articles(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for slug, source, date, paragraphs in ARTICLES:
        front = f'---\ntitle: "{slug} story"\ndate: {date}\nsource: {source}\nurl: https://{source}/{slug}\n---\n'
        (folder / f"{slug}.md").write_text(front + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


@pytest.fixture
def desk(make_settings, embedding, tmp_path):
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(), embedding=embedding)
    write_articles(tmp_path / "news")
    report = assistant.ingest([tmp_path / "news"])
    assert len(report.added) == len(ARTICLES)
    return assistant


def _citation(answer, needle: str, source: str | None = None):
    for c in answer.citations:
        if needle in c.quote and (source is None or c.source == source):
            return c
    raise AssertionError(f"no citation quoting {needle!r} from {source}: {[c.quote for c in answer.citations]}")


def test_a_wire_story_on_two_sites_counts_once_and_another_outlet_is_named(desk):
    from rag.types import Corroboration

    answer = desk.query(QUESTION, as_of="2025-11-20")
    cited = next(c for c in answer.citations if "34 counts" in c.quote)
    corroboration = cited.corroboration
    assert isinstance(corroboration, Corroboration)
    names = [o.name for o in corroboration.outlets]
    assert sorted(names) == ["AP", "capitol-times.example"], corroboration
    ap = next(o for o in corroboration.outlets if o.name == "AP")
    assert ap.wire and sorted(ap.sites) == ["dailyherald.example", "riverside-news.example"]
    assert corroboration.outlets[0].name == ("AP" if cited.source != "capitol-times.example" else "capitol-times.example")
    assert "Reported by 2 independent outlets" in corroboration.summary
    assert "AP, carried by 2 sites" in corroboration.summary and "capitol-times.example" in corroboration.summary
    # The evidence and the citations carry the same corroboration, and --json has it.
    for c in answer.evidence:
        assert c.corroboration == next(x for x in answer.citations if x.number == c.number).corroboration
    data = json.loads(json.dumps(answer.to_dict()))
    first = next(c for c in data["citations"] if c["number"] == cited.number)
    assert first["corroboration"]["summary"] == corroboration.summary
    assert answer.timings_ms["corroboration"] > 0


def test_a_conflicting_number_is_shown_both_ways(desk):
    answer = desk.query(QUESTION, as_of="2025-11-20")
    thirty_four = next(c for c in answer.citations if "34 counts" in c.quote)
    conflicts = thirty_four.corroboration.conflicts
    assert [c.report.source for c in conflicts] == ["metro-wire.example"]
    assert conflicts[0].claim_value == "34 counts" and conflicts[0].other_value == "30 counts"
    assert conflicts[0].text == f"{thirty_four.source} says 34 counts; metro-wire.example says 30 counts"
    assert "metro-wire.example" not in [o.name for o in thirty_four.corroboration.outlets]  # a conflict is no support


def test_a_claim_only_one_article_states_says_so(desk):
    from rag.answer.provenance import corroborator

    article = next(desk.article(a.id) for a in desk.articles() if a.source == "coastal-herald.example")
    sentence = article.text.split("\n")[0]
    start = article.text.index(sentence)
    from rag.types import Citation

    citation = Citation(1, article.id, article.title, article.date, article.source, article.url, sentence, start, start + len(sentence), sentence, 1.0)
    found = corroborator(desk).corroboration(citation, desk.embedding.get_text_embedding(sentence))
    assert found.summary == "Stated by this article only." and not found.conflicts
    assert [o.name for o in found.outlets] == ["coastal-herald.example"]


def test_articles_after_the_as_of_day_do_not_corroborate(desk):
    answer = desk.query(QUESTION, as_of="2025-11-18")  # the capitol and metro stories are from the 19th
    cited = next(c for c in answer.citations if "34 counts" in c.quote)
    assert [o.name for o in cited.corroboration.outlets] == ["AP"] and not cited.corroboration.conflicts
    assert cited.corroboration.summary == "Reported by one outlet only (AP, carried by 2 sites)."


def test_corroboration_can_be_turned_off(make_settings, embedding, tmp_path):
    from rag.assistant import Assistant

    assistant = Assistant(make_settings(corroborate=False), embedding=embedding)
    write_articles(tmp_path / "news")
    assistant.ingest([tmp_path / "news"])
    answer = assistant.query(QUESTION, as_of="2025-11-20")
    assert answer.citations and all(c.corroboration is None for c in answer.citations)
    assert "corroboration" not in answer.timings_ms


def test_agency_credit_and_copies():
    from rag.answer.corroborate import agency_credit, copies, shingles

    assert agency_credit("SPRINGFIELD, Ill. (AP) — Prosecutors said") == "AP"
    assert agency_credit("Jake Coyle\n\nThe Associated Press\n\nNEW YORK — A producer died") == "AP"
    assert agency_credit("LONDON (Reuters) - Shares fell") == "Reuters"
    assert agency_credit("Gas prices rose.\n\nContributing: The Associated Press") == ""  # an outlet's own story
    assert agency_credit("Prices rose, the Associated Press reported.") == ""
    assert agency_credit("Prices rose.", authors=("Associated Press",)) == "AP"
    text = " ".join(AP_STORY)
    assert copies(shingles(text), shingles(text + " Follow Riverside News for more on this story."), 0.5)
    assert not copies(shingles(text), shingles(" ".join(ARTICLES[2][3])), 0.5)


def test_a_number_word_conflict_shows_its_value(make_settings):
    """Any number word the claim checks read ("thirteen", not only "one".."twelve") is shown as the value,
    either way round; with no store: the search is a list of passages."""
    import datetime as dt

    from rag.answer.corroborate import Corroborator
    from rag.types import Citation, Passage, ScoredPassage

    def sentence(count: str) -> str:
        return f"Prosecutors charged the former harbour master with {count} counts of fraud on Tuesday, court records show."

    store = type("NoArticles", (), {"article": lambda self, article_id: None})()
    day = dt.date(2025, 11, 18)
    for mine, theirs in [("12", "thirteen"), ("thirteen", "12")]:
        text = sentence(theirs)
        hit = ScoredPassage(Passage("other:0", "other", text, 0, len(text), "other", day, "other.example"), 1.0)
        corroborator = Corroborator(store, None, make_settings().news, search=lambda vector, as_of, hit=hit: [hit])
        claim = sentence(mine)
        citation = Citation(1, "own", "own", day, "own.example", "", claim, 0, len(claim), claim, 1.0)
        found = corroborator.corroboration(citation, vector=None)
        assert [(c.claim_value, c.other_value) for c in found.conflicts] == [(f"{mine} counts", f"{theirs} counts")], found
        assert found.conflicts[0].text == f"own.example says {mine} counts; other.example says {theirs} counts"


def test_rag_ask_prints_corroboration_conflicts_and_evidence_dates(desk):
    import os
    import subprocess
    import sys

    from helpers import REPO

    env = {**os.environ, "RAG_DATA_DIR": str(desk.settings.storage.data_dir), "RAG_LLM": "extractive"}

    def ask(*extra):
        done = subprocess.run([sys.executable, "-m", "rag", "ask", QUESTION, "--as-of", "2025-11-20", *extra],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    plain = ask()
    assert "Reported by 2 independent outlets (" in plain and "AP, carried by 2 sites" in plain
    assert "conflict: " in plain and "metro-wire.example says 30 counts" in plain
    assert "Evidence from 2025-11-18" in plain
    markdown = ask("--markdown")
    assert "Reported by 2 independent outlets" in markdown and "⚠ " in markdown and "metro-wire.example says 30 counts" in markdown
    assert "*Evidence from 2025-11-18" in markdown


def test_a_changed_lone_digit_or_number_word_is_a_conflict_not_support(make_settings, embedding, tmp_path):
    """The constructed conflicts of ``benchmarks/corroboration.py``: a copy with "1", "one" or "5-4" changed."""
    from rag.answer.provenance import corroborator
    from rag.assistant import Assistant
    from rag.types import Citation

    storm = "The storm caused 1 trillion dollars of damage across the region, the insurers' association said on Monday."
    rescue = "The lighthouse keeper pulled one sailor from the freezing water after the trawler sank near the harbour."
    ruling = "The justices ruled 5-4 that the county had to count the late ballots mailed before the election."
    folder = tmp_path / "news"
    folder.mkdir()
    copy = [storm.replace("1 trillion", "8 trillion"), rescue.replace("one sailor", "three sailors"), ruling.replace("5-4", "6-3")]
    for slug, source, text in [("original", "first.example", f"{storm}\n\n{rescue}\n\n{ruling}"), ("copy", "second.example", "\n\n".join(copy))]:
        front = f'---\ntitle: "{slug}"\ndate: 2025-11-18\nsource: {source}\nurl: https://{source}/{slug}\n---\n'
        (folder / f"{slug}.md").write_text(front + text + "\n", encoding="utf-8")
    desk = Assistant(make_settings(), embedding=embedding)
    desk.ingest([folder])
    article = next(desk.article(a.id) for a in desk.articles() if a.source == "first.example")
    for sentence, mine, theirs in [(storm, "1 trillion", "8 trillion"), (rescue, "one sailor", "three sailors"), (ruling, "5-4 that", "6-3 that")]:
        start = article.text.index(sentence)
        citation = Citation(1, article.id, article.title, article.date, article.source, article.url, sentence, start, start + len(sentence), sentence, 1.0)
        found = corroborator(desk).corroboration(citation, desk.embedding.get_text_embedding(sentence))
        assert [o.name for o in found.outlets] == ["first.example"], found  # the copy does not support it
        assert [(c.report.source, c.claim_value, c.other_value) for c in found.conflicts] == [("second.example", mine, theirs)]
