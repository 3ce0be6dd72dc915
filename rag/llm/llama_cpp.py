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
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

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


def model_label(metadata: dict, path: str) -> str:
    """A readable name for the model from its GGUF metadata: "Qwen2.5-Coder 1.5B Instruct (Q4_K_M, local)";
    the file name when the metadata names no model."""
    name = metadata.get("general.basename") or metadata.get("general.name") or ""
    if not name:
        return f"{Path(path).name} (local)"
    finetune = re.sub(r"(?i)-?gguf$", "", metadata.get("general.finetune") or "").strip("-")
    size = metadata.get("general.size_label") or ""
    words = [name, *(w for w in (size, finetune) if w and w.lower() not in name.lower())]
    quant = _FILE_TYPES.get(str(metadata.get("general.file_type", "")), "")
    return f"{' '.join(words)} ({quant + ', ' if quant else ''}local)"


# GGUF ``general.file_type`` numbers -> quantisation names ("15" -> "Q4_K_M"), from llama.cpp's own constants.
_FILE_TYPES = {str(value): name.removeprefix("LLAMA_FTYPE_").removeprefix("MOSTLY_") for name, value in vars(llama_cpp).items() if name.startswith("LLAMA_FTYPE_") and isinstance(value, int)}


def _interrupt_hook(previous):
    """A ``sys.unraisablehook``: a Ctrl-C raised inside ``LlamaCppChat``'s abort callback marks that model
    interrupted (``_should_abort`` then aborts llama.cpp); anything else goes to ``previous``. Installed
    around each watched call rather than at import, so a host that swaps the hook meanwhile (pytest
    does, per test) cannot leave it out."""

    def note_interrupt(unraisable) -> None:
        owner = getattr(unraisable.object, "__self__", None)
        if isinstance(owner, LlamaCppChat) and issubclass(unraisable.exc_type, KeyboardInterrupt):
            owner._interrupted = True
        else:
            previous(unraisable)

    return note_interrupt
_NO_CALLBACK = llama_cpp.ggml_abort_callback()  # a NULL function pointer: no abort callback


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

    accepts_cancel: ClassVar[bool] = True  # chat/stream_chat take ``cancel``, a threading.Event

    _llama: Any = PrivateAttr()
    _lock: Any = PrivateAttr(default_factory=threading.Lock)
    _abort: Any = PrivateAttr()  # the ctypes abort callback (kept referenced while llama.cpp may call it)
    _cancel: Any = PrivateAttr(default=None)  # the running call's cancel Event, if it has one
    _interrupted: bool = PrivateAttr(default=False)

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
        self._abort = llama_cpp.ggml_abort_callback(self._should_abort)

    def _should_abort(self, _data) -> bool:
        """llama.cpp's abort callback, called between the steps of a computation (on the calling thread).

        Why: a prompt is evaluated in one ``llama_decode`` call that takes seconds on a busy CPU, and
        Python runs a Ctrl-C handler only between bytecodes, so without this the KeyboardInterrupt
        waited for the whole prompt. With it, Python runs the handler when it enters this callback; the
        KeyboardInterrupt raised there cannot cross the C frames, so ``_interrupt_hook``'s hook (the unraisable
        hook ctypes reports it to) records it, and the next call aborts the computation; ``_computing``
        raises it again in Python. A set ``cancel`` Event aborts the same way and ends the call quietly,
        on any thread: the web chat's Stop (a worker thread's call) ends a prompt being read as Ctrl-C
        does. Installed for calls on the main thread (where Ctrl-C lands) and for calls given a
        ``cancel``; others run without it (the callback takes the GIL at every step of the computation:
        ``benchmarks/interrupt_latency.py`` measures what that costs beside a busy Python thread).
        """
        return self._interrupted or (self._cancel is not None and self._cancel.is_set())

    @contextlib.contextmanager
    def _computing(self, cancel=None) -> Iterator[None]:
        """Around a llama.cpp call (lock held): its ``cancel`` Event is watched; an abort by Ctrl-C is
        re-raised as KeyboardInterrupt, an abort by ``cancel`` ends the call quietly."""
        self._cancel, self._interrupted = cancel, False
        main = threading.current_thread() is threading.main_thread()
        watch = main or cancel is not None
        llama_cpp.llama_set_abort_callback(self._llama.ctx, self._abort if watch else _NO_CALLBACK, None)
        hook = sys.unraisablehook
        if main:
            sys.unraisablehook = _interrupt_hook(hook)
        try:
            yield
        except RuntimeError as error:
            if self._interrupted:
                raise KeyboardInterrupt from None
            if not (cancel is not None and cancel.is_set() and "returned 2" in str(error)):  # 2: aborted
                raise
        finally:
            interrupted, self._cancel, self._interrupted = self._interrupted, None, False
            if main:
                sys.unraisablehook = hook
        if interrupted:
            raise KeyboardInterrupt

    @classmethod
    def class_name(cls) -> str:
        return "LlamaCppChat"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens,
            is_chat_model=True,
            model_name=model_label(self._llama.metadata, self.model_path),
        )

    @property
    def llama(self) -> llama_cpp.Llama:
        """The underlying ``llama_cpp.Llama`` (e.g. for ``tokenize``); not thread-safe (see ``exclusive``)."""
        return self._llama

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[llama_cpp.Llama]:
        """The ``Llama`` for a call of one's own (e.g. with a logits processor), while no other call runs.

        Holds the same lock as ``chat`` and ``stream_chat``: the llama.cpp context is not thread-safe.
        Ctrl-C aborts the call at once, as it does theirs.
        """
        with self._lock, self._computing():
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
        raw = {"choices": [{"message": {"content": ""}}]}  # what a cancelled call returns
        with self._lock, self._computing(kwargs.get("cancel")):
            raw = self._llama.create_chat_completion(**request)
        text = raw["choices"][0]["message"]["content"] or ""
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=raw)

    @llm_chat_callback()
    def stream_chat(self, messages: list[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """The reply as it is written. ``cancel`` (a ``threading.Event``, optional): once set, the stream
        ends at once, on any thread, even inside the prompt's evaluation (the abort callback). Closing
        the stream stops it too, after the token being computed."""
        request = self._request(list(messages), kwargs)
        cancel = kwargs.get("cancel")

        def generate() -> ChatResponseGen:
            text = ""
            with self._lock, self._computing(cancel):
                for chunk in self._llama.create_chat_completion(**request, stream=True):
                    delta = chunk["choices"][0]["delta"].get("content") or ""
                    if delta:
                        text += delta
                        yield ChatResponse(
                            message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
                            delta=delta,
                            raw=chunk,
                        )
                    if cancel is not None and cancel.is_set():
                        break

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
