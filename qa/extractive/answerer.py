"""The offline default answerer: the sentences that best answer the question, verbatim, with citations."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from typing import Generator

import numpy as np

from index.ingest import sentences
from qa.answerers import Search
from qa.conversation.turns import leans_on_history
from qa.extractive import abstain
from qa.extractive.compose import Composer
from qa.extractive.forms import FACT, form_of
from qa.extractive.resolver import Resolver
from qa.extractive.shortanswer import question_type, short_of
from qa.extractive.views import Views
from qa.history import History
from qa.retrieval.sentscore import SentenceScore
from qa.types import Answer, Citation, Passage
from qa.wording import NOT_FOUND

MIN_PASSAGES = 5  # sentences are looked for in at least this many passages, whatever k
TYPED_LOOK = 4    # a when / how-many question's answer is looked for among this many best sentences ...
# ... tied with the best one (within 3 %): the asked type breaks a tie, no more. At the second-sentence ratio
# (0.8) squad-dev lost 21 of its 1,527 abstentions and gained no answer; at 0.97, 3 (see README).
TYPED_TIE = 0.97
BLOCK_MAX = 600     # a lead-in sentence is quoted with at most this many characters of the block under it
WORD_CACHE = 50_000  # single-word vectors kept for the focus check (1.5 KB each)


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with its absolute offsets and score."""

    passage: Passage
    start: int
    end: int
    score: float
    evidence: SentenceScore
    heading: bool = False  # a headline (`# Title` stating something): quoted only beside a sentence under it

    @property
    def text(self) -> str:
        return self.passage.text[self.start - self.passage.start:self.end - self.passage.start]


@dataclass(frozen=True)
class Weights:
    """Sentence-scoring weights and the abstention threshold, calibrated with `qa eval` on the dev sets."""

    coverage: float = 0.5
    similarity: float = 1.5
    passage: float = 0.3
    rank: float = 0.02
    qtype: float = 0.2
    # A "What is X" question's defining sentence ("X is ...", "A X represents ..."): set by hand to outweigh
    # topical sentences that mention X (realdocs-dev what-is, checked on realdocs-own; see README).
    define: float = 0.6
    # Below the 1st percentile of answerable rows' confidence on the dev sets (0.28-0.31),
    # above off-topic rows' 90th percentile (0.11) and most "insufficient information" rows (median 0.21).
    abstain_below: float = 0.25
    second_ratio: float = 0.8


@dataclass(frozen=True)
class Single:
    """A single question's answer and the evidence strength of its best sentence."""

    answer: Answer
    confidence: float


class ExtractiveAnswerer:
    """Scores every sentence of the top passages against the question and quotes the best one or two;
    in a conversation, follow-ups are resolved against the earlier turns (`qa.extractive.resolver`)."""

    name = "extractive"

    def __init__(self, search: Search | None = None, weights: Weights = Weights()):
        self.search, self.w = search, weights
        self.resolver = Resolver(self)
        self.composer = Composer(self)
        self._views: Views | None = None
        self._lock = threading.Lock()
        self._words: dict[str, set[str]] = {}  # the words of each cited document, for the current snapshot
        self._words_lex = None
        self._word_vecs: dict[str, np.ndarray] = {}  # single words' vectors, for the focus check

    def stream(self, question: str, history: History | None, k: int) -> Generator[str, None, Answer]:
        """Answer `question` in view of `history`; the whole text comes at once. A question asking for more
        than one sentence (a summary, a list, why / how, yes / no, a comparison: `qa.extractive.forms`) that stands on
        its own is composed by `qa.extractive.compose`; a fact, or a follow-up leaning on the history, by the resolver."""
        form = form_of(question)
        if form != FACT and not (history and leans_on_history(question)):
            result = replace(self.composer.answer(question, form, k), form=form)
        else:
            result = self.resolver.answer(question, history, k)
        yield result.text
        return result

    def standalone(self, question: str, history: History | None, k: int) -> str:
        """`question` as understood in the conversation (what it is searched with)."""
        return self.resolver.resolved(question, history, k) if history else question

    def single(self, question: str, k: int) -> Single:
        """The answer to `question` on its own, and its confidence."""
        query = self.search.embed_query(question)
        passages = self.search.search(query, max(k, MIN_PASSAGES))
        cands = self.candidates(question, passages, headings=True)
        return Single(self.answer(question, passages, cands), self.confidence(cands[0]) if cands else 0.0)

    def answer(self, question: str, passages: list[Passage], cands: list[Candidate] | None = None) -> Answer:
        """An `Answer` quoting the best sentence(s), or an abstention showing related passages. It abstains
        when the evidence is weak, or when the quoted sentences cannot answer the question as asked
        (`qa.extractive.abstain`)."""
        cands = self.candidates(question, passages, headings=True) if cands is None else cands
        if not cands or self.confidence(cands[0]) < self.w.abstain_below:
            return self.abstention(question, passages)
        sentences_only = [c for c in cands if not c.heading]
        chosen = _with_body(cands) or (self._choose(sentences_only) if sentences_only else [])
        if chosen and asks_how_to(question):
            chosen = _with_next_step(max(chosen, key=lambda c: c.score)) or chosen
        if not chosen:
            return self.abstention(question, passages)
        why = self._objections(question, chosen, passages)
        if why == ["type"]:  # the best sentence lacks the asked number or date: a near-best one may hold it
            chosen = self._typed(question, sentences_only, passages)
        elif why == ["number"]:  # a day the question names may be a source's: its documents are asked first
            chosen = self._dated(question, cands, passages)
        elif why:
            chosen = []
        if not chosen:
            return self.abstention(question, passages)
        return self.quote(question, chosen, passages)

    def _objections(self, question: str, chosen: list[Candidate], passages: list[Passage]) -> list[str]:
        """`qa.extractive.abstain.reasons`, and "scope" when the cited documents never name what the question is about."""
        why = abstain.reasons(question, [c.text for c in chosen], question_type(question),
                              abstain.context(passages), abstain.front_matter(c.passage.meta for c in chosen))
        cited = {c.passage.source for c in chosen}
        if abstain.scope(question) and abstain.unseen_scope(question, self._words_of(cited)):
            why.append("scope")
        if not why and abstain.unfocused(question, [c.text for c in chosen], self._word_vectors):
            why.append("focus")
        return why

    def _word_vectors(self, words: list[str]) -> np.ndarray:
        """Unit vectors of single words from the search's encoder, cached (a word's vector never changes)."""
        with self._lock:
            have = {w: self._word_vecs[w] for w in words if w in self._word_vecs}
        new = [w for w in dict.fromkeys(words) if w not in have]
        if new:
            have.update(zip(new, self.search.embed(new)))
            with self._lock:
                if len(self._word_vecs) > WORD_CACHE:  # a bound on memory: start again, words come back fast
                    self._word_vecs.clear()
                self._word_vecs.update((w, have[w]) for w in new)
        return np.stack([have[w] for w in words])

    def _words_of(self, sources: set[str]) -> set[str]:
        """The words of the indexed text of `sources` (from the lexical snapshot; cached per snapshot)."""
        lex = self.search.lexical
        rows = lex.rows_by("source")
        out: set[str] = set()
        with self._lock:
            if self._words_lex is not lex:
                self._words, self._words_lex = {}, lex
            for source in sources:
                if source not in self._words:
                    found = rows.get(source, ())
                    title = lex.metas[int(found[0])].get("title", "") if len(found) else ""
                    texts = [title, source] + [lex.texts[int(r)] for r in found]
                    self._words[source] = abstain.words_of(" ".join(texts))
                out |= self._words[source]
        return out

    def _typed(self, question: str, cands: list[Candidate], passages: list[Passage]) -> list[Candidate]:
        """The best of the next few sentences, tied with the best one (`TYPED_TIE`), that holds what a when /
        how-many question asks for and meets every check (`qa.extractive.abstain`); none when no such sentence is there."""
        floor = TYPED_TIE * cands[0].score
        for c in cands[1:TYPED_LOOK]:
            if c.score < floor:
                break
            if not self._objections(question, [c], passages):
                return [c]
        return []

    def _dated(self, question: str, cands: list[Candidate], passages: list[Passage]) -> list[Candidate]:
        """The answer from the documents whose front matter (publication day, outlet) holds a number the
        question states ("an AP story on October 20"): that number constrains the source, and the best
        sentence came from another document. Chosen as `answer` chooses, and it must meet every check."""
        dated = {c.passage.source for c in cands if abstain.dates_source(question, c.passage.meta)}
        kept = [c for c in cands if c.passage.source in dated]
        if not kept or self.confidence(kept[0]) < self.w.abstain_below:
            return []
        body = [c for c in kept if not c.heading]
        chosen = _with_body(kept) or (self._choose(body) if body else [])
        return chosen if chosen and not self._objections(question, chosen, passages) else []

    def quote(self, question: str, chosen: list[Candidate], passages: list[Passage]) -> Answer:
        """The answer quoting `chosen` sentences, each cited; a sentence that leads in to a code block or
        example (it ends with a colon) is quoted with the block under it."""
        cites = tuple(_citation(n, _with_block(c)) for n, c in enumerate(chosen, 1))
        text = " ".join(f"{c.quote} [{c.n}]" for c in cites)
        return Answer(question, text, cites, False, self.name, tuple(passages), short=short_of(question, cites))

    def abstention(self, question: str, passages: list[Passage], text: str = NOT_FOUND) -> Answer:
        """"Not in the documents", with the closest passages as related reading."""
        return Answer(question, text, (), True, self.name, tuple(passages), tuple(passages[:3]))

    def candidates(self, question: str, passages: list[Passage], headings: bool = False) -> list[Candidate]:
        """Every distinct sentence of `passages`, best first; with `headings`, also the headlines that state
        something (`is_headline`), marked, which `answer` quotes only beside a sentence of their document."""
        kind, subject, how_to = _question_kind(question), defined_term(question), asks_how_to(question)
        top = max((p.score for p in passages), default=1.0) or 1.0
        seen, out = set(), []
        for rank, p in enumerate(passages):
            for s in p.sentences:
                if (p.source, s.start) in seen:
                    continue
                seen.add((p.source, s.start))
                text = p.text[s.start - p.start:s.end - p.start]
                heading = headings and sentences.is_headline(text)
                if (sentences.is_label(text) or p.in_heading(s.start, s.end)) and not heading:
                    continue  # headings, titles, terms: context, never the answer
                if not how_to and (sentences.is_lead_in(text) or sentences.is_code_block(text)):
                    continue  # "..., for instance:" announces a block; a command block answers only how-to questions
                score = (self.w.coverage * s.coverage + self.w.similarity * s.similarity
                         + self.w.passage * p.score / top - self.w.rank * rank + self.w.qtype * _kind_bonus(kind, text)
                         + self.w.define * defines(subject, text))
                out.append(Candidate(p, s.start, s.end, score, s, heading))
        return sorted(out, key=lambda c: -c.score)

    def confidence(self, best: Candidate) -> float:
        """Evidence strength of the best sentence: term coverage plus vector similarity."""
        return 0.5 * (best.evidence.coverage + best.evidence.similarity)

    def embed(self, texts) -> "np.ndarray":
        """Unit vectors of `texts`, in one batch."""
        return self.search.embed(texts)

    def warm_up(self) -> None:
        """Build the current snapshot's views and the conversation's sentence table now."""
        self.views().corpus

    def views(self) -> Views:
        """What is known about the current lexical snapshot (rebuilt when `qa index` publishes another)."""
        lex = self.search.lexical
        with self._lock:
            if self._views is None or self._views.lex is not lex:
                self._views = Views(lex, self.search.seeds_dir)
            return self._views

    def _choose(self, cands: list[Candidate]) -> list[Candidate]:
        best = cands[0]
        for c in cands[1:4]:
            adds = c.evidence.covered - best.evidence.covered
            if c.score >= self.w.second_ratio * best.score and adds:
                return sorted([best, c], key=lambda x: (x.passage.source != best.passage.source, x.start))
        return [best]


def _with_body(cands: list[Candidate]) -> list[Candidate]:
    """When a headline is the best candidate: it, then the best sentence of its document (a headline is
    context for what is under it, never the answer alone); none when its document offers no sentence."""
    best = cands[0]
    if not best.heading:
        return []
    body = next((c for c in cands[1:] if not c.heading and c.passage.source == best.passage.source), None)
    return [best, body] if body else []


_KINDS = [("when", re.compile(r"^\s*(when|what year|what date|in what year|which year)\b", re.I)),
          ("number", re.compile(r"\b(how (many|much|long|old|far|large|big)|what (percentage|percent|number))\b", re.I)),
          ("who", re.compile(r"^\s*(who|whom|whose)\b", re.I)),
          ("where", re.compile(r"^\s*where\b", re.I))]
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b|\b(January|February|March|April|May|June|July|August|"
                   r"September|October|November|December)\b|\bcentur", re.I)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion|dozen)\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+")


# "What is X", "What's X", "What does X do": X is the first word after an article.
# Only when X ends the question or a place, purpose or "do" follows ("What is a coroutine in Lua?", "What does
# VACUUM actually do?"), not "What is Tesla's ..." or "What is the name of ...".
_DEFINE = re.compile(r"^\s*what(?:'s|\s+is|\s+are|\s+does|\s+do)\s+(?:(?:an?|the)\s+)?([\w.+-]*\w)"
                     r"(?:\s+(?:option|command|tool|program|package|tag|setting))?"
                     r"(?=\s*(?:\?|$|,|\s(?:in|on|for|good|used|actually|do|does|mean|stand)\b))", re.I)
_LEAD = re.compile(r"^[^\w]*(?:(?:an?|the)\s+)?", re.I)
# What follows the term in a defining sentence: a copula, a dash or colon, a phrase "in ...", or a verb in -s
# ("jq is", "quilt - this package", "A coroutine in Lua represents", "VACUUM reclaims"), not a noun it modifies
# ("The flex distribution", "The quilt command").
_PREDICATE = re.compile(r"[`'\"*]*(?:\s*\([^)]*\))?(?:\s*[:,]|\s+[-−–—]\s|\s+(?:is|are|was|means|in|of)\b|"
                        r"\s+[a-z]{2,}s\b)")


def defined_term(question: str) -> str | None:
    """X of a "What is X / What does X do" question, else None."""
    m = _DEFINE.match(question)
    return m.group(1).lower() if m else None


def defines(term: str | None, text: str) -> float:
    """1.0 when `text` is a defining sentence of `term`: it starts with the term ("jq is ...", "A coroutine
    represents ...", "• quilt - this package ...", "VACUUM reclaims ..."), else 0.0."""
    if not term:
        return 0.0
    rest = _LEAD.sub("", text, count=1).lower()
    return 1.0 if rest.startswith(term) and _PREDICATE.match(rest, len(term)) else 0.0


# "How do I ...", "how can I ...", "how to ...": a question asking for a procedure (a command, an option).
_HOW_TO = re.compile(r"\bhow\s+(?:do|can|could|should|would|to)\b", re.I)


def asks_how_to(question: str) -> bool:
    """Whether `question` asks how to do something, wherever its "how" stands ("rsync: how do I ...?")."""
    return bool(_HOW_TO.search(question))


# A sentence that goes on from the one before it: it refers back ("This can be avoided by ...") or gives a
# first or next step ("First send a mail ...", "Then run ...").
_GOES_ON = re.compile(r"^(?:this|that|these|those|it|then|first|firstly|next|to do (?:this|so|that)|instead|"
                      r"in (?:that|this) case)\b", re.I)


def _with_next_step(best: Candidate) -> list[Candidate]:
    """For a how-to question: the best sentence and the one right after it in its paragraph, when that one
    goes on from it (`_GOES_ON`): the means often follows the sentence that matches the problem ("The empty
    line ... is copied to the output. This can be avoided by use of the macro dnl."). Empty otherwise."""
    p = best.passage
    nxt = next((s for s in p.sentences if s.start >= best.end), None)
    if nxt is None:
        return []
    gap, text = p.text[best.end - p.start:nxt.start - p.start], p.text[nxt.start - p.start:nxt.end - p.start]
    if "\n\n" in gap or gap.strip() or sentences.is_label(text) or not _GOES_ON.match(text):
        return []
    return [best, Candidate(p, nxt.start, nxt.end, best.score, nxt)]


def _with_block(c: Candidate) -> Candidate:
    """`c`, or, when it leads in to a block (it ends with a colon and the next lines of its passage start a
    block of their own: a command, an example, a list), `c` widened to the end of that block."""
    if not sentences.is_lead_in(c.text):
        return c
    p = c.passage
    rel = c.end - p.start
    rest = p.text[rel:]
    if not rest.startswith("\n") or not rest.strip():
        return c
    body = rest.lstrip("\n")
    block = body.split("\n\n", 1)[0].rstrip()
    if not block or len(block) > BLOCK_MAX:
        return c
    return replace(c, end=c.end + (len(rest) - len(body)) + len(block))


def _question_kind(question: str) -> str | None:
    return next((name for name, pattern in _KINDS if pattern.search(question)), None)


def _kind_bonus(kind: str | None, text: str) -> float:
    text = sentences.ITEM_MARK.sub("", text, count=1)  # a list item's number ("3. For the first week") is structure
    if kind == "when":
        return 1.0 if _YEAR.search(text) else 0.0
    if kind == "number":
        return 1.0 if _NUMBER.search(text) else 0.0
    if kind in ("who", "where"):
        return min(1.0, len(_NAME.findall(text)) / 3)
    return 0.0


def _citation(n: int, c: Candidate) -> Citation:
    p = c.passage
    line = p.start_line + p.text[:c.start - p.start].count("\n")
    return Citation(n=n, source=p.source, title=p.title, published=p.published, start=c.start, end=c.end,
                    start_line=line, end_line=line + c.text.count("\n"), quote=c.text, score=round(c.score, 4),
                    page=p.page, passage_id=p.id, context=p.text, context_start=p.start,
                    unit=p.unit(line, line + c.text.count("\n")), heading=p.heading_at(c.start))
