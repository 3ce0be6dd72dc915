"""Short run of benchmarks/reliability_remove.py: kill -9 during `rag remove`, then check and heal (issue 25, finding 1)."""

import pytest
from helpers import load_benchmark


@pytest.mark.slow
def test_kill_during_removal_leaves_a_consistent_index_that_the_next_ingest_heals(tmp_path, embedding):
    module = load_benchmark("reliability_remove")
    # A real `rag remove` child killed after each of its three Chroma writes, then at two random moments.
    result = module.run(2, 12, steps=3, seed=1, embedding=embedding, workdir=tmp_path)
    rows = result["rows"]
    for row in rows:
        assert row["consistent"] and row["healed"], row
    # Removal marks its articles first, then deletes passages, then entries: each gap was killed in.
    assert [r["kill_at_s"] for r in rows[:3]] == ["write 1 update", "write 2 delete", "write 3 delete"]
    assert any(r["removing"] for r in rows[:3])  # a kill landed between the writes of one removal
    assert "healed by the next ingest" in module.table(result)


def test_ingest_repairs_complete_articles_that_lost_their_passages(tmp_path, make_settings, embedding, corpus_dir):
    """The state a kill left under the old order (complete, no passages) is found and re-indexed."""
    from helpers import write_articles

    from rag.assistant import Assistant

    write_articles(corpus_dir, 3)
    assistant = Assistant(make_settings(), embedding=embedding)
    assistant.ingest()
    victim = assistant.articles()[0].id
    assistant.store.vector_store.client.delete(where={"article_id": victim})  # ChromaVectorStore.client: the passages
    assert load_benchmark("reliability_kill").check_index(assistant.store)  # damaged as the old order left it
    report = assistant.ingest()
    assert report.repaired == [victim] and victim in report.updated
    assert load_benchmark("reliability_kill").check_index(assistant.store) == []
