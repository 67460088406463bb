"""Cross-validation of the multi-sentence forms' thresholds (`qa/extractive/compose.py`), split by corpus or by document.

    .venv/bin/python bench/forms_cv.py [--db DIR] [--split corpus|document] [--own FILE] [--group list ...]

With `--split document` the questions fall in two folds by the document their first key sentence is in
(documents sorted by name, every other one to each fold), so no document is in both; each fold is fitted
on the other and scored.

nonfactoid-dev's 40 questions come from three corpora (the seed article, the SQuAD articles, the news
articles). Each parameter group is fitted on the questions of two corpora (the most right, ties to the
current value) and scored on the third; the figures printed for each fold are of the held-out corpus only.
Then the values fitted on all three are scored on our own held-out questions (--own), written before
tuning over other documents. A value that only lifts its own fold is not worth keeping: compare the
held-out columns with the defaults'.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from index.builds.build import build  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from qa import evalsets  # noqa: E402
from qa.evaluation.nonfactoid import score  # noqa: E402
from qa.extractive import compose  # noqa: E402
from qa.pipeline import build_assistant  # noqa: E402

# Each group: the kinds it serves, and the values tried for each of its parameters.
GROUPS = {
    "list": ({"list"}, {"LIST_RATIO": [0.75, 0.8, 0.85, 0.9], "FOLLOW_RATIO": [0.5, 0.6, 0.7, 0.8, 2.0],
                        "FOLLOW_MAX": [1, 2, 4]}),
    "explain": ({"why", "how"}, {"EXPLAIN_SIM": [0.0, 0.5, 1.0, 2.0], "EXPLAIN_MAX": [2, 3],
                                 "EXPLAIN_LINK": [0.0, 0.5, 1.0]}),
    "yesno": ({"yesno"}, {"YESNO_RATIO": [0.6, 0.7, 0.8], "YESNO_POOL": [6, 12]}),
    "summary": ({"summary"}, {"SUMMARY_LEAD": [0.3, 0.6, 1.0], "SUMMARY_FLOOR": [0.5, 0.6, 0.7]}),
}


class Asker:
    def __init__(self, root: Path):
        self.root, self.assistants, self.embedder = root, {}, None

    def __call__(self, row: dict):
        corpus = row["corpus"]
        if corpus not in self.assistants:
            settings = IndexSettings(seeds_dir=evalsets.corpus(corpus), db_dir=self.root / corpus)
            self.assistants[corpus] = build_assistant(settings, embedder=self.embedder)
            self.embedder = self.assistants[corpus].embedder
            build(settings, embedder=self.embedder)
        return self.assistants[corpus].answer(row["question"])


def right(rows, ask, values: dict) -> int:
    old = {k: getattr(compose, k) for k in values}
    try:
        for k, v in values.items():
            setattr(compose, k, v)
        return sum(score(r, ask(r)).right for r in rows)
    finally:
        for k, v in old.items():
            setattr(compose, k, v)


def fit(rows, ask, grid: dict) -> dict:
    names = list(grid)
    current = tuple(getattr(compose, n) for n in names)
    best = max(itertools.product(*grid.values()),
               key=lambda combo: (right(rows, ask, dict(zip(names, combo))), combo == current))
    return dict(zip(names, best))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/forms-cv"))
    parser.add_argument("--own", type=Path, default=evalsets.questions("nonfactoid-own"))
    parser.add_argument("--split", choices=["corpus", "document"], default="corpus")
    parser.add_argument("--group", nargs="*", choices=list(GROUPS), default=list(GROUPS))
    args = parser.parse_args()
    ask = Asker(args.db)
    rows = [json.loads(line) for line in evalsets.questions("nonfactoid-dev").read_text("utf-8").splitlines()]
    own = [json.loads(line) for line in args.own.read_text("utf-8").splitlines()] if args.own.exists() else []
    fold = _folds(rows, args.split)
    for name in args.group:
        kinds, grid = GROUPS[name]
        mine = [r for r in rows if r["kind"] in kinds]
        print(f"\n{name} ({len(mine)} questions): held-out fold, fitted values, right with them / with the defaults")
        for held in sorted(set(fold.values())):
            train = [r for r in mine if fold[r["id"]] != held]
            test = [r for r in mine if fold[r["id"]] == held]
            values = fit(train, ask, grid)
            print(f"  {held:14}{json.dumps(values):60}{right(test, ask, values)}/{len(test)}  "
                  f"(defaults {right(test, ask, {})}/{len(test)})")
        values = fit(mine, ask, grid)
        theirs = [r for r in own if r["kind"] in kinds]
        print(f"  all: {json.dumps(values)}; own held-out questions: {right(theirs, ask, values)}/{len(theirs)} "
              f"(defaults {right(theirs, ask, {})}/{len(theirs)})")


def _folds(rows: list[dict], split: str) -> dict[str, str]:
    """Each question's fold: its corpus, or (by document) one of two folds by its first key's document."""
    if split == "corpus":
        return {r["id"]: r["corpus"] for r in rows}
    docs = sorted({_document(r) for r in rows})
    return {r["id"]: f"documents {docs.index(_document(r)) % 2 + 1}" for r in rows}


def _document(row: dict) -> str:
    return row["key"][0]["source"] if row.get("key") else row["id"]


if __name__ == "__main__":
    main()
