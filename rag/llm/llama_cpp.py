"""The in-process llama.cpp chat model as a LlamaIndex LLM (``LlamaCppChat``), for ``llm.make_llm("local")``.

Why not ``llama-index-llms-llama-cpp``: it renders prompts with its own Llama-2-style template unless
given ``messages_to_prompt``, and calls llama.cpp's raw completion API. Here every call goes through
``Llama.create_chat_completion``, which (with ``chat_format`` left unset) applies the chat template
stored in the GGUF itself (``tokenizer.chat_template``) and stops on the model's end-of-turn token, so
any GGUF chat model is prompted the way it was trained. It also streams natively and lets us serialise
access to the one llama.cpp context with a lock.

This module imports ``llama_cpp`` and ``llama_index.core`` (seconds) when it is imported, so only
``factory.py`` imports it, and only when the local backend is chosen. Finding the GGUF is ``gguf.py``'s;
the AMX loading workaround ``amx.py``'s.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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

from rag.llm.amx import amx_safe_loading


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
        with amx_safe_loading():  # without it, llama.cpp crashes at the first prompt on AMX CPUs
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
        """The underlying ``llama_cpp.Llama`` (e.g. for ``tokenize``); not thread-safe (see ``exclusive``)."""
        return self._llama

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[llama_cpp.Llama]:
        """The ``Llama`` for a call of one's own (e.g. with a logits processor), while no other call runs.

        Holds the same lock as ``chat`` and ``stream_chat``: the llama.cpp context is not thread-safe.
        """
        with self._lock:
            yield self._llama

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
