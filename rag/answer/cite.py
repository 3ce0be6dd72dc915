"""Checking a generated answer's citations against the passages they point to.

For each sentence (claim) of an LLM answer: parse its ``[n]`` markers, drop markers that point at no
retrieved passage, and find an evidence sentence that *states* the claim. Candidates are the passage
sentences close to the claim (embedding similarity or overlap of content words above the thresholds),
those in the passages the model cited first. Each candidate goes through the cheap checks of
``claims.py`` (numbers, dates, names, negation, roles, and the speaker the sentence was attributed to
when it was indexed, must agree); a candidate they cannot decide on
(a paraphrase whose names, numbers, dates and negation agree but whose wording differs) goes to the
entailment judge of ``entail.py`` when one is configured (the local LLM answering yes/no); without a
judge (extractive mode, a test) it is accepted. A name in another role (a subject/object swap, "Chile
declared" against "Peru declared ... from Chile") fails, judge or not: the 1.5B judge misses those.

A short answer-first claim ("Europe [1].") is judged as the answer to the question: the cited sentence
must contain the phrase and answer the question (the judge says so; without one, the sentence must be
one of the two that match the question best). A claim with no content words at all ("Yes.") is shown without a citation.

A supported claim keeps its citation, with the supporting span's offsets recorded for highlighting; an
unsupported one is re-cited to another retrieved passage that states it, or else listed in
``Answer.unsupported`` and left without a marker: a failed claim is never shown as verified. Citations
are then renumbered in order of first use. Generating the text is ``generate.py``'s job.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from rag.answer.claims import capitalised_words, check_claim, phrase_in
from rag.answer.roles import asked_speaker
from rag.answer.sentences import Sentence, content_words, number_citations, sentence_tokenizer, speaker_of, split_sentences
from rag.types import Citation, ScoredPassage

# A citation marker "[2]" or "[1, 3]" with the spaces before it; group 1 holds the numbers. The web
# UI (render.py) links the same markers, so both read them with this pattern and marker_numbers.
MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# Candidate sentences put through the checks per claim, best first: the right sentence is almost
# always among the first three (closest to the claim); more only costs time.
_CANDIDATES = 3
# A short answer's sentence must be among this many best matches of the question (see _short_answer).
SHORT_ANSWER_RANK = 2
# With a question, a claim of at most this many content words ("French Lentil") is a
# short answer, checked as the answer to the question rather than as a claim its sentence holds.
SHORT_ANSWER_WORDS = 3


def marker_numbers(group: str) -> list[int]:
    """The numbers of one marker's group 1 ("1, 3" -> [1, 3])."""
    return [int(n) for n in re.split(r"[,;]", group)]


@dataclass
class Checked:
    """An answer after verification: text with valid, renumbered markers."""

    text: str
    citations: list[Citation]
    unsupported: list[str]
    supported_sentences: int


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """The sentences of an answer, each with the passage numbers its markers name (in order)."""
    sentences = []
    for paragraph in re.findall(r"[^\n]+", text):
        for start, end in sentence_tokenizer().span_tokenize(paragraph):
            sentence = paragraph[start:end]
            numbers = [n for group in MARKER.findall(sentence) for n in marker_numbers(group)]
            claim = MARKER.sub("", sentence).strip()
            if claim in (".", ""):  # a marker split off on its own belongs to the previous sentence
                if sentences:
                    sentences[-1][1].extend(numbers)
                continue
            sentences.append((claim, numbers))
    return sentences


class CitationVerifier:
    """Verifies claims against passage sentences: cheap checks first, then the judge if there is one.

    ``settings``: the ``CitationSettings`` group. ``cite_min_similarity`` / ``cite_min_overlap``: an
    evidence sentence is a candidate for a claim when its cosine similarity or its share of the claim's
    content words reaches these; ``cite_min_support``: the share of the claim's (stemmed) content
    words a sentence must hold to pass without the judge. ``judge``: an ``entail.EntailmentJudge`` or
    None (the caller decides from ``cite_judge``).
    """

    def __init__(self, embedding, settings, *, judge=None) -> None:
        self.embedding = embedding
        self.min_similarity = settings.cite_min_similarity
        self.min_overlap = settings.cite_min_overlap
        self.min_support = settings.cite_min_support
        self.judge = judge

    def check(self, text: str, hits: list[ScoredPassage], *, question: str | None = None) -> Checked:
        """Verify each claim of ``text`` against ``hits``; ``question`` lets short answers be checked."""
        import numpy as np

        claims = split_answer(text)
        evidence = [s for hit in hits for s in split_sentences(hit)]
        if not claims or not evidence:
            return Checked(text=MARKER.sub("", text).strip(), citations=[], unsupported=[c for c, _ in claims], supported_sentences=0)
        claim_vectors = np.array(self.embedding.get_text_embedding_batch([c for c, _ in claims]))
        evidence_vectors = np.array(self.embedding.get_text_embedding_batch([s.text for s in evidence]))
        similarity = claim_vectors @ evidence_vectors.T
        evidence_words = [content_words(s.text) for s in evidence]
        names = capitalised_words([s.text for s in evidence] + ([question] if question else []))
        question_similarity = None
        asked = asked_speaker(question) if question else ""

        chosen: list[tuple[Sentence, float]] = []
        rendered: list[tuple[str, int | None]] = []  # (claim, index into chosen) in answer order
        unsupported: list[str] = []
        for row, (claim, numbers) in enumerate(claims):
            words = content_words(claim)
            cited = {hits[n - 1].passage.id for n in numbers if 1 <= n <= len(hits)}
            in_cited = np.array([s.passage.passage.id in cited for s in evidence])
            if len(words) < 2 or (question and len(words) <= SHORT_ANSWER_WORDS):
                if not words or not question:  # "Yes." or a connective: nothing to verify, nothing to cite
                    rendered.append((claim, None))
                    continue
                if question_similarity is None:
                    question_similarity = evidence_vectors @ np.array(self.embedding.get_query_embedding(question))
                best, strength = self._short_answer(claim, question, evidence, evidence_words, question_similarity, in_cited)
            else:
                overlap = np.array([len(words & ew) / len(words) for ew in evidence_words])
                best, strength = self._supporting(claim, evidence, similarity[row], overlap, in_cited, names, asked)
            if best is None:
                unsupported.append(claim)
                rendered.append((claim, None))
            else:
                chosen.append((evidence[best], strength))
                rendered.append((claim, len(chosen) - 1))

        numbers_for_chosen, citations = number_citations(chosen)
        citations = [dataclasses.replace(c, verified=True) for c in citations]
        parts = [claim if i is None else f"{claim} [{numbers_for_chosen[i]}]" for claim, i in rendered]
        return Checked(text=" ".join(parts), citations=citations, unsupported=unsupported, supported_sentences=len(chosen))

    def _supporting(self, claim, evidence, similarity, overlap, in_cited, names, asked="") -> tuple[int | None, float]:
        """The evidence sentence that states ``claim`` (index, strength), or (None, 0)."""
        strength = similarity + overlap
        relevant = (similarity >= self.min_similarity) | (overlap >= self.min_overlap)
        # Sentences in the passages the model cited first, then the rest (re-citing), closest first.
        order = sorted((i for i in range(len(evidence)) if relevant[i]), key=lambda i: (not in_cited[i], -strength[i]))
        undecided = []
        for i in order[:_CANDIDATES]:
            verdict = check_claim(
                claim, evidence[i].text, min_support=self.min_support, names_elsewhere=names, speaker=speaker_of(evidence[i]), asked=asked
            )
            if verdict.outcome == "pass":
                return i, float(strength[i])
            if verdict.outcome == "undecided":
                undecided.append((i, verdict))
        # A role conflict is final: on the faithfulness set the 1.5B judge said yes to most swapped
        # subjects/objects (benchmarks/faithfulness.py, 0 of 4 caught), so it only judges rewordings.
        reworded = [i for i, verdict in undecided if "role" not in verdict.reason]
        if not reworded:
            return None, 0.0
        if self.judge is None:  # no judge: a paraphrase whose names, numbers and negation agree is accepted
            return reworded[0], float(strength[reworded[0]])
        # One judgement per claim (each costs a prompt evaluation): the closest reworded sentence.
        i = reworded[0]
        return (i, float(strength[i])) if self.judge.states(claim, evidence[i].text) else (None, 0.0)

    def _short_answer(self, claim, question, evidence, evidence_words, question_similarity, in_cited) -> tuple[int | None, float]:
        """The sentence giving ``claim`` as the answer to ``question`` (index, strength), or (None, 0).

        The sentence must be one of the SHORT_ANSWER_RANK best matches of the question among all the
        evidence (cosine similarity plus the share of the question's words): another name of the same
        article, found in a sentence about something else, is not the answer (faithfulness benchmark,
        swapped short answers; fitted on its "fit" half)."""
        import numpy as np

        question_words = content_words(question)
        overlap = np.array([len(question_words & ew) / max(1, len(question_words)) for ew in evidence_words])
        score = question_similarity + overlap
        candidates = [i for i, s in enumerate(evidence) if phrase_in(claim, s.text)]
        candidates.sort(key=lambda i: (not in_cited[i], -score[i]))
        for i in candidates[:1]:
            strength = float(score[i])
            if self.judge is not None:
                return (i, strength) if self.judge.states(claim, evidence[i].text, question=question) else (None, 0.0)
            if int((score > score[i]).sum()) < SHORT_ANSWER_RANK:
                return i, strength
        return None, 0.0
