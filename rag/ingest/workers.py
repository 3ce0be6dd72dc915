"""Parallel embedding for a bulk ingest (``rag ingest --workers N``, ``ingest_workers``).

Embedding is an ingest's whole cost (reading, chunking and storing take a few percent), so this is the
part spread out: each batch the ingest sends (``ingest.embed_by_length``) is cut into ``N`` slices of
neighbouring lengths, embedded at once by ``N`` worker processes, each with its own model on one
ONNX Runtime thread (or, for ``embed_backend = "openai"``, by ``N`` concurrent requests to the server,
from threads: the server does the work). Everything else stays in the one ingesting process: it reads
and de-duplicates the articles (so the same story under two names, or two texts under one id, are
decided as in a single-process run), and it alone writes to the store, batch by batch, crash-safely
(``store.write_articles``). Hence:

* **no duplicate passage**: a passage is written once, by the one writer, under its own id;
* **no lost article**: a worker that dies (killed, out of memory) loses nothing written; the pool is
  restarted and the batch's unfinished slices are embedded again (``MAX_RESTARTS`` times, then the
  ingest stops with one error and the next run resumes, as after any crash);
* **re-runs idempotent**: what is complete is skipped, as in any ingest.

Why processes and not threads for the local models: ONNX Runtime already runs one batch on all cores;
separate processes with one thread each keep every core busy through the tokenizer, padding and Python
parts between the model's parallel sections. Several machines ingesting into one Chroma server each
run ``rag ingest`` over their own files (README "Scaling out").
"""

from __future__ import annotations

import atexit
import concurrent.futures
from typing import Any

MAX_RESTARTS = 3
_model = None  # the worker process's embedding model


def _load(settings) -> None:
    global _model
    from rag.embed import embedding_from

    _model = embedding_from(settings)


def _embed(texts: list[str]) -> list[list[float]]:
    return _model.get_text_embedding_batch(texts)


class WorkersFailed(RuntimeError):
    """The embedding workers kept dying; the message says what to do."""


class WorkerPoolEmbedding:
    """``get_text_embedding_batch`` spread over ``workers`` processes (threads for a server backend)."""

    def __init__(self, settings, workers: int) -> None:
        """``settings``: the ``EmbeddingSettings`` group the workers build their model from."""
        self.workers = workers
        self.server = settings.embed_backend == "openai"
        self.settings = settings if self.server else settings.model_copy(update={"embed_threads": 1})
        self.restarts = 0
        self._pool = None
        atexit.register(self.close)

    def _executor(self):
        if self._pool is None:
            if self.server:
                from rag.embed import embedding_from

                model = embedding_from(self.settings)
                self._pool = concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="newsdesk-embed")
                self._call = model.get_text_embedding_batch
            else:
                import multiprocessing

                # spawn: a forked child would inherit the parent's ONNX Runtime and Chroma threads mid-state.
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_load, initargs=(self.settings,)
                )
                self._call = _embed
        return self._pool

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (none for threads); tests and benchmarks kill one with it."""
        processes = getattr(self._pool, "_processes", None) or {}  # noqa: SLF001 - the executor offers no public list
        return list(processes)

    def get_text_embedding_batch(self, texts: list[str], **_: Any) -> list[list[float]]:
        size = -(-len(texts) // self.workers) or 1
        slices = [texts[begin : begin + size] for begin in range(0, len(texts), size)]
        done: dict[int, list[list[float]]] = {}
        tries = 0  # per batch: a long-running app's pool may lose a worker now and then without giving up for good
        while True:
            pool = self._executor()
            futures = {i: pool.submit(self._call, part) for i, part in enumerate(slices) if i not in done}
            try:
                for i, future in futures.items():
                    done[i] = future.result()
                return [vector for i in range(len(slices)) for vector in done[i]]
            except concurrent.futures.process.BrokenProcessPool:
                # A worker died: its slice (and any other unfinished one) is embedded again by a new pool.
                # Nothing of the batch has been written yet, so nothing is stored twice.
                for future in futures.values():
                    future.cancel()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                self.restarts += 1  # in all: tests and benchmarks read it
                tries += 1
                if tries > MAX_RESTARTS:
                    raise WorkersFailed(
                        f"embedding workers died {tries} times in one batch; the ingest stopped (run it again to resume, "
                        "or with fewer --workers)"
                    ) from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
