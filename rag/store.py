"""The Chroma store: the only module that imports ``chromadb``.

Two collections live side by side, in an embedded ``PersistentClient`` (default) or on a Chroma server
(``HttpClient``):

* ``<collection>``: one record per passage, written and queried through LlamaIndex's
  ``ChromaVectorStore`` (cosine space), with flat metadata for filtering (``article_id``, ``day`` as an
  integer day number so ``$gte``/``$lte`` work, ``source``).
* ``<collection>_articles``: the article registry, one record per article with its metadata, content
  hash, chunk count and an ingest ``status``. An article counts as indexed only once its status is
  ``complete``, which is written after its passages: an ingest killed at any moment leaves at worst
  a ``pending`` article, whose passages retrieval ignores and the next ingest redoes. A removal marks
  its articles ``removing`` first (no longer listed or searched), then deletes their passages, then
  their entries: a removal killed at any moment leaves at worst ``removing`` entries, which the next
  write finishes (:meth:`Store.repair`).

Why not LlamaIndex's docstore-backed ``IngestionPipeline`` de-duplication: its ``SimpleDocumentStore``
is a local JSON file written only when a run ends, so it is neither crash-safe nor shared with a Chroma
server; keeping the registry in Chroma itself gives both. Deciding what to (re)index is ``rag.ingest.pipeline``'s.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.ingest.speakers import decode as decode_speakers
from rag.ingest.speakers import encode as encode_speakers
from rag.types import Article, ArticleInfo, Passage, ScoredPassage

PENDING, COMPLETE, REMOVING = "pending", "complete", "removing"
# Chroma needs a vector per record; the registry is never searched by vector, so each holds this one.
_REGISTRY_VECTOR = [1.0]
_PAGE = 5000  # records per Chroma ``get`` page (keeps server responses and memory small)


class StoreUnavailable(RuntimeError):
    """The Chroma store cannot be opened or reached; the message names the setting to fix."""


@dataclass(frozen=True)
class RegistryEntry:
    id: str
    content_hash: str
    status: str
    origin: str
    chunks: int = 0  # the passages it was stored with


def make_client(*, data_dir, host: str = "", port: int = 8000, ssl: bool = False):
    """A Chroma client: a server when ``host`` is set, else the embedded store in ``data_dir``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if host:
        try:
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings)
            client.heartbeat()
        except Exception as error:
            raise StoreUnavailable(
                f"Chroma server at {host}:{port} is unreachable ({type(error).__name__}). Start it with "
                f"`chroma run --path DIR --port {port}` or fix RAG_CHROMA_HOST / RAG_CHROMA_PORT."
            ) from None
        return client
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file of that name, no permission, a read-only disk
        reason = "is a file, not a folder" if data_dir.exists() and not data_dir.is_dir() else f"cannot be created ({error.strerror or error})"
        raise StoreUnavailable(f"the data folder {data_dir} {reason}; set RAG_DATA_DIR (data_dir in rag.toml) to a folder.") from None
    try:
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=chroma_settings)
    except Exception as error:
        raise StoreUnavailable(f"cannot open the Chroma store in {data_dir} ({error}); check RAG_DATA_DIR.") from None


class Store:
    """Passages (through ``ChromaVectorStore``) and the article registry, in one Chroma database."""

    def __init__(self, client, collection: str) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self._client = client
        self._passages = client.get_or_create_collection(
            collection, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        self._articles = client.get_or_create_collection(f"{collection}_articles", embedding_function=None)
        self.vector_store = ChromaVectorStore(chroma_collection=self._passages)
        self.name = collection

    # --- registry ----------------------------------------------------------------------------------

    def registry(self) -> dict[str, RegistryEntry]:
        """Every article the store knows, complete or pending, by id."""
        entries = {}
        for ids, metas, _ in self._paged(self._articles, include=["metadatas"]):
            for article_id, meta in zip(ids, metas):
                entries[article_id] = RegistryEntry(
                    article_id, meta.get("content_hash", ""), meta.get("status", ""), meta.get("origin", ""), int(meta.get("chunks", 0))
                )
        return entries

    def articles(self) -> list[ArticleInfo]:
        """Indexed (complete) articles, newest first."""
        infos = []
        for ids, metas, _ in self._paged(self._articles, include=["metadatas"], where={"status": COMPLETE}):
            infos.extend(_info(article_id, meta) for article_id, meta in zip(ids, metas))
        return sorted(infos, key=lambda a: (a.date or dt.date.min, a.title), reverse=True)

    def article(self, article_id: str) -> Article | None:
        """The whole complete article with this id (the text its passages' offsets index), or None."""
        found = self._articles.get(ids=[str(article_id)], include=["documents", "metadatas"])
        if not found["ids"] or found["metadatas"][0].get("status") != COMPLETE:
            return None
        meta, info = found["metadatas"][0], _info(found["ids"][0], found["metadatas"][0])
        try:
            authors = tuple(json.loads(meta.get("authors") or "[]"))
        except ValueError:
            authors = ()
        return Article(
            id=info.id, title=info.title, text=found["documents"][0] or "", date=info.date, source=info.source,
            url=info.url, authors=authors, content_hash=info.content_hash, origin=info.origin,
        )  # fmt: skip

    def statuses(self) -> tuple[list[str], list[str]]:
        """(ids of complete articles, ids of every other registry entry): ids only, no metadata read.

        What a retriever needs of the registry; reading every entry's metadata (``registry``) cost 1 s
        per 8,000 articles on 2 cores, most of a cached start-up at 100k passages.
        """
        complete = self._articles.get(where={"status": COMPLETE}, include=[])["ids"]
        others = self._articles.get(where={"status": {"$ne": COMPLETE}}, include=[])["ids"]
        return complete, others

    def generation(self) -> str:
        """A token that every write to the registry, by any process, replaces ("" before the first).

        Kept in the registry collection's metadata (one small read): caches of what the store holds
        key on it, and a retriever notices another process's write by it, even one that keeps the
        passage count (an article updated in place).
        """
        metadata = self._client.get_collection(self._articles.name, embedding_function=None).metadata or {}
        return str(metadata.get("generation", ""))

    def _written(self) -> None:
        """Replace the generation token (see ``generation``); called before and after each write's steps."""
        self._articles.modify(metadata={"generation": uuid.uuid4().hex})

    def completed_among(self, article_ids: Iterable[str]) -> list[str]:
        """Those of ``article_ids`` whose registry status is complete now (one small Chroma query)."""
        ids = list(article_ids)
        if not ids:
            return []
        # Fetched by id and filtered here: Chroma's where= beside ids= scanned the whole registry's
        # metadata (2.2 s per call at 7,700 articles on 2 cores, once a second while any entry is pending).
        found = self._articles.get(ids=ids, include=["metadatas"])
        return [i for i, meta in zip(found["ids"], found["metadatas"]) if (meta or {}).get("status") == COMPLETE]

    def authors(self, article_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The authors of each of these articles that names any (one registry read)."""
        ids = sorted({str(i) for i in article_ids})
        found = self._articles.get(ids=ids, include=["metadatas"]) if ids else {"ids": [], "metadatas": []}
        named = {}
        for article_id, meta in zip(found["ids"], found["metadatas"]):
            try:
                authors = tuple(json.loads((meta or {}).get("authors") or "[]"))
            except ValueError:
                authors = ()
            if authors:
                named[article_id] = authors
        return named

    def find_by_hash(self, content_hash: str) -> str | None:
        """The id of a complete article with this content hash, if any (duplicate detection)."""
        found = self._articles.get(where={"$and": [{"content_hash": content_hash}, {"status": COMPLETE}]}, limit=1)
        return found["ids"][0] if found["ids"] else None

    # --- writes --------------------------------------------------------------------------------------

    def write_articles(self, batch: Sequence[tuple[Article, list[Passage], list[list[float]]]]) -> None:
        """Replace the passages of each article in ``batch`` and mark it complete, crash-safely.

        Order matters: registry ``pending`` → old passages deleted → new passages added → ``complete``.
        """
        from llama_index.core.schema import TextNode

        if not batch:
            return
        ids = [article.id for article, _, _ in batch]
        self._written()
        self._upsert_registry([(a, len(p), PENDING) for a, p, _ in batch])
        self._passages.delete(where={"article_id": {"$in": ids}})
        nodes = [
            TextNode(id_=p.id, text=p.text, embedding=list(vector), metadata=passage_metadata(p), excluded_embed_metadata_keys=[])
            for _, passages, vectors in batch
            for p, vector in zip(passages, vectors)
        ]
        if nodes:
            self.vector_store.add(nodes)
        # Only the status changes: not a second upsert of every article's text, which Chroma indexes
        # again (measured: the registry upserts were a third of a bulk write's time).
        self._mark(ids, COMPLETE)
        self._written()

    def remove(self, article_ids: Iterable[str]) -> int:
        """Delete articles and their passages, crash-safely; returns how many were known.

        Order matters: registry ``removing`` (the articles leave listings and answers at once) → passages
        deleted → registry entries deleted. Deleting the passages first (as before) let a kill leave
        articles marked complete with no passages, which nothing repaired.
        """
        ids = list(dict.fromkeys(str(i) for i in article_ids))
        if not ids:
            return 0
        known = self._articles.get(ids=ids, include=[])["ids"]
        # The write token changes only when an article is removed: a new token makes every process
        # rebuild its lexical index. Passages are deleted for unknown ids too (none should exist: every
        # write registers its articles before it adds their passages).
        if known:
            self._written()
            self._mark(known, REMOVING)
        self._passages.delete(where={"article_id": {"$in": ids}})
        if known:
            self._articles.delete(ids=known)
            self._written()
        return len(known)

    def repair(self) -> dict[str, list[str]]:
        """Finish what a killed write left behind; ``{"removed": [...], "pending": [...]}`` (article ids).

        * ``removing`` entries (a killed removal) are removed;
        * complete articles that lost passages (a removal killed under an older version, which deleted
          passages first) are marked ``pending``: they leave listings and answers, and the next ingest
          of their source indexes them again.

        Cheap when nothing is wrong: the passages are counted per article only when the store holds
        fewer passages than its complete articles should have, or an entry is not complete.
        """
        registry = self.registry()
        removing = [e.id for e in registry.values() if e.status == REMOVING]
        if removing:
            self.remove(removing)
        chunks = {e.id: e.chunks for e in registry.values() if e.status == COMPLETE}  # one registry read
        unfinished = any(e.status != COMPLETE for e in registry.values() if e.id not in removing)
        if not chunks or (not unfinished and self.count_passages() >= sum(chunks.values())):
            return {"removed": removing, "pending": []}
        counts: dict[str, int] = {}
        for _, metas, _ in self._paged(self._passages, include=["metadatas"]):
            for meta in metas:
                counts[meta["article_id"]] = counts.get(meta["article_id"], 0) + 1
        broken = [article_id for article_id, n in chunks.items() if counts.get(article_id, 0) < n]
        if broken:
            self._written()
            self._mark(broken, PENDING)
            self._written()
        return {"removed": removing, "pending": broken}

    def _mark(self, ids: list[str], status: str) -> None:
        """Set the status of registry entries ``ids`` (a metadata update: their text is not written again)."""
        self._articles.update(ids=ids, metadatas=[{"status": status} for _ in ids])

    def _upsert_registry(self, rows: Sequence[tuple[Article, int, str]]) -> None:
        self._articles.upsert(
            ids=[a.id for a, _, _ in rows],
            embeddings=[_REGISTRY_VECTOR for _ in rows],
            documents=[a.text for a, _, _ in rows],
            metadatas=[_article_metadata(a, chunks, status) for a, chunks, status in rows],
        )

    # --- reads for retrieval -------------------------------------------------------------------------

    def count_passages(self) -> int:
        return self._passages.count()

    def all_passages(self) -> list[Passage]:
        """Every stored passage (for building the BM25 index)."""
        passages = []
        for ids, metas, docs in self._paged(self._passages, include=["metadatas", "documents"]):
            passages.extend(passage_from(pid, meta, doc) for pid, meta, doc in zip(ids, metas, docs))
        return passages

    def passage_vectors(self, ids: Sequence[str], page: int = 5000):
        """The stored embeddings of passages ``ids``, one row each in that order (a float32 array)."""
        import numpy as np

        vectors = np.zeros((len(ids), 0), dtype=np.float32)
        blocks = []
        for start in range(0, len(ids), page):
            wanted = list(ids[start : start + page])
            got = self._passages.get(ids=wanted, include=["embeddings"])
            row = {pid: k for k, pid in enumerate(got["ids"])}
            block = np.asarray(got["embeddings"], dtype=np.float32)
            blocks.append(block[[row[pid] for pid in wanted]])
        return np.concatenate(blocks) if blocks else vectors

    def dense_search(self, query_vector: list[float], k: int, where: dict | None) -> list[ScoredPassage]:
        """Nearest passages by cosine similarity, restricted by a Chroma ``where`` filter."""
        # Queried on the collection directly, not through ChromaVectorStore.query: its result
        # rebuilds a LlamaIndex node per hit from JSON, and we need our flat metadata and the raw
        # distance; writes still go through ChromaVectorStore so its node format stays compatible.
        k = min(k, max(1, self._passages.count()))
        result = self._passages.query(
            query_embeddings=[query_vector], n_results=k, where=where or None, include=["metadatas", "documents", "distances"]
        )
        hits = []
        for pid, meta, doc, distance in zip(
            result["ids"][0], result["metadatas"][0], result["documents"][0], result["distances"][0]
        ):
            similarity = 1.0 - float(distance)
            hits.append(ScoredPassage(passage_from(pid, meta, doc), score=similarity, dense_score=similarity))
        return hits

    def dense_ids(self, query_vector: list[float], k: int, total: int | None = None) -> list[tuple[str, float]]:
        """The ``k`` nearest passage ids with their cosine similarity, unfiltered (no documents fetched).

        ``total``, the number of passages if the caller knows it, saves a count round trip.
        """
        k = min(k, max(1, total if total and total > 0 else self._passages.count()))
        result = self._passages.query(query_embeddings=[query_vector], n_results=k, include=["distances"])
        return [(pid, 1.0 - float(distance)) for pid, distance in zip(result["ids"][0], result["distances"][0])]

    def _paged(self, collection, include: list[str], where: dict | None = None):
        """Every record (``where`` matching) in pages of ``_PAGE``: ``(ids, metadatas, documents)`` per page.

        The ids come first in one call, then each page by its ids: Chroma's ``offset`` skips records one
        by one, so paging by offset read the whole collection in time quadratic in its size (measured
        at 100k passages: 0.06 s for the first page, 0.74 s for the last; at a million, minutes of skipping).
        """
        ids = collection.get(include=[], where=where)["ids"]
        for start in range(0, len(ids), _PAGE):
            page = collection.get(ids=ids[start : start + _PAGE], include=include)
            if page["ids"]:  # a record deleted since the ids were read is simply not returned
                yield page["ids"], page.get("metadatas") or [], page.get("documents") or [None] * len(page["ids"])


def passage_metadata(p: Passage) -> dict:
    """A passage's flat Chroma metadata (also the BM25 cache's record, see retrieve.Bm25Cache)."""
    return {
        "article_id": p.article_id,
        "start": p.start,
        "end": p.end,
        "title": p.title,
        "date": p.date.isoformat() if p.date else "",
        "day": p.date.toordinal() if p.date else 0,
        "source": p.source,
        "url": p.url,
        # Flat scalars only in Chroma metadata: the speaker spans as one JSON string (absent: computed lazily).
        **({"speakers": encode_speakers(p.speakers)} if p.speakers is not None else {}),
    }


def passage_from(pid: str, meta: dict, text: str) -> Passage:
    """The ``Passage`` back from its id, ``passage_metadata`` and text."""
    iso = meta.get("date") or ""
    return Passage(
        id=pid,
        article_id=meta["article_id"],
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        title=meta.get("title", ""),
        date=dt.date.fromisoformat(iso) if iso else None,
        source=meta.get("source", ""),
        url=meta.get("url", ""),
        speakers=decode_speakers(meta.get("speakers")),
    )


def _article_metadata(a: Article, chunks: int, status: str) -> dict:
    return {
        "title": a.title,
        "date": a.date.isoformat() if a.date else "",
        "day": a.day or 0,
        "source": a.source,
        "url": a.url,
        "authors": json.dumps(list(a.authors)),
        "content_hash": a.content_hash,
        "origin": a.origin,
        "chunks": chunks,
        "status": status,
    }


def _info(article_id: str, meta: dict) -> ArticleInfo:
    iso = meta.get("date") or ""
    return ArticleInfo(
        id=article_id,
        title=meta.get("title", ""),
        date=dt.date.fromisoformat(iso) if iso else None,
        source=meta.get("source", ""),
        url=meta.get("url", ""),
        chunks=int(meta.get("chunks", 0)),
        content_hash=meta.get("content_hash", ""),
        origin=meta.get("origin", ""),
    )
