"""A conversation with the extractive answerer: each turn is classified and answered in view of the earlier
turns (the user's questions and the assistant's own answers, as the history gives them).

* A question about the documents themselves (title, date, who reported it, dateline, which documents)
  is answered from the files (`qa.extractive.metadata`) for the documents the conversation is about.
* A question naming something the documents never mention abstains (`qa.knowledge.vocabulary`).
* A self-contained question (no reference cue, not a fragment) gets exactly the single-question
  answer. There is one exception, when its own evidence ties: then a sentence that covers the question
  as well and is supported by the history wins ("Who followed?").
* A reference follow-up ("When did he say that?") or an elliptical one ("And in 1911?", "What about
  Warsaw?") is read against the hypotheses the history offers (`qa.conversation.readings`). It is searched with the
  bare question and each resolved form, and the evidence picks the sentence (`qa.conversation.followup`).

Earlier turns are replayed from the history text alone. The quotes of an earlier answer are located
in the documents, so no other state is kept between calls. Replays are memoised.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from index.ingest.sentences import is_headline
from qa.conversation import readings as rd
from qa.conversation.followup import Pool, Scored, Weights, chosen, coverage, score_pool
from qa.conversation.readings import FUNCTION_STEMS, Reading, Resolution
from qa.conversation.turns import ELLIPSIS, FIRST, METADATA, OFF_TOPIC, PRONOUN, SELF, expand_contractions, is_fragment
from qa.extractive import abstain, metadata, quotes
from qa.extractive.shortanswer import DATE, NUMBER, PERSON, PLACE, answer_type, short_answer, short_of
from qa.history import History, messages
from qa.knowledge.mentions import WH, WORD, list_items
from qa.retrieval.hybrid import Query
from qa.retrieval.sources import aliases, named_sites, without_days
from qa.types import Answer
from qa.wording import NOT_FOUND, which_document

if TYPE_CHECKING:
    from qa.extractive.answerer import ExtractiveAnswerer, Single
    from qa.extractive.views import Views

MAX_WORDS_OFF_TOPIC = 20   # the absent-name check is for short questions (long ones compare many documents)
POOL_K = 8                 # passages searched per resolved form of a follow-up
AROUND = 3                 # sentences either side of the previous answer joining the candidates
TIE_CONFIDENCE = 0.6       # a self-contained question this sure of its own answer is never re-read
TIE_COVERAGE = 0.5         # ... nor one whose answer covers less than this of its terms
MEMO = 256                 # replayed conversations kept
_WHAT_ABOUT = re.compile(r"^\s*(and\s+)?(what|how)\s+about\b", re.I)
_BONUS_KIND = {"date": "when", "number": "number", "person": "who", "place": "where"}


@dataclass(frozen=True)
class Turn:
    """A turn's answer and how it was read."""

    answer: Answer
    reading: Reading


Turns = tuple[tuple[str, str], ...]


def turns_of(history: History | None) -> Turns:
    """(question, the assistant's answer) pairs, oldest first; an unanswered question gets ""."""
    out, question = [], None
    for m in messages(history):
        if m.role == "user":
            if question is not None:
                out.append((question, ""))
            question = m.text
        elif m.role == "assistant" and question is not None:
            out.append((question, m.text))
            question = None
    if question is not None:
        out.append((question, ""))
    return tuple(out)


class Resolver:
    """Answers turns of a conversation for an `ExtractiveAnswerer`."""

    def __init__(self, answerer: "ExtractiveAnswerer", weights: Weights = Weights()):
        self.a, self.w = answerer, weights
        self._memo: OrderedDict = OrderedDict()
        self._lock = threading.Lock()  # the chat answers several users at once

    def answer(self, question: str, history: History | None, k: int) -> Answer:
        """The answer to `question` after `history`."""
        return self.turn(question, turns_of(history), k).answer

    def resolved(self, question: str, history: History | None, k: int) -> str:
        """The question as understood in the conversation (for retrieval)."""
        return self.turn(question, turns_of(history), k).reading.text or question

    def turn(self, question: str, turns: Turns, k: int) -> Turn:
        """Answer `question` after `turns`, and remember how it was read for the next turn."""
        views = self.a.views()
        prev = self._replay(turns, k, views)
        result = self._turn(question, prev, k, views, bool(turns))
        # Quotes are widened last, once the sentences are chosen, checked and the short answer found in them
        result = replace(result, answer=quotes.whole(result.answer))
        if turns:
            self._remember((views.version, turns + ((question, result.answer.text),), k),
                           self._after(result.reading, prev, result.answer.text, views))
        return result

    # -- replaying the history ---------------------------------------------------------------------
    def _replay(self, turns: Turns, k: int, views: "Views") -> Reading | None:
        """How the last earlier turn was read (recomputed from the history, memoised).

        A loop, not a recursion, so that no length of history can exhaust the stack: from the longest
        memoised beginning of the conversation (usually all but the last turn), each later turn in order."""
        reading, done = None, 0
        with self._lock:
            for n in range(len(turns), 0, -1):
                found = self._memo.get((views.version, turns[:n], k))
                if found is not None:
                    self._memo.move_to_end((views.version, turns[:n], k))
                    reading, done = found, n
                    break
        for n in range(done, len(turns)):
            question, answer = turns[n]
            reading = self._after(self._turn(question, reading, k, views, True).reading, reading, answer, views)
            self._remember((views.version, turns[:n + 1], k), reading)
        return reading

    def _remember(self, key, reading: Reading) -> None:
        with self._lock:
            self._memo[key] = reading
            while len(self._memo) > MEMO:
                self._memo.popitem(last=False)

    def _after(self, r: Reading, before: Reading | None, answer: str, views: "Views") -> Reading:
        """The reading `r` of a turn completed with what its answer (from the history) quoted. A turn
        about the documents or about something else is transparent: the thread continues from before."""
        if before is not None and r.kind in (OFF_TOPIC, METADATA):
            return before
        corpus = views.corpus
        located = tuple(corpus.locate(answer)) if answer and not answer.startswith(NOT_FOUND) else ()
        cited = located if r.kind != METADATA else ()
        entities = r.entities
        if cited:
            entities = tuple(dict.fromkeys(corpus.mentions(rd.strip_markers(answer)) + list(entities)))[:12]
        quoted = dict(before.quoted_for) if before else {}
        for i in cited:
            quoted.setdefault(i, frozenset(r.asked))
        docs = tuple(dict.fromkeys(corpus.sents[i].source for i in cited)) or r.docs or (before.docs if before else ())
        items = tuple(list_items(rd.strip_markers(answer)) if cited else ()) or (before.items if before else ())
        phrase = short_answer(r.frame or r.question, corpus.sents[cited[0]].text, r.qtype) if cited and r.qtype else None
        short = corpus.sents[cited[0]].text[phrase.start:phrase.end] if phrase else ""
        return replace(r, answer=answer, cited=cited, entities=entities, quoted_for=quoted, docs=docs, items=items,
                       short=short)

    # -- one turn ----------------------------------------------------------------------------------
    def _turn(self, question: str, prev: Reading | None, k: int, views: "Views", conversing: bool) -> Turn:
        # an outlet the question names ("the TechCrunch piece") says which document, not what it is about
        sites = named_sites(question, views.lex)
        name = metadata.slot(expand_contractions(_without(question, sites)))
        if name:
            return self._metadata(question, name, prev, k, views, sites=sites)
        titled = _named_document(_without(question, sites), views)
        if titled:
            return self._metadata(question, metadata.slot_word(question), prev, k, views, titled[:1])
        # ... and so do the days it names: neither need be in the documents' text
        if len(question.split()) <= MAX_WORDS_OFF_TOPIC and views.vocabulary.absent(without_days(_without(question, sites))):
            related = self.a.single(question, k).answer.passages
            return Turn(self.a.abstention(question, list(related)), Reading(question, OFF_TOPIC))
        res = rd.resolve(question, prev, views.corpus, self.a.embed) if prev is not None else None
        if res is not None and (res.cues.any or is_fragment(question)):
            turn = self._follow_up(res, prev, k, views)
            kind = PRONOUN if res.cues.pronouns and not is_fragment(question) else ELLIPSIS
            return Turn(replace(turn.answer, question=question), replace(turn.reading, question=question, kind=kind))
        single = self.a.single(question, k)
        if res is None:
            return Turn(single.answer, self._plain(question, FIRST, views) if conversing else Reading(question, FIRST))
        return self._self_contained(question, res, prev, single, k, views)

    def _plain(self, question: str, kind: str, views: "Views") -> Reading:
        corpus = views.corpus
        return Reading(question, kind, corpus.weights(question, FUNCTION_STEMS), qtype=answer_type(question),
                       text=question, frame=question, entities=tuple(corpus.mentions(question)))

    def _self_contained(self, question: str, res: Resolution, prev: Reading, single: "Single", k: int,
                        views: "Views") -> Turn:
        """The single-question answer, unless its own evidence ties and the history breaks the tie."""
        plain = Turn(single.answer, self._plain(question, SELF, views))
        corpus = views.corpus
        ids = corpus.cited(single.answer.citations)
        own = max((coverage(res.focus, corpus.tokens(i)) for i in ids), default=0.0)
        if single.answer.abstained or single.confidence >= TIE_CONFIDENCE or own < TIE_COVERAGE:
            return plain
        follow = self._follow_up(res, prev, k, views)
        best = follow.best
        if best is None or best.i in ids or best.fcov + 1e-6 < own or not (best.ccov > 0 or best.near > 0):
            return plain
        return Turn(replace(follow.answer, question=question),
                    replace(follow.reading, question=question, kind=ELLIPSIS, note="tie broken by the history"))

    # -- follow-ups --------------------------------------------------------------------------------
    def _follow_up(self, res: Resolution, prev: Reading, k: int, views: "Views") -> "FollowUp":
        """Score the candidate sentences under every hypothesis and answer with the best."""
        corpus, question = views.corpus, res.question
        texts = _search_texts(res, prev)
        vectors = self.a.embed(texts)
        ids, passages = self._candidates(texts, vectors, prev, corpus)
        ids = _within_answered(question, ids, prev, corpus)
        # a fragment without a type of its own asks for what the previous question asked for ("And Blinken?")
        qtype = answer_type(question) or (prev.qtype if _bare_fragment(question) else None)
        bonus_type = qtype or (prev.qtype if not res.cues.has_wh or res.cues.continuation else None)
        bonus = {i: _type_bonus(question, corpus.sents[i].text, bonus_type) for i in ids}
        frames = sum(1 for h in res.hypotheses if h.inherit)  # their texts end the list
        wanted = [0, 1, *range(len(texts) - frames, len(texts))]  # bare, question + topic, the frames
        typed = frozenset(i for i in ids if i in prev.quoted_for and qtype and qtype != prev.qtype
                          and short_answer(question, corpus.sents[i].text, qtype))
        pool = Pool(res.focus, res.hypotheses, tuple(vectors[n] for n in wanted), bonus, prev.cited,
                    prev.quoted_for, typed)
        scored = score_pool(ids, pool, corpus, self.w)
        return self._answer_follow_up(res, prev, scored, passages, qtype, views)

    def _candidates(self, texts: list[str], vectors, prev: Reading, corpus) -> tuple[list[int], list]:
        """The sentences of the passages each text retrieves, and those around the previous answer."""
        passages, ids = {}, {}
        for text, vec in zip(texts, vectors):
            found = self.a.search.search(Query(text, vec), POOL_K)
            passages.update((p.id, p) for p in found if p.id not in passages)
            ids.update((i, None) for i in corpus.ids(found))
        for i in prev.cited:
            ids.update((j, None) for j in corpus.neighbours(i, AROUND))
        return list(ids), list(passages.values())

    def _answer_follow_up(self, res: Resolution, prev: Reading, scored: list[Scored], passages: list, qtype,
                          views: "Views") -> "FollowUp":
        corpus, question = views.corpus, res.question
        if not scored:
            return FollowUp(self.a.abstention(question, passages), Reading(question, ELLIPSIS, res.focus), None)
        best = scored[0]
        hyp = best.hyp
        reading = _reading(res, prev, hyp, qtype, corpus)
        if self._weak(res, best, hyp, corpus):
            return FollowUp(self.a.abstention(question, passages), reading, best)
        ids = _with_body(chosen(scored, res.focus, corpus, self.w), scored, corpus)
        cites = tuple(corpus.citation(n, i, next(x.score for x in scored if x.i == i)) for n, i in enumerate(ids, 1))
        asked = reading.frame if hyp and hyp.inherit and hyp.label != "wh-frame" else question
        about = abstain.front_matter(corpus.lex.metas[corpus.sents[i].chunk] for i in ids)
        # a type the fragment takes over from the previous question is a guess, not what was asked
        # ("How many have sued?" then "And the background checks?"): no abstaining for want of it
        own = answer_type(question)
        if abstain.reasons(asked, [c.quote for c in cites], own if own in (DATE, NUMBER) else None,
                           abstain.context(passages), about):
            return FollowUp(self.a.abstention(question, passages), reading, best)
        text = " ".join(f"{c.quote} [{c.n}]" for c in cites)
        # the short answer is looked for near what the question is about: its own words and what its
        # reference stands for ("When did he say that?" -> near "Gen. Chris Cavoli")
        about = reading.frame if hyp and hyp.inherit else question if hyp is None or hyp.label == "answer" \
            else reading.text
        short = short_of(f"{about} {prev.short}", cites, qtype)  # the previous short answer is no new answer
        answer = Answer(question, text, cites, False, self.a.name, tuple(passages), short=short)
        return FollowUp(answer, reading, best)

    def _weak(self, res: Resolution, best: Scored, hyp, corpus) -> bool:
        """Too little evidence: the confidence floor; or a full question whose own words are mostly
        unknown to the documents and absent from the chosen sentence ("Is it going to rain in Milan
        this weekend?": "it" and "this" are no references, the history cannot make it answerable),
        unless that sentence is an earlier answer holding the newly asked kind of phrase ("When did he
        say that?")."""
        inherit, context = (hyp.inherit, hyp.context) if hyp else ({}, {})
        terms = {**{t: x * 0.5 for t, x in context.items()}, **inherit, **res.focus}
        confidence = 0.5 * (max(best.fcov, coverage(terms, corpus.tokens(best.i))) + best.sim)
        if confidence < self.a.w.abstain_below:
            return True
        unknown = sum(x for t, x in res.focus.items() if t not in corpus.idf) / (sum(res.focus.values()) or 1.0)
        return not is_fragment(res.question) and best.fcov == 0 and unknown >= 0.5 and not inherit and not best.typed

    # -- questions about the documents ------------------------------------------------------------
    def _metadata(self, question: str, name: str, prev: Reading | None, k: int, views: "Views",
                  wanted: list[str] | None = None, sites: list[str] = ()) -> Turn:
        """Answer from `wanted` documents, else those the conversation is about (or the only one, or the
        one the question's other words find); of these, the ones from the outlets it names (`sites`)."""
        sources = views.documents.sources()
        wanted = wanted or (list(prev.docs) if prev else [])
        if sites and wanted:
            wanted = [s for s in wanted if _site_of(s, views) in sites] or \
                self._site_documents(question, sites, views, prev.text if prev else "")
        if name == "documents":
            wanted = sources
        elif not wanted:
            wanted = sources if len(sources) == 1 else self._document_named(question, views)
        docs = [d for d in (views.documents.get(s) for s in wanted[:metadata.MAX_DOCS]) if d]
        reading = Reading(question, METADATA, docs=tuple(d.source for d in docs) if name != "documents" else (),
                          note=name)
        if not docs:
            titles = [views.lex.metas[int(views.lex.rows_by("source")[s][0])].get("title") or s for s in sources]
            return Turn(self.a.abstention(question, [], which_document(titles)), reading)
        answer = metadata.answer(question, name, docs, self.a.name, total=len(wanted))
        passages = {p.id: p for c in answer.citations for p in views.documents.passages(c.source, c.start, c.end)}
        return Turn(replace(answer, passages=tuple(passages.values())), reading)

    def _site_documents(self, question: str, sites: list[str], views: "Views", topic: str = "") -> list[str]:
        """The document of a named outlet that the question's other words, with what the conversation is
        about (`topic`, the last resolved question), find first: "that Sporting News live blog" in a
        conversation about a World Series game is that outlet's blog of the game."""
        content = f"{metadata.content_words(_without(question, sites))} {topic}".strip()
        if not content:
            return []
        found = self.a.search.search(self.a.search.embed_query(content), 20)
        return [p.source for p in found if p.meta.get("site") in sites][:1]

    def _document_named(self, question: str, views: "Views") -> list[str]:
        """The document the question's content words retrieve first, if they say anything."""
        content = metadata.content_words(question)
        if not any(t in views.known for t in content.split()):
            return []
        found = self.a.search.search(self.a.search.embed_query(content), 1)
        return [found[0].source] if found else []


@dataclass(frozen=True)
class FollowUp:
    """A follow-up's answer, its reading and the winning sentence's score."""

    answer: Answer
    reading: Reading
    best: Scored | None


def _type_bonus(question: str, text: str, qtype: str | None) -> float:
    """1 when `text` holds a phrase of the asked type (a date for "when", ...), else 0."""
    return 1.0 if qtype in (DATE, NUMBER, PERSON, PLACE) and short_answer(question, text, qtype) else 0.0


def _named_document(question: str, views: "Views") -> list[str]:
    """For a question naming a metadata slot about something ("When was the Steam Deck OLED review
    published?"): the documents whose title that something is."""
    name = metadata.slot_word(question)
    return views.documents.titled(metadata.content_words(question)) if name and name != "documents" else []


def _without(question: str, sites: list[str]) -> str:
    """`question` without the outlet names it uses ("the TechCrunch piece" -> "the piece")."""
    for site in sites:
        for alias in aliases(site):
            question = re.sub(r"(?<!\w)" + re.escape(alias) + r"(?:['’]s)?(?!\w)", " ", question, flags=re.I)
    return re.sub(r"\s+", " ", question).strip()


def _site_of(source: str, views: "Views") -> str:
    rows = views.lex.rows_by("source").get(source)
    return str(views.lex.metas[int(rows[0])].get("site") or "") if rows is not None and len(rows) else ""


def _bare_fragment(question: str) -> bool:
    """A fragment with no question word of its own ("And Blinken?", "What about Warsaw?")."""
    core = _WHAT_ABOUT.sub("", question)
    return is_fragment(question) and not (set(WORD.findall(core.lower())) & WH)


def _with_body(ids: list[int], scored: list[Scored], corpus) -> list[int]:
    """A headline chosen alone is quoted beside the best-scored sentence of its article, as in a single
    answer (a title is context, never the answer alone)."""
    if not all(is_headline(corpus.sents[i].text) for i in ids):
        return ids
    source = corpus.sents[ids[0]].source
    body = next((x.i for x in scored if corpus.sents[x.i].source == source and not is_headline(corpus.sents[x.i].text)),
                None)
    return ids if body is None else sorted([*ids, body], key=lambda i: corpus.sents[i].start)


def _within_answered(question: str, ids: list[int], prev: Reading, corpus) -> list[int]:
    """A fragment naming nothing new ("Why now?", "On what date?", "led by whom?") asks about what the
    previous answer told: its answer is in that answer's documents, if they hold a candidate at all. A
    fragment bringing a name or a year of its own ("And Blinken?", "And in 1911?") may go elsewhere."""
    if not prev.cited or not is_fragment(question) or corpus.mentions(question) or rd.has_year(question):
        return ids
    answered = {corpus.sents[i].source for i in prev.cited}
    return [i for i in ids if corpus.sents[i].source in answered] or ids


def _search_texts(res: Resolution, prev: Reading) -> list[str]:
    """The bare question, question + previous topic, question + previous answer, each substitution frame."""
    question = res.question
    answer = rd.strip_markers(prev.answer)
    texts = [question, f"{question} {prev.text}"] + ([f"{question} {answer}"] if answer else [])
    return texts + [h.text for h in res.hypotheses if h.inherit]


def _reading(res: Resolution, prev: Reading, hyp, qtype, corpus) -> Reading:
    question = res.question
    frame = hyp.text if hyp and hyp.inherit else question
    text = frame if hyp and hyp.inherit else (f"{question} {hyp.text[len(question):].strip()}" if hyp else question)
    entity = [hyp.label[7:]] if hyp and hyp.label.startswith("entity:") else []
    entities = tuple(dict.fromkeys(corpus.mentions(question) + entity + list(prev.entities)))[:12]
    return Reading(question, ELLIPSIS, res.focus, hyp.context if hyp else {}, hyp.inherit if hyp else {}, qtype,
                   text.strip(), frame, entities=entities, note=f"hypothesis {hyp.label if hyp else 'none'}")
