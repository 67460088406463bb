"""`qa eval nonfactoid-dev`: questions answered by several sentences (summaries, lists, why, how, yes/no,
comparisons), scored as shared/README.md defines it: right, key recall and citation precision per kind, and
for yes/no the verdicts given and right."""
from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass
from typing import Callable

from index.embedding.embedders import Embedder
from index.settings import IndexSettings
from qa.evaluation import metrics as m
from qa.evaluation.runner import _file_text, assistant_for, by_kind
from qa.settings import AnswerSettings

KINDS = ["summary", "list", "why", "how", "yesno", "compare", "off-topic"]
_LABEL = re.compile(r"^\s*(?:Answer\s*:\s*)?", re.I)
_FIRST_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class FormRow:
    """One question's outcome."""

    id: str
    kind: str
    right: bool
    abstained: bool
    key_recall: float
    precision: float | None   # None when the answer cites nothing
    verdict: str | None       # "yes" / "no" when the answer's first word gives one
    gold_verdict: str | None
    valid: bool
    seconds: float


def is_nonfactoid(rows: list[dict]) -> bool:
    """Whether question rows are of the non-factoid format (each with a `kind`, `key` spans and a `corpus`)."""
    return bool(rows) and all("key" in r and "kind" in r and "corpus" in r for r in rows)


def verdict_of(text: str) -> str | None:
    """"yes" or "no" when the answer's first word (after an `Answer:` label) is Yes or No, else None."""
    word = _FIRST_WORD.search(_LABEL.sub("", text or "", count=1))
    first = word.group(0).lower() if word and word.start() == 0 else None
    return first if first in ("yes", "no") else None


def score(item: dict, ans, valid: bool = True, seconds: float = 0.0) -> FormRow:
    """Score one answer against its row (shared/README.md, eval/nonfactoid-dev)."""
    keys = item.get("key") or []
    cites = list(ans.citations)
    hit_keys = {j for j, k in enumerate(keys) for c in cites if m.is_hit(c, k)}
    on_key = [c for c in cites if any(m.is_hit(c, k) for k in keys)]
    precision = len(on_key) / len(cites) if cites else None
    if item.get("unanswerable") or item.get("kind") == "off-topic":
        right = ans.abstained
    else:
        sides = item.get("sides")
        enough = (all(hit_keys & set(side) for side in sides) if sides and item.get("kind") == "compare"
                  else len(hit_keys) >= int(item.get("need") or 1))
        right = not ans.abstained and enough and bool(cites) and len(on_key) * 2 >= len(cites)
    return FormRow(item["id"], item.get("kind", "?"), right, ans.abstained,
                   len(hit_keys) / len(keys) if keys else 0.0, precision,
                   None if ans.abstained else verdict_of(ans.text), item.get("verdict"), valid, seconds)


def evaluate_forms(rows: list[dict], settings_for: Callable[[str], IndexSettings],
                   answer: AnswerSettings | None = None, progress: Callable[[int, int], None] | None = None,
                   embedder: Embedder | None = None) -> dict:
    """Ask every question over the corpus it names (`settings_for(corpus)`; each indexed if needed) and
    report right, key recall, citation precision and verdicts per kind."""

    assistants: dict[str, object] = {}
    out: list[FormRow] = []
    texts: dict = {}
    for n, item in enumerate(rows, 1):
        corpus = item.get("corpus", "")
        assistant = assistant_for(corpus, assistants, settings_for, answer, embedder)
        started = time.perf_counter()
        ans = assistant.answer(item["question"])
        seconds = time.perf_counter() - started
        cache = texts.setdefault(corpus, {})
        valid = all(c.quote == _file_text(assistant.index_settings, c.source, cache)[c.start:c.end]
                    for c in ans.citations)
        out.append(score(item, ans, valid, seconds))
        if progress:
            progress(n, len(rows))
    return summarize_forms(out)


def summarize_forms(rows: list[FormRow]) -> dict:
    """Right, key recall, citation precision (and verdicts) overall and per kind."""
    groups = by_kind(rows, KINDS)
    return {"overall": _metrics(rows), "by_type": {k: _metrics(v) for k, v in groups.items()},
            "rows": {r.id: r.right for r in rows}}


def _metrics(rows: list[FormRow]) -> dict:
    mean = lambda xs: round(statistics.fmean(xs), 4) if xs else None
    answerable = [r for r in rows if r.kind != "off-topic"]
    judged = [r for r in rows if r.gold_verdict]
    lat = [r.seconds * 1000 for r in rows]
    right = sum(r.right for r in rows)
    return {"questions": len(rows), "right": right, "right_share": round(right / len(rows), 4) if rows else None,
            "key_recall": mean([r.key_recall for r in answerable]),
            "citation_precision": mean([r.precision for r in answerable if r.precision is not None]),
            "abstained": sum(r.abstained for r in rows),
            "verdicts_asked": len(judged), "verdicts_given": sum(r.verdict is not None for r in judged),
            "verdicts_right": sum(r.verdict == r.gold_verdict for r in judged),
            "verdicts_wrong": sum(r.verdict is not None and r.verdict != r.gold_verdict for r in judged),
            "citation_validity": mean([r.valid for r in rows]),
            "latency_p50_ms": round(m.percentile(lat, 50), 1), "latency_p95_ms": round(m.percentile(lat, 95), 1)}
