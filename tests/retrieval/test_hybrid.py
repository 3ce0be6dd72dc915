"""Hybrid retrieval, filters, recency and the "not in the articles" path on a real store and model."""

import datetime as dt
import json

import pytest

from rag.answer.extractive import NOT_IN_ARTICLES
from rag.assistant import Assistant
from rag.retrieval.options import QueryOptions
from rag.retrieval.ranking import time_prior

STORIES = [
    ("s1", "Harbour reopens after storm", "2025-10-03", "coast.example", "The harbour of Port Vale reopened on Friday after a storm closed it for nine days. Repairs to the north pier will cost 3 million euros."),
    ("s2", "Harbour fees rise", "2025-06-01", "money.example", "Port Vale's harbour authority raised mooring fees by 12 percent, angering local fishing crews."),
    ("s3", "New satellite launched", "2025-09-20", "space.example", "A weather satellite built in Toulouse was launched on Tuesday from French Guiana aboard an Ariane 6 rocket."),
    ("s4", "Museum opens modern wing", "2025-07-11", "culture.example", "The city museum opened a modern art wing designed by architect Lina Bo, with 300 works on show."),
]


@pytest.fixture
def news(make_settings, embedding, tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "title": t, "date": d, "source": s, "text": x}) for i, t, d, s, x in STORIES), encoding="utf-8")
    assistant = Assistant(make_settings(), embedding=embedding)
    assert len(assistant.ingest([path]).added) == 4
    return assistant


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_right_article(make_settings, embedding, news, mode):
    assistant = Assistant(make_settings(retrieval_mode=mode), embedding=embedding, store=news.store)
    found = assistant.retrieve("Which rocket carried the weather satellite?")
    assert found.passages[0].passage.article_id == "s3"
    assert not found.weak


def test_filters_by_date_source_and_id(news):
    question = "What happened at the Port Vale harbour?"
    assert {h.passage.article_id for h in news.retrieve(question).passages[:2]} == {"s1", "s2"}
    late = news.retrieve(question, date_from="2025-09-01")
    assert {h.passage.article_id for h in late.passages} <= {"s1", "s3"}
    assert late.passages[0].passage.article_id == "s1"
    early = news.retrieve(question, date_to=dt.date(2025, 6, 30))
    assert {h.passage.article_id for h in early.passages} == {"s2"}
    by_source = news.retrieve(question, sources=["money.example"])
    assert {h.passage.article_id for h in by_source.passages} == {"s2"}
    by_id = news.retrieve(question, article_ids=["s4"])
    assert {h.passage.article_id for h in by_id.passages} == {"s4"}


def test_as_of_hides_later_articles(news):
    found = news.retrieve("harbour storm repairs", as_of="2025-08-01")
    assert "s1" not in {h.passage.article_id for h in found.passages}


def test_recency_weight_prefers_the_newer_of_two_relevant_articles(make_settings, embedding, news):
    question = "Port Vale harbour news"
    boosted = Assistant(make_settings(recency_weight=4.0, recency_half_life_days=7), embedding=embedding, store=news.store)
    assert boosted.retrieve(question, as_of="2025-10-05").passages[0].passage.article_id == "s1"
    assert boosted.retrieve(question, as_of="2025-06-02").passages[0].passage.article_id == "s2"


def test_one_article_cannot_fill_every_slot(make_settings, embedding, tmp_path):
    long_story = " ".join(f"Paragraph {i}: the council debated the harbour budget again on day {i}." for i in range(120))
    path = tmp_path / "long.txt"
    path.write_text(long_story, encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text("The harbour budget was also discussed by the regional parliament.", encoding="utf-8")
    assistant = Assistant(make_settings(max_passages_per_article=2), embedding=embedding)
    assistant.ingest([path, other])
    found = assistant.retrieve("harbour budget debate", top_k=5)
    per_article = {}
    for hit in found.passages:
        per_article[hit.passage.article_id] = per_article.get(hit.passage.article_id, 0) + 1
    assert max(per_article.values()) <= 2 and len(per_article) == 2


def test_weak_evidence_refuses_deterministically(news):
    answer = news.query("Who won the 2022 World Cup?")
    assert answer.refused and answer.text == NOT_IN_ARTICLES and answer.citations == []
    assert news.query("Who won the 2022 World Cup?").text == answer.text


def test_empty_index_and_empty_question(make_settings, embedding):
    assistant = Assistant(make_settings(), embedding=embedding)
    assert assistant.query("Anything?").refused
    assert assistant.query("   ").refused


def test_chroma_where_clause():
    assert QueryOptions().chroma_where() is None
    where = QueryOptions(date_from=dt.date(2025, 1, 1), sources=("a",)).chroma_where()
    assert where == {"$and": [{"day": {"$gte": dt.date(2025, 1, 1).toordinal()}}, {"source": {"$in": ["a"]}}]}
    # the as-of day is a cut-off like date_to: the earlier of the two applies
    where = QueryOptions(date_to=dt.date(2025, 3, 1), as_of=dt.date(2025, 2, 1)).chroma_where()
    assert where == {"day": {"$lte": dt.date(2025, 2, 1).toordinal()}}


def test_llamaindex_retriever_interface(news):
    nodes = news.retriever.as_llamaindex(QueryOptions(top_k=2)).retrieve("weather satellite rocket")
    assert nodes[0].node.metadata["article_id"] == "s3" and nodes[0].node.get_content()


def test_in_memory_filter_mask_agrees_with_the_articles_rule(news):
    """The numpy mask used by BM25 and dense post-filtering follows ``QueryOptions.admits``, the rule
    ``filter_mismatch`` applies to the indexed articles."""
    retriever = news.retriever
    retriever.refresh()
    table = retriever.lexical
    for options in (
        QueryOptions(),
        QueryOptions(date_from=dt.date(2025, 7, 1)),
        QueryOptions(date_to=dt.date(2025, 9, 20)),
        QueryOptions(as_of=dt.date(2025, 9, 20), date_to=dt.date(2025, 10, 30)),
        QueryOptions(date_from=dt.date(2025, 6, 1), date_to=dt.date(2025, 7, 11), sources=("culture.example", "money.example")),
        QueryOptions(article_ids=("s3", "s9")),
    ):
        admitted = [options.admits(p.article_id, p.source, p.date) for p in table.passages]
        assert [bool(x) for x in table.mask(options)] == admitted
        assert {a.id for a in news.articles() if options.admits(a.id, a.source, a.date)} == {
            p.article_id for p, ok in zip(table.passages, admitted) if ok
        }


def test_dense_post_filtering_matches_chromas_where_filter(news):
    """Oversampled unfiltered HNSW + in-memory filter returns what Chroma's where= query returns."""
    retriever = news.retriever
    retriever.refresh()
    vector = news.embedding.get_query_embedding("harbour repairs and fees")
    for options in (QueryOptions(), QueryOptions(date_to=dt.date(2025, 9, 1)), QueryOptions(sources=("coast.example",)), QueryOptions(as_of=dt.date(2025, 8, 1))):
        ours = [(h.passage.id, round(h.dense_score, 5)) for h in retriever.dense_candidates(vector, options)]
        chroma = [(h.passage.id, round(h.dense_score, 5)) for h in news.store.dense_search(vector, retriever.settings.candidates, options.chroma_where())]
        assert ours == chroma


def test_bm25_cache_is_reused_until_the_store_changes(make_settings, embedding, news, tmp_path):
    """A second process over an unchanged store loads BM25 from disk; a write makes it rebuild."""
    question = "Which rocket carried the weather satellite?"
    first = news.retrieve(question)
    cache = make_settings().storage.data_dir / "cache" / "bm25"
    assert len([p for p in cache.iterdir() if not p.name.startswith(".")]) == 1

    reopened = Assistant(make_settings(), embedding=embedding, store=news.store)
    store_reads = []
    original = news.store.all_passages
    news.store.all_passages = lambda: store_reads.append(1) or original()
    again = reopened.retrieve(question)
    assert store_reads == []  # loaded from the cache, not from Chroma
    assert [(s.passage.id, round(s.score, 6)) for s in again.passages] == [(s.passage.id, round(s.score, 6)) for s in first.passages]
    assert again.passages[0].passage == first.passages[0].passage  # text, offsets, date, source survive
    assert again.weak == first.weak

    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"id": "s5", "title": "Rocket test delayed", "date": "2025-10-01", "source": "space.example",
                                "text": "A second Ariane 6 launch was delayed by a faulty valve."}), encoding="utf-8")  # fmt: skip
    reopened.ingest([more])
    later = Assistant(make_settings(), embedding=embedding, store=news.store)
    assert any(s.passage.article_id == "s5" for s in later.retrieve("Why was the Ariane 6 launch delayed?").passages)
    assert store_reads  # the store changed: rebuilt from Chroma
    assert len([p for p in cache.iterdir() if not p.name.startswith(".")]) == 1  # the stale entry is gone


def test_bm25_cache_survives_a_damaged_entry(make_settings, embedding, news):
    news.retrieve("harbour fees")
    cache = make_settings().storage.data_dir / "cache" / "bm25"
    (entry,) = cache.iterdir()
    (entry / "table.json").write_text("{not json", encoding="utf-8")
    reopened = Assistant(make_settings(), embedding=embedding, store=news.store)
    assert reopened.retrieve("Who raised mooring fees?").passages[0].passage.article_id == "s2"
    assert json.loads((entry / "table.json").read_text(encoding="utf-8"))  # rewritten
    (entry / "text_offsets.npy").write_bytes((entry / "text_offsets.npy").read_bytes()[:-16])  # a truncated column
    again = Assistant(make_settings(), embedding=embedding, store=news.store)
    assert again.retrieve("Who raised mooring fees?").passages[0].passage.article_id == "s2"
    assert json.loads((entry / "table.json").read_text(encoding="utf-8"))


def test_a_misspelt_question_finds_the_article_and_is_not_refused(news):
    clean = news.retrieve("Which rocket carried the weather satellite?")
    typo = news.retrieve("Which rocket carried the weathr satelite?")
    assert typo.corrections == (("weathr", "weather"), ("satelite", "satellite"))
    assert typo.question == "Which rocket carried the weather satellite?"
    assert typo.passages[0].passage.article_id == "s3" and not typo.weak
    assert typo.coverage == clean.coverage


def test_spelling_correction_can_be_turned_off(make_settings, embedding, news):
    assistant = Assistant(make_settings(correct_spelling=False), embedding=embedding, store=news.store)
    found = assistant.retrieve("Which rocket carried the weathr satelite?")
    assert found.corrections == () and found.question == "Which rocket carried the weathr satelite?"


def test_a_question_in_another_language_is_told_the_articles_are_searched_in_english(news):
    answer = news.query("¿Qué cohete llevó el satélite meteorológico?", llm=False)
    assert answer.refused and answer.citations == []
    assert "searched in English" in answer.text and "Spanish" in answer.text


def test_the_time_prior_is_neutral_for_future_and_undated_articles(make_settings, embedding, news):
    """An article dated after the reference day, or undated, gets the prior of one half-life: no boost."""
    import numpy as np

    retriever = Assistant(make_settings(recency_weight=1.0, recency_half_life_days=10, recency_floor=0.1), embedding=embedding, store=news.store).retriever
    as_of = dt.date(2025, 10, 1)
    days = np.array([as_of.toordinal(), as_of.toordinal() - 10, as_of.toordinal() + 30, -1])
    today, old, future, undated = time_prior(retriever.settings, days, as_of)
    assert today == pytest.approx(0.0)
    assert old == pytest.approx(np.log(0.1 + 0.9 * 0.5))
    assert future == undated == old


def test_articles_are_ranked_on_their_whole_text(make_settings, embedding, tmp_path):
    """Terms spread over two passages of one article beat one passage holding some of them."""
    body = " ".join(f"Filler sentence number {i} about the weather in the valley." for i in range(60))
    spread = {"id": "spread", "title": "Valley report", "date": "2025-05-01", "source": "a.example",
              "text": "The Ostrava tram strike began on Monday. " + body + " The Ostrava tram strike ended with a wage deal."}
    partial = {"id": "partial", "title": "Transport news", "date": "2025-05-01", "source": "b.example",
               "text": "A bus strike in Brno ended with a wage deal on Tuesday."}  # fmt: skip
    path = tmp_path / "two.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (spread, partial)), encoding="utf-8")
    assistant = Assistant(make_settings(), embedding=embedding)
    assistant.ingest([path])
    assert assistant.store.registry()["spread"].status == "complete"
    assert assistant.retrieve("How did the Ostrava tram strike end?").passages[0].passage.article_id == "spread"


def test_a_long_compound_question_is_judged_on_its_parts(make_settings, embedding, news):
    frame = ("Quick question for a piece I am writing, and I would appreciate a careful answer with the details: {q} "
             "I am asking because a colleague brought it up in a meeting this morning, so please say which article it comes from.")  # fmt: skip
    question = frame.format(q="Which rocket carried the weather satellite?")
    whole = Assistant(make_settings(judge_parts=False), embedding=embedding, store=news.store).retrieve(question)
    parts = news.retrieve(question)
    assert parts.passages[0].passage.article_id == "s3"
    assert parts.coverage > whole.coverage and not parts.weak
    assert news.retrieve(frame.format(q="Who won the 2022 World Cup?")).weak


def test_no_as_of_day_or_a_past_year_is_not_pushed_to_the_newest_articles(make_settings, embedding, news):
    """The time prior needs a day to be recent to and a question about recent news (ranking.prior_strength)."""
    plain = Assistant(make_settings(recency_weight=0.0), embedding=embedding, store=news.store)
    boosted = Assistant(make_settings(recency_weight=4.0, recency_half_life_days=7), embedding=embedding, store=news.store)
    order = lambda a, q, **kw: [h.passage.article_id for h in a.retrieve(q, **kw).passages]  # noqa: E731
    question = "Why did the Port Vale harbour authority raise mooring fees?"
    assert order(plain, question)[0] == "s2"
    # No as-of day: the best evidence wins, even against a prior that would put s1 first.
    assert order(boosted, question) == order(plain, question)
    # As of the day after the storm story, the prior applies: the newer harbour story comes first...
    assert order(boosted, question, as_of="2025-10-04")[0] == "s1"
    # ...but not for a question about a past year, unless it asks for the latest.
    old = "What did the Port Vale harbour authority decide about mooring fees in 2024?"
    assert order(boosted, old, as_of="2025-10-04") == order(plain, old, as_of="2025-10-04")
    assert order(boosted, "What is the latest on the Port Vale harbour in 2024?", as_of="2025-10-04")[0] == "s1"


def test_an_article_rewritten_in_place_is_seen_by_a_retriever_that_did_not_write_it(make_settings, embedding, news, tmp_path):
    """Same id, same passage count, new text: the store's write token changes, so the reader refreshes."""
    import time

    from rag.retrieval.hybrid import FRESHNESS_S

    reader = Assistant(make_settings(), embedding=embedding, store=news.store)
    assert "Quist" not in reader.retrieve("Who is the harbour master Zebulon Quist?").passages[0].passage.text
    before = news.store.generation()
    rewritten = tmp_path / "rewritten.jsonl"
    text = "Port Vale's harbour master Zebulon Quist raised mooring fees by 12 percent, angering fishing crews."
    rewritten.write_text(json.dumps({"id": "s2", "title": "Harbour fees rise", "date": "2025-06-01", "source": "money.example", "text": text}), encoding="utf-8")
    count = news.store.count_passages()
    assert news.ingest([rewritten]).updated  # by another assistant than the reader
    assert news.store.count_passages() == count and news.store.generation() != before
    time.sleep(FRESHNESS_S)
    found = reader.retrieve("Who is the harbour master Zebulon Quist?")
    assert found.passages[0].passage.article_id == "s2" and "Zebulon Quist" in found.passages[0].passage.text


def test_removing_an_unknown_article_keeps_the_write_token(news):
    """Nothing removed, nothing written: other processes keep their lexical index."""
    before = news.store.generation()
    assert news.store.remove(["no-such-article"]) == 0
    assert news.store.generation() == before
    assert news.store.remove(["s4"]) == 1 and news.store.generation() != before


def test_a_filter_that_cuts_the_nearest_passages_asks_hnsw_again_not_chromas_where(make_settings, embedding, tmp_path):
    """A story told over many days: an as-of date cuts its nearest near-copies, so the first oversampled
    HNSW query comes up short; the retriever asks HNSW again for more ids (not Chroma's slow where= scan)
    and returns what the where= query returns."""
    copies = [
        {"id": f"h{day}", "title": f"Harbour repairs, day {day}", "date": f"2025-10-{day:02d}", "source": "coast.example",
         "text": f"Repairs to the north pier of Port Vale harbour went on for a {day}th day, crews said."}
        for day in range(1, 29)
    ]  # fmt: skip
    older = [
        {"id": f"o{i}", "title": title, "date": f"2025-08-{i + 1:02d}", "source": "misc.example", "text": text}
        for i, (title, text) in enumerate(
            [(t, x) for _, t, _, _, x in STORIES]
            + [("Rail strike ends", "Train drivers ended a three-day strike after a pay deal."),
               ("Orchard harvest early", "Apple growers began the harvest two weeks early after a warm summer."),
               ("Library extends hours", "The central library will open until 10 p.m. on weekdays."),
               ("Harbour pier damaged", "A storm damaged the north pier of Port Vale harbour; repairs will take weeks.")]
        )
    ]  # fmt: skip
    path = tmp_path / "story.jsonl"
    path.write_text("\n".join(json.dumps(a) for a in copies + older), encoding="utf-8")
    assistant = Assistant(make_settings(candidates=2), embedding=embedding)
    assert len(assistant.ingest([path]).added) == len(copies) + len(older)
    retriever = assistant.retriever
    retriever.refresh()
    options = QueryOptions(as_of=dt.date(2025, 9, 1))
    vector = embedding.get_query_embedding("north pier repairs at Port Vale harbour")
    store, asked, scans = assistant.store, [], []
    dense_ids, dense_search = store.dense_ids, store.dense_search
    store.dense_ids = lambda v, n, **kw: asked.append(n) or dense_ids(v, n, **kw)
    store.dense_search = lambda *a, **kw: scans.append(1) or dense_search(*a, **kw)
    ours = [(h.passage.id, round(h.dense_score, 5)) for h in retriever.dense_candidates(vector, options)]
    assert len(asked) == 2 and asked[1] > asked[0] and scans == []  # a second HNSW query, no where= scan
    chroma = [(h.passage.id, round(h.dense_score, 5)) for h in dense_search(vector, 2, options.chroma_where())]
    assert ours == chroma and ours[0][0].startswith("o7")  # the older pier article leads
