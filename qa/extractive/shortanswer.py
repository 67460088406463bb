"""Short answers: the phrase of a cited sentence that answers a who/when/where/which/how-many question,
as an exact span of the file.

The answer type comes from the question's first wh-phrase (`question_type`). Candidate phrases come
from regular expressions and capitalisation (`typed_spans`): dates, amounts, names, demonyms and rough
noun phrases, labelled like spaCy's entities. We measured these patterns on squad-dev against spaCy's
`en_core_web_sm` and against dateparser / number-parser. They scored F1 0.82 on dates (spaCy 0.79,
dateparser 0.73) and 0.69 on numbers (spaCy 0.72, number-parser 0.57); on people and places spaCy is
better (0.49 / 0.39 against 0.37 / 0.36). The spaCy English pipeline on PyPI is a third-party
re-upload that adds about 200 MB, so no tagger is used. A candidate must be of the asked type and must not just repeat the question. The
candidate closest to the question words that the sentence shares wins, and it is shown only when `shown` admits it
and `sure` (a logistic regression over its `features`, fitted and cross-validated by article on squad-dev with
`bench/short_cv.py`) reaches `SURE_AT`: a wrong highlight does more harm than none.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from qa.types import Citation, Short

DATE, NUMBER, PERSON, PLACE, ENTITY = "date", "number", "person", "place", "entity"
TYPED = (DATE, NUMBER, PERSON, PLACE)

_TIME_NOUN = r"(?:year|years|date|day|month|decade|century|centuries)"
_PLACE_NOUN = (r"(?:country|countries|city|cities|state|region|place|location|continent|town|towns|island|"
               r"islands|province|county|nation|capital|port|river|colony|village)")
_Q_TYPES = [
    (DATE, re.compile(rf"\bwhen\b|\b(?:what|which)\s+(?:\w+\s+)?{_TIME_NOUN}\b|\bhow long ago\b", re.I)),
    (NUMBER, re.compile(r"\bhow (?:many|much|long|old|far|large|big|tall|high|fast|heavy|wide|deep)\b|"
                        r"\b(?:what|which)\s+(?:\w+\s+)?(?:percentage|percent|proportion|number|amount|"
                        r"population|fraction)\b", re.I)),
    (PERSON, re.compile(r"\b(?:who|whom)\b", re.I)),
    (PLACE, re.compile(rf"\bwhere\b|\b(?:what|which)\s+(?:\w+\s+)?{_PLACE_NOUN}\b", re.I)),
]
_WH = re.compile(r"\b(what|which|who|whom|whose|when|where|why|how)\b", re.I)
# "When does it regard a problem as difficult?" asks for a condition, not a time: present-tense "when do".
_CONDITION = re.compile(r"\bwhen\s+(?:do|does|can)\b", re.I)
_SUBORDINATE = re.compile(r"^\s*(?:when|where|while|if|since|after|before)\b[^,?]*,\s*"
                          r"(?=.*\b(?:what|which|who|whom|how)\b)", re.I)


def question_type(question: str) -> str | None:
    """`date`, `number`, `person` or `place`: the answer type the question's first wh-phrase asks for;
    None when it asks for something else (what/which + another noun, why, how + verb)."""
    first = _WH.search(question)
    main = _SUBORDINATE.match(question)  # "When X happens, what ...?": the later wh-word asks
    if main:
        first = _WH.search(question, main.end())
    if not first:
        return None
    head = question[first.start():]
    hits = [(mt.start(), n, kind) for n, (kind, pat) in enumerate(_Q_TYPES) for mt in [pat.search(head)] if mt]
    if not hits:
        return None
    pos, _, kind = min(hits)
    if kind == DATE and _CONDITION.match(head):
        return None
    return kind if pos == 0 else None  # the cue must be the first wh-phrase ("Why ... when" is untyped)


_WHICH_NOUN = re.compile(r"(?:which|what)\s+(?!(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|"
                         r"shall|should|may|might|must|if|about)\b)[a-z]", re.I)


def answer_type(question: str) -> str | None:
    """The kind of phrase that answers `question`: a `question_type`, or `entity` for "which / what +
    noun" questions ("Which news network ...?", "What kind of manufacturing ...?"); None otherwise."""
    kind = question_type(question)
    if kind:
        return kind
    first = _WH.search(question)
    return ENTITY if first and _WHICH_NOUN.match(question, first.start()) else None


# ---------------------------------------------------------------- candidate spans

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?")
_ORD = r"\d{1,2}(?:st|nd|rd|th)"
_YEAR = (r"(?:1[0-9]{3}|20[0-9]{2}|[1-9][0-9]{1,2}(?=\s*(?:AD|BC|BCE|CE)\b)|(?<=\b(?:in|In) )[1-9][0-9]{2}(?![\d,.%]))"
         r"(?:s|'s)?(?:\s*(?:AD|BC|BCE|CE))?")
_ORDWORD = (r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
            r"fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first)")
_DATE_RE = re.compile(
    rf"\b\d{{4}}-\d{{2}}-\d{{2}}\b"                                          # 2024-04-13
    rf"|\b(?:{_ORD}|\d{{1,2}})\s+{_MONTH}(?:,?\s+{_YEAR})?"                  # 12 May 1705
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+{_YEAR})?"           # May 12, 1705
    rf"|\b{_MONTH}\s+{_YEAR}\b"                                             # May 1705
    rf"|\b(?:(?:early|mid|late)[\s-]+)?(?:{_ORD}|{_ORDWORD})(?:\s+and\s+(?:{_ORD}|{_ORDWORD}))?[\s-]+centur(?:y|ies)"
    rf"|\b{_YEAR}(?:\s*(?:-|–|to|and)\s*{_YEAR})?\b"
    rf"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)s?\b", re.I)  # "closed on Sundays"
NUMBER_WORDS = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                r"hundreds|hundred|thousands|thousand|millions|million|billions|billion|trillion|dozens|dozen|"
                r"half|several|twice|single|none)\b")  # plurals first: "Hundreds" is not "Hundred" + "s"
_SCALE = r"(?:hundred|thousand|million|billion|trillion|bn)"
# "£4.5bn", "$5.6B", "$22M": a scale glued to the figure
_GLUED = r"(?:bn|[mMbBkK]|tn)\b"
_AMOUNT = (rf"(?:[$£€¥]\s?)?(?:\d[\d,]*(?:\.\d+)?|{NUMBER_WORDS}(?:[\s-]+(?:and\s+)?{NUMBER_WORDS})*)"
           rf"(?:\s*(?:%|percent|per cent)|\s+{_SCALE}\b|(?<=\d){_GLUED})*")
_NUM_RE = re.compile(
    rf"\b(?:(?:about|around|approximately|nearly|almost|over|more than|less than|fewer than|up to|"
    rf"at least|roughly)\s+)?{_AMOUNT}(?:\s*(?:-|–|to)\s*{_AMOUNT})?", re.I)
_DURATION_RE = re.compile(
    rf"\b(?:(?:about|around|nearly|almost|over|more than|less than|some|at least)\s+)?"
    rf"(?:\d[\d,.]*|{NUMBER_WORDS}(?:[\s-]+{NUMBER_WORDS})*|a|an)\s+"
    rf"(?:years?|months?|weeks?|days?|decades?|centuries|hours?|minutes?)"
    rf"(?:\s+(?:ago|later|earlier|before|after|old))?\b", re.I)
_RELATIVE_RE = re.compile(
    r"\b(?:(?:earlier|later|early|late)\s+)?(?:this|last|next|that|the previous|the following|the same)\s+"
    r"(?:week|month|year|decade|century|spring|summer|autumn|fall|winter|weekend|morning|afternoon|evening|day)\b"
    r"|\b(?:yesterday|today|tomorrow|recently|nowadays)\b", re.I)
# "during his recent Europe trip", "after the war": a time given by an event
_EVENT_RE = re.compile(r"\b(?:during|after|before|since|until|following|amid)\s+(?:(?:his|her|their|its|the|a|an)\s+)"
                       r"(?:[\w'’-]+\s+){0,3}[\w'’-]+", re.I)
_CAP = r"(?:[A-Z][\w'’.-]*\w|[A-Z]\.?)"
_NAME_RE = re.compile(rf"{_CAP}(?:\s+(?:(?:of|de|du|von|van|der|la|le|the|and|d')\s+)?{_CAP})*")
_COMMON_START = frozenset("""a an the in on at by for from to of as after before during when while since until
though although however but and or it its this that these those there here he she they we i his her their our
some many most several all each every both no not other another one two three four five first second third
later early also such thus then today yet moreover furthermore because if with without under over between among
despite following according unlike like what which who whom whose where why how""".split())
_DEMONYM = re.compile(r"(?:an|ian|ese|ish|ch|ic|i)$")
_NP_BREAK = re.compile(
    r"[,;:()\[\]\"“”]|\b(?:is|are|was|were|be|been|being|has|have|had|do|does|did|will|would|can|could|may|"
    r"might|must|shall|should|which|who|whom|whose|that|when|where|while|because|although|though|if|"
    r"by|with|from|to|in|on|at|for|as|into|than|after|before|during|under|over|between|through|since|"
    r"and|or|but|not|also|then|it|they|he|she|its|their|his|her)\b", re.I)
_CLAUSE_START = re.compile(r"[.!?:;\"“(]\s*$")


def typed_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, label) spans of `text`: DATE, RELDATE ("earlier this month"), EVENT ("during his
    trip"), CARDINAL, NAME, NORP (demonyms) and NP (noun phrases)."""
    out = [(mt.start(), mt.end(), "DATE") for mt in _DATE_RE.finditer(text)]
    out += _outside(out, _DURATION_RE.finditer(text), "DATE")
    out += _outside(out, _RELATIVE_RE.finditer(text), "RELDATE")
    out += _outside(out, _EVENT_RE.finditer(text), "EVENT")
    out += _outside(out, _NUM_RE.finditer(text), "CARDINAL")
    return out + _names(text) + _noun_phrases(text)


def _outside(spans: list, matches: Iterable[re.Match], label: str) -> list[tuple[int, int, str]]:
    """The matches not inside one of `spans` (a date's year is not also a number)."""
    return [(mt.start(), mt.end(), label) for mt in matches
            if not any(s <= mt.start() and mt.end() <= e for s, e, _ in spans)]


def _names(text: str) -> list[tuple[int, int, str]]:
    out = []
    for mt in _NAME_RE.finditer(text):
        s, e = mt.start(), mt.end()
        words = text[s:e].split()
        if s == 0 or _CLAUSE_START.search(text[:s]):  # a capital at a clause start says nothing: drop common words
            while words and words[0].lower() in _COMMON_START:
                s = text.index(words[1], s + len(words[0])) if len(words) > 1 else e
                words = words[1:]
        if words:
            demonym = len(words) == 1 and _DEMONYM.search(words[0]) and text[e:e + 20].lstrip()[:1].islower()
            out.append((s, e, "NORP" if demonym else "NAME"))
    return out


def _noun_phrases(text: str) -> list[tuple[int, int, str]]:
    """Rough noun phrases: the stretches between punctuation and function words."""
    out, pos = [], 0
    for mt in list(_NP_BREAK.finditer(text)) + [None]:
        end = mt.start() if mt else len(text)
        piece = text[pos:end]
        if piece.strip() and re.search(r"\w", piece):
            lead = len(piece) - len(piece.lstrip())
            out.append((pos + lead, pos + len(piece.rstrip(" .!?")), "NP"))
        pos = mt.end() if mt else len(text)
    return out


# ---------------------------------------------------------------- choosing the span

# How well a span label fits each answer type (missing = not of that type).
FIT: dict[str, dict[str, float]] = {
    DATE: {"DATE": 1.0, "RELDATE": 0.7, "EVENT": 0.4},
    NUMBER: {"CARDINAL": 1.0, "DATE:num": 1.0},
    PERSON: {"NAME": 1.0, "NORP": 0.6, "NP": 0.1},
    PLACE: {"NAME": 1.0, "NP": 0.1},
    ENTITY: {"NAME": 1.0, "NORP": 0.8, "NP": 0.5},
}
_STOP = frozenset("""a an the and or of in on at by for from to as is are was were be been being it its this that
these those there their they he she his her with into than then so such not no do does did has have had what
which who whom whose when where why how""".split())
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_PRONOUN = frozenset("""i me my we us our you your he him his she her it its they them their this that these
those which who whom whose what there here one ones some any all both each either neither other others another
itself themselves himself herself such same following""".split())
_EDGE = frozenset("a an the of and or in on at by for from to as with 's".split())
_BARE_YEAR = re.compile(r"(?:in |the )?\d{4}s?")
_YEARLESS = {False: lambda stems: stems, True: lambda stems: frozenset(t for t in stems if not t.isdigit())}


def stem(word: str) -> str:
    """A crude stem to match question and sentence words (lower case; possessive, plural, -ed, -ing cut)."""
    w = re.sub(r"['’]s?$", "", word.lower())
    for suffix in ("ing", "ed", "es", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            return w[:-len(suffix)]
    return w


def question_stems(question: str) -> frozenset[str]:
    """The question's content words, crudely stemmed."""
    return frozenset(stem(w) for w in _WORD.findall(question) if w.lower() not in _STOP)


@dataclass(frozen=True)
class Phrase:
    """A short answer found in a sentence: offsets relative to the sentence, and its answer type."""

    start: int
    end: int
    kind: str
    label: str = ""       # the span's label (`typed_spans`): NAME, DATE, CARDINAL, NP, ...
    near: float = 0.0     # closeness to the question words the sentence shares (0 to 1)
    found: tuple[int, int] = (0, 0)  # the span as found, before question and function words were cut
    score: float = 0.0    # closeness + fit to the type (`candidates` ranks by it)


def short_answer(question: str, sentence: str, kind: str | None = None,
                 spans: Sequence[tuple[int, int, str]] | None = None) -> Phrase | None:
    """The phrase of `sentence` that answers `question` as a `kind` (default: the question's type), or None:
    the best of `candidates`."""
    ranked = candidates(question, sentence, kind, spans)
    return ranked[0] if ranked else None


def candidates(question: str, sentence: str, kind: str | None = None,
               spans: Sequence[tuple[int, int, str]] | None = None) -> list[Phrase]:
    """Every phrase of `sentence` that could answer `question` as a `kind`, best first.

    Every candidate of that type is cut of question words and function words at its ends, dropped when
    nothing else is left (the question's own words are not its answer), and scored by closeness to the
    question words the sentence shares (sum of 1 / (1 + token distance), normalised) + how well its label
    fits the type - 0.3 x the share of question words left inside it. Ties go to the earlier span."""
    kind = kind or answer_type(question)
    if kind not in FIT:
        return []
    qstems = question_stems(question)
    toks = [(mt.start(), mt.end(), stem(mt.group())) for mt in _WORD.finditer(sentence)]
    anchors = [i for i, (a, b, st) in enumerate(toks) if st in qstems and sentence[a:b].lower() not in _STOP]
    out: list[tuple[float, int, Phrase]] = []
    share = kind == NUMBER and asks_share(question)
    for n, (s, e, label) in enumerate(typed_spans(sentence) if spans is None else spans):
        fit = FIT[kind].get(_label(kind, label, sentence[s:e], question), 0.0)
        if share and not _SHARE.search(sentence[s:e]):
            fit *= 0.3  # "What percentage ...?" is answered by a share, not by another number nearby
        # a date keeps the question's year ("October 1973" for "When did the 1973 crisis begin?")
        keep = _YEARLESS[kind == DATE and label in ("DATE", "RELDATE")]
        span = _trim(sentence, s, e, keep(qstems)) if fit > 0 else None
        score = _score(span, (s, e, label), toks, anchors, qstems, sentence, fit) if span else None
        if score is not None:
            out.append((-score, n, Phrase(span[0], span[1], kind, label, score - fit, (s, e), score)))
    return [p for _, _, p in sorted(out, key=lambda x: (x[0], x[1]))]


def _label(kind: str, label: str, text: str, question: str) -> str:
    """A duration ("three years", "the 1990s" is not) answers how-long / how-many questions."""
    if kind == NUMBER and label == "DATE" and (
            re.search(r"\bhow long\b", question, re.I)
            or re.search(r"\d|" + NUMBER_WORDS, text, re.I) and not _BARE_YEAR.fullmatch(text)):
        return "DATE:num"
    return label


def _score(span, original, toks, anchors, qstems, sentence: str, fit: float) -> float | None:
    s, e = span
    if e <= s or sentence[s:e].lower() in _PRONOUN:
        return None
    if original[2] == "NP" and e < original[1] and sentence[s:e].islower():
        return None  # a noun phrase cut down to its modifiers ("particular [problem]") answers nothing
    inside = [i for i, (a, b, _) in enumerate(toks) if a < e and s < b]
    if not inside:
        return None
    own = sum(toks[i][2] in qstems for i in inside)
    if own == len(inside):
        return None
    first, last = inside[0], inside[-1]
    near = sum(1.0 / (1 + min(abs(i - first), abs(i - last))) for i in anchors if not first <= i <= last)
    return near / (len(anchors) or 1) + fit - 0.3 * own / len(inside)


def _trim(text: str, s: int, e: int, qstems: frozenset[str]) -> tuple[int, int]:
    """Cut question words and function words from both ends ("Richard I of Normandy" -> "Richard I")."""
    words = [(mt.start() + s, mt.end() + s, mt.group()) for mt in _WORD.finditer(text[s:e])]
    while words and (words[0][2].lower() in _EDGE or stem(words[0][2]) in qstems):
        words = words[1:]
    while words and (words[-1][2].lower() in _EDGE or stem(words[-1][2]) in qstems):
        words = words[:-1]
    if not words:
        return s, s
    s2, e2 = words[0][0], words[-1][1]
    if re.search(r"\w['’]s$", text[s2:e2]):  # "Edgar's" answers "Who was Margaret's brother?" as "Edgar"
        e2 -= 2
    if s2 > 0 and text[s2 - 1] in "$£€¥":  # keep a currency or percent sign that belongs to the words
        s2 -= 1
    if e2 < e and text[e2] == "%":
        e2 += 1
    return s2, e2


# What the question's wording says the answer must hold, beyond its type: a year for "what year", a
# share for "what percentage", a century for "what century".
_ASKS_YEAR = re.compile(r"\b(?:what|which)\s+year\b", re.I)
_ASKS_CENTURY = re.compile(r"\b(?:what|which)\s+century\b", re.I)
_ASKS_SHARE = re.compile(r"\b(?:what|which)\s+(?:\w+\s+)?(?:percentage|percent|share|proportion|fraction)\b|"
                         r"\bby how much\b.*\b(?:percent|%)", re.I)
_SHARE = re.compile(r"%|\bper ?cent\b|\b(?:half|third|quarter|fifth|tenth)s?\b|\bmajority\b|\bminority\b", re.I)
_CALENDAR = re.compile(rf"^(?:{_MONTH}|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)s?)$", re.I)


_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“]\s*)$")


def _echoes(text: str, question: str) -> bool:
    """A word of `text` is another form of a question word ("China" for "Chinese", "Normans" for
    "Norman"): the question's own subject, not a new answer (a shared start of four letters or more,
    three quarters of the shorter word)."""
    asked = [w.lower() for w in _WORD.findall(question) if len(w) >= 4 and w.lower() not in _STOP]
    return any(_shared_start(w.lower(), a) for w in _WORD.findall(text) if len(w) >= 4 for a in asked)


def _shared_start(a: str, b: str) -> bool:
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return n >= 4 and n >= 0.75 * min(len(a), len(b))


def asks_share(question: str) -> bool:
    """Whether the question asks for a share ("What percentage ...?", "what proportion")."""
    return bool(_ASKS_SHARE.search(question))


def shown(question: str, phrase: Phrase, sentence: str, context: str = "") -> bool:
    """Whether a found phrase is sure enough to be shown as the short answer: it must be the thing asked
    for, not merely a phrase of that type. A wrong highlight does more harm than none, so:

    * a date or number must hold what the wording asks for (a year for "what year", a century for "what
      century", a share for "what percentage"), and a count is not a bare year;
    * a person, place or thing is a name (a rough noun phrase is not sure enough), not a day or month,
      not what is left of one of the question's own names once its words are cut ("[Sinai] Peninsula"),
      and not a capitalised word that only starts a clause ("However", "Soon") unless `context` (the
      passage) also writes it capitalised inside a sentence."""
    text = sentence[phrase.start:phrase.end]
    if phrase.kind == DATE:
        if _ASKS_YEAR.search(question) and not re.search(r"\d{3,4}", text):
            return False
        return not _ASKS_CENTURY.search(question) or bool(re.search(r"centur", text, re.I))
    if phrase.kind == NUMBER:
        if _ASKS_SHARE.search(question):
            return bool(_SHARE.search(text))
        return not (_BARE_YEAR.fullmatch(text.strip()) and not re.search(r"\byears?\b", question, re.I))
    if phrase.label == "KIND":
        return True
    if phrase.label != "NAME" and not (phrase.label == "NORP" and phrase.kind == ENTITY) or _CALENDAR.match(text):
        return False
    if _echoes(text, question) or phrase.kind == PERSON and re.fullmatch(r"\w+(?:ese|ish|ian|ans)", text):
        return False  # the question's own subject; a people ("Chinese") does not answer "who said"
    if phrase.label == "NAME" and phrase.start > phrase.found[0] and sentence[phrase.found[0]:phrase.start].strip()[:1].isupper():
        return False
    word = text.split()[0]
    if len(text.split()) == 1 and _SENTENCE_START.search(sentence[:phrase.start]):
        return bool(re.search(rf"[a-z,]\s+{re.escape(word)}\b", f"{sentence} {context}"))
    return True


_KIND_OF = re.compile(r"\b(?:what|which)\s+(?:kinds?|types?|sorts?|forms?)\s+of\s+([\w-]+)", re.I)
_MODIFIER = re.compile(r"[a-z][\w-]*")


def kind_phrase(question: str, sentence: str) -> Phrase | None:
    """For "which kind of X" questions: the kind, as the words that modify X in `sentence` ("Which kind of
    manufacturing ...?" -> "military manufacturing"), at least one of them not a question word; None
    when the sentence names no kind of X."""
    asked = _KIND_OF.search(question)
    if not asked:
        return None
    head, qstems = stem(asked.group(1)), question_stems(question)
    toks = list(_WORD.finditer(sentence))
    for n, tok in enumerate(toks):
        if stem(tok.group()) != head:
            continue
        first = n
        while first > 0 and n - first < 3 and _MODIFIER.fullmatch(toks[first - 1].group()) \
                and toks[first - 1].group().lower() not in _STOP and toks[first - 1].group().lower() not in _PRONOUN \
                and stem(toks[first - 1].group()) not in qstems \
                and not re.search(r"[,;:.()]", sentence[toks[first - 1].end():toks[first].start()]):
            first -= 1
        if first < n:
            return Phrase(toks[first].start(), tok.end(), ENTITY, "KIND", 1.0, (toks[first].start(), tok.end()))
    return None


def short_of(question: str, cites: Sequence[Citation], kind: str | None = None) -> Short | None:
    """The answering phrase inside the best-scored cited sentence that has one (`found`), as a `Short` (an
    exact span of the file inside citation `n`'s quote); None when the question asks for no kind of phrase
    (`answer_type`), no cited sentence has one, or it is not sure enough to show (not `shown`, or `sure`
    below `SURE_AT`): a wrong highlight does more harm than none."""
    best = found(question, cites, kind)
    if best is None or not best.features[_SHOWN] or sure(best.features) < SURE_AT:
        return None
    c, phrase = best.cite, best.phrase
    return Short(c.quote[phrase.start:phrase.end], c.start + phrase.start, c.start + phrase.end, c.n, phrase.kind)


# ---------------------------------------------------------------- how sure a short answer is

_LABELS = ("NAME", "NORP", "NP", "DATE", "CARDINAL", "RELDATE", "KIND")
_KINDS = (DATE, NUMBER, PERSON, PLACE, ENTITY)
_SHOWN = 1 + len(_KINDS) + len(_LABELS) + 4  # where `features` puts whether the phrase passes `shown`


@dataclass(frozen=True)
class Found:
    """The short answer `short_of` would consider: the best phrase of the best-scored cited sentence that
    has one, that citation, and what `sure` weighs about it (`features`)."""

    phrase: Phrase
    cite: Citation
    features: tuple[float, ...]


def found(question: str, cites: Sequence[Citation], kind: str | None = None) -> Found | None:
    """The best phrase of the best-scored cited sentence that has one (None when the question asks for no
    kind of phrase or no cited sentence has one), with its features."""
    kind = kind or answer_type(question)
    for rank, c in enumerate(sorted(cites, key=lambda c: -c.score) if kind else ()):
        if _KIND_OF.search(question):
            phrase = kind_phrase(question, c.quote)
            ranked = [phrase] if phrase else []
        else:
            ranked = candidates(question, c.quote, kind)
        if ranked:
            return Found(ranked[0], c, features(question, c, ranked, rank))
    return None


def features(question: str, cite: Citation, ranked: Sequence[Phrase], rank: int) -> tuple[float, ...]:
    """What `sure` weighs about `ranked[0]` as the answer to `question`: a bias; its answer type and span
    label; its closeness to the question's words; its lead over the sentence's next candidate; whether it
    is what is left of one of the question's names (capitalised words cut), echoes the question, passes
    `shown`; its length; the share of the question's words the sentence holds; and whether its citation
    is not the best-scored one."""
    phrase, sentence = ranked[0], cite.quote
    text = sentence[phrase.start:phrase.end]
    label = "DATE" if phrase.label in ("DATE:num", "EVENT") else phrase.label
    cut = sentence[phrase.found[0]:phrase.start] + " " + sentence[phrase.end:phrase.found[1]]
    qstems = question_stems(question)
    cover = len(qstems & {stem(w) for w in _WORD.findall(sentence)}) / max(1, len(qstems))
    lead = phrase.score - ranked[1].score if len(ranked) > 1 else 1.0
    return (1.0, *(float(phrase.kind == k) for k in _KINDS), *(float(label == x) for x in _LABELS),
            phrase.near, lead, float(any(w[:1].isupper() for w in cut.split())), float(_echoes(text, question)),
            float(shown(question, phrase, sentence, cite.context)), min(len(text.split()), 6) / 6, cover,
            float(rank > 0))


# Fitted by `bench/short_cv.py` (a logistic regression on squad-dev's answerable questions, all eight articles),
# in the order of `features`. Cross-validated by article (4 folds, fitted on six articles, measured on the
# other two): see README "Short answers" for the held-out precision / coverage curve.
WEIGHTS = (-1.377, 0.123, 0.047, -0.619, -0.486, -0.442, -0.527, 0.405, -1.042, 0.067, 0.103, 0.0, -0.382, -0.544,
           1.313, -0.212, -0.094, 0.76, 0.698, 1.999, -0.235)
SURE_AT = 0.6  # the chance of being right below which no short answer is shown (the operating point, README)


def sure(feats: Sequence[float]) -> float:
    """The chance, 0 to 1, that a phrase with these `features` is right (logistic in `WEIGHTS`)."""
    return 1.0 / (1.0 + math.exp(-sum(w * f for w, f in zip(WEIGHTS, feats, strict=True))))
