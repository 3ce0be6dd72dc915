"""Corroboration: for each cited sentence of an answer, the other outlets whose articles state it too.

For a claim (the quote of a citation) the store's nearest passages (``corroborate_candidates``, dense,
no later than the answer's as-of day) are split into sentences (``sentences.py``), and each sentence of
another article is judged with the citation check's cheap rules (``claims.check_claim``: every number,
date, name and negation of the claim in the sentence, and ``corroborate_min_support`` of its stemmed
words): a sentence that passes states the claim. A sentence that agrees once the numbers are set aside
(``conflict_min_support``) but gives another number is a *conflict* ("CNN says 34 charges;
usatoday.com says 30 charges").

The articles stating a claim are then grouped by outlet, with copies of one story counted once: two
articles are copies when they share ``copy_min_overlap`` of their 5-word runs (a reprint, the same
story on two sites) or carry the same agency credit (an "(AP) —" dateline, an agency byline); an
agency's copies are named after it ("AP, carried by 4 sites"). The cited article's outlet comes first.
Judging with the LLM (the citation check's paraphrase judge) is left out on purpose: it would cost a
model call per candidate sentence, and the benchmark (``benchmarks/corroboration.py``) shows the
cheap rules alone are precise; paraphrases in other words are therefore not counted. Rendering is the
faces'; the typed results (``Corroboration``, ``Outlet``, ``Conflict``) are ``rag.types``'.
"""

from __future__ import annotations

import dataclasses
import re

from rag.answer.claims import check_claim
from rag.answer.quantities import NUMBER_WORDS, numbers_in, numbers_of, split_tokens
from rag.answer.sentences import content_words, split_sentences
from rag.types import Answer, Citation, Conflict, Corroboration, Outlet, Report

# Agency credits: a byline line of its own near the top, or an "(AP) —" dateline. "Contributing: The
# Associated Press" at the end is an outlet's own story using agency material: not a copy.
_AGENCIES = {"AP": ("associated press", "ap"), "Reuters": ("reuters",), "AFP": ("agence france-presse", "afp")}
# The number words the claim checks read (``quantities.NUMBER_WORDS``) but the scale words: "1 trillion"
# is shown as its digits and the word after them, not as a figure of its own.
_NUMBER_WORDS = [w for w in NUMBER_WORDS if w not in ("thousand", "million", "billion", "trillion")]
# A figure as written: digits with what is joined to them ("5-4", "1990s", "75-year-olds", "2nd", "26%"),
# or a number word ("three charges" against "four charges").
_FIGURE = re.compile(rf"(?<![\w.,])\d[\d,]*(?:\.\d+)?(?:[\w-]*[\w%])?|\b(?:{'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)
_WORD_AFTER = re.compile(r"[\s-]*(?:percent\b|%|[a-z][a-z-]+)")


def agency_credit(text: str, authors=()) -> str:
    """The agency credited as the author of ``text`` ("AP", "Reuters", "AFP"), or ""."""
    head = text[:400].lower()
    lines = {line.strip().strip(".").removeprefix("the ").strip() for line in head.splitlines()}
    names = {a.lower().removeprefix("the ").strip() for a in authors}
    for agency, marks in _AGENCIES.items():
        if any(mark in lines or mark in names for mark in marks):
            return agency
        if any(re.search(rf"\({re.escape(mark)}\)\s*[—–-]", head) for mark in marks):
            return agency
    return ""


def shingles(text: str, size: int = 5) -> set[int]:
    """Hashes of the ``size``-word runs of ``text`` (lower case): what two copies of a story share."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {hash(tuple(words[i : i + size])) for i in range(max(1, len(words) - size + 1))}


def copies(a: set[int], b: set[int], min_overlap: float) -> bool:
    """Whether two articles' shingle sets overlap enough to be one story (share of the smaller one)."""
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= min_overlap


def _mask_numbers(text: str) -> str:
    return _FIGURE.sub(" ", text)


def _value(text: str, numbers: set[str]) -> str:
    """The first number of ``text`` among ``numbers`` as written, with the word after it ("34 charges")."""
    for match in _FIGURE.finditer(text):
        if numbers_in(match.group(0), soft=True) & numbers:
            after = _WORD_AFTER.match(text, match.end())
            return match.group(0) + (after.group(0) if after else "")
    return ""


class Corroborator:
    """Finds the other reports of an answer's cited claims in ``store`` (embedding queries with ``embedding``).

    ``settings``: the ``NewsSettings`` group (``corroborate_*``, ``conflict_min_support``, ``copy_min_overlap``).
    """

    def __init__(self, store, embedding, settings, search) -> None:
        """``search(vector, as_of)``: the nearest passages to ``vector`` published up to ``as_of``
        (``provenance.nearest_passages``: the retriever's unfiltered HNSW query filtered in memory, 5-11 ms
        against ~0.4 s for Chroma's ``where=`` query)."""
        self.store = store
        self.embedding = embedding
        self.settings = settings
        self.search = search

    def annotate(self, answer: Answer) -> Answer:
        """``answer`` with a ``Corroboration`` on each of its citations (and evidence), in place."""
        claims = list({c.number: c for c in [*answer.evidence, *answer.citations]}.values())
        if answer.refused or not claims:
            return answer
        vectors = self.embedding.get_text_embedding_batch([c.quote.strip() for c in claims])
        articles: dict[str, tuple] = {}  # per answer: an article's shingles and credit, read once
        found = {c.number: self.corroboration(c, v, answer.as_of, articles) for c, v in zip(claims, vectors)}
        answer.citations = [dataclasses.replace(c, corroboration=found.get(c.number)) for c in answer.citations]
        answer.evidence = [dataclasses.replace(c, corroboration=found.get(c.number)) for c in answer.evidence]
        return answer

    def corroboration(self, citation: Citation, vector, as_of=None, articles=None) -> Corroboration:
        """Who else states ``citation.quote`` (``vector`` its embedding) in articles up to ``as_of``, and
        who gives another number."""
        s = self.settings
        claim = citation.quote.strip()
        claim_words = content_words(claim)
        claim_numbers, claim_readings = numbers_in(claim), numbers_in(claim, soft=True)
        hits = self.search(vector, as_of)[: s.corroborate_candidates]
        supporters: dict[str, Report] = {}
        conflicts: dict[str, tuple[Report, set[str], set[str]]] = {}  # report, its numbers, its soft readings
        for hit in hits:
            p = hit.passage
            if p.article_id == citation.article_id or p.article_id in supporters:
                continue
            for sentence in split_sentences(hit):
                words = content_words(sentence.text)
                if len(claim_words & words) < 0.5 * len(claim_words):
                    continue  # cheap pre-filter: check_claim would not pass it either
                report = Report(p.article_id, p.title, p.date, p.source, p.url, sentence.text.strip(), sentence.start, sentence.end)
                if check_claim(claim, sentence.text, min_support=s.corroborate_min_support).outcome == "pass":
                    supporters[p.article_id] = report
                    conflicts.pop(p.article_id, None)
                    break
                # A conflict: a number of each is missing from the other ("one of" or "first" may be read
                # as a number where the other side has it, never as the disagreeing number itself).
                tokens = split_tokens(sentence.text)  # read once for both readings
                other, other_readings = numbers_of(tokens), numbers_of(tokens, soft=True)
                if claim_numbers - other_readings and other - claim_readings and p.article_id not in conflicts:
                    masked = check_claim(_mask_numbers(claim), _mask_numbers(sentence.text), min_support=s.conflict_min_support)
                    if masked.outcome == "pass":
                        conflicts[p.article_id] = (report, other - claim_readings, other_readings)
        own = Report(citation.article_id, citation.title, citation.date, citation.source, citation.url, claim, citation.start, citation.end)
        outlets = self.outlets([own, *supporters.values()], articles if articles is not None else {})
        conflict_list = []
        for report, values, readings in conflicts.values():
            mine, theirs = _value(claim, claim_numbers - readings), _value(report.quote, values)
            text = f"{citation.source or 'the cited article'} says {mine}; {report.source or report.title} says {theirs}"
            conflict_list.append(Conflict(report, mine, theirs, text))
        return Corroboration(tuple(outlets), tuple(conflict_list), summary(outlets))

    def outlets(self, reports: list[Report], articles: dict) -> list[Outlet]:
        """``reports`` grouped by outlet, copies of one story (near-identical text, one agency credit) together."""
        info = [self._article_info(r.article_id, articles) for r in reports]
        parent = list(range(len(reports)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i in range(len(reports)):
            for j in range(i):
                same_credit = info[i][1] and info[i][1] == info[j][1]
                if same_credit or copies(info[i][0], info[j][0], self.settings.copy_min_overlap):
                    parent[root(i)] = root(j)
        groups: dict[int, list[int]] = {}
        for i in range(len(reports)):
            groups.setdefault(root(i), []).append(i)
        by_name: dict[str, tuple[list[Report], bool]] = {}
        for members in groups.values():
            credit = next((info[i][1] for i in members if info[i][1]), "")
            first = min(members, key=lambda i: (reports[i].date is None, reports[i].date or 0, i))
            name = credit or reports[first].source or reports[first].title or reports[first].article_id
            wire = bool(credit) or len({reports[i].source for i in members}) > 1 or len(members) > 1
            kept, was_wire = by_name.get(name, ([], False))
            by_name[name] = (kept + [reports[i] for i in sorted(members)], was_wire or wire)
        outlets = [Outlet(name, tuple(rs), wire) for name, (rs, wire) in by_name.items()]
        own = reports[0].article_id
        outlets.sort(key=lambda o: (not any(r.article_id == own for r in o.reports), -len(o.reports)))
        return outlets

    def _article_info(self, article_id: str, articles: dict) -> tuple[set[int], str]:
        if article_id not in articles:
            article = self.store.article(article_id)
            text, authors = (article.text, article.authors) if article else ("", ())
            articles[article_id] = (shingles(text) if text else set(), agency_credit(text, authors))
        return articles[article_id]


def outlet_label(outlet: Outlet) -> str:
    """"AP, carried by 4 sites", "CNN, 2 articles", "usatoday.com"."""
    sites = outlet.sites
    if len(sites) > 1:
        return f"{outlet.name}, carried by {len(sites)} sites"
    if len(outlet.reports) > 1:
        kind = "copies" if outlet.wire else "articles"
        return f"{outlet.name}, {len(outlet.reports)} {kind}" + (f" on {sites[0]}" if sites[0] != outlet.name else "")
    if sites and sites[0] != outlet.name:
        return f"{outlet.name} via {sites[0]}"
    return outlet.name


def summary(outlets: list[Outlet]) -> str:
    """The line shown beside a citation: "Reported by 3 independent outlets (AP, carried by 4 sites; ...)"."""
    if not outlets:
        return ""
    if len(outlets) == 1 and len(outlets[0].reports) == 1:
        return "Stated by this article only."
    if len(outlets) == 1:
        return f"Reported by one outlet only ({outlet_label(outlets[0])})."
    return f"Reported by {len(outlets)} independent outlets ({'; '.join(outlet_label(o) for o in outlets)})."
