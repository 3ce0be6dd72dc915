"""The entailment judge: asks an LLM whether a cited sentence states a claim, one yes/no token per claim.

Used by ``cite.py`` for the claims the cheap checks (``claims.py``) cannot decide: paraphrases, and
claims whose names seem to have changed roles. The prompt is a fixed system message (kept identical
across calls, so llama.cpp reuses its evaluated prefix) and a short user message holding the sentence
and the claim (or the question and a short answer). The answer is read as one token:

* the in-process llama.cpp model (``rag.llm.llama_cpp.LlamaCppChat``): its next-token logits for "yes" and "no"
  after the chat template, through ``create_chat_completion``'s ``logits_processor`` with
  ``max_tokens=1``, so the judgement is P(yes) / (P(yes) + P(no)) compared with ``min_yes``; the
  model's own token is never sampled, so a chatty answer cannot confuse it;
* any other LlamaIndex LLM (OpenAI-compatible, Ollama): ``llm.chat`` with a few output tokens, read
  as yes when the reply starts with "yes" (no logits through those APIs).

Which claims are judged, and what happens to them, is ``cite.py``'s business.
"""

from __future__ import annotations

import contextlib
import math

SYSTEM = (
    "You check news claims against a sentence from an article. Answer yes only if the sentence itself "
    "states the claim: the same people, places and organisations doing the same things to the same "
    "others, with the same numbers, dates and negation. If someone else did it, or the roles are swapped, "
    "or the sentence does not say it, answer no. Reply with one word: yes or no."
)


def claim_message(claim: str, sentence: str) -> str:
    """The user message asking whether ``sentence`` states ``claim``."""
    return f"Sentence: {sentence}\nClaim: {claim}\nDoes the sentence state the claim?"


def answer_message(question: str, answer: str, sentence: str) -> str:
    """The user message asking whether ``sentence`` gives ``answer`` as the answer to ``question``."""
    return (
        f"Sentence: {sentence}\nClaim: the answer to the question \"{question}\" is \"{answer}\"\n"
        "Does the sentence state the claim?"
    )


class EntailmentJudge:
    """Judges claims with a LlamaIndex LLM; ``min_yes`` is the P(yes) above which a claim is stated."""

    def __init__(self, llm, *, min_yes: float) -> None:
        self.llm = llm
        self.min_yes = min_yes
        self.calls = 0  # how many judgements were asked (for the benchmark and tests)

    def states(self, claim: str, sentence: str, question: str | None = None) -> bool:
        """Whether ``sentence`` states ``claim`` (or, given ``question``, gives ``claim`` as its answer)."""
        return self.p_yes(claim, sentence, question) >= self.min_yes

    def p_yes(self, claim: str, sentence: str, question: str | None = None) -> float:
        """The judge's probability that the sentence states the claim (0 or 1 without logits)."""
        user = answer_message(question, claim, sentence) if question else claim_message(claim, sentence)
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
        self.calls += 1
        llama = getattr(self.llm, "llama", None)
        if llama is not None:
            return self._p_yes_llama(llama, messages)
        return self._p_yes_chat(messages)

    def _p_yes_llama(self, llama, messages) -> float:
        yes, no = _answer_tokens(llama)
        seen: dict[str, float] = {}

        def capture(input_ids, scores):
            seen["yes"] = max(float(scores[t]) for t in yes)
            seen["no"] = max(float(scores[t]) for t in no)
            return scores

        # LlamaCppChat's chat() passes no logits processor, hence a call of our own to the same Llama,
        # inside its exclusive() block (the llama.cpp context is not thread-safe).
        exclusive = getattr(self.llm, "exclusive", None)
        with exclusive() if exclusive else contextlib.nullcontext(llama) as model:
            model.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, logits_processor=[capture])
        if not seen:
            return 0.0
        difference = seen["no"] - seen["yes"]
        return 1.0 / (1.0 + math.exp(min(difference, 60.0)))

    def _p_yes_chat(self, messages) -> float:
        from llama_index.core.base.llms.types import ChatMessage, MessageRole

        chat = [ChatMessage(role=MessageRole(m["role"]), content=m["content"]) for m in messages]
        reply = self.llm.chat(chat, max_tokens=3, temperature=0.0).message.content or ""
        return 1.0 if reply.strip().lower().startswith("yes") else 0.0


_TOKENS: dict[int, tuple[list[int], list[int]]] = {}


def _answer_tokens(llama) -> tuple[list[int], list[int]]:
    """The single-token spellings of "yes" and "no" in the model's vocabulary."""
    key = id(llama)
    if key not in _TOKENS:

        def single(words):
            ids = [llama.tokenize(w.encode(), add_bos=False, special=False) for w in words]
            return sorted({t[0] for t in ids if len(t) == 1})

        _TOKENS[key] = (single(["yes", "Yes", " yes", " Yes"]), single(["no", "No", " no", " No"]))
    return _TOKENS[key]
