"""One typed settings object for the whole pipeline, made of the groups each stage receives.

Values come from, lowest priority first: the packaged defaults ``rag/rag.toml``, a ``rag.toml`` in the
working directory (or the file named by ``RAG_CONFIG``), environment variables ``RAG_<KEY>``, and
keyword arguments to :func:`load_settings`. Nothing here reads a model or opens a store; the object
is created once by the caller and passed down.

Each key is declared once, in the group of the stage that reads it (``RetrievalSettings.top_k``), and
``Settings`` is the groups composed: ``settings.retrieval.top_k``. Users still write keys flat
(``RAG_TOP_K``, ``top_k = 8`` in a ``rag.toml``, ``load_settings(top_k=8)``): the loader's flat fields
are derived from the groups, and ``Settings`` sorts flat keys into their groups. A stage is handed its
group whole, so its constructor neither copies fields one by one nor carries defaults of its own:
``rag.toml`` is the one set of defaults. Reading the sources (TOML files, environment) is left to
pydantic-settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

DEFAULTS_FILE = Path(__file__).with_name("rag.toml")


class _Group(BaseModel):
    """A stage's settings: frozen (hashable, so a group can key a shared model), no defaults (``rag.toml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- the stage groups: each key is declared in exactly one (tests/test_settings.py checks) ----------------


class StorageSettings(_Group):
    """Where articles are kept: ``Store`` and ``make_client`` (``store.py``), the corpus folder."""

    data_dir: Path = Field(description="Embedded Chroma store and caches")
    corpus_dir: Path = Field(description="Folder ingested by default and on the app's first start")
    collection: str = Field(description="Chroma collection for passages")
    chroma_host: str = Field(description="Chroma server host; empty for the embedded store")
    chroma_port: int = Field(description="Chroma server port")
    chroma_ssl: bool = Field(description="Use https for the Chroma server")

    @field_validator("data_dir", "corpus_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Relative paths resolve against the working directory at load time, so a copy of the
        # project with its own data dir is independent of where the package is installed.
        return value.expanduser().resolve()


class EmbeddingSettings(_Group):
    """The embedding model (``embed.py``); also the key of the process-wide shared model."""

    embed_backend: Literal["onnx", "torch", "openai"] = Field(description="Embedding runtime (openai: a server)")
    embed_model_path: str = Field(description="Embedding model folder; empty for the bundled one")
    embed_batch_size: int = Field(gt=0, description="Chunks per embedding batch (per request to a server)")
    embed_threads: int = Field(ge=0, description="ONNX Runtime intra-op threads for the onnx embedding (0: one per core)")
    embed_base_url: str = Field(description="OpenAI-compatible embedding server URL (…/v1), for embed_backend=openai")
    embed_server_model: str = Field(description="Model name on the embedding server")
    embed_api_key: str = Field(description="API key for the embedding server")
    embed_timeout_s: float = Field(gt=0, description="Total deadline per batch sent to the embedding server, retries included")
    embed_max_retries: int = Field(ge=0, description="Retries of a failed request to the embedding server")


class IngestSettings(_Group):
    """Reading and chunking articles: ``Ingestor`` (``ingest/pipeline.py``) and ``Chunker`` (``ingest/chunk.py``)."""

    chunk_size: int = Field(gt=16, le=250, description="Chunk size in word pieces")
    chunk_overlap: int = Field(ge=0, description="Overlap between chunks in word pieces")
    max_file_mb: float = Field(gt=0, description="Larger input files are rejected")
    fetch_timeout_s: float = Field(gt=0, description="Total deadline for fetching one URL")
    fetch_allow_private: bool | Literal["auto"] = Field(
        description="Fetch loopback/private addresses: auto (not when the app is served beyond localhost) | true | false"
    )
    ingest_nice: int = Field(ge=0, le=19, description="CPU priority (nice) of an ingest's embedding while questions are answered; 0: normal")
    ingest_workers: int = Field(ge=1, description="Embedding worker processes of an ingest (requests in flight for a server)")
    max_records_per_file: int = Field(gt=0, description="Records read from one JSON/JSON Lines file (and per upload); the rest are skipped, with a line")
    max_failures_per_file: int = Field(gt=0, description="A file whose records fail this often is given up, with a line (a bomb of empty records)")
    max_decompressed_mb: float = Field(gt=0, description="Records read from one JSON/JSON Lines file, in MB decompressed; the rest are skipped, with a line")
    max_failures_listed: int = Field(gt=0, description="Failure lines kept in one ingest's report; the rest are counted")


class RetrievalSettings(_Group):
    """Ranking, filtering and the refusal decision: ``HybridRetriever`` (``retrieval/hybrid.py``)."""

    retrieval_mode: Literal["hybrid", "dense", "bm25"] = Field(description="Which retrievers to use")
    top_k: int = Field(gt=0, description="Passages handed to the answerer")
    max_top_k: int = Field(gt=0, description="Largest top_k a question may ask for (a clear error above it)")
    max_question_chars: int = Field(gt=0, description="Longest question, in characters (a clear error above it)")
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
    refusal_rule: Literal["thresholds", "model"] = Field(description="How refusal decides: two thresholds, or the answerability model")
    min_evidence: float = Field(ge=0, le=1, description="Thresholds rule: refuse when the best cosine similarity is below this…")
    min_coverage: float = Field(ge=0, le=1, description="…and the share of the question's rare terms one passage holds is below this")
    min_answerable: float = Field(ge=0, le=1, description="Model rule: refuse when the answerability model's probability is below this")
    answerability_model: str = Field(description="JSON coefficients of the answerability model; empty for the bundled one")
    judge_parts: bool = Field(description="Judge each sentence of a long question on its own for refusal")
    coverage_terms: int = Field(ge=0, description="Coverage judges only this many of the question's rarest terms (0: all)")


class AnswerSettings(_Group):
    """Composing answers: which backend answers, the extractive answerer, what the LLM is shown."""

    llm: Literal["auto", "local", "openai", "ollama", "extractive"] = Field(description="Answer backend")
    answer_sentences: int = Field(gt=0, description="Evidence sentences quoted (the whole extractive answer)")
    sentence_overlap_weight: float = Field(
        ge=0, description="Extractive sentence score: weight of the share of question words, beside cosine similarity"
    )
    evidence_retrieval_weight: float = Field(
        ge=0, description="Extractive sentence score: weight of its article's retrieval score (evidence and time prior) below the best article's"
    )
    evidence_min_similarity: float = Field(
        ge=-1, le=1, description="A sentence sharing no content word with the question is evidence only at this cosine similarity"
    )
    llm_context_tokens: int = Field(ge=0, description="Prompt tokens of sentences the short answer reads (the evidence always; 0: it alone)")
    short_answer_max_tokens: int = Field(gt=0, description="Longest short answer the LLM writes (tokens)")
    rewrite_followups: bool = Field(description="Rewrite follow-up questions using the chat history")


class GenerationSettings(_Group):
    """The LLM itself (``llm.factory.make_llm``); also the key of the process-wide shared model."""

    llm_model_path: str = Field(description="GGUF file for the local LLM; empty for the bundled one")
    llm_context_window: int = Field(gt=0, description="Local LLM context window (tokens)")
    llm_max_tokens: int = Field(gt=0, description="Longest generated answer (tokens)")
    llm_temperature: float = Field(ge=0, description="Sampling temperature")
    llm_threads: int = Field(ge=0, description="CPU threads for the local LLM (0: all cores)")
    openai_base_url: str = Field(description="OpenAI-compatible server URL (…/v1)")
    openai_model: str = Field(description="Model name on the OpenAI-compatible server")
    openai_api_key: str = Field(description="API key for the OpenAI-compatible server")
    ollama_base_url: str = Field(description="Ollama server URL")
    ollama_model: str = Field(description="Ollama model name")
    request_timeout_s: float = Field(gt=0, description="Total deadline per LLM server request (a trickling server cannot hold an answer longer)")


class CitationSettings(_Group):
    """Checking a generated answer's citations: ``CitationVerifier`` (``answer/cite.py``) and its judge."""

    cite_min_similarity: float = Field(description="A sentence is a citation candidate for a claim at this cosine similarity…")
    cite_min_overlap: float = Field(ge=0, le=1, description="…or this share of the claim's content words")
    cite_min_support: float = Field(ge=0, le=1, description="Share of a claim's words a sentence must hold to pass without the judge")
    cite_judge: bool = Field(description="Ask the answering LLM whether a sentence states a claim the cheap checks cannot decide")
    cite_judge_min_yes: float = Field(ge=0, le=1, description="The judge's P(yes) at which a claim is stated")


class WebSettings(_Group):
    """The web app: bind address, login and uploads (``web/app.py``, ``web/login.py``)."""

    host: str = Field(description="Web app bind address")
    port: int = Field(description="Web app port")
    auth_user: str = Field(description="Web app user (required when host is not local)")
    auth_password: str = Field(description="Web app password")
    max_upload_mb: float = Field(gt=0, description="Largest file the web app accepts")
    min_password_length: int = Field(ge=1, description="Shortest password accepted for a non-local host")
    login_attempts: int = Field(ge=1, description="Failed logins from one client before it is locked out")
    login_lockout_s: float = Field(gt=0, description="First lockout; doubles with each further failure")
    trusted_proxies: str = Field(description="Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For is believed; empty: none")


class NewsSettings(_Group):
    """The news workflow: feed refresh (``ingest/feeds.py``) and story timelines (``answer/timeline.py``)."""

    feed_refresh_minutes: float = Field(ge=0, description="The app refreshes subscribed feeds this often, in the background (0: off)")
    timeline_max_articles: int = Field(gt=0, description="Most articles in a story timeline")
    max_timeline_limit: int = Field(gt=0, description="Largest limit a timeline may ask for (a clear error above it)")
    feed_deadline_s: float = Field(gt=0, description="Total time one feed's refresh may take; items left are fetched next time")
    timeline_min_relevance: float = Field(description="A timeline keeps articles whose best sentence scores at least this")
    corroborate: bool = Field(description="Each cited claim lists the other outlets stating it (answer/corroborate.py)")
    corroborate_candidates: int = Field(gt=0, description="Passages searched for other reports of each claim")
    corroborate_min_support: float = Field(gt=0, le=1, description="Share of a claim's words another article's sentence must hold")
    conflict_min_support: float = Field(gt=0, le=1, description="The same share, numbers aside, for a sentence giving another number")
    copy_min_overlap: float = Field(gt=0, le=1, description="Share of shared 5-word runs that makes two articles copies of one story")
    stale_after_days: int = Field(ge=0, description="Present-tense answers whose newest article is older than this say so")


class Settings(BaseModel):
    """newsdesk configuration: the stage groups. Defaults live in ``rag/rag.toml``; every key has an ``RAG_`` env var."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    storage: StorageSettings
    embedding: EmbeddingSettings
    ingest: IngestSettings
    retrieval: RetrievalSettings
    answer: AnswerSettings
    generation: GenerationSettings
    citation: CitationSettings
    web: WebSettings
    news: NewsSettings

    @model_validator(mode="before")
    @classmethod
    def _sort_flat_keys(cls, data: Any) -> Any:
        """Flat keys (``top_k=8``) go to their group; a group given whole (``retrieval=...``) is kept."""
        if not isinstance(data, dict):
            return data
        grouped = {key: value for key, value in data.items() if key not in KEYS}  # groups, or unknown keys extra="forbid" names
        for key, value in data.items():
            if key in KEYS:
                given = grouped.get(KEYS[key], {})
                grouped[KEYS[key]] = {**(dict(given) if isinstance(given, BaseModel) else given), key: value}
        return grouped

    def flat(self) -> dict[str, Any]:
        """Every key and its value, flat (``{"top_k": 5, ...}``), as a user writes them."""
        return {key: value for group in type(self).model_fields for key, value in getattr(self, group)}

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Settings:
        """A copy with ``update`` (flat keys, ``{"top_k": 8}``) applied and validated.

        Overridden because pydantic's own copy neither validates nor knows the flat keys: it would
        add ``top_k`` beside the groups and leave ``settings.retrieval.top_k`` as it was.
        """
        if not update:
            return super().model_copy(deep=deep)
        return type(self).model_validate({**self.flat(), **update})


KEYS: dict[str, str] = {
    key: group for group, field in Settings.model_fields.items() for key in field.annotation.model_fields
}  # each flat key → the name of its group


class _Sources(BaseSettings):
    """Reads the flat keys from ``rag.toml`` files, ``RAG_*`` variables and keyword arguments."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", frozen=True)

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


# The loader's flat fields are the groups' fields, not a second declaration: a validation error of a
# source names the flat key the user wrote (``retrieval_mode``), and an env string becomes the key's type.
_FlatSettings = create_model(
    "FlatSettings",
    __base__=_Sources,
    **{key: (info.annotation, info) for field in Settings.model_fields.values() for key, info in field.annotation.model_fields.items()},
)


class SettingsError(ValueError):
    """A setting has a value it cannot take; the one-line message names the key, its ``RAG_*`` variable
    and what is allowed (the faces print it instead of pydantic's traceback)."""


def load_settings(**overrides: object) -> Settings:
    """Load settings from the defaults, ``rag.toml``, ``RAG_*`` variables and ``overrides`` (flat keys).

    Raises ``SettingsError`` (one line per wrong key, joined) for a value a key cannot take."""
    try:
        return Settings.model_validate(_FlatSettings(**overrides).model_dump())
    except ValidationError as error:
        raise SettingsError(settings_problem(error)) from None


def settings_problem(error: ValidationError) -> str:
    """Pydantic's validation errors as one line: each key, where to set it, its value and the rule."""
    parts = []
    for item in error.errors():
        key = next((str(part) for part in reversed(item["loc"]) if isinstance(part, str)), "?")
        given = item.get("input")
        shown = f"{given!r}"[:60] if not isinstance(given, dict) else "(missing)"
        rule = item["msg"].removeprefix("Value error, ")
        parts.append(f"setting {key} (RAG_{key.upper()} or rag.toml) is {shown}: {rule}")
    return "; ".join(parts)
