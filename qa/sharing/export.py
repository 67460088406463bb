"""A conversation as people keep it: an answer's sources numbered once per passage, answers saved as plain
dicts (and read back), and whole conversations exported as Markdown or JSON.

The JSON export is versioned (`FORMAT`, `VERSION`) and lists every cited file once under `documents`, so a
later format can add per-file facts (such as a content hash) without changing the turns.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from qa.types import Answer, Citation, Group, Passage, Short

FORMAT = "seedqa.conversation"
VERSION = 1
SNIPPET = 600  # characters of a related or searched passage kept with a saved answer
_MARKER = re.compile(r"\[(\d+)\]")
_REPEAT = re.compile(r"\[(\d+)\](?:\s*\[\1\])+")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>!|#])")
SHORT_LABEL = "Answer"  # the short answer's line: `Answer: Chris Cavoli [1]` (the CLI, the chat, replies)
SOURCES = "\n\nSources:\n"  # where a reply's list of sources starts
NOTE = "\n\nNote: "  # where a reply's note starts (before its sources)
QUOTE_SHOWN = 120  # characters of a quote a reply's source line shows, when the text does not hold it
_HEAD = re.compile(rf"{SHORT_LABEL}: [^\n]* \[\d+\]\n\n")


@dataclass(frozen=True)
class Source:
    """One numbered source of an answer: a passage and the quotes the answer cites from it."""

    n: int
    citations: tuple[Citation, ...]

    @property
    def first(self) -> Citation:
        """The first quote cited from this passage (its title, date and location stand for the source)."""
        return self.citations[0]


@dataclass(frozen=True)
class Turn:
    """A question and what came back: an `Answer`, or only `text` when the answer was stopped or failed
    (`status` is then "stopped" or "error")."""

    question: str
    answer: Answer | None = None
    text: str = ""
    status: str = "answered"


def sources(answer: Answer) -> tuple[Source, ...]:
    """The answer's citations grouped by passage, numbered 1, 2, ... in order of first citation: distinct
    numbers point to distinct passages, and a passage cited twice keeps one number."""
    groups: list[list[Citation]] = []
    for c in sorted(answer.citations, key=lambda c: c.n):
        group = next((g for g in groups if _same_passage(g[0], c)), None)
        if group is None:
            groups.append([c])
        elif all((x.start, x.end) != (c.start, c.end) for x in group):
            group.append(c)
    return tuple(Source(i, tuple(sorted(g, key=lambda c: c.start))) for i, g in enumerate(groups, 1))


def _same_passage(a: Citation, b: Citation) -> bool:
    if a.source != b.source:
        return False
    if (a.start, a.end) == (b.start, b.end):
        return True
    return bool(a.passage_id) and a.passage_id == b.passage_id


def source_numbers(answer: Answer) -> dict[int, int]:
    """Citation number -> source number (see `sources`)."""
    return {c.n: s.n for s in sources(answer) for c in answer.citations
            if any(c.start == x.start and c.end == x.end and c.source == x.source for x in s.citations)}


def numbered_text(answer: Answer) -> str:
    """The answer's text with `[n]` markers renumbered by source; a marker repeated back to back is kept once."""
    numbers = source_numbers(answer)
    text = _MARKER.sub(lambda m: f"[{numbers.get(int(m.group(1)), m.group(1))}]", answer.text)
    return _REPEAT.sub(lambda m: f"[{m.group(1)}]", text)


def answer_to_dict(answer: Answer) -> dict:
    """A compact, JSON-ready copy of `answer` to keep with a conversation (passages shortened)."""
    data = {k: v for k, v in asdict(answer).items() if k not in ("passages", "related")}
    data["related"] = [_passage_dict(p) for p in answer.related]
    data["passages"] = [_passage_dict(p) for p in answer.passages]
    return data


def _passage_dict(p: Passage) -> dict:
    keep = ("id", "source", "title", "start", "end", "start_line", "end_line", "published", "page", "score")
    return {**{k: getattr(p, k) for k in keep}, "text": p.text[:SNIPPET]}


def answer_from_dict(data: Any) -> Answer | None:
    """The `Answer` saved by `answer_to_dict`, or None when `data` is not one (e.g. edited by hand)."""
    try:
        cites = tuple(Citation(**{k: v for k, v in c.items() if k in Citation.__dataclass_fields__})
                      for c in data.get("citations") or ())
        short = Short(**data["short"]) if data.get("short") else None
        related = tuple(_passage(p) for p in data.get("related") or ())
        passages = tuple(_passage(p) for p in data.get("passages") or ())
        groups = tuple(Group(str(g["label"]), tuple(int(n) for n in g["citations"])) for g in data.get("groups") or ())
        return Answer(str(data["question"]), str(data["text"]), cites, bool(data["abstained"]),
                      str(data.get("backend", "")), passages, related, data.get("flagged"),
                      float(data.get("seconds") or 0), short, str(data.get("collection") or ""),
                      str(data.get("form") or "fact"), data.get("verdict"), groups)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _passage(data: dict) -> Passage:
    return Passage(**{k: v for k, v in data.items() if k in Passage.__dataclass_fields__ and k != "meta"})


def to_json(title: str, turns: Sequence[Turn], created: str = "") -> dict:
    """The conversation as a JSON-ready dict: versioned, each turn with its numbered sources and quotes,
    every cited file listed once under `documents`."""
    return {"format": FORMAT, "version": VERSION, "title": title, "created": created, "exported": _now(),
            "documents": _documents(turns), "turns": [_turn_json(t) for t in turns]}


def _turn_json(turn: Turn) -> dict:
    a = turn.answer
    if a is None:
        return {"question": turn.question, "status": turn.status, "answer": turn.text, "sources": []}
    status = "abstained" if a.abstained else turn.status
    return {"question": turn.question, "status": status, "answer": numbered_text(a), "backend": a.backend,
            "short": asdict(a.short) if a.short else None, "sources": [_source_json(s) for s in sources(a)]} | \
        ({"collection": a.collection} if a.collection else {})


def _source_json(s: Source) -> dict:
    c = s.first
    quotes = [{k: getattr(q, k) for k in ("quote", "start", "end", "start_line", "end_line", "page")}
              for q in s.citations]
    return {"n": s.n, "source": c.source, "title": c.title, "published": c.published,
            "location": c.location(), "quotes": quotes}


def _documents(turns: Sequence[Turn]) -> list[dict]:
    seen: dict[tuple, dict] = {}
    for t in turns:
        for c in t.answer.citations if t.answer else ():
            where = {"collection": t.answer.collection} if t.answer.collection else {}
            seen.setdefault((t.answer.collection, c.source),
                            {"source": c.source, "title": c.title, "published": c.published} | where)
    return list(seen.values())


def to_markdown(title: str, turns: Sequence[Turn]) -> str:
    """The conversation as Markdown: each question, its answer with `[n]` markers, and the quoted sources.
    Text from documents and models is escaped, so no link or image in it becomes live in a viewer."""
    parts = [f"# {md_escape(title)}", f"_Exported from Seed QA on {_now()}_"]
    for i, t in enumerate(turns, 1):
        parts.append(f"## {i}. {md_escape(t.question)}")
        parts += _turn_markdown(t)
    return "\n\n".join(parts) + "\n"


def _turn_markdown(t: Turn) -> list[str]:
    if t.answer is None:
        return [f"_{t.status}:_ {md_escape(t.text)}" if t.text else f"_{t.status}_"]
    out = [md_escape(numbered_text(t.answer))]
    if t.answer.short:
        out.insert(0, f"**Short answer:** {md_escape(t.answer.short.text)}")
    for s in sources(t.answer):
        c = s.first
        date = f" · {c.published}" if c.published else ""
        quotes = "\n".join(f"   > {md_escape(' '.join(q.quote.split()))}" for q in s.citations)
        out.append(f"{s.n}. **{md_escape(c.title or c.source)}**, {md_escape(c.location())}{date}\n{quotes}")
    return out


def md_escape(text: str) -> str:
    """`text` with Markdown's active characters backslash-escaped (shown as typed, never as markup)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def reply_text(answer: Answer) -> str:
    """An answer as one plain-text reply (OpenAI clients, MCP): the short answer first, as the terminal and
    the chat show it (`Answer: Chris Cavoli [1]`, when there is one), then the text with its `[n]` markers,
    its note (`reply_note`), then the sources (`reply_sources`)."""
    return reply_head(answer) + answer.text + reply_note(answer) + reply_sources(answer)


def reply_note(answer: Answer) -> str:
    """The answer's note, when it has one (`flagged`: an LLM answer cut short, or replaced by the extractive
    one, and why), as a paragraph of its own."""
    return f"{NOTE}{answer.flagged}" if answer.flagged else ""


def reply_head(answer: Answer) -> str:
    """The line a reply starts with when the answer has a short answer (and the blank line after it)."""
    return f"{SHORT_LABEL}: {answer.short.text} [{answer.short.n}]\n\n" if answer.short else ""


def reply_sources(answer: Answer) -> str:
    """The end of a reply: one line per citation number with title, date and location. The quote is added
    (shortened) only when the text does not already hold it, as an extractive answer does: clients show the
    text and would show the same sentence twice."""
    if not answer.citations:
        return ""
    text = " ".join(answer.text.split())
    lines = ["", "", SOURCES.strip()]
    for c in answer.citations:
        date = f" ({c.published})" if c.published else ""
        quote = " ".join(c.quote.split())
        shown = "" if quote in text else f": “{textwrap.shorten(quote, QUOTE_SHOWN, placeholder=' …')}”"
        lines.append(f"[{c.n}] {c.title or c.source}{date}, {c.location()}{shown}")
    return "\n".join(lines)


def answer_of_reply(reply: str) -> str:
    """The answer's text inside a reply made by `reply_text` (as a client sends it back in its history):
    without the short-answer line and the sources. Other text is returned as it is."""
    head = _HEAD.match(reply)
    return reply[head.end() if head else 0:].split(SOURCES, 1)[0].split(NOTE, 1)[0]
