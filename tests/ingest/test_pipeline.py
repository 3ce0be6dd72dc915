"""Incremental, idempotent and crash-safe ingestion into a real embedded Chroma store."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

from helpers import write_articles

from rag.assistant import Assistant


def consistent(assistant: Assistant) -> None:
    """Every complete article's passages are stored exactly once; nothing else is counted."""
    store = assistant.store
    articles = {a.id: a for a in store.articles()}
    passages = store.all_passages()
    by_article = {}
    for p in passages:
        by_article[p.article_id] = by_article.get(p.article_id, 0) + 1
    for article_id, info in articles.items():
        assert by_article.get(article_id) == info.chunks, article_id


def test_ingest_is_incremental_and_idempotent(assistant, corpus_dir):
    write_articles(corpus_dir, 5)
    first = assistant.ingest()
    assert len(first.added) == 6 and not first.failed and first.passages >= 6
    stages = first.stage_seconds
    assert set(stages) == {"load", "chunk", "embed", "store"} and all(s > 0 for s in stages.values())
    assert sum(stages.values()) <= first.seconds
    again = assistant.ingest()
    assert (len(again.added), len(again.updated), len(again.unchanged), again.passages) == (0, 0, 6, 0)
    assert again.stage_seconds["embed"] == 0 and again.stage_seconds["load"] > 0

    changed = corpus_dir / "article_002.txt"
    changed.write_text(changed.read_text() + "\n\nUpdate: the vote was postponed to Friday.", encoding="utf-8")
    third = assistant.ingest()
    assert len(third.updated) == 1 and len(third.unchanged) == 5
    consistent(assistant)
    answer = assistant.query("Was the vote on item 2 postponed?")
    assert any("postponed" in c.quote for c in answer.citations)


def test_duplicates_stored_once(assistant, corpus_dir):
    sample = next(corpus_dir.glob("*.txt"))
    (corpus_dir / "copy_of_sample.txt").write_bytes(sample.read_bytes())
    report = assistant.ingest()
    assert len(report.added) == 1 and len(report.duplicates) == 1
    assert len(assistant.articles()) == 1


def test_remove_and_sync(assistant, corpus_dir):
    paths = write_articles(corpus_dir, 3)
    assistant.ingest()
    ids = [a.id for a in assistant.articles()]
    assert len(ids) == 4
    victim = next(a for a in assistant.articles() if a.origin == str(paths[0].resolve()))
    assert assistant.remove([victim.id]) == 1
    assert victim.id not in {a.id for a in assistant.articles()}
    assert all(p.article_id != victim.id for p in assistant.store.all_passages())

    paths[1].unlink()
    report = assistant.ingest(sync=True)
    assert len(report.removed) == 1 and len(report.added) == 1  # paths[0] is back, paths[1] is gone
    assert {a.origin for a in assistant.articles()} == {str(p.resolve()) for p in corpus_dir.glob("*.txt")}
    consistent(assistant)


def test_bad_file_never_stops_the_batch_nor_damages_the_index(assistant, corpus_dir):
    assistant.ingest()
    (corpus_dir / "broken.json").write_text("{oops", encoding="utf-8")
    (corpus_dir / "empty.txt").write_text("", encoding="utf-8")
    write_articles(corpus_dir, 2)
    report = assistant.ingest()
    assert len(report.failed) == 2 and len(report.added) == 2 and len(report.unchanged) == 1
    assert len(assistant.articles()) == 3
    consistent(assistant)


CHILD = textwrap.dedent(
    """
    import os, sys
    from rag.assistant import Assistant
    from rag.settings import load_settings
    from rag import store as store_module

    settings = load_settings(data_dir=sys.argv[1], corpus_dir=sys.argv[2], llm="extractive")
    mode = sys.argv[3]
    assistant = Assistant(settings)
    if mode == "die-before-complete":
        # Crash at the worst moment: passages of a batch written, articles not yet marked complete.
        original = store_module.Store._mark
        calls = {"n": 0}
        def mark(self, ids, status):
            if status == store_module.COMPLETE:
                calls["n"] += 1
                if calls["n"] == 2:
                    os._exit(137)
            return original(self, ids, status)
        store_module.Store._mark = mark
    from rag.ingest.pipeline import Ingestor
    ingestor = Ingestor(assistant.store, assistant.embedding, assistant.chunker, assistant.settings.ingest, batch_passages=8)
    print("started", flush=True)
    ingestor.ingest([settings.storage.corpus_dir])
    print("finished", flush=True)
    """
)


def _child(tmp_path, mode):
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "data"), str(tmp_path / "corpus"), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def test_crash_between_passages_and_registry_then_resume(make_settings, embedding, corpus_dir, tmp_path):
    write_articles(corpus_dir, 30)
    child = _child(tmp_path, "die-before-complete")
    output, _ = child.communicate(timeout=300)
    assert child.returncode == 137, output

    assistant = Assistant(make_settings(), embedding=embedding)
    registry = assistant.store.registry()
    pending = [e.id for e in registry.values() if e.status == "pending"]
    complete = assistant.articles()
    assert pending and complete, "the crash should leave some articles complete and some pending"
    # Pending articles are not counted as indexed and retrieval never returns their passages.
    assert not set(pending) & {a.id for a in complete}
    hits = assistant.retrieve("council vote fund project euros mayor", top_k=50)
    assert not {h.passage.article_id for h in hits.passages} & set(pending)

    report = assistant.ingest()
    assert len(report.unchanged) == len(complete)
    assert len(assistant.articles()) == 31
    consistent(assistant)


def test_sigkill_mid_ingest_then_resume(make_settings, embedding, corpus_dir, tmp_path):
    write_articles(corpus_dir, 60)
    child = _child(tmp_path, "plain")
    assert child.stdout.readline().strip() == "started"
    probe = Assistant(make_settings(), embedding=embedding)
    deadline = time.time() + 120
    while time.time() < deadline and not probe.store.articles():
        time.sleep(0.2)
    # The kill must land mid-ingest: a child that had already finished would prove nothing.
    assert child.poll() is None, "the child finished before it could be killed; give it more articles"
    assert len(probe.store.articles()) < 61
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    assistant = Assistant(make_settings(), embedding=embedding)
    consistent(assistant)
    assistant.ingest()
    assert len(assistant.articles()) == 61
    consistent(assistant)


def _jsonl(path, records):
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_same_article_id_twice_in_one_run(assistant, corpus_dir, tmp_path):
    """Finding 1: two records sharing an id in one run crashed the whole ingest (DuplicateIDError) and
    stored nothing. Now a genuine duplicate is reported as one, and different texts are both kept."""
    live = _jsonl(tmp_path / "live.jsonl", [
        {"url": "https://news.example/live", "title": "Storm live", "text": "09:00 The storm reached the coast."},
        {"url": "https://news.example/live", "title": "Storm live", "text": "10:00 Ferries were cancelled for the day."},
        {"url": "https://news.example/live", "title": "Storm live", "text": "09:00 The storm reached the coast."},
        {"title": "Council", "date": "2024-05-01", "text": "The council approved the harbour budget."},
        {"title": "Council", "date": "2024-05-01", "text": "The council also named a new harbour master."},
    ])
    sample = next(corpus_dir.glob("*.txt"))
    report = assistant.ingest([live, sample, sample, corpus_dir, sample])
    assert len(report.added) == 5 and not report.failed, report.summary()
    assert len(report.duplicates) == 4, report.duplicates  # the repeated live record, the sample 3 more times
    texts = {assistant.store.article(a.id).text for a in assistant.articles()}
    assert {"10:00 Ferries were cancelled for the day.", "The council also named a new harbour master."} <= texts
    consistent(assistant)

    again = assistant.ingest([live, sample, sample])
    assert (len(again.added), len(again.updated), len(again.unchanged)) == (0, 0, 5), again.summary()

    # The live blog grows: the first entry is corrected, the others keep their ids.
    records = [json.loads(line) for line in live.read_text(encoding="utf-8").splitlines()]
    records[0]["text"] = "09:00 The storm reached the coast at dawn."
    _jsonl(live, records)
    third = assistant.ingest([live])
    # Record 1 updated in place; record 3 (its old text) is now a story of its own; the rest unchanged.
    assert (len(third.added), len(third.updated), len(third.unchanged), len(third.duplicates)) == (1, 1, 3, 0), third.summary()
    assert len(assistant.articles()) == 6
    consistent(assistant)


def test_different_story_with_same_title_and_date_is_kept(assistant, tmp_path):
    """Finding 5: a different story with the same title and date (no URL, no id) replaced the first."""
    first = _jsonl(tmp_path / "monday.jsonl", [{"title": "Council meets", "date": "2024-05-01", "text": "The council approved the budget."}])
    second = _jsonl(tmp_path / "tuesday.jsonl", [{"title": "Council meets", "date": "2024-05-01", "text": "Another council rejected the tram plan."}])
    assert len(assistant.ingest([first]).added) == 1
    report = assistant.ingest([second])
    assert len(report.added) == 1 and not report.updated, report.summary()
    texts = {assistant.store.article(a.id).text for a in assistant.articles()}
    assert {"The council approved the budget.", "Another council rejected the tram plan."} <= texts


def test_app_served_beyond_localhost_refuses_loopback_urls(assistant, tmp_path):
    """Finding 6: "Add URL" in an exposed app indexed http://127.0.0.1:PORT/secret. The CLI and a
    localhost app may still fetch a user's own local server (``fetch_allow_private = "auto"``)."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    site = tmp_path / "site"
    site.mkdir()
    (site / "secret.txt").write_text("The internal admin password is hunter2, the memo said.", encoding="utf-8")
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/secret.txt"
        exposed = assistant.ingest([url], served_beyond_localhost=True)
        assert not exposed.added and "refused" in exposed.failed[0][1]
        assert not any(a.url == url for a in assistant.articles())
        local = assistant.ingest([url])
        assert len(local.added) == 1, local.summary()
    finally:
        server.shutdown()
        server.server_close()


def test_embed_by_length_sends_shortest_first_and_keeps_the_order():
    """Pure ordering logic, so a deterministic fake stands in for the model."""
    from rag.ingest.pipeline import embed_by_length

    class LengthEmbedding:
        sent: list[str] = []

        def get_text_embedding_batch(self, texts):
            self.sent = list(texts)
            return [[float(len(t))] for t in texts]

    fake = LengthEmbedding()
    texts = ["a much longer passage", "short", "a middle one"]
    assert embed_by_length(fake, texts) == [[21.0], [5.0], [12.0]]
    assert fake.sent == ["short", "a middle one", "a much longer passage"]
    assert embed_by_length(fake, []) == []
    words = lambda text: len(text.split())  # noqa: E731 - a length in "pieces" unlike characters
    assert embed_by_length(fake, ["abcdefghijklmnop", "a b c", "a b"], words) == [[16.0], [5.0], [3.0]]
    assert fake.sent == ["abcdefghijklmnop", "a b", "a b c"]


def test_a_record_dated_n_a_is_stored_undated_with_a_line(tmp_path, make_settings, embedding):
    # Issue 25, finding 4: "n/a" was stored as two days before the ingest and got the full recency boost.
    import json

    from rag.assistant import Assistant

    path = tmp_path / "records.jsonl"
    rows = [("n/a", "harbour"), ("nan", "railway"), ("12", "museum"), ("2025-11-02", "bridge")]
    path.write_text("\n".join(json.dumps({"id": f"r{i}", "date": date, "title": f"The {topic} works", "text": f"The {topic} works in Port Elsby will cost {i + 2} million euros, the council said."}) for i, (date, topic) in enumerate(rows)))
    assistant = Assistant(make_settings(), embedding=embedding)
    report = assistant.ingest([path])
    dates = {a.id: a.date for a in assistant.articles()}
    assert dates == {"r0": None, "r1": None, "r2": None, "r3": __import__("datetime").date(2025, 11, 2)}
    assert sorted(i for i, _ in report.undated) == ["r0", "r1", "r2"]
    assert all("could not read the date" in note and "undated" in note for _, note in report.undated)
