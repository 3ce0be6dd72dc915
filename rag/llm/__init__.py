"""LLM backends behind LlamaIndex's LLM abstraction: the bundled llama.cpp model or an OpenAI-compatible / Ollama server.

Modules: ``factory`` (``make_llm``, ``probe``: one factory for every backend), ``llama_cpp`` (the local chat
model, serialised), ``gguf`` (assembling the bundled GGUF from its packages), ``amx`` (loading llama.cpp
without the AMX buffer that crashes it on recent Intel CPUs).
"""
