"""The llama.cpp AMX workaround: load models without ggml's "extra" CPU buffer types on an Intel AMX CPU.

llama-cpp-python 0.3.36 built on an AMX CPU (its default native build) moves most weights into ggml's
AMX buffer, and ``llama_decode`` then dies with SIGSEGV on any batch of more than one token, i.e. on
the first prompt (measured on a 2-core Sapphire Rapids VM; the 1-token case works, which hides it).
Loading with ``use_extra_bufts = false`` keeps the weights in plain CPU buffers and works: 300 prompt
tokens + 32 generated in 4.6 s with the 1.5B model. ``Llama()`` has no argument for that field and
reads the library's default-parameters function once, while loading; so that function is wrapped.

:func:`amx_safe_loading` does it for one load (``LlamaCppChat`` loads inside it);
:func:`avoid_llama_cpp_amx_crash` for the whole process (llama.cpp's own server). Elsewhere both do
nothing. Loading and running the model is ``llama_cpp.py``'s; choosing a backend ``factory.py``'s.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from pathlib import Path

_LOCK = threading.Lock()


def cpu_has_amx() -> bool:
    """Whether this CPU has Intel AMX (Sapphire Rapids and later), from /proc/cpuinfo (Linux)."""
    try:
        return "amx_int8" in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _without_extra_buffers(defaults):
    def params():
        value = defaults()
        value.use_extra_bufts = False
        return value

    return params


@contextlib.contextmanager
def amx_safe_loading():
    """While the block runs, llama.cpp models load without their "extra" CPU buffer types on an AMX CPU.

    The library's default-parameters function is wrapped for the duration of the block (under a lock,
    for loads in other threads) and put back after. Elsewhere it does nothing.
    """
    if not cpu_has_amx():
        yield
        return
    import llama_cpp.llama_cpp as bindings

    with _LOCK:
        defaults = bindings.llama_model_default_params
        bindings.llama_model_default_params = _without_extra_buffers(defaults)
        try:
            yield
        finally:
            bindings.llama_model_default_params = defaults


@functools.cache
def avoid_llama_cpp_amx_crash() -> bool:
    """``amx_safe_loading`` for the whole process, for code that builds its own ``llama_cpp.Llama``.

    For a process that is llama.cpp's own server (README "Scaling out"): every model it loads from
    then on avoids the AMX crash. Returns whether it was applied (an AMX CPU).
    """
    if not cpu_has_amx():
        return False
    import llama_cpp.llama_cpp as bindings

    bindings.llama_model_default_params = _without_extra_buffers(bindings.llama_model_default_params)
    return True
