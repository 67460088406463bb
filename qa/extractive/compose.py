"""Answers of more than one sentence, offline, every sentence a cited quote (`qa.extractive.forms` says which form):

* **summary**: the central and diverse sentences of one document, of the documents the question names (by
  title, outlet, author, day of publication or topic), or of the whole collection. Centrality is LexRank (PageRank over the cosine
  graph of the sentence vectors the index already holds), plus a lead prior (news puts its point first) and,
  for a topic, the similarity to it; MMR keeps them diverse. 3-7 sentences, in document order.
* **list**: every sentence of the answering passages that scores near the best one, deduplicated, as bullets;
  the best one's paragraph (before it and after it) first, at a lower bar.
* **why / how**: the explanation's passage: the best-matching sentence (the fact path's score plus its vector's
  similarity to the question) and the sentence of its section most related to it (similarity to the question
  and to it, a causal or manner cue, a discourse link; the sentence after it that points back, "This ...",
  first), in document order; when the question names two or more outlets, each outlet's, grouped.
* **yes/no**: the sentence that decides it, with a verdict only when its grammar decides it (negation,
  a change of state for "still"); otherwise "The documents say:" and the quote.
* **compare**: the sentences of each side (an outlet the question names, or an entity phrase), grouped.

Every form starts from the fact path's own evidence, so a question the fact path abstains on (the
documents lack it) abstains here too; the fact path's sentences keep their place except in an explanation,
which is built from the passage that explains.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from index.snapshot.lexical import tokenize
from qa.extractive import abstain, forms as fm
from qa.extractive.resolver import MAX_WORDS_OFF_TOPIC
from qa.extractive.shortanswer import question_type
from qa.retrieval.sources import _ISO_DATE, _WORD_DATE, named_days, named_sites
from qa.types import Answer, Group, Short

if TYPE_CHECKING:
    from qa.extractive.answerer import Candidate, ExtractiveAnswerer

# Fitted on nonfactoid-dev by corpus-split cross-validation (bench/forms_cv.py); see README.
LIST_RATIO = 0.80       # a list item scores at least this share of the best sentence
LIST_MAX = 6
FOLLOW_MAX = 4          # sentences on each side of the best item looked at as more of the list ...
FOLLOW_RATIO = 0.6      # ... kept when they score at least this share of the best
EXPLAIN_RATIO = 0.85    # a further explaining sentence scores at least this share of the best
EXPLAIN_MAX = 2
EXPLAIN_ANCHORS = 5     # the best sentences tried as the anchor of an explanation ...
EXPLAIN_SIM = 1.0       # ... by their score (a share of the best) plus this weight of their similarity to the question
EXPLAIN_WINDOW = 3      # sentences on each side of the best explaining sentence looked at (its section) ...
EXPLAIN_LINK = 0.5      # ... scored by similarity to the question plus this weight of similarity to it ...
EXPLAIN_CUE = 0.05      # ... a causal / manner cue ...
EXPLAIN_BACK = 0.1      # ... and a discourse link to it ("This ...", the sentence "This ..." points back to);
#                         the sentence after it that points back to it comes first
SUMMARY_MIN, SUMMARY_MAX = 3, 7
SUMMARY_LEAD = 0.6      # lead prior: weight of being among a document's first sentences ...
LEAD_DECAY = 5.0        # ... decaying over about this many sentences
SUMMARY_CENTRAL = 0.3   # a topic summary: weight of centrality among the topic's sentences
SUMMARY_FLOOR = 0.6     # ... which score at least this share of the best
SUMMARY_TOPIC_COUNT = 5
TOPIC_COVERAGE = 0.5    # the TOPIC_SENTENCES-th best topic sentence must hold this share of the topic's terms
TOPIC_SENTENCES = 1
SUMMARY_TOPIC = 1.0     # weight of the similarity to the topic a question names
MMR_LAMBDA = 0.7
DUPLICATE = 0.92        # cosine above which two sentences say the same
SIDE_MAX = 3
YESNO_POOL = 12         # the deciding sentence is looked for among this many best sentences ...
YESNO_RATIO = 0.7       # ... scoring at least this share of the best
POOL = 12               # passages searched for the multi-sentence forms
MAX_SUMMARY_SENTENCES = 6000

_CAUSAL = re.compile(r"\b(because|due to|owing to|since|as a result|result(?:ed|s)? in|led to|lead to|caused?|"
                     r"therefore|thus|consequently|hence|for (?:this|that) reason|so that|in order to|reason|meaning|"
                     r"which means|allow(?:s|ed)?|enabl\w+|"
                     r"prevent\w*|help(?:s|ed)? to)\b", re.I)
_MANNER = re.compile(r"\b(by|through|via|using|uses?|used|with|means of|process|method|works?|step)\b", re.I)
_LEADS_IN = re.compile(r":[ \t]*\n\s*\S")  # a quote that leads in to a block under it ("for instance:\n cmd")
_NEGATION = re.compile(r"\b(not|never|no|none|neither|nor|cannot|without|nothing)\b|n't\b|"
                       r"\b(steer(?:s|ed|ing)? clear|refrain\w*|declin\w+ to|den(?:y|ies|ied)|fail\w* to|"
                       r"stopp?\w* short|ceased?|no longer)\b", re.I)
_CHANGE = re.compile(r"\b(stepp?\w* down|resign\w*|former|formerly|no longer|left|quit|ousted|replaced|"
                     r"ended|stopped)\b", re.I)
_HEDGE = re.compile(r"\b(may|might|could|reportedly|allegedly|if|whether|unclear|possibly|perhaps|expected)\b", re.I)
# Verbs whose infinitive complement happened ("managed to win"): an implicative verb asserts what follows it.
_IMPLICATIVE = re.compile(r"(?:manag|return|began|begun|start|continu|went|came|proceed)\w*", re.I)
_EMPHASIS = re.compile(r"\b(actually|really|truly|indeed|ever|even|in fact|at all)\b", re.I)
_STILL = re.compile(r"\bstill\b", re.I)
# A sentence that reports a wish, a plan or a demand does not assert what it names.
_UNASSERTED = re.compile(r"\b(persuad\w*|urg\w*|call(?:s|ed)? on|want\w*|hop(?:e|es|ed|ing)|plan\w*|aim\w*|"
                         r"should|would|must|need\w*|demand\w*|ask(?:s|ed)?|warn\w*)\b", re.I)
# Words that point at the documents rather than at a topic ("Summarize the article", "the news coverage").
_DOC_WORDS = frozenset(tokenize(
    "summarize summarise summary sum up overview gist synopsis main points point key ideas takeaways highlights "
    "give me tell short brief quick article articles document documents text texts file files report reports "
    "story stories coverage news paper papers source sources say says said write wrote cover covered about "
    "according please these those this all whole collection what which who how is are was were do does did can "
    "could would you me it them us i for some published written by on"))
_BULLET = "- "


@dataclass(frozen=True)
class Pick:
    """A sentence chosen for an answer: its sentence-table id and score."""

    i: int
    score: float


class Composer:
    """Builds the multi-sentence forms for an `ExtractiveAnswerer` (its search, views and scoring)."""

    def __init__(self, answerer: "ExtractiveAnswerer"):
        self.a = answerer

    def answer(self, question: str, form: str, k: int) -> Answer:
        """`question` answered in `form` (not `fact`)."""
        if form == fm.SUMMARY:
            return self.summary(question, k)
        if len(question.split()) <= MAX_WORDS_OFF_TOPIC and self.a.views().vocabulary.absent(question):
            return self.a.abstention(question, list(self.a.single(question, k).answer.passages))  # as the fact path
        query = self.a.search.embed_query(question)
        passages = self.a.search.search(query, max(k, POOL))
        cands = self.a.candidates(question, passages)
        fact = self.a.single(question, k).answer  # exactly the fact path's answer (and abstention)
        if fact.abstained:
            fact = self._wider(question, form, fact, cands, passages)
        if fact.abstained:
            return fact
        cv = self.a.views().corpus
        first = [i for i in cv.cited(fact.citations) if not _heading(cv.sents.text(i))]
        pool = self._pool(cands, cv)
        if form == fm.YESNO:
            return self.yesno(question, fact, pool, cv)
        if form == fm.COMPARE:
            return self.compare(question, fact, query, pool, cv, k)
        if form == fm.LIST:
            return self._bullets(question, first, pool, cv, fact)
        return self.explain(question, form, query, pool, cv, fact)

    def _wider(self, question: str, form: str, fact: Answer, cands, passages) -> Answer:
        """The fact path's checks (`qa.extractive.abstain`) judge one sentence. A list spans several, and an outlet a
        question names ("according to TechCrunch") is in the documents' metadata, not in their sentences. So
        when the evidence is strong and the only objection is a name the best sentence lacks, the checks are
        asked again: of the question without the outlets it names, and for a list of its best few sentences
        together; if they pass, the best sentence leads the answer."""
        if not cands or self.a.confidence(cands[0]) < self.a.w.abstain_below:
            return fact
        sites = named_sites(question, self.a.search.lexical)
        asked = _without_sites(question, sites)
        if form != fm.LIST and asked == question:
            return fact
        kind, context = question_type(question), abstain.context(passages)
        alone = abstain.reasons(question, [cands[0].text], kind, context)
        top = [c.text for c in cands[:LIST_MAX]] if form == fm.LIST else [cands[0].text]
        if set(alone) - {"name"} or abstain.reasons(asked, top, kind, context):
            return fact
        return self.a.quote(question, [cands[0]], passages)

    # -- lists, why, how -------------------------------------------------------------------------------
    def _pool(self, cands: list["Candidate"], cv) -> list[Pick]:
        """The candidates as sentence-table ids, best first (a sentence the table lacks is left out)."""
        out, seen = [], set()
        for c in cands:
            i = cv.sents.find(c.passage.source, c.start, c.end)
            if i is not None and i not in seen and not _heading(c.text):
                seen.add(i)
                out.append(Pick(i, c.score))
        return out

    def _bullets(self, question: str, first: list[int], pool: list[Pick], cv, fact: Answer) -> Answer:
        """A list: the sentences that hold its items, as bullets."""
        scored = sorted(pool, key=lambda p: -p.score)
        best = max((p.score for p in scored), default=0.0)
        score = {p.i: p.score for p in scored}
        lead = scored[0].i if scored else None
        chosen = list(first)

        def take(i: int) -> None:
            if len(chosen) < LIST_MAX and i not in chosen and not _duplicate(i, chosen, cv):
                chosen.append(i)
        # Locality: a list's items sit together, in the paragraph of the sentence that matches best ("Many
        # farms still bear French names. Many families have French surnames. The wine industry owes ..."), so
        # its sentences come first, at a lower bar than sentences elsewhere.
        for i in _paragraph(cv, lead, FOLLOW_MAX):
            if score.get(i, 0.0) >= FOLLOW_RATIO * best:
                take(i)
        for p in scored:
            if p.score < LIST_RATIO * best:
                break
            take(p.i)
        if len(chosen) <= len(first):
            return replace(fact, form=fm.LIST)
        return self._compose(question, fm.LIST, chosen, fact, bullets=True)

    def explain(self, question: str, form: str, query, pool: list[Pick], cv, fact: Answer) -> Answer:
        """Why / how: the explanation's passage rather than the fact path's sentences. The reason or the steps
        often share neither words nor cues with the question ("Each packet is labeled with a destination
        address"), but they sit near the sentence that matches best and say something like it. So that
        sentence anchors a window of its document, and the window's sentences are scored by their similarity to
        the question and to the anchor (the sentence vectors the index holds), a causal or manner cue, and a
        discourse link ("This ...", "As a result ..."); the answer is the anchor and up to EXPLAIN_MAX - 1
        companions that score near the best, in the documents' order. A question that names two or more
        outlets ("according to A and B") gets each outlet's explanation, grouped under it."""
        if not pool or (form == fm.HOW and any(_LEADS_IN.search(c.quote) for c in fact.citations)):
            # the fact path already quotes the steps: a lead-in with the block of commands under it
            return replace(fact, form=form)
        cue = _CAUSAL if form == fm.WHY else _MANNER
        q = np.asarray(query.vector, np.float32).ravel()
        q = q / (np.linalg.norm(q) + 1e-9)
        lex = self.a.search.lexical
        sites = named_sites(question, lex)
        if len(sites) >= 2:  # "How did X unravel, according to A and B?": each outlet's account, grouped under it
            groups = [(site, self._explanation([p for p in pool if _site_of(cv, p.i, lex) == site], cv, q, cue))
                      for site in sites]
            groups = [(site, ids) for site, ids in groups if ids]
            if len(groups) >= 2:
                return self._compose(question, form, [i for _, ids in groups for i in ids], fact, groups=groups)
        chosen = self._explanation(pool, cv, q, cue)
        if not chosen:
            return replace(fact, form=form)
        return self._compose(question, form, chosen, fact)

    def _explanation(self, pool: list[Pick], cv, q: np.ndarray, cue: re.Pattern) -> list[int]:
        """The anchor and its companions (`explain`), in the documents' order; [] when there are none."""
        if not pool:
            return []
        # the anchor: the best-matching sentence, its sentence vector's similarity to the question counting
        # beside the fact path's score (which weighs the words it shares with the question)
        top = pool[:EXPLAIN_ANCHORS]
        sims = _unit_vectors([p.i for p in top], cv) @ q
        lead = top[int(np.argmax([p.score / (top[0].score or 1.0) + EXPLAIN_SIM * s for p, s in zip(top, sims)]))].i
        score = self._companions(cv, lead, q, cue)
        if not score:
            return []
        # the sentence after the anchor that opens by pointing back to it ("This followed ...") goes on with it:
        # the consequence or the next step, whatever its words
        ranked = sorted(score, key=lambda i: (not _continues(cv, i, lead), -score[i]))
        top = max(score.values())
        chosen = [lead]
        for i in ranked:
            if len(chosen) >= EXPLAIN_MAX or (score[i] < EXPLAIN_RATIO * top and not _continues(cv, i, lead)):
                break
            if not _duplicate(i, chosen, cv):
                chosen.append(i)
        return sorted(chosen)

    @staticmethod
    def _companions(cv, lead: int, q: np.ndarray, cue: re.Pattern) -> dict[int, float]:
        """The sentences of `lead`'s window, each scored as a companion of it in an explanation."""
        window = _window(cv, lead, EXPLAIN_WINDOW)
        if not window:
            return {}
        vecs = _unit_vectors([lead] + window, cv)
        rel = vecs[1:] @ q + EXPLAIN_LINK * (vecs[1:] @ vecs[0])
        return {i: float(r) + (EXPLAIN_CUE if cue.search(cv.sents.text(i)) else 0.0)
                + (EXPLAIN_BACK if _linked(cv, i, lead) else 0.0) for i, r in zip(window, rel)}

    # -- yes / no ----------------------------------------------------------------------------------------
    def yesno(self, question: str, fact: Answer, pool: list[Pick], cv) -> Answer:
        """The deciding sentence first, with a verdict when its grammar decides; else "The documents say:"."""
        # The auxiliary that makes it a question ("Did ...") and adverbs of emphasis ("did he actually play?")
        # ask nothing a sentence must say.
        terms = {t: cv.idf.get(t, cv.max_idf) for t in tokenize(_EMPHASIS.sub(" ", fm.without_auxiliary(question)))}
        total = sum(terms.values()) or 1.0
        best = pool[0].score if pool else 0.0

        lex = self.a.search.lexical
        names = _name_terms(question)

        def coverage(i: int) -> float:
            # the names in a document's title are the sentence's context ("Did Messi play against FC
            # Cincinnati?" is decided by "Messi ... returned to play" in the article "Inter Miami vs FC Cincinnati")
            title = set(tokenize(str(_doc_meta(cv, cv.sents[i].source, lex).get("title", "") or ""))) & names
            toks = cv.tokens(i) | title
            return sum(w for t, w in terms.items() if any(_same_word(t, u) for u in toks)) / total

        top = [p for p in pool[:YESNO_POOL] if p.score >= YESNO_RATIO * best]
        # The deciding sentence covers the question's terms; one that also takes a side (negation) decides.
        deciding = max(top, key=lambda p: coverage(p.i) + 0.3 * p.score / (best or 1.0)
                       + (0.15 if _NEGATION.search(cv.sents.text(p.i)) else 0.0), default=None)
        if deciding is None:
            return replace(fact, form=fm.YESNO)
        verdict = _verdict(question, cv.sents.text(deciding.i), coverage(deciding.i))
        ids = [deciding.i] + [i for i in cv.cited(fact.citations) if i != deciding.i and not _heading(cv.sents.text(i))][:1]
        lead = {"yes": "Yes.", "no": "No."}.get(verdict or "", "The documents say:")
        return self._compose(question, fm.YESNO, ids, fact, lead=lead, verdict=verdict)

    # -- comparisons -------------------------------------------------------------------------------------
    def compare(self, question: str, fact: Answer, query, pool: list[Pick], cv, k: int) -> Answer:
        """The sentences of each side, grouped under it."""
        lex = self.a.search.lexical
        sites = named_sites(question, lex)
        if len(sites) >= 2:
            sides = [(s, lambda i, s=s: _site_of(cv, i, lex) == s) for s in sites]
        else:
            phrases = side_phrases(question)
            if len(phrases) < 2:
                return replace(fact, form=fm.COMPARE)
            sides = [(p, _mentions(set(tokenize(p)), set().union(*(set(tokenize(o)) for o in phrases if o != p)), cv))
                     for p in phrases]
        groups, used = [], set()
        for label, belongs in sides:
            ids = [p.i for p in pool if belongs(p.i) and p.i not in used][:SIDE_MAX]
            used.update(ids)
            groups.append((label, sorted(ids)))
        if sum(bool(ids) for _, ids in groups) < 2:
            return replace(fact, form=fm.COMPARE)
        return self._compose(question, fm.COMPARE, [i for _, ids in groups for i in ids], fact,
                             groups=[(label, ids) for label, ids in groups if ids])

    # -- summaries ---------------------------------------------------------------------------------------
    def summary(self, question: str, k: int) -> Answer:
        """The central, diverse sentences of the documents the question means, in document order: those
        whose title holds the topic it names, those of the outlets it names, the documents about its topic,
        or, when it names nothing, the whole collection."""
        views = self.a.views()
        cv = views.corpus
        lex = self.a.search.lexical
        sites = named_sites(question, lex)
        named, rest = named_documents(question, cv.sents.sources, lambda d: _doc_meta(cv, d, lex))
        topic = topic_of(rest, sites)
        if named is not None and not named:
            return self.a.abstention(question, [])
        if not topic:
            docs = [s for s in (named or cv.sents.sources) if not sites or _doc_site(cv, s, lex) in sites]
            return self._summarise_documents(question, docs, cv, None)
        if views.vocabulary.absent(topic):
            return self.a.abstention(question, [])
        titled = views.documents.titled(" ".join(tokenize(topic)))
        if titled:  # the documents it names by title are the topic, whole
            return self._summarise_documents(question, titled, cv, None)
        query = self.a.search.embed_query(topic)
        passages = self.a.search.search(query, max(k, POOL))
        if sites:
            passages = [p for p in passages if str(p.meta.get("site", "")) in sites] or passages
        if named:
            passages = [p for p in passages if p.source in named] or passages
        cands = self.a.candidates(topic, passages)
        if not cands or self.a.confidence(cands[0]) < self.a.w.abstain_below \
                or _topic_coverage(topic, cands[:TOPIC_SENTENCES + 2], cv) < TOPIC_COVERAGE:
            return self.a.abstention(question, passages)
        pool = self._pool(cands, cv)
        top = pool[0].score if pool else 1.0
        pool = [p for p in pool if p.score >= SUMMARY_FLOOR * top]
        ids = [p.i for p in pool]
        vecs = _unit_vectors(ids, cv)
        sims = vecs @ vecs.T
        score = np.array([p.score / top for p in pool]) + SUMMARY_CENTRAL * lexrank(sims) * len(ids)
        chosen = [ids[j] for j in mmr(score, sims, SUMMARY_TOPIC_COUNT)]
        fact = self.a.answer(question, passages[:max(k, 5)])
        return self._compose(question, fm.SUMMARY, sorted(chosen), replace(fact, short=None), bullets=True)

    def _summarise_documents(self, question: str, docs: list[str], cv, qvec) -> Answer:
        ids = [i for d in docs for i in cv.sents.document(d) if not _heading(cv.sents.text(i))]
        if not ids:
            return self.a.abstention(question, [])
        chosen = summarise(ids[:MAX_SUMMARY_SENTENCES], cv, qvec, _count(len(ids), len(docs)))
        return self._compose(question, fm.SUMMARY, sorted(chosen), None, bullets=True)

    # -- the answer --------------------------------------------------------------------------------------
    def _compose(self, question: str, form: str, ids: list[int], fact: Answer | None, bullets: bool = False,
                 lead: str = "", verdict: str | None = None, groups=None) -> Answer:
        cv = self.a.views().corpus
        n_of = {i: n for n, i in enumerate(dict.fromkeys(ids), 1)}
        cites = tuple(cv.citation(n, i) for i, n in n_of.items())
        if groups:
            text = "\n".join(f"{label}:\n" + "\n".join(f"{_BULLET}{cites[n_of[i] - 1].quote} [{n_of[i]}]" for i in g)
                             for label, g in groups)
        elif bullets:
            text = "\n".join(f"{_BULLET}{c.quote} [{c.n}]" for c in cites)
        else:
            text = " ".join(f"{c.quote} [{c.n}]" for c in cites)
        if lead:
            text = f"{lead} {text}"
        short = _short_in(fact, cites)
        passages = fact.passages if fact else ()
        return Answer(question, text, cites, False, self.a.name, passages, short=short, form=form, verdict=verdict,
                      groups=tuple(Group(label, tuple(n_of[i] for i in g)) for label, g in groups or ()))


def _unit_vectors(ids: list[int], cv) -> np.ndarray:
    vecs = np.stack([cv.vector(i) for i in ids]).astype(np.float32)
    return vecs / (np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9)


def summarise(ids: list[int], cv, qvec: np.ndarray | None, n: int) -> list[int]:
    """LexRank centrality + lead prior (+ topic similarity) over `ids`, then MMR for `n` diverse ones."""
    vecs = _unit_vectors(ids, cv)
    sims = vecs @ vecs.T
    central = lexrank(sims)
    pos = np.array([cv.sents.pos_of(i) for i in ids], np.float32)
    score = central / (central.max() or 1.0) + SUMMARY_LEAD * np.exp(-pos / LEAD_DECAY)
    if qvec is not None:
        score = score + SUMMARY_TOPIC * (vecs @ (qvec / (np.linalg.norm(qvec) + 1e-9)))
    return [ids[j] for j in mmr(score, sims, n)]


def lexrank(sims: np.ndarray, damping: float = 0.85, threshold: float = 0.1, steps: int = 50) -> np.ndarray:
    """LexRank (Erkan and Radev, 2004), continuous: PageRank over the cosine graph (edges below
    `threshold` dropped)."""
    m = np.where(sims > threshold, sims, 0.0)
    np.fill_diagonal(m, 0.0)
    rows = m.sum(axis=1, keepdims=True)
    m = np.divide(m, rows, out=np.full_like(m, 1.0 / len(m)), where=rows > 0)
    r = np.full(len(m), 1.0 / len(m), np.float32)
    for _ in range(steps):
        nxt = (1 - damping) / len(m) + damping * (m.T @ r)
        if np.abs(nxt - r).sum() < 1e-6:
            return nxt
        r = nxt
    return r


def mmr(score: np.ndarray, sims: np.ndarray, n: int, lam: float = MMR_LAMBDA) -> list[int]:
    """Maximal marginal relevance: `n` indices, each the best trade of `score` against similarity to
    those already taken (near-duplicates never both)."""
    chosen: list[int] = []
    left = set(range(len(score)))
    while left and len(chosen) < n:
        def value(j: int) -> float:
            return lam * score[j] - (1 - lam) * (max(sims[j, c] for c in chosen) if chosen else 0.0)
        j = max(left, key=value)
        left.discard(j)
        if chosen and max(sims[j, c] for c in chosen) > DUPLICATE:
            continue
        chosen.append(j)
    return chosen


def side_phrases(question: str) -> list[str]:
    """The two sides a comparison names: "between X and Y", "X compared with Y", "contrast X with Y",
    "X versus Y", "X and Y each"."""
    q = re.sub(r"[?.!]+\s*$", "", " ".join(question.split()))
    for pattern in (r"between (.+?) and (.+)$", r"^compare (.+?) (?:with|to|and|against) (.+)$", r"contrast (?:the \w+ of )?(.+?) with (.+)$",
                    r"(?:how (?:do|does|did) )?(.+?) (?:compare|compared|comparing) (?:with|to|against) (.+)$",
                    r"(.+?) (?:versus|vs\.?) (.+)$", r"(?:how (?:do|does|did) )?(.+?) and (.+?) (?:differ|each|both)\b"):
        m = re.search(pattern, q, re.I)
        if m:
            sides = [_side(m.group(1)), _side(m.group(2))]
            if all(sides):
                return sides
    return []


def _side(phrase: str) -> str:
    words = [w for w in re.findall(r"[\w'’-]+", phrase)]
    kept = [w for w in words if tokenize(w) and not set(tokenize(w)) <= _DOC_WORDS]
    return " ".join(kept[:4])


def _mentions(mine: set[str], theirs: set[str], cv):
    """Whether a sentence belongs to this side: it names what only this side names (or, when this side's
    words are all in the other's, "deterministic" / "non-deterministic", all of them) and nothing only the
    other side names."""
    own, other = mine - theirs, theirs - mine

    def belongs(i: int) -> bool:
        toks = cv.tokens(i)
        return bool(toks & own if own else mine and mine <= toks) and not (toks & other)
    return belongs


def _site_of(cv, i: int, lex) -> str:
    return str(lex.metas[int(cv.sents.chunk[i])].get("site", ""))


def _doc_site(cv, source: str, lex) -> str:
    ids = cv.sents.document(source)
    return _site_of(cv, ids.start, lex) if len(ids) else ""


def _count(n_sentences: int, n_docs: int) -> int:
    """How many sentences a summary takes: 3 for a short text, more for longer ones and for several
    documents, at most 7."""
    if n_docs > 1:
        return SUMMARY_MAX
    return SUMMARY_MIN + (n_sentences > 40) + (n_sentences > 120)


def named_documents(question: str, sources, meta) -> tuple[list[str] | None, str]:
    """The documents a question names by author ("by Kyle Wiggers") or by day of publication ("on November
    16", "2023-11-16"), and the question without those names; None when it names neither. `meta(source)` is
    a document's metadata (`author`, `published`)."""
    rest, keep = question, None
    days = named_days(question)
    if days:
        keep = {s for s in sources if str(meta(s).get("published", ""))[5:10] in days}
        rest = re.sub(r",?\s*\b(?:19|20)\d\d\b", " ", _WORD_DATE.sub(" ", _ISO_DATE.sub(" ", rest)))
    authors: dict[str, set[str]] = {}
    for s in sources:
        name = str(meta(s).get("author", "") or "").strip()
        # a name as written ("Kyle Wiggers"), or after "by" in any case: an author called "News" is not
        # named by "the news coverage"
        if len(name) >= 4 and (re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", question)
                               or re.search(r"\bby\s+" + re.escape(name) + r"(?!\w)", question, re.I)):
            authors.setdefault(name, set()).add(s)
    if authors:
        by = set().union(*authors.values())
        keep = by if keep is None else keep & by
        for name in authors:
            rest = re.sub(r"(?:\bby\s+)?" + re.escape(name), " ", rest, flags=re.I)
    return (None if keep is None else sorted(keep)), " ".join(rest.split())


def _doc_meta(cv, source: str, lex) -> dict:
    ids = cv.sents.document(source)
    return lex.metas[int(cv.sents.chunk[ids.start])] if len(ids) else {}


def _without_sites(question: str, sites: list[str]) -> str:
    """`question` without the outlets it names ("according to The Verge")."""
    q = question
    for site in sites:
        q = re.sub(r"(?:\bthe\s+)?" + re.escape(re.split(r"\s[-|]\s", site)[0].strip()), " ", q, flags=re.I)
    return q if q == question else " ".join(q.split())


def topic_of(question: str, sites: list[str]) -> str:
    """The words of a summary question that name its topic: without the words about documents and
    summaries, and without the outlets it names."""
    q = _without_sites(question, sites)
    words = re.findall(r"[\w'’-]+", q)
    return " ".join(w for w in words if tokenize(w) and not set(tokenize(w)) <= _DOC_WORDS)


def _topic_coverage(topic: str, cands, cv) -> float:
    """The share of the topic's idf mass that the `TOPIC_SENTENCES`-th best of `cands` holds: a topic the
    documents are about recurs; one named in passing ("the French Revolution" in one sentence) does not."""
    terms = {t: cv.idf.get(t, cv.max_idf) for t in tokenize(topic)}
    total = sum(terms.values()) or 1.0
    # A document's title says what all its sentences are about ("Epic v. Google explained"): its words count
    # for each of them.
    shares = sorted((sum(w for t, w in terms.items() if t in c.evidence.covered or t in _title_terms(c))
                     / total for c in cands), reverse=True)
    return shares[TOPIC_SENTENCES - 1] if len(shares) >= TOPIC_SENTENCES else 0.0


def _name_terms(question: str) -> set[str]:
    """The terms of the capitalised words of `question` after its first word (the names it holds)."""
    words = re.findall(r"[\w'’-]+", question)[1:]
    return {t for w in words if w[:1].isupper() for t in tokenize(w)}


def _title_terms(cand) -> set[str]:
    """The terms of the title of a candidate's document (none when it has no title)."""
    return set(tokenize(str(cand.passage.meta.get("title", "") or "")))


def _heading(text: str) -> bool:
    """A heading or title line rather than a sentence: Markdown `#`, front matter, or a short line without
    closing punctuation."""
    t = text.strip()
    return (t.startswith("#") or len(t) < 25 or t.startswith("---") or ":" in t[:12] and "\n" in t
            or (len(t) < 100 and not re.search(r"[.!?…\"'”’)\]]$", t)))


def _duplicate(i: int, chosen: list[int], cv) -> bool:
    v = cv.vector(i)
    return any(float(v @ cv.vector(j)) / (np.linalg.norm(v) * np.linalg.norm(cv.vector(j)) + 1e-9) > DUPLICATE
               for j in chosen)


def _short_in(fact: Answer | None, cites) -> Short | None:
    """The fact answer's short answer, numbered by the citation of `cites` that holds it (None if none does)."""
    s = fact.short if fact else None
    if s is None:
        return None
    source = next((c.source for c in fact.citations if c.n == s.n), None)
    holder = next((c for c in cites if c.source == source and c.start <= s.start and s.end <= c.end), None)
    return replace(s, n=holder.n) if holder else None


def _paragraph(cv, i: int | None, most: int) -> list[int]:
    """Up to `most` sentences on each side of sentence `i` in its paragraph (blank lines and headings bound it),
    nearest first."""
    if i is None:
        return []
    doc = cv.sents.document_of(i)
    loaded = cv.documents.get(cv.sents[i].source)

    def joined(a: int, b: int) -> bool:  # sentences a < b = a + 1 in one paragraph
        gap = loaded.text[int(cv.sents.end[a]):int(cv.sents.start[b])] if loaded else ""
        return "\n\n" not in gap and not _heading(cv.sents.text(b)) and not _heading(cv.sents.text(a))
    after = []
    for j in range(i + 1, min(doc.stop, i + 1 + most)):
        if not joined(j - 1, j):
            break
        after.append(j)
    before = []
    for j in range(i - 1, max(doc.start, i - most) - 1, -1):
        if not joined(j, j + 1):
            break
        before.append(j)
    return [j for pair in zip(after + [None] * most, before + [None] * most) for j in pair if j is not None]


# A sentence that opens by pointing back ("This reduces ...", "Thus ...", "As a result, ...") goes on with the
# one before it: in an explanation it is the next step or the consequence.
_BACK = re.compile(r"^\W*(?:this|these|that|those|thus|therefore|consequently|hence|as a result|so|by this means|"
                   r"in (?:this|that) way|it|they)\b", re.I)


def _continues(cv, i: int, lead: int | None) -> bool:
    """Whether sentence `i` is the one right after `lead` and opens by pointing back to it."""
    return lead is not None and i == lead + 1 and bool(_BACK.match(cv.sents.text(i)))


def _window(cv, i: int, most: int) -> list[int]:
    """Up to `most` sentences on each side of sentence `i` in its document, not across a heading (a section)."""
    doc = cv.sents.document_of(i)
    out = []
    for step in (1, -1):
        j = i + step
        while doc.start <= j < doc.stop and abs(j - i) <= most and not _heading(cv.sents.text(j)):
            out.append(j)
            j += step
    return out


def _linked(cv, i: int, lead: int) -> bool:
    """Whether `i` and `lead` are adjacent and the later one opens by pointing back to the earlier."""
    a, b = min(i, lead), max(i, lead)
    return b == a + 1 and bool(_BACK.match(cv.sents.text(b)))


def _same_word(a: str, b: str) -> bool:
    """Stems of one word family ("weapon" / "weaponri"): equal, or one begins the other and is 5+ letters."""
    return a == b or (min(len(a), len(b)) >= 5 and (a.startswith(b) or b.startswith(a)))


def _verdict(question: str, sentence: str, coverage: float) -> str | None:
    """"yes" / "no" when the sentence decides the question, else None (a wrong verdict is worse than none).
    It decides when it covers most of the question's terms and states the matter without hedging: a
    negation (or, for a "still" question, a change of state) against a positive question says no; a plain
    statement says yes."""
    if coverage < 0.5 or _HEDGE.search(sentence):
        return None
    q_neg = bool(_NEGATION.search(question))
    s_neg = bool(_NEGATION.search(sentence)) or bool(_STILL.search(question) and _CHANGE.search(sentence))
    if q_neg:
        return None  # "Isn't X ...?" answered by a negation is ambiguous in English
    if s_neg:
        return "no"
    if _UNASSERTED.search(sentence) or _wanted(question, sentence):
        return None  # "persuade the PRC to stop helping Russia" states a wish, not the fact
    return "yes" if coverage >= 0.7 else None


def _wanted(question: str, sentence: str) -> bool:
    """Whether a content word of the question stands in the sentence only as an infinitive ("to stop"), not
    after an implicative verb, which asserts it ("managed to stop", "returned to play")."""
    words = {t for t in tokenize(question) if len(t) >= 4}
    found = [m.group(2) for m in re.finditer(r"(\w+)\s+to\s+([A-Za-z]+)", sentence)
             if not _IMPLICATIVE.fullmatch(m.group(1))]
    return any(_same_word(t, u) for w in found for u in tokenize(w) for t in words)
