"""Checking a generated answer's citations against the passages they point to.

For each sentence of an LLM answer: parse its ``[n]`` markers, drop markers that point at no retrieved
passage, and look for the passage sentence that supports the claim (embedding similarity or overlap of
content words, whichever is stronger). A supported sentence keeps its citation, with the supporting
span's offsets recorded for highlighting; an unsupported one is re-cited to another retrieved passage
that supports it, or else listed in ``Answer.unsupported`` and left without a marker. Citations are
then renumbered in order of first use. Generating the text is ``generate.py``'s job.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from .answer import Sentence, content_words, number_citations, sentence_tokenizer, split_sentences
from .types import Citation, ScoredPassage

_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")


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
            numbers = [int(n) for group in _MARKER.findall(sentence) for n in re.split(r"[,;]", group)]
            claim = _MARKER.sub("", sentence).strip()
            if claim in (".", ""):  # a marker split off on its own belongs to the previous sentence
                if sentences:
                    sentences[-1][1].extend(numbers)
                continue
            sentences.append((claim, numbers))
    return sentences


class CitationVerifier:
    """Verifies claims against passage sentences; thresholds are calibrated on the dev questions."""

    def __init__(self, embedding, min_similarity: float = 0.62, min_overlap: float = 0.6) -> None:
        self.embedding = embedding
        self.min_similarity = min_similarity
        self.min_overlap = min_overlap

    def check(self, text: str, hits: list[ScoredPassage]) -> Checked:
        import numpy as np

        claims = split_answer(text)
        evidence = [s for hit in hits for s in split_sentences(hit)]
        if not claims or not evidence:
            return Checked(text=_MARKER.sub("", text).strip(), citations=[], unsupported=[c for c, _ in claims], supported_sentences=0)
        claim_vectors = np.array(self.embedding.get_text_embedding_batch([c for c, _ in claims]))
        evidence_vectors = np.array(self.embedding.get_text_embedding_batch([s.text for s in evidence]))
        similarity = claim_vectors @ evidence_vectors.T
        evidence_words = [content_words(s.text) for s in evidence]

        chosen: list[tuple[Sentence, float]] = []
        rendered: list[tuple[str, int | None]] = []  # (claim, index into chosen) in answer order
        unsupported: list[str] = []
        for row, (claim, numbers) in enumerate(claims):
            words = content_words(claim)
            if len(words) < 2:  # "Yes." or a connective: nothing to verify, nothing to cite
                rendered.append((claim, None))
                continue
            overlap = np.array([len(words & ew) / len(words) for ew in evidence_words])
            supported = (similarity[row] >= self.min_similarity) | (overlap >= self.min_overlap)
            strength = similarity[row] + overlap
            cited = {hits[n - 1].passage.id for n in numbers if 1 <= n <= len(hits)}
            in_cited = np.array([s.passage.passage.id in cited for s in evidence])
            # Prefer support inside the passages the model cited; else re-cite to another passage.
            best = _argmax_where(strength, supported & in_cited)
            if best is None:
                best = _argmax_where(strength, supported)
            if best is None:
                unsupported.append(claim)
                rendered.append((claim, None))
            else:
                chosen.append((evidence[best], float(strength[best])))
                rendered.append((claim, len(chosen) - 1))

        numbers_for_chosen, citations = number_citations(chosen)
        citations = [dataclasses.replace(c, verified=True) for c in citations]
        parts = [claim if i is None else f"{claim} [{numbers_for_chosen[i]}]" for claim, i in rendered]
        return Checked(text=" ".join(parts), citations=citations, unsupported=unsupported, supported_sentences=len(chosen))


def _argmax_where(values, mask) -> int | None:
    if not mask.any():
        return None
    masked = values.copy()
    masked[~mask] = -1e9
    return int(masked.argmax())
