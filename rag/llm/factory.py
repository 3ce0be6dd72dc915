"""LLM backends: one factory returning LlamaIndex LLM objects.

``make_llm`` builds a :class:`llama_index.core.llms.LLM` for one of three backends, so anything that
accepts a LlamaIndex LLM can use it (and a LlamaIndex user can hand the pipeline any other LLM):

* ``local``: llama.cpp in-process (``llama_cpp.LlamaCppChat``) on the bundled GGUF (:mod:`rag.llm.gguf`)
  or ``RAG_LLM_MODEL_PATH``;
* ``openai``: any OpenAI-compatible server (llama.cpp's server, vLLM, LM Studio, …) at
  ``RAG_OPENAI_BASE_URL``;
* ``ollama``: an Ollama server at ``RAG_OLLAMA_BASE_URL``.

Each optional backend is imported only when chosen; a missing one raises :class:`LLMUnavailable`
naming the extra to install, and :func:`probe` checks a server backend quickly before first use.
Prompting, citations and the choice of backend (``auto``/``extractive``) are left to the caller.

Nothing heavy is imported at module level (``llama_index.core`` alone takes seconds), so the CLI can
import this module for free; the local LLM class lives in ``llama_cpp.py``, imported when chosen, and
the llama.cpp AMX workaround in ``amx.py``.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.llm.amx import avoid_llama_cpp_amx_crash  # noqa: F401  (re-exported: README's llama.cpp server recipe)
from rag.llm.gguf import resolve_gguf

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

    from rag.settings import GenerationSettings

BACKENDS = ("local", "openai", "ollama")
PROBE_TIMEOUT_S = 3.0


class LLMUnavailable(RuntimeError):
    """The chosen LLM backend cannot be used; the message says what to install, start or set."""


def _extra_missing(backend: str, err: Exception) -> LLMUnavailable:
    return LLMUnavailable(
        f"The '{backend}' LLM backend is not installed ({err}): pip install -e '.[{backend}]' "
        "(or choose another backend with RAG_LLM)"
    )


def _optional_class(backend: str, module: str, name: str) -> Any:
    """The LlamaIndex LLM class of a server backend, imported now; a missing extra says what to install."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as err:
        raise _extra_missing(backend, err) from err


def __getattr__(name: str) -> Any:  # PEP 562: ``from rag.llm.factory import LlamaCppChat`` works, lazily
    if name == "LlamaCppChat":
        from rag.llm.llama_cpp import LlamaCppChat

        return LlamaCppChat
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_llm(backend: str, settings: GenerationSettings, *, cache_dir: Path) -> LLM:
    """Build the LlamaIndex LLM for ``backend`` (``local`` | ``openai`` | ``ollama``) from ``settings``.

    ``settings`` is the ``GenerationSettings`` group (``llm_*``, ``openai_*``, ``ollama_*``,
    ``request_timeout_s``); ``cache_dir`` is where the bundled GGUF is assembled.

    ``local`` loads the GGUF now (seconds; the first time also assembles the bundled one, see
    :func:`rag.llm.gguf.resolve_gguf`); the server backends connect lazily, so call :func:`probe` to
    fail fast on an unreachable server. Raises :class:`LLMUnavailable` for a missing extra, missing
    or unloadable weights; :class:`ValueError` for an unknown backend.
    """
    s = settings
    common = {"context_window": s.llm_context_window, "temperature": s.llm_temperature}  # every backend takes these
    if backend == "local":
        # llama.cpp's OpenMP threads spin while waiting for each other; when another process holds a
        # core (the web app, an ingest, CI) a spinning thread stalls the rest and generation gets ~3x
        # slower on 2 cores. Passive waiting costs little when idle. Read when the runtime loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import llama_cpp  # noqa: F401
        except (ImportError, OSError, RuntimeError) as err:  # not installed, or its shared library won't load
            raise _extra_missing("local", err) from err
        try:
            path = resolve_gguf(s.llm_model_path, Path(cache_dir))
        except RuntimeError as err:  # ModelMissing, or a corrupt part package / full disk while assembling
            raise LLMUnavailable(str(err)) from err
        try:
            from rag.llm.llama_cpp import LlamaCppChat

            return LlamaCppChat(model_path=str(path), max_tokens=s.llm_max_tokens, n_threads=s.llm_threads, **common)
        except ValueError as err:  # llama.cpp could not load the file (not a GGUF, unsupported architecture)
            raise LLMUnavailable(f"llama.cpp could not load {path} ({err}): check RAG_LLM_MODEL_PATH") from err
    if backend in _SERVERS:
        module, name, options = _SERVERS[backend]
        return _optional_class(backend, module, name)(**options(s), **common)
    raise ValueError(f"Unknown LLM backend {backend!r}; expected one of {', '.join(BACKENDS)}")


def _openai_options(s: GenerationSettings) -> dict[str, Any]:
    from rag.deadline import deadline_client

    return dict(
        model=s.openai_model,
        api_base=s.openai_base_url,
        api_key=s.openai_api_key,
        is_chat_model=True,
        max_tokens=s.llm_max_tokens,
        timeout=s.request_timeout_s,
        # timeout_s is a total deadline per answer (a trickling server must not hold it longer),
        # and no retries: a failed answer falls back to the extractive one at once.
        http_client=deadline_client(s.request_timeout_s),
        max_retries=0,
    )


def _ollama_options(s: GenerationSettings) -> dict[str, Any]:
    num_predict = {"num_predict": s.llm_max_tokens}  # Ollama's name for max_tokens
    return dict(model=s.ollama_model, base_url=s.ollama_base_url, request_timeout=s.request_timeout_s, additional_kwargs=num_predict)


# Server backends: backend -> (module, LlamaIndex class, its arguments beside ``common``), imported when chosen.
_SERVERS = {
    "openai": ("llama_index.llms.openai_like", "OpenAILike", _openai_options),
    "ollama": ("llama_index.llms.ollama", "Ollama", _ollama_options),
}


def _get(url: str, setting: str, what: str, timeout_s: float, key_setting: str = "", api_key: str = "") -> Any:
    """GET ``url``; an unreachable server or an HTTP error becomes :class:`LLMUnavailable` naming ``setting``."""
    import httpx

    from rag.deadline import deadline_client

    try:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        with deadline_client(timeout_s) as client:  # a server trickling bytes must not hold the probe
            response = client.get(url, headers=headers)
            response.read()
    except httpx.HTTPError as err:
        raise LLMUnavailable(
            f"The {what} at {url} is unreachable ({type(err).__name__}: {err}): start it, "
            f"or point {setting} at it, or choose another backend with RAG_LLM"
        ) from err
    if response.status_code in (401, 403) and key_setting:
        raise LLMUnavailable(f"The {what} at {url} refused the API key (HTTP {response.status_code}): set {key_setting}")
    if response.is_error:
        raise LLMUnavailable(f"The {what} at {url} answered HTTP {response.status_code}: check {setting}")
    return response


def probe(llm: Any, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Raise :class:`LLMUnavailable` quickly if ``llm``'s server cannot be reached.

    OpenAI-compatible: ``GET <base_url>/models``; Ollama: ``GET <base_url>/api/tags``, also checking
    that the model has been pulled. In-process and unknown LLMs pass.
    """
    openai_like = sys.modules.get("llama_index.llms.openai_like")
    ollama = sys.modules.get("llama_index.llms.ollama")
    if openai_like is not None and isinstance(llm, openai_like.OpenAILike):
        url = llm.api_base.rstrip("/") + "/models"
        _get(url, "RAG_OPENAI_BASE_URL", "OpenAI-compatible server", timeout_s, "RAG_OPENAI_API_KEY", llm.api_key)
    elif ollama is not None and isinstance(llm, ollama.Ollama):
        url = llm.base_url.rstrip("/") + "/api/tags"
        pulled = _get(url, "RAG_OLLAMA_BASE_URL", "Ollama server", timeout_s).json().get("models", [])
        names = {m.get(key) for m in pulled for key in ("name", "model")}
        wanted = llm.model if ":" in llm.model else f"{llm.model}:latest"
        if wanted not in names:
            raise LLMUnavailable(
                f"The Ollama server at {llm.base_url} has no model {llm.model!r}: "
                f"ollama pull {llm.model} (or set RAG_OLLAMA_MODEL)"
            )
