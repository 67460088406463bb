"""The form a question asks its answer in, read from general grammar cues (no content words of any
document): a summary or overview, a list, an explanation (why), a manner (how), a yes/no judgement, a
comparison, or a fact (one sentence, the default path).

* **summary**: an imperative or request to summarise ("Summarize ...", "Give me the gist / an overview /
  the main points ..."), or "what is X about", "what do the articles say about Y".
* **compare**: "compare", "contrast", "differ", "difference(s) between", "versus", "X and Y each".
* **yesno**: the question opens with an auxiliary or modal verb ("Is ...", "Has ...", "Did ...") and
  offers no alternatives ("... or ...").
* **why**: "why", "for what reason", "what caused".
* **how**: "how" not followed by a degree word (many, much, long, old, ...), which asks for a number.
* **list**: "what kinds/types/ways", "in what ways", "list / name the ...", "what has X done", "what did X
  do / make Y do", or a "what/which" + plural noun question that joins a second question ("Which
  witnesses testified, and what did they say?"), or a what/which + plural noun question whose verb has
  another subject ("What bonuses do sportsbooks offer?").
"""
from __future__ import annotations

import re

FACT, SUMMARY, LIST, WHY, HOW, YESNO, COMPARE = "fact", "summary", "list", "why", "how", "yesno", "compare"
FORMS = (SUMMARY, LIST, WHY, HOW, YESNO, COMPARE, FACT)

_I = re.I
_SUMMARY = [
    re.compile(r"\b(summari[sz]e|summari[sz]ing|sum up|recap|tl;?dr)\b", _I),
    re.compile(r"\b(summary|overview|gist|synopsis|main (?:points?|ideas?|takeaways?)|key (?:points?|takeaways?)|"
               r"highlights)\b", _I),
    # "What is this article about?", not "What was Warner correct about?" (an adjective or participle before it)
    re.compile(r"^\s*what\s+(?:is|are|was|were)\s+(?:(?:the|this|that|these|those|it|they)\b[^?]*?\s+)?"
               r"(?<!ed )(?<!correct )(?<!right )(?<!wrong )(?<!sure )(?<!concerned )about\s*[?.!]*\s*$", _I),
    re.compile(r"^\s*what\s+(?:do|does|did)\s+(?:[\w'’.-]+\s+){1,5}(?:say|says|report|reports|write|writes)\s+about\b",
               _I),
    re.compile(r"^\s*what\s+(?:do|does|did)\s+(?:the|these|those|this|that|all)\s+(?:\w+\s+){0,2}"
               r"(?:articles?|documents?|reports?|stories|story|coverage|texts?|files?|sources?|papers?|news)\s+"
               r"(?:say|report|tell|write)\b", _I),
]
_COMPARE = [
    re.compile(r"\b(compare[sd]?|comparison|comparing|contrast(?:s|ed|ing)?|differ(?:s|ed|ence|ences)?|"
               r"versus|vs\.?)\b", _I),
    re.compile(r"\b(?:each|respectively|both)\s+(?:say|says|said|report|reports|reported|write|wrote|"
               r"cover|covered|tell)\b", _I),
    re.compile(r"\bwhat\s+do\s+.+\s+and\s+.+\s+(?:say|report|write)\b", _I),
]
_AUX_START = re.compile(r"^\s*(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|"
                        r"might|must|shall|isn't|aren't|wasn't|weren't|doesn't|don't|didn't|hasn't|haven't|"
                        r"hadn't|can't|won't)\b", _I)
_DEGREE = re.compile(r"\bhow\s+(?:many|much|long|old|far|large|big|tall|often|high|deep|wide|fast|heavy)\b", _I)
_ALTERNATIVE = re.compile(r"\bor\b(?!\s+not\b)", _I)
_WHY = re.compile(r"^\s*(?:(?:and|so|but)\s+)?(?:why\b|for what reasons?\b|what (?:caused|causes|led to|made)\b)", _I)
_HOW = re.compile(r"^\s*(?:(?:and|so|but)\s+)?how\b(?!\s+(?:many|much|long|old|far|large|big|tall|often|"
                  r"soon|high|deep|wide|fast|heavy|few|late|early|come)\b)", _I)
_LIST = [
    re.compile(r"\b(?:what|which)\s+(?:kinds?|types?|sorts?|ways?|forms?|examples?|steps?|measures?)\s+of\b", _I),
    re.compile(r"\bin\s+what\s+ways?\b|\bwhat\s+ways?\b", _I),
    re.compile(r"^\s*(?:list|name|enumerate)\s+(?:the|all|some|every)\b", _I),
    re.compile(r"^\s*what\s+(?:has|have|had)\s+.+\s+done\b", _I),
    re.compile(r"^\s*what\s+are\s+(?:the\s+)?(?:main\s+|different\s+|various\s+)?[a-z]+(?:ies|[^s's]s)\s+(?:of|for|in)\b",
               _I),
    re.compile(r"^\s*what\s+(?:did|does|do)\s+.+\s+(?:do|make\s+\w+\s+do)\b", _I),
]
# "Which witnesses testified ..., and what did they say?": a plural-noun wh-phrase joined to a second question.
_PLURAL_WH = re.compile(r"^\s*(?:what|which)\s+(?:[\w-]+\s+)?(?:[a-z]+(?:ies|[^s's]s))\b", re.I)
_SECOND_Q = re.compile(r",?\s+and\s+(?:what|how|why|who|which)\b", _I)
# "What sign-up bonuses do sportsbooks offer?", "Which museums does X run?": a plural-noun wh-phrase that is the
# object of the question's verb asks for every thing of that kind.
_PLURAL_OBJECT = re.compile(r"^\s*(?:what|which)\s+(?:[\w-]+\s+)?[a-z]+(?:ies|[^s's]s)\s+(?:do|does|did)\s", re.I)


def without_auxiliary(question: str) -> str:
    """`question` without the auxiliary that opens a yes/no question ("Did Messi play?" -> "Messi play?")."""
    return _AUX_START.sub(" ", question, count=1).strip()


def form_of(question: str) -> str:
    """The form `question` asks its answer in (one of `FORMS`)."""
    q = " ".join(question.split())
    if any(p.search(q) for p in _SUMMARY[:2]):  # "summarize", "overview", "main points": said outright
        return SUMMARY
    if _DEGREE.search(q):
        return FACT  # "How much less steam did X use compared to Y?" asks for a number
    if any(p.search(q) for p in _COMPARE):
        return COMPARE
    if any(p.search(q) for p in _SUMMARY[2:]):
        return SUMMARY
    if _AUX_START.match(q):
        return FACT if _ALTERNATIVE.search(q) else YESNO
    if _WHY.match(q):
        return WHY
    if any(p.search(q) for p in _LIST) or (_PLURAL_WH.match(q) and _SECOND_Q.search(q)) or _PLURAL_OBJECT.match(q):
        return LIST
    if _HOW.match(q):
        return HOW
    return FACT
