"""Short run of benchmarks/reliability_kill.py: kill -9 at random moments of an ingest, then resume."""

import pytest
from helpers import load_benchmark


def _module():
    return load_benchmark("reliability_kill")


@pytest.mark.slow
def test_kill_at_random_moments_leaves_a_consistent_index_that_resumes(tmp_path, embedding):
    module = _module()
    result = module.run(2, 40, seed=3, embedding=embedding, workdir=tmp_path)
    assert len(result["rows"]) == 2
    for row in result["rows"]:
        assert row["consistent"] and row["resumed"], row
    assert result["passages"] > 40  # multi-passage articles, so kills can land inside an article's writes
    assert "consistent indexes" in module.table(result)


def test_check_index_finds_missing_and_orphan_passages(tmp_path, make_settings, embedding, corpus_dir):
    """The checker itself can fail: damage a store by hand and it reports both kinds of damage."""
    from helpers import write_articles

    from rag.assistant import Assistant

    module = _module()
    write_articles(corpus_dir, 3)
    assistant = Assistant(make_settings(), embedding=embedding)
    assistant.ingest()
    assert module.check_index(assistant.store) == []
    victim = assistant.articles()[0].id
    collection = assistant.store._passages
    one = collection.get(where={"article_id": victim}, limit=1)["ids"]
    collection.delete(ids=one)
    collection.add(ids=["orphan"], embeddings=[[0.1] * 384], documents=["x"], metadatas=[{"article_id": "ghost", "start": 0, "end": 1}])
    problems = module.check_index(assistant.store)
    assert any(victim in p for p in problems) and any("ghost" in p for p in problems)
