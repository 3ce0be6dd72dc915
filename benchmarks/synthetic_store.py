"""A large store for the scale benchmarks, made of noisy copies of a real index's passages.

Embedding a million passages here is out of reach (about 30 passages/s on 2 cores: nine hours), so
``query_latency.py --source DIR`` reads an index built by ``rag ingest`` / ``rag eval`` (every article,
passage, text and stored vector; e.g. the 48,028-passage RealTimeQA index) and writes it again and again
through the project's own ``Store.write_articles`` (registry pending -> passages -> complete, as an
ingest does; the embedder is not involved) until the store holds each target size. Each copy is an
article under a new id (``<id>~<copy>``) and content hash, dated a random 0-364 days after the original
(the copies spread over a year, so as-of filters cut as they would in a year of news), whose passages
have:

* the stored vector plus Gaussian noise (sigma 0.02 per dimension, renormalised: cosine about 0.9 to the
  original), so HNSW never holds exact duplicates, which would make its graph unrealistically easy or
  hard to search;
* three words replaced by words drawn from the corpus and two neighbouring words swapped, so BM25's
  posting lists and document lengths are not exact multiples of the original's.

What this leaves out: a real year of news has more distinct words (names, places) than copies of five
months of it, so the BM25 vocabulary here grows more slowly than a real one would; the lexical index's
size is driven by the number of postings, which the copies do reproduce.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time


@dataclasses.dataclass
class BaseSet:
    """The source index: articles, their passages, and each article's passage vectors (a float32 array)."""

    articles: list
    passages: list[list]
    vectors: list
    words: list[str]

    @property
    def passage_count(self) -> int:
        return sum(len(p) for p in self.passages)


def read_base(source_dir, collection: str) -> BaseSet:
    """Every complete article of ``collection`` in the data folder ``source_dir``, with passages and vectors."""
    from rag.store import Store, make_client

    store = Store(make_client(data_dir=source_dir), collection)
    t = time.perf_counter()
    complete = sorted(store.statuses()[0])
    by_article: dict[str, list] = {}
    for p in store.all_passages():
        by_article.setdefault(p.article_id, []).append(p)
    articles, passages = [], []
    for article_id in complete:
        if article_id not in by_article:
            continue
        ps = sorted(by_article[article_id], key=lambda p: p.start)
        articles.append(store.article(article_id))
        passages.append(ps)
    flat = store.passage_vectors([p.id for ps in passages for p in ps])  # one paged read, then split per article
    vectors, offset = [], 0
    for ps in passages:
        vectors.append(flat[offset : offset + len(ps)])
        offset += len(ps)
    words = sorted({w for ps in passages[:500] for p in ps for w in p.text.split() if w.isalpha()})
    base = BaseSet(articles, passages, vectors, words)
    print(f"read {base.passage_count:,} passages of {len(articles):,} articles from {source_dir} in {time.perf_counter() - t:.0f} s", flush=True)
    return base


def noisy_text(text: str, words: list[str], rng) -> str:
    """``text`` with three words replaced by corpus words and two neighbouring words swapped."""
    tokens = text.split(" ")
    if len(tokens) > 4:
        for i in rng.integers(0, len(tokens), 3):
            tokens[i] = words[int(rng.integers(0, len(words)))]
        j = int(rng.integers(0, len(tokens) - 1))
        tokens[j], tokens[j + 1] = tokens[j + 1], tokens[j]
    return " ".join(tokens)


def copy_of(base: BaseSet, index: int, copy: int, rng):
    """Article ``index`` of ``base`` as copy number ``copy`` (0: the original), ready for ``write_articles``."""
    import numpy as np

    article, passages, vectors = base.articles[index], base.passages[index], base.vectors[index]
    if copy == 0:
        return article, passages, vectors.tolist()
    new_id = f"{article.id}~{copy}"
    shift = dt.timedelta(days=int(rng.integers(0, 365)))
    date = article.date + shift if article.date else None
    # A different content hash too, or the registry's duplicate detection would be the thing measured.
    clone = dataclasses.replace(article, id=new_id, content_hash=f"{article.content_hash}~{copy}", date=date)
    clones = [
        dataclasses.replace(p, id=f"{new_id}#{i}", article_id=new_id, date=date, text=noisy_text(p.text, base.words, rng))
        for i, p in enumerate(passages)
    ]
    noisy = vectors + rng.normal(0, 0.02, vectors.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return clone, clones, noisy.tolist()


def fill(store, base: BaseSet, target: int, rng, batch_passages: int = 2000) -> float:
    """Write copies of ``base`` until ``store`` holds ``target`` passages; returns passages written per second.

    Resumable: the next copy is the number of articles already in the store's registry.
    """
    written = store.count_passages()
    start_count, following = written, sum(map(len, store.statuses()))  # registry entries, ids only
    batch, size = [], 0
    t = time.perf_counter()
    last = t
    while written < target:
        index, copy = following % len(base.articles), following // len(base.articles)
        following += 1
        batch.append(copy_of(base, index, copy, rng))
        size += len(base.passages[index])
        written += len(base.passages[index])
        if size >= batch_passages or written >= target:
            store.write_articles(batch)
            batch, size = [], 0
            if time.perf_counter() - last > 60:
                last = time.perf_counter()
                print(f"  {written:,} passages, {(written - start_count) / (last - t):.0f}/s", flush=True)
    seconds = time.perf_counter() - t
    rate = (written - start_count) / seconds if written > start_count else 0.0
    print(f"store holds {store.count_passages():,} passages (writes took {seconds:.0f} s, {rate:.0f} passages/s)", flush=True)
    return rate
