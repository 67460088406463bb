"""Cross-validation of the short-answer confidence (`qa.extractive.shortanswer.sure`) on squad-dev, by article.

Answers every answerable squad-dev question once (index in DB_DIR, built if missing), takes the phrase
`qa.extractive.shortanswer.found` would show, and fits a logistic regression on its `features` (right = the phrase
contains or is contained in a gold answer), FOLDS times, each time on the other articles' questions. On the
held-out articles it prints the precision / coverage curve, then for each fold the threshold picked on the
fitted articles (the lowest whose precision there reaches TARGET) and the held-out precision and coverage
it gives (a phrase is shown only when it also passes `qa.extractive.shortanswer.shown`, as in `short_of`). Last, the weights fitted on all articles, to paste into `qa/extractive/shortanswer.py` (`WEIGHTS`).

    python bench/short_cv.py /tmp/short-squad [--folds 4] [--target 0.9] [--cache /tmp/answers.pkl]

Uses scikit-learn (installed with sentence-transformers); the answerer itself only multiplies the weights.
"""
from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from index.builds.build import build
from index.settings import IndexSettings
from qa import evalsets
from qa.evaluation import metrics as m
from qa.evaluation.runner import read_questions
from qa.extractive.shortanswer import _SHOWN, found
from qa.pipeline import build_assistant
from qa.settings import AnswerSettings

THRESHOLDS = (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def answers(db_dir: Path, cache: Path | None) -> list[dict]:
    """(question, gold answers, article, cited sentences, abstained) of every answerable squad-dev question."""
    if cache and cache.exists():
        return pickle.loads(cache.read_bytes())
    settings = IndexSettings(seeds_dir=evalsets.default_corpus("squad-dev"), db_dir=db_dir)
    assistant = build_assistant(settings, AnswerSettings())
    build(settings, embedder=assistant.embedder)
    out = []
    for item in read_questions(evalsets.questions("squad-dev")):
        if item.get("unanswerable"):
            continue
        ans = assistant.answer(item["question"])
        out.append({"question": item["question"], "answers": item["answers"], "article": item["evidence"][0]["source"],
                    "cites": list(ans.citations), "abstained": ans.abstained})
    if cache:
        cache.write_bytes(pickle.dumps(out))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db_dir", type=Path)
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--target", type=float, default=0.9)
    ap.add_argument("--cache", type=Path)
    args = ap.parse_args()
    rows = answers(args.db_dir.resolve(), args.cache)
    total = len(rows)
    arts = sorted({r["article"] for r in rows})
    data = []
    for r in rows:
        f = None if r["abstained"] else found(r["question"], r["cites"])
        if f:
            text = f.cite.quote[f.phrase.start:f.phrase.end]
            data.append((arts.index(r["article"]), f.features, m.short_matches(text, r["answers"]),
                         bool(f.features[_SHOWN])))
    art, gate = np.array([d[0] for d in data]), np.array([d[3] for d in data])
    x, y = np.array([d[1] for d in data]), np.array([d[2] for d in data])
    print(f"{total} answerable questions; a phrase found for {len(y)}, right {y.mean():.3f}")
    folds = [set(range(k, len(arts), args.folds)) for k in range(args.folds)]  # articles in alphabetical order
    prob = np.zeros(len(y))
    print(f"\nfold: held-out articles | threshold (fitted articles' precision >= {args.target}) | "
          "held-out precision | held-out coverage (of the fold's answerable questions)")
    for k, held in enumerate(folds):
        test = np.isin(art, list(held))
        clf = LogisticRegression(max_iter=5000, fit_intercept=False).fit(x[~test], y[~test])
        prob[test] = clf.predict_proba(x[test])[:, 1] * gate[test]  # `short_of` shows only what passes `shown`
        fit_p = clf.predict_proba(x[~test])[:, 1] * gate[~test]
        t = next((t for t in np.arange(0.3, 1.0, 0.01) if y[~test][fit_p >= t].mean() >= args.target), 1.0)
        sel = prob[test] >= t
        n_fold = sum(r["article"] in {arts[a] for a in held} for r in rows)
        print(f"{k}: {', '.join(arts[a] for a in sorted(held))} | {t:.2f} | "
              f"{y[test][sel].mean() if sel.any() else float('nan'):.3f} ({sel.sum()}) | {sel.sum() / n_fold:.3f}")
    print("\nheld-out curve (all folds pooled): threshold, precision, coverage, given")
    for t in THRESHOLDS:
        sel = prob >= t
        print(f"  {t:.2f}  {y[sel].mean() if sel.any() else float('nan'):.3f}  {sel.sum() / total:.3f}  {sel.sum()}")
    clf = LogisticRegression(max_iter=5000, fit_intercept=False).fit(x, y)
    print("\nWEIGHTS =", tuple(round(float(w), 3) for w in clf.coef_[0]))


if __name__ == "__main__":
    main()
