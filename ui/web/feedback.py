"""Thumbs up/down on answers (a withdrawal, an optional reason), appended as JSON lines to the feedback log."""
from __future__ import annotations

import json
import threading
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from qa.types import Answer

_lock = threading.Lock()


def record(answer: Answer) -> dict:
    """What the log keeps about one answer: question, answer text, backend and citations (without context)."""
    citations = [{k: v for k, v in asdict(c).items() if k != "context"} for c in answer.citations]
    return {"question": answer.question, "answer": answer.text, "abstained": answer.abstained,
            "backend": answer.backend, "citations": citations}


WITHDRAWN = "withdrawn"


def vote_name(liked) -> str:
    """'up', 'down', or 'withdrawn' (a vote taken back: the Chatbot then sends "" or None) from the
    Chatbot's like value (bool or 'Like'/'Dislike'); any other feedback option is kept by name."""
    if liked is True or liked == "Like":
        return "up"
    if liked is False or liked == "Dislike":
        return "down"
    return WITHDRAWN if liked in (None, "") else str(liked)


def append(path: Path, entry: dict, vote: str, reason: str | None = None) -> dict:
    """Append `entry` with its `vote`, the optional `reason` and the current UTC time as one JSON line
    (a later line about the same answer supersedes an earlier one); return the line's object."""
    line = {**entry, "vote": vote, "reason": reason, "time": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    return line
