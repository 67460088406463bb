"""The vendored evaluation sets (see README.md here), found by name: `questions("squad-dev")`."""
from __future__ import annotations

from pathlib import Path

from index.errors import UsageError

ROOT = Path(__file__).resolve().parent
CONVERSATIONS = ("conversations-dev", "conversations-news-dev", "conversations-heldout", "conversations-unseen")
SETS = ("seed-dev", "squad-dev", "multihop-dev", *CONVERSATIONS, "nonfactoid-dev", "nonfactoid-own", "realdocs-dev",
        "realdocs-own")
# Sets whose rows name their own corpus (`"corpus": "seeds"`, ...).
PER_ROW = (*CONVERSATIONS, "nonfactoid-dev", "nonfactoid-own")
# A conversation names its corpus; these are the folders those names stand for.
CORPORA = {"seeds": "seed-dev", "seed-dev": "seed-dev", "squad-dev": "squad-dev", "multihop-dev": "multihop-dev",
           "realdocs-dev": "realdocs-dev",
           "realdocs-own": "realdocs-own"}


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        raise UsageError(f"the evaluation {what} {path} is missing",
                         hint="restore it from git (`git checkout -- qa/evalsets`); it ships with the repository")
    return path


def questions(name: str) -> Path:
    """The question file of evaluation set `name` (conversations for the `conversations-*` sets)."""
    if name not in SETS:
        raise UsageError(f"unknown evaluation set {name!r}", hint="choose one of " + ", ".join(SETS))
    file = "conversations.jsonl" if name in CONVERSATIONS else "questions.jsonl"
    return _need(ROOT / name / file, "question file")


def corpus(name: str) -> Path:
    """The corpus folder of evaluation set `name`, or of a conversation's `"corpus"` value."""
    folder = CORPORA.get(name)
    if folder is None:
        raise UsageError(f"unknown corpus {name!r}", hint="choose one of " + ", ".join(CORPORA))
    return _need(ROOT / folder / "corpus", "corpus")


def default_corpus(name: str) -> Path | None:
    """The corpus a question set is asked over (None for sets whose rows name their own)."""
    return None if name in PER_ROW else corpus(name)
