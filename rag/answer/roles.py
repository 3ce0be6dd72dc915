"""Who said it and who did what to whom: the checks that compare a claim's speaker and relations with its sentence.

Two cheap checks that ``claims.check_claim`` runs after names, numbers, dates and negation agree:

* **speaker**: a claim that gives words to someone ("Kast said people cannot be used ...", "Immigrants
  have 111 days, Kast warned") is stated by a sentence only if the sentence's own attribution, found
  when the article was indexed (``rag.ingest.speakers``: the name at the speech verb, "he said"
  resolved from the passage), is the same person or body. A claim that states a direct quote as a plain
  fact ("The government wants to prevent a humanitarian crisis" from Cordero's "Our main purpose is to
  prevent a humanitarian crisis") is not stated either, unless the question asked what that speaker said.
* **relation**: the subject and the object of the claim's main clause must sit in one clause of the
  sentence. "The government was responding to anti-immigrant sentiment" against "Jarí said his
  government would declare ... from Chile, where anti-immigrant sentiment has surged" fails: the
  sentiment belongs to the relative clause about Chile, not to what the government does. Clauses are
  cut at relative and contrastive words (where, which, who, while, although, but, a semicolon or a dash);
  a relative clause set off by commas inside a sentence ("Kast, who leads the polls, warned ...") is
  lifted out, so the clause around it stays whole.

Finding the speakers is ``rag.ingest.speakers``'; combining the checks into a verdict is ``claims.py``'s.
"""

from __future__ import annotations

import re

from rag.ingest.speakers import name_words, same_speaker, speaker_of_claim

_QUOTES = "“”\""
# Words that open a clause whose subject need not be the sentence's ("..., where X has surged").
_CLAUSE = re.compile(
    r"\s*(?:,\s*)?\b(?:where|which|who|whose|whom|while|whereas|although|though|but)\b\s+|\s*;\s+|\s+[—–]\s+", re.IGNORECASE
)
_EMBEDDED = re.compile(r",\s*(?:who|which|where|whose)\b[^,;]*,", re.IGNORECASE)


_ASKED = re.compile(
    r"(?i:\b(?:what|how|why|when|where)\s+(?:did|does|do|has|have|had|was|is|were)\s+)"
    r"(?P<name>(?:the\s+)?[A-Z][\w\u00C0-\u024F.'’-]*(?:\s+(?:of\s+)?[A-Z][\w\u00C0-\u024F.'’-]*)*|the\s+[a-z]+)\s+(?i:say|said|tell|told|"
    r"warn|warned|announce|announced|add|claim|claimed|argue|respond|responded|reply|replied|react|reacted|state|stated|"
    r"promise|promised|threaten|threatened|urge|urged|ask|asked|write|tweet|post|mean|think|thought)\b",
)
_ASKED_POSSESSIVE = re.compile(r"\b(?P<name>[A-Z][\w\u00C0-\u024F-]*(?:\s+[A-Z][\w\u00C0-\u024F-]*)*)['’]s\s+(?:words|statement|warning|message|response|reaction|comments?|remarks?|quote|claim|announcement)\b")


def asked_speaker(question: str) -> str:
    """The person or body a question asks the words of ("What did Kast say?" -> "Kast"), "" for none."""
    match = _ASKED.search(question) or _ASKED_POSSESSIVE.search(question)
    if not match:
        return ""
    name = match.group("name").strip()
    words = [w for w in name.split() if w[:1].isupper() and w.lower() not in ("the", "a", "an")]
    return " ".join(words) if words else (name.split()[-1] if name.split() and name.split()[-1].lower() not in ("he", "she", "they", "it", "you", "i", "we") else "")


def speaker_conflict(claim: str, speaker: str, sentence: str, asked: str = "") -> tuple[str, str]:
    """(reason, claim_speaker): a reason when the claim gives the sentence's words to someone else.

    ``speaker``: the sentence's attributed speaker ("" when it reports no speech); ``asked``: the speaker
    the question asks about ("What did Kast say?"), if any. ``claim_speaker`` is returned so the name
    check can accept it when the sentence says only "he said".
    """
    claimed = speaker_of_claim(claim)
    if claimed and speaker:
        if not same_speaker(claimed, speaker):
            return f"the sentence gives these words to {speaker}, not {claimed}", ""
        known = name_words(speaker)  # only the words that name the sentence's speaker need not be in it
        return "", " ".join(w for w in claimed.split() if name_words(w) and name_words(w) <= known)
    if claimed is None and speaker and any(q in sentence for q in _QUOTES) and not any(q in claim for q in _QUOTES):
        if asked and same_speaker(asked, speaker):
            return "", ""
        inside, outside = _quoted_words(sentence)
        claim_words = _words(claim)
        if len(claim_words & inside) > len(claim_words & outside):
            return f"the sentence quotes {speaker}; the claim states the quote as a fact", ""
    return "", ""


def relation_conflict(claim: str, sentence: str, stem) -> str:
    """A reason when the claim's subject and object sit in different clauses of the sentence, else "".

    ``claim`` without an attribution the speaker check already matched (``without_attribution``:
    "Sorensen said that ..." is no part of the relation, which is the reported words')."""
    claim_clause = next((c for c in clauses(claim) if c.strip()), "")
    words = [stem(w) for w in re.findall(r"[A-Za-z\u00C0-\u024F0-9']+", claim_clause)]
    sentence_clauses = [{stem(w) for w in re.findall(r"[A-Za-z\u00C0-\u024F0-9']+", c)} - {""} for c in clauses(sentence)]
    if len(sentence_clauses) < 2:
        return ""
    everywhere = set().union(*sentence_clauses)
    present = [w for w in words if w and w in everywhere]
    if len(set(present)) < 2:
        return ""
    subject, obj = present[0], present[-1]
    if subject == obj or any(subject in c and obj in c for c in sentence_clauses):
        return ""
    return f"{subject!r} and {obj!r} are in different clauses of the sentence"


_SPEECH = re.compile(r"\b(?:said|says|told|warned|announced|added|stated|explained|noted|wrote|argued|claimed|insisted|urged)\b(?:\s+that\b)?", re.IGNORECASE)


def without_attribution(claim: str, speaker: str) -> str:
    """The claim without its speaker's name and its speech verb ("Sorensen said that the cities ..." -> "the cities ...")."""
    for word in speaker.split():
        claim = re.sub(rf"\b{re.escape(word)}(?:['’]s)?\b", " ", claim)
    return _SPEECH.sub(" ", claim, count=1).strip(" ,")


def clauses(text: str) -> list[str]:
    """The clauses of a sentence: relative clauses set off by commas lifted out, then cut at clause words."""
    lifted = []

    def lift(match):
        lifted.append(match.group(0).strip(", "))
        return ""

    main = _EMBEDDED.sub(lift, text)
    return [c for part in [main, *lifted] for c in _CLAUSE.split(part) if c and c.strip()]


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z\u00C0-\u024F0-9]+", text) if len(w) > 3}


def _quoted_words(sentence: str) -> tuple[set[str], set[str]]:
    inside, outside, state = [], [], False
    for char in sentence:
        if char in _QUOTES:
            state = char == "“" or (char == '"' and not state)
            inside.append(" ")
            outside.append(" ")
            continue
        (inside if state else outside).append(char)
    if not any(q in sentence for q in "“\"") or (sentence.lstrip()[:1] not in _QUOTES and not "".join(inside).strip()):
        return _words(sentence), set()  # a quote's continuation without its opening mark: all of it is quoted
    return _words("".join(inside)), _words("".join(outside))
