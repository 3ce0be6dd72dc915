"""Embeddings from an OpenAI-compatible ``/v1/embeddings`` server (``embed_backend = "openai"``).

Any server speaking OpenAI's embeddings API serves: Infinity, text-embeddings-inference, vLLM, Ollama,
llama.cpp's server (README "Scaling out" says what runs here). The client is LlamaIndex's
``OpenAILikeEmbedding`` (extra ``openai``), so batching (``embed_batch_size`` texts per request), the
OpenAI client's connection handling and its retries of failed requests are the library's. Subclassed for
what a store of passages needs and the library leaves out:

* **a total deadline per batch** (``embed_timeout_s``): the request and every retry of it end together
  (``rag.deadline.call_within``); the library bounds each attempt only, and retries for up to a minute
  on top, so a dead server could hold an ingest for many minutes;
* **one vector per passage, in order**: the reply's vectors are put in ``index`` order and their number
  checked against the batch, so a reply that lost or repeated an item fails the batch instead of
  shifting every later vector onto the wrong passage. A retried batch is simply asked for again: the
  store writes a passage only after its batch's vectors came back, under the passage's own id, so a
  retry never stores a passage twice;
* **one clear error** (:class:`EmbeddingServerError`) naming the setting to fix when the server cannot be
  reached, answers with an error, or is too slow, instead of the client's traceback;
* ``encoding_format="float"``: the OpenAI client asks for base64 by default, which not every
  compatible server speaks.

Which backend is chosen, and the local models, are ``rag.embed``'s business.
"""

from __future__ import annotations

from typing import Any

SETTINGS_HINT = "set embed_base_url (RAG_EMBED_BASE_URL) to a running OpenAI-compatible embedding server, or embed_backend=onnx"


class EmbeddingServerError(RuntimeError):
    """The embedding server could not embed a batch; the message names the setting to check."""


def make_server_embedding(
    base_url: str, model: str, api_key: str, *, batch_size: int, timeout_s: float, max_retries: int
):
    """A LlamaIndex embedding that sends batches of ``batch_size`` texts to ``base_url``/embeddings."""
    try:
        from llama_index.embeddings.openai_like import OpenAILikeEmbedding
    except ImportError as err:
        raise EmbeddingServerError(
            f"embed_backend=openai needs the 'openai' extra ({err}): pip install -e '.[openai]'"
        ) from err
    return _server_class(OpenAILikeEmbedding)(
        model_name=model,
        api_base=base_url,
        api_key=api_key or "not-needed",
        embed_batch_size=batch_size,
        max_retries=max_retries,
        timeout=timeout_s,
    )


def _server_class(base: type):
    class ServerEmbedding(base):  # type: ignore[misc, valid-type]
        """``OpenAILikeEmbedding`` with a total deadline per batch, ordered and counted vectors, clear errors."""

        @classmethod
        def class_name(cls) -> str:
            return "ServerEmbedding"

        def embed_batch(self, texts: list[str]) -> list[list[float]]:
            """The vectors of ``texts`` (one request, retried within ``timeout``), in order."""
            import openai

            from rag.deadline import DeadlineExceeded, call_within

            client = self._get_client()

            def request(_worker: Any) -> Any:
                return client.embeddings.create(input=texts, model=self.model_name, encoding_format="float")

            where = f"the embedding server at {self.api_base}"
            try:
                reply = call_within(self.timeout, request, name="embedding-request")
            except DeadlineExceeded:
                raise EmbeddingServerError(
                    f"{where} sent no embeddings within {self.timeout:g} s (embed_timeout_s); {SETTINGS_HINT}"
                ) from None
            except openai.APIConnectionError as err:
                raise EmbeddingServerError(f"{where} cannot be reached ({err}); {SETTINGS_HINT}") from None
            except openai.APIStatusError as err:
                raise EmbeddingServerError(
                    f"{where} answered {err.status_code} for model {self.model_name!r} ({err.message}); "
                    "check embed_server_model (RAG_EMBED_SERVER_MODEL) and embed_api_key"
                ) from None
            items = sorted(reply.data, key=lambda item: item.index)
            if [item.index for item in items] != list(range(len(texts))):
                raise EmbeddingServerError(
                    f"{where} returned {len(items)} embeddings for a batch of {len(texts)}; nothing of it was stored"
                )
            return [list(item.embedding) for item in items]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self.embed_batch(texts)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self.embed_batch([text])[0]

        def _get_query_embedding(self, query: str) -> list[float]:
            return self.embed_batch([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embedding(text)

        async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._get_text_embeddings(texts)

    return ServerEmbedding
