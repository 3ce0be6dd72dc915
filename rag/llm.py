"""LLM backends: one factory returning LlamaIndex LLM objects.

``make_llm`` builds a :class:`llama_index.core.llms.LLM` for one of three backends, so anything that
accepts a LlamaIndex LLM can use it (and a LlamaIndex user can hand the pipeline any other LLM):

* ``local``: llama.cpp in-process on the bundled GGUF (:mod:`rag.models`) or ``RAG_LLM_MODEL_PATH``;
* ``openai``: any OpenAI-compatible server (llama.cpp's server, vLLM, LM Studio, …) at
  ``RAG_OPENAI_BASE_URL``;
* ``ollama``: an Ollama server at ``RAG_OLLAMA_BASE_URL``.

Each optional backend is imported only when chosen; a missing one raises :class:`LLMUnavailable`
naming the extra to install, and :func:`probe` checks a server backend quickly before first use.
Prompting, citations and the choice of backend (``auto``/``extractive``) are left to the caller.

Nothing heavy is imported at module level (``llama_index.core`` alone takes seconds), so the CLI can
import this module for free; the local LLM class is built on first use, see :func:`llama_cpp_chat_class`.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.models import resolve_gguf

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

    from .settings import GenerationSettings

BACKENDS = ("local", "openai", "ollama")
PROBE_TIMEOUT_S = 3.0


class LLMUnavailable(RuntimeError):
    """The chosen LLM backend cannot be used; the message says what to install, start or set."""


def _extra_missing(backend: str, err: Exception) -> LLMUnavailable:
    return LLMUnavailable(
        f"The '{backend}' LLM backend is not installed ({err}): pip install -e '.[{backend}]' "
        "(or choose another backend with RAG_LLM)"
    )


def cpu_has_amx() -> bool:
    """Whether this CPU has Intel AMX (Sapphire Rapids and later), from /proc/cpuinfo (Linux)."""
    try:
        return "amx_int8" in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


@functools.cache
def avoid_llama_cpp_amx_crash() -> bool:
    """On an AMX CPU, make every llama.cpp model load without its "extra" CPU buffer types.

    llama-cpp-python 0.3.36 built on an AMX CPU (its default native build) moves most weights into
    ggml's AMX buffer, and ``llama_decode`` then dies with SIGSEGV on any batch of more than one token,
    i.e. on the first prompt (measured on a 2-core Sapphire Rapids VM; the 1-token case works, which
    hides it). Loading with ``use_extra_bufts = false`` keeps the weights in plain CPU buffers and
    works: 300 prompt tokens + 32 generated in 4.6 s with the 1.5B model. ``Llama()`` has no argument
    for that field, so the library's default-parameters function is wrapped, process-wide (any other
    llama.cpp model in this process would crash the same way). Returns whether it was applied.
    """
    if not cpu_has_amx():
        return False
    import llama_cpp.llama_cpp as bindings

    defaults = bindings.llama_model_default_params

    def without_extra_buffers():
        params = defaults()
        params.use_extra_bufts = False
        return params

    bindings.llama_model_default_params = without_extra_buffers
    return True


@functools.cache
def llama_cpp_chat_class() -> type[LLM]:
    """The ``LlamaCppChat`` LlamaIndex LLM class (defined on first call, keeping imports lazy).

    Why not ``llama-index-llms-llama-cpp``: it renders prompts with its own Llama-2-style template
    unless given ``messages_to_prompt``, and calls llama.cpp's raw completion API. Here every call
    goes through ``Llama.create_chat_completion``, which (with ``chat_format`` left unset) applies the
    chat template stored in the GGUF itself (``tokenizer.chat_template``) and stops on the model's
    end-of-turn token, so any GGUF chat model is prompted the way it was trained. It also streams
    natively and lets us serialise access to the one llama.cpp context with a lock.
    """
    import threading

    import llama_cpp
    from llama_index.core.base.llms.types import (
        ChatMessage,
        ChatResponse,
        ChatResponseGen,
        CompletionResponse,
        CompletionResponseGen,
        LLMMetadata,
        MessageRole,
    )
    from llama_index.core.llms import CustomLLM
    from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
    from pydantic import Field, PrivateAttr

    class LlamaCppChat(CustomLLM):
        """A GGUF chat model run in-process by llama.cpp, prompted with the GGUF's own chat template.

        The model is loaded once, when the object is created. Generation is serialised by a lock
        because a llama.cpp context is not thread-safe (the web app serves several users at once);
        a streaming call holds the lock until its generator is exhausted or closed. The async
        methods are CustomLLM's defaults, which run the sync ones.
        """

        model_path: str = Field(description="GGUF file")
        # No defaults: make_llm passes the settings (rag.toml holds the one set of defaults).
        context_window: int = Field(gt=0, description="n_ctx: prompt plus answer, in tokens")
        max_tokens: int = Field(gt=0, description="Longest answer, in tokens")
        temperature: float = Field(ge=0)
        n_threads: int = Field(ge=0, description="CPU threads; 0 for all cores")

        _llama: Any = PrivateAttr()
        _lock: Any = PrivateAttr(default_factory=threading.Lock)

        def __init__(self, **data: Any) -> None:
            super().__init__(**data)
            threads = self.n_threads or os.cpu_count() or 1
            avoid_llama_cpp_amx_crash()
            self._llama = llama_cpp.Llama(
                model_path=self.model_path,
                n_ctx=self.context_window,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )

        @classmethod
        def class_name(cls) -> str:
            return "LlamaCppChat"

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(
                context_window=self.context_window,
                num_output=self.max_tokens,
                is_chat_model=True,
                model_name=Path(self.model_path).name,
            )

        @property
        def llama(self) -> llama_cpp.Llama:
            """The underlying ``llama_cpp.Llama`` (e.g. for ``tokenize``); not thread-safe."""
            return self._llama

        def _request(self, messages: list[ChatMessage], kwargs: dict[str, Any]) -> dict[str, Any]:
            return {
                "messages": [{"role": m.role.value, "content": m.content or ""} for m in messages],
                "max_tokens": kwargs.get("max_tokens", self.max_tokens),
                "temperature": kwargs.get("temperature", self.temperature),
                **({"stop": kwargs["stop"]} if kwargs.get("stop") else {}),
            }

        @llm_chat_callback()
        def chat(self, messages: list[ChatMessage], **kwargs: Any) -> ChatResponse:
            request = self._request(list(messages), kwargs)
            with self._lock:
                raw = self._llama.create_chat_completion(**request)
            text = raw["choices"][0]["message"]["content"] or ""
            return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=raw)

        @llm_chat_callback()
        def stream_chat(self, messages: list[ChatMessage], **kwargs: Any) -> ChatResponseGen:
            request = self._request(list(messages), kwargs)

            def generate() -> ChatResponseGen:
                text = ""
                with self._lock:
                    for chunk in self._llama.create_chat_completion(**request, stream=True):
                        delta = chunk["choices"][0]["delta"].get("content") or ""
                        if delta:
                            text += delta
                            yield ChatResponse(
                                message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
                                delta=delta,
                                raw=chunk,
                            )

            return generate()

        # A completion is a one-message chat, so it gets the chat template too.
        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            response = self.chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)
            return CompletionResponse(text=response.message.content or "", raw=response.raw)

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
            stream = self.stream_chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)
            return (CompletionResponse(text=r.message.content or "", delta=r.delta, raw=r.raw) for r in stream)

    LlamaCppChat.__qualname__ = "LlamaCppChat"
    return LlamaCppChat


def __getattr__(name: str) -> Any:  # PEP 562: ``from rag.llm import LlamaCppChat`` works, lazily
    if name == "LlamaCppChat":
        return llama_cpp_chat_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_llm(backend: str, settings: GenerationSettings, *, cache_dir: Path) -> LLM:
    """Build the LlamaIndex LLM for ``backend`` (``local`` | ``openai`` | ``ollama``) from ``settings``.

    ``settings`` is the ``GenerationSettings`` group (``llm_*``, ``openai_*``, ``ollama_*``,
    ``request_timeout_s``); ``cache_dir`` is where the bundled GGUF is assembled.

    ``local`` loads the GGUF now (seconds; the first time also assembles the bundled one, see
    :func:`rag.models.resolve_gguf`); the server backends connect lazily, so call :func:`probe` to
    fail fast on an unreachable server. Raises :class:`LLMUnavailable` for a missing extra, missing
    or unloadable weights; :class:`ValueError` for an unknown backend.
    """
    s = settings
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
            return llama_cpp_chat_class()(
                model_path=str(path),
                context_window=s.llm_context_window,
                max_tokens=s.llm_max_tokens,
                temperature=s.llm_temperature,
                n_threads=s.llm_threads,
            )
        except ValueError as err:  # llama.cpp could not load the file (not a GGUF, unsupported architecture)
            raise LLMUnavailable(f"llama.cpp could not load {path} ({err}): check RAG_LLM_MODEL_PATH") from err
    if backend == "openai":
        try:
            from llama_index.llms.openai_like import OpenAILike
        except ImportError as err:
            raise _extra_missing("openai", err) from err
        return OpenAILike(
            model=s.openai_model,
            api_base=s.openai_base_url,
            api_key=s.openai_api_key,
            is_chat_model=True,
            context_window=s.llm_context_window,
            max_tokens=s.llm_max_tokens,
            temperature=s.llm_temperature,
            timeout=s.request_timeout_s,
            # timeout_s is a total deadline per answer (a trickling server must not hold it longer),
            # and no retries: a failed answer falls back to the extractive one at once.
            http_client=deadline_client(s.request_timeout_s),
            max_retries=0,
        )
    if backend == "ollama":
        try:
            from llama_index.llms.ollama import Ollama
        except ImportError as err:
            raise _extra_missing("ollama", err) from err
        return Ollama(
            model=s.ollama_model,
            base_url=s.ollama_base_url,
            request_timeout=s.request_timeout_s,
            context_window=s.llm_context_window,
            temperature=s.llm_temperature,
            additional_kwargs={"num_predict": s.llm_max_tokens},
        )
    raise ValueError(f"Unknown LLM backend {backend!r}; expected one of {', '.join(BACKENDS)}")


def deadline_client(total_s: float):
    """An ``httpx.Client`` whose every request ends within ``total_s`` seconds, headers and body together.

    httpx's timeouts are per operation: a server that sends one byte every few seconds never trips
    a read timeout, so an answer could take forever. ``DeadlineTransport`` enforces the total.
    """
    import httpx

    return httpx.Client(transport=_deadline_transport_class()(total_s), timeout=httpx.Timeout(total_s))


@functools.cache
def _deadline_transport_class():
    import queue
    import threading
    import time

    import httpx

    class DeadlineStream(httpx.SyncByteStream):
        def __init__(self, items: queue.Queue, deadline: float, stop: threading.Event, request) -> None:
            self.items, self.deadline, self.stop, self.request = items, deadline, stop, request

        def __iter__(self):
            while True:
                kind, value = _next(self.items, self.deadline, self.stop, self.request)
                if kind == "end":
                    return
                yield value

        def close(self) -> None:
            self.stop.set()

    def _next(items: queue.Queue, deadline: float, stop: threading.Event, request):
        try:
            kind, value = items.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            stop.set()
            raise httpx.ReadTimeout("no complete response within the total deadline", request=request) from None
        if kind == "error":
            raise value
        return kind, value

    class DeadlineTransport(httpx.BaseTransport):
        """Runs each request in a worker thread that hands chunks over a queue; the caller waits for
        them only until the deadline. (httpx has no total timeout, and closing a socket from another
        thread does not reliably wake a blocked read; the abandoned worker ends at its next read
        or at the per-read timeout.)"""

        def __init__(self, total_s: float) -> None:
            self.total_s = total_s
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            deadline = time.monotonic() + self.total_s
            items: queue.Queue = queue.Queue()
            stop = threading.Event()

            def work() -> None:
                response = None
                try:
                    response = self.inner.handle_request(request)
                    items.put(("response", response))
                    for chunk in response.stream:
                        if stop.is_set():
                            return
                        items.put(("chunk", chunk))
                    items.put(("end", None))
                except BaseException as error:  # handed to the caller's thread
                    items.put(("error", error))
                finally:
                    if response is not None:
                        response.close()

            threading.Thread(target=work, name="llm-request", daemon=True).start()
            _, head = _next(items, deadline, stop, request)
            return httpx.Response(
                head.status_code,
                headers=head.headers,
                stream=DeadlineStream(items, deadline, stop, request),
                extensions=head.extensions,
                request=request,
            )

        def close(self) -> None:
            self.inner.close()

    return DeadlineTransport


def _get(url: str, setting: str, what: str, timeout_s: float, key_setting: str = "", api_key: str = "") -> Any:
    """GET ``url``; an unreachable server or an HTTP error becomes :class:`LLMUnavailable` naming ``setting``."""
    import httpx

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
