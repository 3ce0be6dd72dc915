"""The extractive answerer on the bundled sample article, with the real embedding model."""

import re

from helpers import INJECTED_ARTICLE, SAMPLE_ARTICLE

from rag.ingest.clean import clean_article_text
from rag.eval.metrics import lead


def test_sample_question_is_answered_with_quoted_spans(assistant):
    assistant.ingest()
    answer = assistant.query("Why did Peru declare a state of emergency?")
    article_text = clean_article_text(SAMPLE_ARTICLE.read_text(encoding="utf-8")).text
    assert not answer.refused and answer.mode == "extractive"
    assert "state of emergency" in answer.text
    assert answer.citations, answer
    for citation in answer.citations:
        assert article_text[citation.start : citation.end] == citation.quote
        assert article_text[citation.passage_start : citation.passage_end] == citation.passage
        assert citation.passage_start <= citation.start < citation.end <= citation.passage_end
        assert citation.date.isoformat() == "2025-11-28"
    # Markers are numbered in order of first use and every listed citation is used.
    used = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    first_use = list(dict.fromkeys(used))
    assert first_use == list(range(1, len(answer.citations) + 1))
    assert [c.number for c in answer.citations] == first_use


def test_answer_json_shape(assistant):
    assistant.ingest()
    data = assistant.query("What did Kast say in his campaign video?").to_dict()
    assert set(data) >= {"text", "citations", "refused", "mode"}
    citation = data["citations"][0]
    assert set(citation) >= {"number", "article_id", "title", "date", "source", "url", "passage", "start", "end", "score"}
    assert citation["date"] == "2025-11-28"
    assert "Kast" in data["text"]
    assert not any(c["quote"].startswith("14,") for c in data["citations"])  # "Dec. 14" is not a sentence end


def test_out_of_corpus_question_is_refused(assistant):
    assistant.ingest()
    answer = assistant.query("Who won the 2022 World Cup?")
    assert answer.refused and not answer.citations
    assert "don't say" in answer.text


def test_extractive_answer_leads_with_the_best_answer_sentence(assistant):
    assistant.ingest()
    question = "How many days did Kast give immigrants to leave Chile voluntarily?"
    answer = assistant.query(question)
    (best, _), *_ = assistant.answerer.rank_sentences(question, assistant.retrieve(question).passages)
    assert answer.text.startswith(best.text.strip() + " [1]")  # the best-ranked sentence comes first, cited
    assert "111 days" in lead(answer.text)


def test_what_did_kast_say_quotes_kast_first(assistant):
    # Attributed when indexed ("“You have 111 days ...,” he said" follows "He filmed ..., warning"), so
    # Kast's own words come before sentences that only mention him (Cordero on "the statements from Kast").
    assistant.ingest()
    answer = assistant.query("What did Kast say?")
    first = answer.evidence[0]
    assert "You have 111 days to leave Chile voluntarily" in first.quote and "Kast" in first.speaker, answer.evidence
    assert not any("Cordero" in c.speaker for c in answer.evidence[:2])
    assert all("Kast" in c.speaker for c in answer.evidence if "“" in c.quote), answer.evidence


OLD_BACKGROUND = """---
title: Port Vell ferry terminal to open in summer 2024
date: 2023-01-10
source: harbour-news.example
---
The Port Vell ferry terminal will open in the summer of 2024, the port authority said on Tuesday.

The terminal will serve ferries to Mallorca and Menorca, and its builders expect two million passengers a year.
"""
NEWS = """---
title: Council delays Port Vell terminal again
date: 2025-11-27
source: city-desk.example
---
The city council said on Thursday that the new ferry building in Port Vell is now due in March 2027.

Officials blamed a shortage of steel and a dispute with the main contractor over rising costs.
"""


FIT_2022 = {"passage_bm25_weight": 0.0, "article_bm25_weight": 0.25, "title_bm25_weight": 0.1,
            "recency_weight": 0.2, "recency_half_life_days": 7, "recency_floor": 0.01}  # fmt: skip


def test_an_old_background_sentence_does_not_lead_the_news_when_retrieval_standing_counts(make_settings, embedding, tmp_path):
    # The old article words the question best, but retrieval (the time prior) ranks it well below the
    # news of last week: with evidence_retrieval_weight its sentence no longer comes first. Retrieval is
    # pinned to the 2022 fit, whose prior puts the news first here: the default's whole-article BM25
    # ranks the old article first on this two-article corpus (README "Two corpora"), and the subject
    # here is what the evidence does with a given retrieval order.
    from rag.assistant import Assistant

    folder = tmp_path / "port"
    folder.mkdir()
    (folder / "old.md").write_text(OLD_BACKGROUND, encoding="utf-8")
    (folder / "news.md").write_text(NEWS, encoding="utf-8")
    question = "When will the Port Vell ferry terminal open?"
    leads = {}
    for weight in (0.0, 1.0):
        settings = make_settings(evidence_retrieval_weight=weight, data_dir=tmp_path / f"data{weight}", **FIT_2022)
        assistant = Assistant(settings, embedding=embedding)
        assistant.ingest([folder])
        hits = assistant.retrieve(question, as_of="2025-11-30").passages
        assert [h.passage.date.year for h in hits][:1] == [2025]  # the news ranks first either way
        answer = assistant.query(question, as_of="2025-11-30")
        leads[weight] = answer.evidence[0].quote
        # A story timeline ranks sentences on their own, whatever the weight: it keeps old articles on purpose.
        unranked = assistant.answerer.rank_sentences(question, hits, standing=False)
        assert unranked[0][0].text.startswith("The Port Vell ferry terminal will open in the summer of 2024")
    assert leads[0.0].startswith("The Port Vell ferry terminal will open in the summer of 2024")
    assert leads[1.0].startswith("The city council said on Thursday"), leads




def test_a_sentence_that_shares_no_word_with_the_question_is_evidence_only_above_the_floor(make_settings, embedding, tmp_path):
    # One article, three sentences: the evidence has three slots, so without a floor the injected line,
    # about nothing the question asks (cosine similarity 0.08), is quoted third; the default floor drops it.
    from rag.answer.sentences import relevant
    from rag.assistant import Assistant

    path = tmp_path / "library.md"
    path.write_text(INJECTED_ARTICLE, encoding="utf-8")
    question = "What did the Ashford town council approve?"
    quoted = {}
    for name, floor in (("none", {"evidence_min_similarity": -1.0}), ("default", {})):
        assistant = Assistant(make_settings(**floor, data_dir=tmp_path / name), embedding=embedding)
        assistant.ingest([path])
        quoted[name] = [c.quote for c in assistant.query(question).evidence]
    assert any("PWNED" in q for q in quoted["none"]), quoted
    assert quoted["default"] and not any("PWNED" in q for q in quoted["default"]), quoted
    assert quoted["default"][0].startswith("The town council of Ashford approved")
    # The rule itself: a shared word is enough; without one, the similarity must reach the floor.
    assert relevant(True, 0.0, 0.3) and relevant(False, 0.3, 0.3) and not relevant(False, 0.29, 0.3)
