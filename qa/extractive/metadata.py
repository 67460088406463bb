"""Questions about the documents themselves: who reported, filed or wrote one; which agency, network or
site; when it was published; its title; where its dateline places it; which documents are indexed.

They are answered from the file's own text: YAML front matter, the seed articles' ` date YYYY-MM-DD`
header, the dateline ("Moscow [Russia], April 13 (ANI):"), the title line, and the organisation the
text credits with the reporting ("CNN reported ..."). Every citation is an exact span of the file
(`file_text[start:end] == quote`), such as the front-matter line, the `date` header or the dateline.
HTML `<title>` and PDF metadata titles that never occur in the text have no span to cite. Those files
are answered from the text (a title line) or not at all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.ingest.headings import Outline, below
from index.snapshot.lexical import tokenize
from index.types import LoadedDoc
from qa import wording
from qa.types import Answer, Citation, Short
from qa.wording import NOT_FOUND

MAX_DOCS = 10  # documents a metadata answer cites at most

# --------------------------------------------------------------------------- is it about the document?

_DOCREF = re.compile(
    r"\b(this|that|the|these|those|your)\s+(article|story|piece|document|report|passages?|text|file|"
    r"page|item|quote|quotes|excerpt|blog|post|review|explainer|column|roundup|write-up|feature)\b|\byou(?:'re| are)?\s+(?:quoting|citing)\b|\b(?:does|did|is|was)\s+"
    r"(?:this|it)\b(?=\s*(?:[?.!]|$|published|dated|written|filed|posted|released|issued|carry|come|came|from))|"
    r"\b(?:published|wrote|written|filed|reported|authored|posted|released|dated|ran|carried|reviewed)\s+(?:this|it)"
    r"\s*[?.!]?$|"
    r"\bthis\s+(?:come|comes|came)\b|\bdateline\b|\b(documents|files)\b", re.I)
# "that live blog", "the TechCrunch piece", "the live blog": a short question may put words between; a long
# one ("Considering the Bloomberg article and ..., which ...") is about content
_DOCREF_GAP = re.compile(r"\b(?:this|that|these|those|the)\s+(?:[\w-]+\s+){1,2}?(?:article|story|piece|report|blog|post|"
                         r"review|explainer|column|roundup|write-up|feature)\b", re.I)
SHORT_QUESTION = 12  # words

_OUTLET = (r"reported|filed|wrote|written|writing|authored|author|reviewed|publisher|published|publication|broke|agency|agency's|"
           r"outlet|network|newspaper|paper|magazine|journal|channel|station|broadcaster|site|website|wire|service|"
           r"byline|journalist|reporter|writer|source|behind")
SLOTS = {
    "dateline": re.compile(r"\bdateline[ds]?\b|\bfiled from\b|\breported from\b|\bwhere\b.*\b(filed|written)\b", re.I),
    "title": re.compile(r"\b(title[ds]?|headline|heading|name of the (article|document|story|piece|report))\b", re.I),
    "date": re.compile(r"\b(when|what date|which date|what day|which day)\b.*\b(published|dated|written|filed|"
                       r"posted|released|issued|come out|came out|run|ran)\b|\b(publication|release)\s+date\b|\bdate of\b|"
                       r"\bhow old is\b|\bdated\b|^\s*(what|which) (date|day)\b", re.I),
    "source": re.compile(rf"\b(who|which|what)\b.*\b({_OUTLET})\b|\bauthor\b|\bbyline\b", re.I),
    "documents": re.compile(r"\b(which|what|how many)\s+(documents|files|sources|articles)\b", re.I),
}
_SLOT_WORDS = re.compile(
    rf"\b(datelines?|datelined|titles?|titled|headlines?|heading|name|dated|posted|released|issued|release|date|"
    rf"day|write|authors?|publishers?|outlets?|networks?|newspapers?|papers?|magazines?|services?|sites?|"
    rf"websites?|sources?|documents|files|articles?|story|piece|passages?|excerpt|quotes?|page|item|come|came|"
    rf"out|old|news|from|carry|carries|ran|carried|quoting|citing|indexed|credited|{_OUTLET})\b", re.I)
_GRAMMAR = frozenset(tokenize("who whom whose what which when where why how is are was were be been do does did has "
                              "have had can could will would should may might must this that these those it its "
                              "they them their one about also so then you your"))
_CONTRACTION = re.compile(r"(?i)\b(what|who|where|when|how|which|that|it|there|here)['’]s\b")


def slot(question: str) -> str | None:
    """The metadata slot `question` asks about (title, date, source, dateline, documents), or None.

    A slot word alone is not enough ("Who reported that Xi heralded a new year?" and "Who wrote the play
    Hamlet?" ask about content): the question must also point at a document ("this story", "the article
    you're quoting from", "does this carry"), or have nothing else to be about ("When was it published?")."""
    name = slot_word(question)
    expanded = _CONTRACTION.sub(r"\1 is", question)
    if name is None or _DOCREF.search(expanded):
        return name
    if len(expanded.split()) <= SHORT_QUESTION and _DOCREF_GAP.search(expanded):
        return name
    return None if content_words(question) else name


def slot_word(question: str) -> str | None:
    """The slot a question's words name, whatever it is about ("When was the Steam Deck review
    published?" names `date`; whether it asks about a document depends on what else it says)."""
    question = _CONTRACTION.sub(r"\1 is", question)
    return next((n for n, rx in SLOTS.items() if rx.search(question)), None)


def content_words(question: str) -> str:
    """What the question says besides its slot and document words ("citing senior administration
    officials"): empty when nothing, else the words that can find which document it means."""
    rest = _DOCREF.sub(" ", _SLOT_WORDS.sub(" ", _CONTRACTION.sub(r"\1 is", question)))
    return " ".join(t for t in tokenize(rest) if t not in _GRAMMAR and len(t) > 1)


# --------------------------------------------------------------------------- the facts, as exact spans

@dataclass(frozen=True)
class Span:
    """An exact span of a document's text."""

    source: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Fact:
    """One thing the document says about itself: how to say it, the span to cite, and the phrase that
    answers (an exact sub-span of `span`, or None)."""

    label: str
    span: Span
    short: Span | None = None
    kind: str = ""  # what the short answer is: date, place, title, source
    role: str = ""  # for sources: which field it comes from (source, author, agency, credit, ...)


_DATELINE = re.compile(r"(?P<place>[A-Z][\w.'’\- ]{1,40}?(?:\s*\[[^\]]{2,40}\])?),\s+(?P<date>(?:Jan|Feb|Mar|Apr|May|"
                       r"Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}(?:,\s*\d{4})?)\s*"
                       r"\((?P<agency>[^)]{2,30})\)\s*[:\-–—]")
_DATELINE_CAPS = re.compile(r"(?P<place>[A-Z][A-Z.'’\- ]{2,40}(?:,\s*[A-Z][\w.]+)?)\s*"
                            r"\((?P<agency>[^)]{2,30})\)\s*[:\-–—]")
_ATTRIBUTION = re.compile(
    r"\b(?P<org>(?:[A-Z][\w&.'’\-]*)(?:\s+[A-Z][\w&.'’\-]*){0,3})\s+(?:reported|reports|said in its report|"
    r"first reported|broke the news)\b|\baccording to (?:a |an |the )?(?:report (?:by|from|in) )?"
    r"(?P<org2>(?:[A-Z][\w&.'’\-]*)(?:\s+[A-Z][\w&.'’\-]*){0,3})")
_DATELINE_WORD = re.compile(r"\bdateline[ds]?\b", re.I)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _sub(doc: LoadedDoc, start: int, end: int) -> Span:
    return Span(doc.source, start, end, doc.text[start:end])


def _prose_start(doc: LoadedDoc) -> int:
    return doc.segments[0].start if doc.segments else 0


def field_line(doc: LoadedDoc, key: str) -> Fact | None:
    """The front-matter line `key: value`; the value (without quotes) is the short answer."""
    m = re.search(rf"(?m)^{re.escape(key)}\s*:[ \t]*[\"']?(.+?)[\"']?[ \t]*$", doc.text[:_prose_start(doc)])
    if not m:
        return None
    return Fact(key.capitalize(), _sub(doc, m.start(), m.end()), _sub(doc, m.start(1), m.end(1)))


def dateline(doc: LoadedDoc) -> tuple[Span, dict[str, Span]] | None:
    """The dateline opening the prose ("Moscow [Russia], April 13 (ANI):") and its parts (place, date,
    agency)."""
    start = _prose_start(doc)
    head = doc.text[start:start + 300]
    offset = start + len(head) - len(head.lstrip())
    for rx in (_DATELINE, _DATELINE_CAPS):
        m = rx.match(head.lstrip())
        if m:
            parts = {k: _sub(doc, offset + m.start(k), offset + m.end(k)) for k, v in m.groupdict().items() if v}
            return _sub(doc, offset + m.start(), offset + m.end()), parts
    return None


def date_header(doc: LoadedDoc) -> Fact | None:
    """The seed articles' ` date YYYY-MM-DD` header; the day is the short answer."""
    m = re.match(r"\A\s*(date (\d{4}-\d{2}-\d{2}))", doc.text)
    return Fact("Published", _sub(doc, m.start(1), m.end(1)), _sub(doc, m.start(2), m.end(2)), "date") if m else None


def title_line(doc: LoadedDoc) -> Fact | None:
    """The front-matter `title:` line, else the first line when it is the title, else the title where the
    text has it."""
    fm = field_line(doc, "title")
    if fm:
        return Fact("Title", fm.span, fm.short, "title")
    start = _prose_start(doc)
    first = doc.text[start:].split("\n", 1)[0]
    lead = len(first) - len(first.lstrip())
    title = (doc.title or "").strip()
    if title and first.strip() == title:
        span = _sub(doc, start + lead, start + lead + len(title))
        return Fact("Title", span, span, "title")
    at = doc.text.find(title) if title and not title.endswith("…") else -1
    return Fact("Title", _sub(doc, at, at + len(title)), _sub(doc, at, at + len(title)), "title") if at >= 0 else None


def credited(doc: LoadedDoc) -> tuple[str, Span] | None:
    """The organisation the text most often credits with the reporting ("CNN reported", "according to
    Reuters"), with its first credit; it must be credited twice or be an acronym."""
    counts: dict[str, list[Span]] = {}
    for m in _ATTRIBUTION.finditer(doc.text):
        key = "org" if m.group("org") else "org2"
        words = m.group(key).split()
        while words and words[0].lower() in {"the", "a", "an", "according"}:
            words.pop(0)
        if words:
            start = m.start(key) + m.group(key).find(words[0])
            counts.setdefault(" ".join(words), []).append(_sub(doc, start, m.end()))
    ranked = sorted(counts.items(), key=lambda kv: (-len(kv[1]), kv[1][0].start))
    return next(((org, spans[0]) for org, spans in ranked if len(spans) >= 2 or org.isupper()), None)


def facts(name: str, doc: LoadedDoc, question: str = "") -> list[Fact]:
    """What `doc` says about slot `name`, most relevant first."""
    return {"title": _title_facts, "date": _date_facts, "dateline": _dateline_facts,
            "source": _source_facts}.get(name, lambda d, q: [])(doc, question)


def _title_facts(doc: LoadedDoc, question: str) -> list[Fact]:
    title = title_line(doc)
    if title:
        return [title]
    line = dateline(doc)
    return [Fact("It has no title line; it opens with the dateline", line[0])] if line else []


def _date_facts(doc: LoadedDoc, question: str) -> list[Fact]:
    out = []
    line = field_line(doc, "published") or field_line(doc, "date")
    if line:
        day = _ISO_DAY.search(line.short.text)
        short = _sub(doc, line.short.start + day.start(), line.short.start + day.end()) if day else line.short
        out.append(Fact(f"Published {day.group(0)}" if day else "Published", line.span, short, "date"))
    elif header := date_header(doc):
        out.append(Fact(f"Published {header.short.text}", header.span, header.short, "date"))
    line = dateline(doc)
    if line and "date" in line[1]:
        out.append(Fact("Dateline", line[0], line[1]["date"], "date"))
    return out


def _dateline_facts(doc: LoadedDoc, question: str) -> list[Fact]:
    line = dateline(doc)
    if not line:
        return []
    asks_agency = _ASKS["agency"].search(_DATELINE_WORD.sub(" ", question)) or re.search(r"\bwho\b", question, re.I)
    part = "agency" if asks_agency else "date" if re.search(r"\b(when|date|day)\b", question, re.I) else "place"
    part = part if part in line[1] else "place"
    return [Fact("Dateline", line[0], line[1][part], "source" if part == "agency" else part)]


def _source_facts(doc: LoadedDoc, question: str) -> list[Fact]:
    out = [Fact(f.label, f.span, f.short, "source", key) for key in ("source", "site", "author", "publisher")
           if (f := field_line(doc, key))]
    line = dateline(doc)
    if line and "agency" in line[1]:
        agency = line[1]["agency"]
        out.append(Fact(f"Filed by {agency.text} (dateline)", line[0], agency, "source", "agency"))
    credit = credited(doc)
    if credit:
        org, span = credit
        out.append(Fact(f"The story it reports was broken by {org}", span,
                        _sub(doc, span.start, span.start + len(org)), "source", "credit"))
    return sorted(out, key=lambda f: not _ASKS[f.role].search(question))


# Which fact a who-reported question asks for first: "filed" -> the dateline's agency, "broke" -> the credit.
_ASKS = {"source": re.compile(r"\b(site|website|outlet|publisher|published|newspaper|publication|source)\b", re.I),
         "site": re.compile(r"\b(site|website|outlet|publisher|published|newspaper|publication|source)\b", re.I),
         "publisher": re.compile(r"\b(publisher|published|publication)\b", re.I),
         "author": re.compile(r"\b(wrote|written|write|author|authored|byline|journalist|reporter)\b", re.I),
         "agency": re.compile(r"\b(filed|agency|agency's|wire|dateline)\b", re.I),
         "credit": re.compile(r"\b(broke|network|reported|reporting|citing|cited)\b", re.I)}


# --------------------------------------------------------------------------- the answer

def answer(question: str, name: str, docs: list[LoadedDoc], backend: str, total: int | None = None) -> Answer:
    """The `Answer` to metadata question `question` (slot `name`) about `docs` (of `total` documents meant),
    citing exact spans; an abstention when the documents do not say."""
    found = [f for doc in docs[:MAX_DOCS] for f in facts(name, doc, question)]
    if name == "documents":
        found = [f for doc in docs[:MAX_DOCS] if (f := title_line(doc))]
    if not found:
        return Answer(question, NOT_FOUND, (), True, backend)
    cites = tuple(_citation(n, f.span, docs) for n, f in enumerate(found, 1))
    parts = [f"{_label(f, name)}: {c.quote} [{c.n}]" for f, c in zip(found, cites)]
    text = ". ".join(parts)
    if name == "documents":
        text = wording.documents(total or len(docs), len(found)) + " " + "; ".join(parts)
    first = found[0]
    short = Short(first.short.text, first.short.start, first.short.end, 1, first.kind) if first.short else None
    return Answer(question, text, cites, False, backend, short=short)


def _label(fact: Fact, name: str) -> str:
    return fact.span.source if name == "documents" else fact.label


def _citation(n: int, span: Span, docs: list[LoadedDoc]) -> Citation:
    doc = next(d for d in docs if d.source == span.source)
    line = doc.text.count("\n", 0, span.start) + 1
    return Citation(n=n, source=doc.source, title=doc.title, published=doc.published, start=span.start,
                    end=span.end, start_line=line, end_line=line + span.text.count("\n"), quote=span.text,
                    score=1.0, context=span.text, context_start=span.start,
                    heading=below(Outline(doc.headings).at(span.start), doc.title))
