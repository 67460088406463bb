"""`qa eval`: index a corpus if needed, answer every question, report the shared metrics."""
from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from index.builds.build import build
from index.embedding.embedders import Embedder
from index.errors import UsageError
from index.ingest.load import load
from index.settings import IndexSettings
from qa.evaluation import metrics as m
from qa.extractive.shortanswer import question_type
from qa.pipeline import build_assistant
from qa.settings import AnswerSettings


@dataclass
class Row:
    """One question's outcome."""

    id: str
    kind: str
    answerable: bool
    rank: int | None = None
    recall4: float = 0.0
    recall10: float = 0.0
    contains: bool = False
    f1: float = 0.0
    abstained: bool = False
    valid: bool = True
    seconds: float = 0.0
    confidence: float = 0.0
    typed: bool = False        # a who/when/where/how-many question (one that should get a short answer)
    short: bool = False        # the answer had a short answer
    short_right: bool = False  # the short answer contains, or is contained in, a gold answer
    short_em: float = 0.0      # SQuAD exact match of the short answer (of the answer text when there is none)
    short_f1: float = 0.0      # SQuAD token F1 of the same
    extra: dict = field(default_factory=dict)


def read_questions(path: Path, limit: int | None = None) -> list[dict]:
    """Questions from a JSONL file."""
    try:
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read questions from {path}: {exc}")
    return rows[:limit] if limit else rows


def evaluate(questions: list[dict], settings: IndexSettings, answer: AnswerSettings | None = None,
             progress: Callable[[int, int], None] | None = None, embedder: Embedder | None = None) -> dict:
    """Index `settings.seeds_dir` if needed, then score every question; returns the report dict."""
    assistant = build_assistant(settings, answer, embedder=embedder)
    build(settings, embedder=assistant.embedder)
    texts: dict[str, str] = {}
    rows = []
    for n, item in enumerate(questions, 1):
        rows.append(_score(assistant, item, settings, texts))
        if progress:
            progress(n, len(questions))
    return summarize(rows)


def _score(assistant, item: dict, settings: IndexSettings, texts: dict) -> Row:
    row = Row(item["id"], item.get("question_type") or ("unanswerable" if item.get("unanswerable") else "answerable"),
              not item.get("unanswerable"))
    started = time.perf_counter()
    ans = assistant.answer(item["question"])
    row.seconds = time.perf_counter() - started
    passages = assistant.retrieve(item["question"], k=10)
    evidence = item.get("evidence") or []
    row.rank = m.first_hit_rank(passages, evidence)
    row.recall4, row.recall10 = m.evidence_recall(passages[:4], evidence), m.evidence_recall(passages, evidence)
    row.contains, row.f1 = m.contains_gold(ans.text, item.get("answers") or []), m.token_f1(ans.text, item.get("answers") or [])
    row.abstained = ans.abstained
    row.valid = all(c.quote == _file_text(settings, c.source, texts)[c.start:c.end] for c in ans.citations)
    _score_short(row, ans, item)
    return row


def _score_short(row: Row, ans, item: dict) -> None:
    """Short-answer EM and F1: of `Answer.short` when there is one, else of the answer text; 0 when abstained."""
    row.typed = question_type(item["question"]) is not None
    row.short = ans.short is not None
    valid_short = ans.short is None or any(c.n == ans.short.n and c.start <= ans.short.start and ans.short.end <= c.end
                                           for c in ans.citations)
    row.valid = row.valid and valid_short
    if ans.abstained:
        return
    predicted = ans.short.text if ans.short else ans.text
    row.short_right = ans.short is not None and m.short_matches(ans.short.text, item.get("answers") or [])
    row.short_em = m.exact_match(predicted, item.get("answers") or [])
    row.short_f1 = m.token_f1(predicted, item.get("answers") or [])


def _file_text(settings: IndexSettings, source: str, cache: dict) -> str:
    if source not in cache:
        cache[source] = load(settings.seeds_dir / source, source).text
    return cache[source]


def summarize(rows: list[Row]) -> dict:
    """Overall and per-kind metrics."""
    groups = defaultdict(list)
    for r in rows:
        groups[r.kind].append(r)
    return {"overall": _metrics(rows), "by_type": {k: _metrics(v) for k, v in sorted(groups.items())}}


def _metrics(rows: list[Row]) -> dict:
    ans = [r for r in rows if r.answerable]
    una = [r for r in rows if not r.answerable]
    abst = [r for r in rows if r.abstained]
    mean = lambda xs: round(statistics.fmean(xs), 4) if xs else None
    lat = [r.seconds * 1000 for r in rows]
    return {
        "questions": len(rows), "answerable": len(ans), "unanswerable": len(una),
        "hits@1": mean([r.rank == 1 for r in ans]), "hits@4": mean([bool(r.rank and r.rank <= 4) for r in ans]),
        "hits@10": mean([r.rank is not None for r in ans]), "mrr@10": mean([1 / r.rank if r.rank else 0 for r in ans]),
        "evidence_recall@4": mean([r.recall4 for r in ans]), "evidence_recall@10": mean([r.recall10 for r in ans]),
        "answer_contains_gold": mean([r.contains for r in ans]), "token_f1": mean([r.f1 for r in ans]),
        "abstention_precision": mean([not r.answerable for r in abst]), "abstention_recall": mean([r.abstained for r in una]),
        "wrongly_abstained": mean([r.abstained for r in ans]), "citation_validity": mean([r.valid for r in rows]),
        "short_exact_match": mean([r.short_em for r in ans]), "short_f1": mean([r.short_f1 for r in ans]),
        "short_f1_typed": mean([r.short_f1 for r in ans if r.typed]),
        "short_given_typed": mean([r.short for r in ans if r.typed and not r.abstained]),
        # precision: of the short answers given (to answerable questions), the share that match a gold answer;
        # coverage: the share of answerable questions given a short answer at all
        "short_precision": mean([r.short_right for r in ans if r.short and not r.abstained]),
        "short_given": sum(r.short and not r.abstained for r in ans),
        "short_coverage": mean([r.short and not r.abstained for r in ans]),
        "latency_p50_ms": round(m.percentile(lat, 50), 1), "latency_p95_ms": round(m.percentile(lat, 95), 1),
    }


# --- conversations -------------------------------------------------------------------------------------

@dataclass
class TurnRow:
    """One conversation turn's outcome."""

    id: str
    kind: str
    right: bool
    abstained: bool
    valid: bool
    seconds: float
    short: bool = False        # a short answer was given (on an answerable turn)
    short_right: bool = False  # ... and it contains, or is contained in, a gold answer


def is_conversation(rows: list[dict]) -> bool:
    """Whether question rows are conversations (`{"id", "corpus", "turns": [...]}`)."""
    return bool(rows) and all(isinstance(r.get("turns"), list) for r in rows)


def evaluate_conversations(conversations: list[dict], settings_for: Callable[[str], IndexSettings],
                           answer: AnswerSettings | None = None, progress: Callable[[int, int], None] | None = None,
                           embedder: Embedder | None = None) -> dict:
    """Ask every conversation's turns in order, each with the real history (the earlier questions and the
    assistant's own earlier answers), over the corpus it names (`settings_for(corpus)` says where that
    corpus and its index are; each is indexed if needed). Returns turns right overall and per kind."""
    assistants: dict[str, object] = {}
    rows: list[TurnRow] = []
    total = sum(len(c["turns"]) for c in conversations)
    for conv in conversations:
        assistant = assistant_for(conv.get("corpus", ""), assistants, settings_for, answer, embedder)
        rows += _converse(assistant, conv, {}, lambda: progress(len(rows), total) if progress else None)
    if progress:
        progress(total, total)
    return summarize_turns(rows)


def assistant_for(corpus: str, assistants: dict, settings_for: Callable[[str], IndexSettings],
                  answer: AnswerSettings | None, embedder: Embedder | None = None):
    """The assistant over `corpus`, made (and its index built) the first time it is asked for and kept in
    `assistants`; every corpus shares the first one's embedder."""
    if corpus not in assistants:
        settings = settings_for(corpus)
        shared = embedder or next((a.embedder for a in assistants.values()), None)
        assistants[corpus] = build_assistant(settings, answer, embedder=shared)
        build(settings, embedder=assistants[corpus].embedder)
    return assistants[corpus]


def by_kind(rows: list, kinds: tuple | list) -> dict[str, list]:
    """`rows` grouped by their `kind`, the known `kinds` first in their order, then the others by name."""
    groups = defaultdict(list)
    for r in rows:
        groups[r.kind].append(r)
    order = sorted(groups, key=lambda k: (kinds.index(k) if k in kinds else len(kinds), k))
    return {k: groups[k] for k in order}


def _converse(assistant, conv: dict, texts: dict, tick: Callable[[], None]) -> list[TurnRow]:
    history: list[dict] = []
    out = []
    for n, turn in enumerate(conv["turns"], 1):
        started = time.perf_counter()
        ans = assistant.answer(turn["question"], history=history)
        seconds = time.perf_counter() - started
        settings = assistant.index_settings
        valid = all(c.quote == _file_text(settings, c.source, texts)[c.start:c.end] for c in ans.citations)
        answerable = turn.get("kind") != "off-topic" and not turn.get("unanswerable")
        short = answerable and ans.short is not None and not ans.abstained
        out.append(TurnRow(f"{conv['id']}.{n}", turn.get("kind", "turn"), turn_right(turn, ans), ans.abstained, valid,
                           seconds, short, short and m.short_matches(ans.short.text, turn.get("answers") or [])))
        history += [{"role": "user", "content": turn["question"]}, {"role": "assistant", "content": ans.text}]
        tick()
    return out


def turn_right(turn: dict, ans) -> bool:
    """Right: an off-topic (or unanswerable) turn abstains; any other turn's answer contains a gold
    answer and one of its citations overlaps a gold evidence span."""
    if turn.get("kind") == "off-topic" or turn.get("unanswerable"):
        return ans.abstained
    hit = any(m.is_hit(c, e) for c in ans.citations for e in turn.get("evidence") or [])
    return not ans.abstained and hit and m.contains_gold(ans.text, turn.get("answers") or [])


def summarize_turns(rows: list[TurnRow]) -> dict:
    """Turns right overall and per kind, with latency."""
    groups = defaultdict(list)
    for r in rows:
        groups[r.kind].append(r)
    order = sorted(groups, key=lambda k: (KINDS.index(k) if k in KINDS else len(KINDS), k))
    return {"overall": _turn_metrics(rows), "by_type": {k: _turn_metrics(groups[k]) for k in order}}


KINDS = ["first", "pronoun", "ellipsis", "topic-shift", "metadata", "off-topic"]


def _turn_metrics(rows: list[TurnRow]) -> dict:
    lat = [r.seconds * 1000 for r in rows]
    right = sum(r.right for r in rows)
    return {"turns": len(rows), "right": right, "turns_right": round(right / len(rows), 4) if rows else None,
            "abstained": sum(r.abstained for r in rows),
            "short_given": sum(r.short for r in rows),
            "short_precision": round(sum(r.short_right for r in rows) / max(1, sum(r.short for r in rows)), 4)
            if any(r.short for r in rows) else None,
            "citation_validity": round(statistics.fmean(r.valid for r in rows), 4) if rows else None,
            "latency_p50_ms": round(m.percentile(lat, 50), 1), "latency_p95_ms": round(m.percentile(lat, 95), 1)}


# --- real documents (realdocs-dev) ----------------------------------------------------------------------

REAL_KINDS = ["number", "what-is", "how-to", "fact", "off-topic"]


@dataclass
class RealRow:
    """One real-documents question's outcome."""

    id: str
    kind: str
    right: bool
    file_cited: bool
    abstained: bool
    valid: bool
    seconds: float
    answer: str = ""


def is_real_documents(rows: list[dict]) -> bool:
    """Whether question rows are real-documents questions (a gold `source` file, no evidence spans)."""
    return bool(rows) and all("evidence" not in r and r.get("kind") in REAL_KINDS for r in rows)


def evaluate_real_documents(questions: list[dict], settings: IndexSettings, answer: AnswerSettings | None = None,
                            progress: Callable[[int, int], None] | None = None,
                            embedder: Embedder | None = None) -> dict:
    """Index `settings.seeds_dir` if needed, ask every question, report right and "gold file cited" per kind
    (the realdocs-dev scoring, see qa/evalsets/README.md)."""
    assistant = build_assistant(settings, answer, embedder=embedder)
    build(settings, embedder=assistant.embedder)
    texts: dict[str, str] = {}
    rows = []
    for n, item in enumerate(questions, 1):
        started = time.perf_counter()
        ans = assistant.answer(item["question"])
        seconds = time.perf_counter() - started
        valid = all(c.quote == _file_text(settings, c.source, texts)[c.start:c.end] for c in ans.citations)
        cited = gold_file_cited(item, ans.citations)
        rows.append(RealRow(item["id"], item.get("kind", "fact"), real_right(item, ans), cited, ans.abstained,
                            valid, seconds, ans.text))
        if progress:
            progress(n, len(questions))
    return summarize_real(rows)


def _fold(text: str) -> str:
    return " ".join(m.strip_markers(text).lower().split())


def gold_file_cited(item: dict, citations) -> bool:
    """A citation is from the gold file (and, for a PDF with `pages`, on one of those 1-based pages)."""
    pages = item.get("pages")
    return any(c.source == item.get("source") and (not pages or c.page in pages) for c in citations)


def real_right(item: dict, ans) -> bool:
    """Right: an off-topic question abstains; any other answer does not abstain, its text (or short answer)
    contains a gold phrase (case and whitespace folded) and cites the gold file (page)."""
    if item.get("unanswerable") or item.get("kind") == "off-topic":
        return ans.abstained
    said = _fold(ans.text) + " \n " + (_fold(ans.short.text) if ans.short else "")
    return (not ans.abstained and any(_fold(g) and _fold(g) in said for g in item.get("answers") or [])
            and gold_file_cited(item, ans.citations))


def summarize_real(rows: list[RealRow]) -> dict:
    """Right and gold-file-cited overall and per kind, with the answers given (`answers`, by id)."""
    groups = by_kind(rows, REAL_KINDS)
    return {"overall": _real_metrics(rows), "by_type": {k: _real_metrics(v) for k, v in groups.items()},
            "answers": {r.id: {"right": r.right, "file_cited": r.file_cited, "text": r.answer} for r in rows}}


def _real_metrics(rows: list[RealRow]) -> dict:
    lat = [r.seconds * 1000 for r in rows]
    share = lambda xs: round(statistics.fmean(xs), 4) if xs else None
    answerable = [r for r in rows if r.kind != "off-topic"]
    return {"questions": len(rows), "right": sum(r.right for r in rows), "share_right": share([r.right for r in rows]),
            "gold_file_cited": share([r.file_cited for r in answerable]), "abstained": sum(r.abstained for r in rows),
            "citation_validity": share([r.valid for r in rows]),
            "latency_p50_ms": round(m.percentile(lat, 50), 1), "latency_p95_ms": round(m.percentile(lat, 95), 1)}
