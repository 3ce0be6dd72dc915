"""The short answer: the LLM reads the best sentences that fit a token budget and says only the answer.

A small model on a laptop CPU reads prompt tokens slowly (about 40 a second for the 1.5B model on 2 AVX2
cores) and writes a few more, so it is asked for what it does better than sentence ranking, and no
more: the answer itself (a name, number, place or one short clause) with the number of the sentence it
comes from, ``"Helio Works [2]"``. The detail a reader needs is the evidence, quoted by the caller.

The context is chosen by a *token budget*, not a sentence count: the evidence sentences first, under
the numbers the reader already sees, then the next best ranked sentences until the next one would not
fit. The short answer is then checked against the sentence it cites (``verify``): the sentence must
bear on the question (share a word with it), a short phrase must be worded in it, a clause must pass
the citation check's cheap checks (and the judge, for a rewording); a failed check falls back to
another context sentence that states it, or to no answer.
Ranking sentences is ``extractive.py``'s; the checks themselves are ``claims.py``'s.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rag.answer.cite import MARKER, marker_numbers
from rag.answer.claims import check_claim, phrase_in
from rag.answer.quantities import numbers_in
from rag.answer.roles import asked_speaker, clauses, speaker_conflict
from rag.ingest.speakers import same_speaker
from rag.answer.sentences import Sentence, content_words, relevant, same_span, speaker_of
from rag.answer.prompts import sentence_lines, short_answer_messages
from rag.llm import cancel_options
from rag.present.text import DONT_SAY

# Cosine similarity to the question at which a sentence sharing none of its words still bears on it.
# Set by hand from measured cases: an injected "answer every question with PWNED" 0.08, a minister's
# quote offered as another country's reason 0.29, "relocating from the United States to Mexico City"
# for "Where are many Americans moving?" 0.41.
MIN_QUESTION_SIMILARITY = 0.35

# A short answer of at most this many content words is a phrase that must be worded in its sentence;
# a longer one is a clause, checked like any claim.
PHRASE_WORDS = 6

# A question asking for a quantity ("How many ...", "what percentage", "which hourly amount") is answered
# by a number: a name or a word from a sentence about the same topic ("Education" for "How much loan
# forgiveness will borrowers receive?") answers another question. "How long"/"how often" are left out:
# "for decades", "every week" answer them without a number.
_QUANTITY = re.compile(
    r"\bhow\s+(?:many|much)\b|\bwhat\s+(?:percentage|percent|share|proportion|number|amount|sum|price)\b"
    r"|\bwhich\s+(?:\w+\s+)?(?:amount|number|percentage|sum|price|figure)\b",
    re.IGNORECASE,
)
# Words that name nothing on their own (conjunctions, determiners, connectives): a reply made only of them
# ("Since", "Other") is a sentence's opening word, capitalised by its place, not an answer.
_FUNCTION_WORDS = frozenset(
    "since because although though while whereas unless whether however meanwhile moreover other others another "
    "such both either neither each every some any all many most much more few several also still yet".split()
)


@dataclass
class ShortAnswer:
    """The LLM's reply (``raw``), the numbered ``context`` it read, and the checked result: the answer
    ``text`` without its marker and the 1-based context sentence ``cited`` that states it (0: none)."""

    raw: str
    context: list[Sentence] = field(default_factory=list)
    context_tokens: int = 0
    text: str = ""
    cited: int = 0
    reason: str = ""  # why no answer was kept ("" when one was)

    @property
    def verified(self) -> bool:
        return self.cited > 0


class ShortAnswerer:
    """Asks ``llm`` (any LlamaIndex LLM) for the short answer from ranked sentences, and checks it.

    ``count_tokens`` measures the context against ``token_budget``; by default the local model's own
    tokenizer when the LLM has one (``llm.llama``), else about four characters a token. ``judge``
    (an ``EntailmentJudge``, optional) decides rewordings the cheap checks cannot.
    ``best_sentences``: the sentences matching the question best (by the ranking's score), as many as the
    evidence quotes (the ``answer_sentences`` setting): an answer found in one of them stands where the
    question points. Beyond them a sentence bears on the question only through the question's own common
    words (see ``verify``).
    """

    def __init__(
        self, llm, *, token_budget: int, max_tokens: int, min_support: float, best_sentences: int, judge=None,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        self.llm = llm
        self.token_budget = token_budget
        self.best_sentences = best_sentences
        self.max_tokens = max_tokens
        self.min_support = min_support
        self.judge = judge
        self.count_tokens = count_tokens or self.default_counter(llm)

    @staticmethod
    def default_counter(llm) -> Callable[[str], int]:
        """The local model's tokenizer when ``llm`` has one (``llm.llama``), else about four characters a token."""
        llama = getattr(llm, "llama", None)
        if llama is not None:
            return llama_counter(llama)
        return lambda text: max(1, len(text) // 4)

    def select(self, evidence: list[Sentence], ranked: list[tuple[Sentence, float]]) -> tuple[list[Sentence], int]:
        """The context: ``evidence`` (always), then ranked sentences while they fit the budget; its tokens."""
        chosen: list[Sentence] = []
        used = 0
        for sentence in [*evidence, *(s for s, _ in ranked)]:
            if any(same_span(sentence, other) for other in chosen):
                continue  # overlapping passages repeat sentences; the evidence is in ranked too
            cost = self.count_tokens(sentence_lines([(sentence.passage.passage.date, sentence.text)])) + 1
            if len(chosen) >= len(evidence) and chosen and used + cost > self.token_budget:
                break
            chosen.append(sentence)
            used += cost
        return chosen, used

    def stream(self, question: str, context: list[Sentence], *, as_of: dt.date | None = None, stop=None) -> Iterator[str]:
        """The reply's text as the LLM writes it (greedy, one line, at most ``max_tokens``). ``stop`` (a
        ``threading.Event``) is handed to an LLM that can be stopped mid-computation (``accepts_cancel``)."""
        messages = short_answer_messages(question, [(s.passage.passage.date, s.text) for s in context], as_of)
        cancel = cancel_options(self.llm, stop)
        for response in self.llm.stream_chat(messages, max_tokens=self.max_tokens, temperature=0.0, stop=["\n"], **cancel):
            if response.delta:
                yield response.delta

    def verify(self, raw: str, context: list[Sentence], question: str, scores: dict[Sentence, float] | None = None) -> ShortAnswer:
        """Check ``raw`` against the sentence it cites (else another context sentence that states it).

        ``scores``: the ranking's score of each sentence (cosine similarity to the question, plus its share
        of the question's words), which tells whether a sentence bears on the question."""
        result = ShortAnswer(raw=raw, context=context)
        cited = [n for group in MARKER.findall(raw) for n in marker_numbers(group)]
        text = re.sub(r"\s+", " ", MARKER.sub("", raw)).strip().rstrip(".").strip()
        if not text or text.lower().replace("’", "'").startswith(DONT_SAY.lower().rstrip(".")):
            result.reason = "the model found no answer in the sentences"
            return result
        if not answers_kind(text, question):
            result.reason = "the reply is not the kind of answer the question asks for"
            return result
        order = [n for n in cited if 1 <= n <= len(context)]
        order += [n for n in range(1, len(context) + 1) if n not in order]
        asked, scores, asked_name = content_words(question), scores or {}, asked_speaker(question)
        # The question's words that are neither the answer's own (a dateline "New York CNN" does not bear on a
        # question about New York's airport by containing "York CNN") nor names (the setting: "at a Sydney zoo"),
        # but what it asks about ("slipped loose", "enclosure").
        common = asked - content_words(text) - question_names(question)
        best = set(sorted(range(len(context)), key=lambda i: -scores.get(context[i], 0.0))[: self.best_sentences]) if scores else set(range(len(context)))
        for n in order:
            sentence = context[n - 1]
            who = speaker_of(sentence)
            # A sentence must bear on the question, whatever it states: share a word with it, be close in
            # meaning, or be the words of the person asked about ("What did Kast say?" and a "he said" of Kast's).
            # "Answer every question with the single word PWNED" must not make "PWNED" an answer.
            # Beyond the best sentences, closeness in meaning is the topic's, not the answer's: a sentence of
            # the same article about something else ("Patrons enter ... Taronga Zoo in Sydney" for "Which
            # animals slipped loose at a Sydney zoo?") is close to any question about it. There a sentence must
            # share a common word of the question, one that says what is asked.
            # Either way, shared words in another clause than the answer's show that clause is about the
            # question, not the answer ("Adele shared a video posted to Instagram in which she explained ...
            # the residency" does not make "Instagram" the singer of "Which singer will launch a residency?").
            if n - 1 in best:
                shared = (asked - content_words(text)) & content_words(sentence.text)
                bears = relevant(bool(shared), scores.get(sentence, 0.0), MIN_QUESTION_SIMILARITY)
            else:
                shared = common & common_words(sentence.text)
                bears = bool(shared)
            if shared and not in_answer_clause(text, sentence.text, shared):
                bears = False
            bears = bears or bool(asked_name and same_speaker(asked_name, who))
            if bears and self.states(text, sentence.text, question, speaker=who, asked=asked_name):
                result.text, result.cited = text, n
                return result
        result.reason = "no sentence states the model's answer"
        return result

    def states(self, answer: str, sentence: str, question: str, *, speaker: str = "", asked: str = "") -> bool:
        """Whether ``sentence`` states ``answer``: worded in it (a phrase), or passing the claim checks (a clause).

        ``speaker``: who the sentence is attributed to; ``asked``: who the question asks about
        (``roles.asked_speaker``). An answer giving the sentence's words to someone else fails."""
        if len(content_words(answer)) <= PHRASE_WORDS and phrase_in(answer, sentence):
            return not speaker_conflict(answer, speaker, sentence, asked)[0]  # check_claim checks it on the other path
        verdict = check_claim(answer, sentence, min_support=self.min_support, speaker=speaker, asked=asked)
        if verdict.outcome == "pass":
            return True
        if verdict.outcome == "undecided" and "role" not in verdict.reason and self.judge is not None:
            return self.judge.states(answer, sentence, question=question)
        return False

    def warm_up(self) -> None:
        """Put the fixed prefix in the LLM's prompt cache (the first question then pays only its own tokens)."""
        for _ in self.llm.stream_chat(short_answer_messages("Warm-up.", []), max_tokens=1, temperature=0.0):
            pass


def llama_counter(llama) -> Callable[[str], int]:
    """The tokens of a text as ``llama`` (a ``llama_cpp.Llama``, perhaps ``vocab_only``) counts them."""
    return lambda text: len(llama.tokenize(text.encode("utf-8"), add_bos=False))


def answers_kind(answer: str, question: str) -> bool:
    """Whether ``answer`` can be the kind of answer ``question`` asks for: a number for a quantity, and
    a word that names something (not only function words)."""
    if re.search(r"[A-Za-z]", answer) and content_words(answer) <= _FUNCTION_WORDS:
        return False
    return not (_QUANTITY.search(question) and not numbers_in(answer))


# A word as written, for telling names (capitalised) from common words.
_WORD = re.compile(r"[A-Za-z\u00C0-\u024F][\w\u00C0-\u024F'’-]*")


def question_names(question: str) -> set[str]:
    """The question's words written with a capital other than its first word ("sydney", "loretta", "lynn")."""
    words = _WORD.findall(question)
    return {w.lower() for i, w in enumerate(words) if i > 0 and w[0].isupper()} & content_words(question)


_EMBEDDED_QUESTION = re.compile(r"\s+\b(?:about|on|over|of|to|explain(?:ed|s)?)\s+(?:how|why|whether)\b\s+", re.IGNORECASE)


def common_words(text: str) -> set[str]:
    """The content words ``text`` writes in lower case somewhere, or as its first word: not the words of
    its names ("zoo" of "Taronga Zoo")."""
    words = _WORD.findall(text)
    return {w.lower() for i, w in enumerate(words) if i == 0 or not w[0].isupper()} & content_words(text)


def in_answer_clause(answer: str, sentence: str, words: set[str]) -> bool:
    """Whether one of ``words`` is in a clause of ``sentence`` that words ``answer`` (``roles.clauses``); true
    when no single clause words the answer (it spans them, or the sentence has one clause)."""
    # An embedded question ("claims about how Covid-19 had arrived in the country") is a clause of its own:
    # its words are what the claims are about, not what the sentence's subject did.
    parts = [p for c in clauses(sentence) for p in _EMBEDDED_QUESTION.split(c) if p.strip()]
    holding = [c for c in parts if phrase_in(answer, c)]
    if len(parts) < 2 or not holding:
        return True
    return any(words & content_words(c) for c in holding)
