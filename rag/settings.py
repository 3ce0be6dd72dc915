"""One typed settings object for the whole pipeline, and the group of it each stage receives.

Values come from, lowest priority first: the packaged defaults ``rag/rag.toml``, a ``rag.toml`` in the
working directory (or the file named by ``RAG_CONFIG``), environment variables ``RAG_<KEY>``, and
keyword arguments to :func:`load_settings`. Nothing here reads a model or opens a store; the object
is created once by the caller and passed down.

Keys stay flat (``RAG_TOP_K``, ``top_k = 8`` in a ``rag.toml``, ``load_settings(top_k=8)``), and
``Settings`` groups them by stage: ``settings.retrieval`` is a frozen ``RetrievalSettings`` holding
exactly the retrieval keys, under the same names, and so on for storage, embedding, ingest, answer,
generation (the LLM backends), citation, web and news. A stage is handed its group whole, so its
constructor neither copies fields one by one nor carries defaults of its own: ``rag.toml`` is the one
set of defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

DEFAULTS_FILE = Path(__file__).with_name("rag.toml")


# --- the stage groups: each field of Settings is in exactly one (tests/test_settings.py checks) ----------


@dataclass(frozen=True)
class StorageSettings:
    """Where articles are kept: ``Store`` and ``make_client`` (``store.py``), the corpus folder."""

    data_dir: Path
    corpus_dir: Path
    collection: str
    chroma_host: str
    chroma_port: int
    chroma_ssl: bool


@dataclass(frozen=True)
class EmbeddingSettings:
    """The embedding model (``embed.py``); also the key of the process-wide shared model."""

    embed_backend: str
    embed_model_path: str
    embed_batch_size: int


@dataclass(frozen=True)
class IngestSettings:
    """Reading and chunking articles: ``Ingestor`` (``ingest.py``) and ``Chunker`` (``chunk.py``)."""

    chunk_size: int
    chunk_overlap: int
    max_file_mb: float
    fetch_timeout_s: float
    fetch_allow_private: bool | str
    ingest_nice: int


@dataclass(frozen=True)
class RetrievalSettings:
    """Ranking, filtering and the refusal decision: ``HybridRetriever`` (``retrieve.py``)."""

    retrieval_mode: str
    top_k: int
    candidates: int
    max_passages_per_article: int
    dense_weight: float
    passage_bm25_weight: float
    article_bm25_weight: float
    title_bm25_weight: float
    recency_weight: float
    recency_half_life_days: float
    recency_floor: float
    correct_spelling: bool
    min_evidence: float
    min_coverage: float
    judge_parts: bool
    coverage_terms: int


@dataclass(frozen=True)
class AnswerSettings:
    """Composing answers: which backend answers, the extractive answerer, what the LLM is shown."""

    llm: str
    answer_sentences: int
    sentence_overlap_weight: float
    llm_context_sentences: int
    rewrite_followups: bool


@dataclass(frozen=True)
class GenerationSettings:
    """The LLM itself (``llm.make_llm``); also the key of the process-wide shared model."""

    llm_model_path: str
    llm_context_window: int
    llm_max_tokens: int
    llm_temperature: float
    llm_threads: int
    openai_base_url: str
    openai_model: str
    openai_api_key: str
    ollama_base_url: str
    ollama_model: str
    request_timeout_s: float


@dataclass(frozen=True)
class CitationSettings:
    """Checking a generated answer's citations: ``CitationVerifier`` (``cite.py``) and its judge."""

    cite_min_similarity: float
    cite_min_overlap: float
    cite_min_support: float
    cite_judge: bool
    cite_judge_min_yes: float


@dataclass(frozen=True)
class WebSettings:
    """The web app: bind address, login and uploads (``webui.py``, ``login.py``)."""

    host: str
    port: int
    auth_user: str
    auth_password: str
    max_upload_mb: float
    min_password_length: int
    login_attempts: int
    login_lockout_s: float


@dataclass(frozen=True)
class NewsSettings:
    """The news workflow: feed refresh (``feeds.py``) and story timelines (``timeline.py``)."""

    feed_refresh_minutes: float
    timeline_max_articles: int
    timeline_min_relevance: float


GROUPS = {
    "storage": StorageSettings,
    "embedding": EmbeddingSettings,
    "ingest": IngestSettings,
    "retrieval": RetrievalSettings,
    "answer": AnswerSettings,
    "generation": GenerationSettings,
    "citation": CitationSettings,
    "web": WebSettings,
    "news": NewsSettings,
}


def _group(settings: "Settings", cls):
    return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


class Settings(BaseSettings):
    """newsdesk configuration. Defaults live in ``rag/rag.toml``; every field has an ``RAG_`` env var."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", frozen=True)

    data_dir: Path = Field(description="Embedded Chroma store and caches")
    corpus_dir: Path = Field(description="Folder ingested by default and on the app's first start")
    collection: str = Field(description="Chroma collection for passages")

    chroma_host: str = Field(description="Chroma server host; empty for the embedded store")
    chroma_port: int = Field(description="Chroma server port")
    chroma_ssl: bool = Field(description="Use https for the Chroma server")

    embed_backend: Literal["onnx", "torch"] = Field(description="Embedding runtime")
    embed_model_path: str = Field(description="Embedding model folder; empty for the bundled one")
    embed_batch_size: int = Field(gt=0, description="Chunks per embedding batch")

    chunk_size: int = Field(gt=16, le=250, description="Chunk size in word pieces")
    chunk_overlap: int = Field(ge=0, description="Overlap between chunks in word pieces")

    max_file_mb: float = Field(gt=0, description="Larger input files are rejected")
    fetch_timeout_s: float = Field(gt=0, description="Total deadline for fetching one URL")
    ingest_nice: int = Field(ge=0, le=19, description="CPU priority (nice) of an ingest's embedding work; 0: normal")
    fetch_allow_private: bool | Literal["auto"] = Field(
        description="Fetch loopback/private addresses: auto (not when the app is served beyond localhost) | true | false"
    )
    feed_refresh_minutes: float = Field(ge=0, description="The app refreshes subscribed feeds this often, in the background (0: off)")

    retrieval_mode: Literal["hybrid", "dense", "bm25"] = Field(description="Which retrievers to use")
    top_k: int = Field(gt=0, description="Passages handed to the answerer")
    candidates: int = Field(gt=0, description="Passages the dense search returns")
    max_passages_per_article: int = Field(gt=0, description="Cap on passages from one article")
    dense_weight: float = Field(ge=0, description="Article score: weight of the best passage's cosine similarity")
    passage_bm25_weight: float = Field(ge=0, description="Article score: weight of the best passage's scaled BM25")
    article_bm25_weight: float = Field(ge=0, description="Article score: weight of the whole article's scaled BM25")
    title_bm25_weight: float = Field(ge=0, description="Article score: weight of the title's scaled BM25")
    recency_weight: float = Field(ge=0, description="Weight of the log time prior (0: off)")
    recency_half_life_days: float = Field(gt=0, description="Age at which the time prior's decaying part halves")
    recency_floor: float = Field(gt=0, le=1, description="Share of the time prior left for old articles")
    correct_spelling: bool = Field(description="Correct misspelt question words against the articles' words")
    min_evidence: float = Field(description="Refuse when the best passage's cosine similarity is below this…")
    min_coverage: float = Field(description="…and the best IDF-weighted share of question terms in a passage is below this")
    judge_parts: bool = Field(description="Judge each sentence of a long question on its own for refusal")
    coverage_terms: int = Field(ge=0, description="Coverage judges only this many of the question's rarest terms (0: all)")
    timeline_max_articles: int = Field(gt=0, description="Most articles in a story timeline")
    timeline_min_relevance: float = Field(description="A timeline keeps articles whose best sentence scores at least this")

    llm: Literal["auto", "local", "openai", "ollama", "extractive"] = Field(description="Answer backend")
    answer_sentences: int = Field(gt=0, description="Sentences in an extractive answer")
    sentence_overlap_weight: float = Field(
        ge=0, description="Extractive sentence score: weight of the share of question words, beside cosine similarity"
    )
    llm_model_path: str = Field(description="GGUF file for the local LLM; empty for the bundled one")
    llm_context_window: int = Field(gt=0, description="Local LLM context window (tokens)")
    llm_max_tokens: int = Field(gt=0, description="Longest generated answer (tokens)")
    llm_context_sentences: int = Field(ge=0, description="Best-matching sentences shown to the LLM (0: whole passages)")
    llm_temperature: float = Field(ge=0, description="Sampling temperature")
    llm_threads: int = Field(ge=0, description="CPU threads for the local LLM (0: all cores)")
    openai_base_url: str = Field(description="OpenAI-compatible server URL (…/v1)")
    openai_model: str = Field(description="Model name on the OpenAI-compatible server")
    openai_api_key: str = Field(description="API key for the OpenAI-compatible server")
    ollama_base_url: str = Field(description="Ollama server URL")
    ollama_model: str = Field(description="Ollama model name")
    request_timeout_s: float = Field(gt=0, description="Total deadline per LLM server request (a trickling server cannot hold an answer longer)")
    rewrite_followups: bool = Field(description="Rewrite follow-up questions using the chat history")
    cite_min_similarity: float = Field(description="A sentence is a citation candidate for a claim at this cosine similarity…")
    cite_min_overlap: float = Field(ge=0, le=1, description="…or this share of the claim's content words")
    cite_min_support: float = Field(ge=0, le=1, description="Share of a claim's words a sentence must hold to pass without the judge")
    cite_judge: bool = Field(description="Ask the answering LLM whether a sentence states a claim the cheap checks cannot decide")
    cite_judge_min_yes: float = Field(ge=0, le=1, description="The judge's P(yes) at which a claim is stated")

    host: str = Field(description="Web app bind address")
    port: int = Field(description="Web app port")
    auth_user: str = Field(description="Web app user (required when host is not local)")
    auth_password: str = Field(description="Web app password")
    max_upload_mb: float = Field(gt=0, description="Largest file the web app accepts")
    min_password_length: int = Field(ge=1, description="Shortest password accepted for a non-local host")
    login_attempts: int = Field(ge=1, description="Failed logins from one client before it is locked out")
    login_lockout_s: float = Field(gt=0, description="First lockout; doubles with each further failure")

    # --- each stage's group (see the module docstring) ---

    @property
    def storage(self) -> StorageSettings:
        return _group(self, StorageSettings)

    @property
    def embedding(self) -> EmbeddingSettings:
        return _group(self, EmbeddingSettings)

    @property
    def ingest(self) -> IngestSettings:
        return _group(self, IngestSettings)

    @property
    def retrieval(self) -> RetrievalSettings:
        return _group(self, RetrievalSettings)

    @property
    def answer(self) -> AnswerSettings:
        return _group(self, AnswerSettings)

    @property
    def generation(self) -> GenerationSettings:
        return _group(self, GenerationSettings)

    @property
    def citation(self) -> CitationSettings:
        return _group(self, CitationSettings)

    @property
    def web(self) -> WebSettings:
        return _group(self, WebSettings)

    @property
    def news(self) -> NewsSettings:
        return _group(self, NewsSettings)

    @field_validator("data_dir", "corpus_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Relative paths resolve against the working directory at load time, so a copy of the
        # project with its own data dir is independent of where the package is installed.
        return value.expanduser().resolve()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = [DEFAULTS_FILE]
        user_file = Path(os.environ.get("RAG_CONFIG", "rag.toml"))
        if user_file.is_file() and user_file.resolve() != DEFAULTS_FILE.resolve():
            files.append(user_file)
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=files)


def load_settings(**overrides: object) -> Settings:
    """Load settings from the defaults, ``rag.toml``, ``RAG_*`` variables and ``overrides``."""
    return Settings(**overrides)
