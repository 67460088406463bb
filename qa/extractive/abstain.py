"""When the sentences an answer would cite do not answer the question, even though they match its words.

SQuAD 2.0's unanswerable questions are written to look answerable. They reuse a paragraph's words and
change one thing: they add a negation, state a number the text does not have, or ask for a date or
amount the text does not give. For a single wh-question (at most `MAX_WORDS` words, not yes/no), each
of these is evidence for abstaining:

* negation: the question negates (not, never, no, none, nothing, neither, nor, cannot, n't or n’t) and no
  cited sentence does;
* number: a number the question writes in digits ("in 1066", "3 layers") is in no cited sentence;
* type: a when / how-many question, and no cited sentence holds a date or number other than the
  question's own words, of the kind its wording asks for (a share for "what percentage");
* present: the question asks about the present moment (today, now, currently, this week) and no cited
  sentence speaks of the present (the documents are dated: "the exchange rate today" is not theirs), nor uses
  the question's own word for it ("the latest valuation");
* name: a capitalised word of the question (not its first), or a word of letters and digits ("aria2c"),
  occurs nowhere in the retrieved passages, allowing for accents, a shared five-letter stem and one or two
  typing slips. The passages are then about something else;
* focus (`unfocused`, asked by the answerer, which has the word vectors): the question has words beyond its
  names and function words ("Who was named MVP of the 2023 World Series?": "named"; "MVP" is a name), and
  not one of them is in the cited sentences, as itself, a shared five-letter stem or a close word-vector
  neighbour (`FOCUS_NEAR`). The sentence then shares only the subject with the question, a near miss.

An outlet, author or day the question names ("according to TechCrunch", "Fortune ran an AP story on
October 20") constrains the source, not the fact: retrieval favours those sources (`qa.retrieval.sources`), and here
the cited documents' front matter (`source`, `author`, publication date: `about`) counts as said, so the
name and number checks do not abstain for want of the outlet's name in the sentence.

Long and yes/no questions (MultiHop-RAG's style) compare facts across documents, so these checks do not
apply to them.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

import numpy as np

from index.snapshot.lexical import tokenize
from qa.extractive.shortanswer import DATE, NUMBER, asks_share, short_answer, shown
from qa.knowledge.mentions import fold, within_edits
from qa.retrieval.sources import named_days

MAX_WORDS = 20
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_YESNO = re.compile(r"^\s*(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|might)\b", re.I)
_NEG = re.compile(r"\b(?:not|never|no|none|nothing|neither|nor|cannot)\b|n['’]t\b", re.I)
_NEG_IDIOM = re.compile(r"\b(?:or not|may not|might not|not only|no longer|not yet)\b", re.I)
_DIGITS = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?!\w|\.\d)")
_NOW_ASKED = re.compile(r"\b(today|now|nowadays|currently|current|right now|at present|presently|tonight|tomorrow|"
                        r"this (?:week|weekend|month|year)|latest)\b", re.I)
_NOW_SAID = re.compile(r"\b(today|now|nowadays|currently|current|present|presently|still|recent|recently|modern|"
                       r"this (?:week|month|year))\b", re.I)
_NOT_NAMES = frozenset("""january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday i what which who whom whose when where why how the a an in
on at of for by from to and or is are was were did does do has have had he she it they his her its their this that
these those""".split())
_SMALL = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
          "seventeen eighteen nineteen twenty").split()


def is_single_wh(question: str) -> bool:
    """A short question that is not a yes/no question: the checks below are made for these."""
    return len(_WORD.findall(question)) <= MAX_WORDS and not _YESNO.match(question)


def reasons(question: str, sentences: Sequence[str], kind: str | None = None, context: str = "",
            about: str = "") -> list[str]:
    """Why `sentences` (the cited ones, best first) do not answer `question`: "negation", "number",
    "type", "present", "name"; empty when nothing speaks against them. `kind` is the question's answer type,
    `context` the text of the retrieved passages, `about` the cited documents' front matter (`front_matter`)."""
    if not sentences or not is_single_wh(question):
        return []
    text = " ".join(sentences)
    out = []
    if _NEG.search(_NEG_IDIOM.sub(" ", question)) and not _NEG.search(text):
        out.append("negation")
    if _numbers(question, words=False) - _numbers(f"{text} {about}"):
        out.append("number")
    if kind in (DATE, NUMBER) and not any(_typed(question, s, kind) for s in sentences):
        out.append("type")
    if _NOW_ASKED.search(question) and not _NOW_SAID.search(text) and not _now_repeated(question, text):
        out.append("present")
    if context and _unseen_name(question, f"{text} {context} {about}"):
        out.append("name")
    return out


def _now_repeated(question: str, text: str) -> bool:
    """The cited text itself uses the question's word for the present ("its latest valuation" asked of a
    sentence about "the latest valuation"): the present is the text's own, not the reader's today."""
    return any(re.search(rf"\b{re.escape(m.group(1).lower())}\b", text.lower()) for m in _NOW_ASKED.finditer(question))


def context(passages) -> str:
    """The retrieved passages' text with their titles: what the evidence is about (for "name")."""
    return " ".join(f"{p.title} {p.text}" for p in passages)


def _typed(question: str, sentence: str, kind: str) -> bool:
    """`sentence` holds a phrase of the asked type, a share when the wording asks for one ("what
    percentage"). (Asking for a year the same way cost squad-dev 0.009 of answers: a sentence may give
    the year in words the patterns miss.)"""
    phrase = short_answer(question, sentence, kind)
    return phrase is not None and (not asks_share(question) or shown(question, phrase, sentence))


def dates_source(question: str, meta: dict) -> bool:
    """The question names a day ("on October 20", "2023-10-20") and the document was published that day: the
    day constrains the source (`qa.retrieval.sources.named_days`), whatever the document's text says."""
    return str(meta.get("published") or "")[5:10] in named_days(question)


def front_matter(metas: Iterable[dict]) -> str:
    """The source facts of the cited documents, as words the checks can find: outlet (`site`), author,
    the publication day as separate numbers ("2023-10-20T08:00" -> "2023 10 20") and the words of the
    file's name ("ssh-readme-tun.txt" -> "ssh readme tun txt")."""
    out = []
    for meta in metas:
        day = str(meta.get("published") or "")[:10]
        parts = [str(int(x)) for x in day.split("-") if x.isdigit()]
        # the file's own name names the document too ("the OpenSSH tunnel README": ssh-readme-tun.txt)
        name = re.sub(r"[\W_]+", " ", str(meta.get("source") or "").rsplit("/", 1)[-1])
        out += [str(meta.get("site") or ""), str(meta.get("author") or ""), " ".join(parts), name]
    return " ".join(w for w in out if w and w != "None")


# A word that letters and then digits make a name of, in any case: a program or format ("aria2c", "python3", "mp3").
_NAMELIKE = re.compile(r"[A-Za-z]+\d+[A-Za-z\d]*")


def _unseen_name(question: str, text: str) -> bool:
    """A capitalised question word (not the first, not a month or a function word), or a word of letters and
    digits (`_NAMELIKE`), that `text` lacks."""
    names = [fold(re.sub(r"['’]s$", "", w)) for n, w in enumerate(_WORD.findall(question))
             if (n and w[:1].isupper() and w.lower() not in _NOT_NAMES and not (w.isupper() and len(w) <= 2))
             or _NAMELIKE.fullmatch(w)]
    lowered = text.lower()
    missing = [w for w in names if not re.search(rf"\b{re.escape(w)}\b", lowered)]
    if not missing:
        return False
    vocab = set(_WORD.findall(fold(text)))
    return any(not _near(w, vocab) for w in missing)


# "What is the default HISTSIZE in zsh?": the program, language or place the question is about, last.
_SCOPE = re.compile(r"\b(?:in|for)\s+(?:(?:a|an|the)\s+)?([A-Za-z][\w.+-]*\w)\s*[?.!]*\s*$")


def scope(question: str) -> str | None:
    """The word a short wh-question ends on after "in" or "for" ("... in zsh?" -> "zsh"): what the answer must be
    about. None for other questions, or when that word is a function word or shorter than 3 letters."""
    if not is_single_wh(question):
        return None
    m = _SCOPE.search(question)
    word = fold(m.group(1)) if m else ""
    return word if len(word) >= 3 and word not in _NOT_NAMES else None


def unseen_scope(question: str, words: set[str]) -> bool:
    """The question's scope (`scope`) is not among `words`, the words of the documents an answer cites (allowing
    a shared five-letter stem and typing slips): those documents are about another program or place ("the
    default HISTSIZE in zsh" answered from the bash manual)."""
    word = scope(question)
    return word is not None and not _near(word, words)


def words_of(text: str) -> set[str]:
    """The folded words of `text`, as `unseen_scope` compares them."""
    return set(_WORD.findall(fold(text)))


def _near(word: str, vocab: set[str]) -> bool:
    """`word` or a variant of it (a shared five-letter stem, one or two edits) is in `vocab`."""
    if word in vocab:
        return True
    if len(word) >= 5 and any(v.startswith(word[:5]) or word.startswith(v[:5]) and len(v) >= 5 for v in vocab):
        return True
    k = 2 if len(word) > 6 else 1
    return len(word) >= 4 and any(within_edits(word, v, k) for v in vocab)


def _numbers(text: str, words: bool = True) -> set[str]:
    """Numbers written in digits (commas dropped) and, with `words`, the number words zero to twenty."""
    out = {m.group().replace(",", "") for m in _DIGITS.finditer(text)}
    if words:
        low = f" {text.lower()} "
        out |= {str(n) for n, w in enumerate(_SMALL) if f" {w} " in low or f" {w}-" in low}
    return out


# Closed-class words (wh-words, auxiliaries, pronouns, determiners, quantifiers, prepositions, conjunctions):
# grammar, not what a question asks about.
_CLOSED = frozenset("""what which who whom whose when where why how is are was were be been being am do does did done
has have had having can could will would shall should may might must i me my we us our you your he him his she her it
its they them their this that these those there here one ones a an the some any many much more most few several all
each every other another such no not of in on at by for from to into onto with without about above below over under
after before during since until between among through across against per via toward towards within upon and or but
nor so if than then as because while whether also only just very too still ever even get got""".split())
_FOCUS_WORD = re.compile(r"[A-Za-z][\w'’-]*")
# A question word counts as said when a word of the cited sentences is this close to it (cosine of the single-word
# vectors of the bundled encoder). Chosen on squad-dev, leave-one-article-out, as the largest value that keeps the
# extra answerable abstentions of the training articles within 2 % (README, "Near misses"): 0.5 on 6 of 8 folds.
FOCUS_NEAR = 0.5


def focus_words(question: str) -> list[str]:
    """The words of a short wh-question that say what it asks about, beyond its subject: lower-case (a
    capitalised word past the first is a name), at least three letters, not a function word or a stop word.
    Empty for other questions."""
    if not is_single_wh(question):
        return []
    out = []
    for n, word in enumerate(_FOCUS_WORD.findall(question)):
        low = word.lower()
        if (n and word[:1].isupper()) or len(low) < 3 or low in _CLOSED or not tokenize(low):
            continue
        out.append(low)
    return list(dict.fromkeys(out))


def unfocused(question: str, sentences: Sequence[str], vectors: Callable[[list[str]], np.ndarray],
              near: float = FOCUS_NEAR) -> bool:
    """No focus word of `question` (`focus_words`) is in `sentences`: not as itself (same stem), not with a
    shared five-letter stem, and no word of theirs has a vector within `near` of it (`vectors` gives unit
    vectors of single words). False when the question has no focus words."""
    focus = focus_words(question)
    if not focus:
        return False
    text = " ".join(sentences)
    stems = set(tokenize(text))
    words = sorted({w.lower() for w in _FOCUS_WORD.findall(text) if tokenize(w.lower())})
    rest = [w for w in focus if not set(tokenize(w)) <= stems
            and not (len(w) >= 5 and any(len(v) >= 5 and v[:5] == w[:5] for v in words))]
    if len(rest) < len(focus) or not words:
        return len(rest) == len(focus)
    sims = vectors(rest) @ vectors(words).T
    return float(sims.max()) < near
