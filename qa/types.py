"""Typed, frozen results crossing module boundaries: `Passage`, `Citation`, `Answer`."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from index.ingest.headings import below
from qa import wording


@dataclass(frozen=True)
class Weights:
    """How hybrid retrieval (qa/retrieval/hybrid.py) weighs its evidence. First stage: a weighted sum of normalised
    BM25 (`lexical`) and dense scores over the `candidates` of each side picks `rerank` passages. Second
    stage: each is scored by its best sentence (`sentence_coverage` of the question's terms plus
    `sentence_similarity` of late-chunking vectors) plus `rerank_lexical` times its BM25. Chosen with
    bench/tune*.py on the dev sets; users set them through `AnswerSettings` (QA_LEXICAL_WEIGHT, ...)."""

    lexical: float = 0.6
    candidates: int = 50
    rerank: int = 30
    rerank_lexical: float = 0.3
    sentence_coverage: float = 0.75
    sentence_similarity: float = 2.0


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its provenance and retrieval scores."""

    id: str
    text: str
    source: str
    title: str
    start: int
    end: int
    start_line: int
    end_line: int
    published: str = ""
    page: int | None = None
    score: float = 0.0
    dense: float = 0.0
    lexical: float = 0.0
    meta: dict = field(default_factory=dict, compare=False, hash=False)
    sentences: tuple = field(default=(), compare=False, hash=False)

    def unit(self, start_line: int | None = None, end_line: int | None = None) -> str:
        """The unit of lines `start_line`..`end_line` of this passage (default: all of it), e.g. `slide 3`,
        `Sheet1 rows 12–14`; "" for files located by lines or pages (see `qa.wording.unit`)."""
        return wording.unit(self.meta, self.start_line, start_line or self.start_line, end_line or self.end_line)

    def location(self) -> str:
        """`file, lines 3–5`, `file, p. 2` or `file, slide 3`, for display."""
        return wording.location(self.source, self.start_line, self.end_line, self.page, self.unit())

    def headings(self) -> list[tuple[int, int, str]]:
        """(start, end, path) of each heading line inside this passage, in file offsets (index metadata)."""
        try:
            return [(int(a), int(b), str(path)) for a, b, path in json.loads(self.meta.get("headings") or "[]")]
        except (ValueError, TypeError):  # an index written before headings were kept: no headings
            return []

    def heading_at(self, pos: int) -> str:
        """The heading path in effect at file offset `pos` of this passage ("pg_dump › Options"), without a
        first level that repeats the title; "" when none."""
        path = str(self.meta.get("heading") or "")
        for start, _, inner in self.headings():
            if start <= pos:
                path = inner
        return below(path, self.title)

    def in_heading(self, start: int, end: int) -> bool:
        """Whether the span `start..end` lies inside one of the passage's heading lines (structure, never an
        answer of its own)."""
        return any(a <= start and end <= b for a, b, _ in self.headings())

    @classmethod
    def from_record(cls, id: str, text: str, meta: dict, **scores) -> "Passage":
        """Build from a store record (id, document, metadata)."""
        return cls(id=id, text=text, source=meta["source"], title=meta.get("title", ""),
                   start=int(meta["start"]), end=int(meta["end"]), start_line=int(meta["start_line"]),
                   end_line=int(meta["end_line"]), published=meta.get("published", ""),
                   page=meta.get("page"), meta=meta, **scores)


@dataclass(frozen=True)
class Citation:
    """One `[n]` marker's target: an exact span of a seed file (`quote == file_text[start:end]`)."""

    n: int
    source: str
    title: str
    published: str
    start: int
    end: int
    start_line: int
    end_line: int
    quote: str
    score: float
    page: int | None = None
    passage_id: str = ""
    context: str = ""
    context_start: int = 0
    unit: str = ""  # where the quote is, when lines and pages do not say it: `slide 3`, `Sheet1 row 12`
    heading: str = ""  # the document's heading path at the quote ("pg_dump › Options"), when it has headings

    def location(self) -> str:
        """`file, lines 3–5` (or `file, p. 2`, `file, slide 3`, `file, Sheet1 row 12`) for display."""
        return wording.location(self.source, self.start_line, self.end_line, self.page, self.unit)


@dataclass(frozen=True)
class Short:
    """The phrase that answers (a name, a date, a number): an exact span of the file inside the quote of
    citation `n`, so `file_text[start:end] == text`. `kind` is what was asked for (`date`, `number`,
    `person`, `place`, ...)."""

    text: str
    start: int
    end: int
    n: int
    kind: str


@dataclass(frozen=True)
class Group:
    """One side of a comparison: its label (an outlet, a document, an entity) and the numbers `n` of the
    citations under it, in order."""

    label: str
    citations: tuple[int, ...]


@dataclass(frozen=True)
class Answer:
    """An answer with its citations; `abstained` when the documents do not hold the answer. `short` is
    the answering phrase for who/when/where/which/how-many questions, when one is found. `collection` names
    the collection it was asked in ("" for the default one). `form` is what the question asked for
    (`qa.extractive.forms`: fact, summary, list, why, how, yesno, compare): a summary or list has one citation per
    bullet, in order; `verdict` is "yes" / "no" when the evidence decides a yes/no question (None
    otherwise); `groups` are a comparison's sides, each naming its citations."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    backend: str
    passages: tuple[Passage, ...] = ()
    related: tuple[Passage, ...] = ()
    flagged: str | None = None
    seconds: float = 0.0
    short: Short | None = None
    collection: str = ""
    form: str = "fact"
    verdict: str | None = None
    groups: tuple[Group, ...] = ()

    def to_json(self) -> dict:
        """A JSON-ready dict (passages without their full metadata), as `qa ask --json` prints it. The text
        is under `answer`, as in every other output (`answer_dict`); `text`, its old name here, repeats it
        until the next release (deprecated), for scripts written before."""
        data = dataclasses.asdict(self)
        for key in ("passages", "related"):
            for p in data[key]:
                p.pop("meta", None)
                p.pop("sentences", None)
        return {"answer": data["text"], **data}


def answer_dict(answer: Answer) -> dict:
    """The JSON-ready public shape of an answer: `answer` (the text with `[n]` markers), `abstained`,
    `short`, `citations` (each with its quote, offsets and location), `question`, `backend`, `flagged`,
    `form`, `verdict` and `groups` (`[{"label", "citations": [n, ...]}]`).
    The `/ask` endpoint, `/v1` replies (`seedqa`), MCP and `AnswerChain.as_dicts()` give this shape."""
    return {"answer": answer.text, "abstained": answer.abstained, "question": answer.question,
            "short": dataclasses.asdict(answer.short) if answer.short else None, "backend": answer.backend,
            "flagged": answer.flagged, "form": answer.form, "verdict": answer.verdict,
            "groups": [{"label": g.label, "citations": list(g.citations)} for g in answer.groups],
            "citations": [dataclasses.asdict(c) | {"location": c.location()} for c in answer.citations]}


def answer_from_dict(data: dict) -> Answer:
    """The `Answer` of its public shape (`answer_dict`), as `qa ask --server` reads it from a `/v1` reply:
    no passages, related passages or timing, which that shape leaves out."""
    names = {f.name for f in dataclasses.fields(Citation)}
    citations = tuple(Citation(**{k: v for k, v in c.items() if k in names}) for c in data.get("citations") or ())
    short = Short(**data["short"]) if data.get("short") else None
    groups = tuple(Group(str(g.get("label", "")), tuple(int(n) for n in g.get("citations") or ()))
                   for g in data.get("groups") or ())
    return Answer(question=data.get("question") or "", text=data["answer"], citations=citations,
                  abstained=bool(data["abstained"]), backend=data.get("backend") or "", flagged=data.get("flagged"),
                  short=short, form=data.get("form") or "fact", verdict=data.get("verdict"), groups=groups)
