"""The shared metric definitions (qa.evaluation.metrics), the eval aggregation, and `evaluate()` on seed-dev."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from conftest import EVAL
from index.errors import UsageError
from qa.evaluation import metrics as m
from qa.evaluation.runner import (
    Row,
    TurnRow,
    evaluate,
    is_conversation,
    read_questions,
    summarize,
    summarize_turns,
    turn_right,
)
from qa.types import Answer, Citation

SEED_DEV = EVAL / "seed-dev" / "questions.jsonl"


@dataclass
class Span:
    """Anything with source/start/end, like a Passage."""

    source: str
    start: int
    end: int


# --- normalize / strip_markers --------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("The Cat!", "cat"),
    ("An apple, a day", "apple day"),
    ("  Hello,\n\tWorld  ", "hello world"),
    ("theater anthem", "theater anthem"),          # articles only as whole words
    ("A", ""),
    ("don't", "dont"),                             # punctuation removed, not replaced by a space
    ("U.S. (PRC) \"inputs\"", "us prc inputs"),
    ("the the  an a", ""),
    ("Café — Ünïcode", "café — ünïcode"),          # only ASCII punctuation is removed, as in the SQuAD script
])
def test_normalize_is_the_squad_normalisation(text, expected):
    assert m.normalize(text) == expected


def test_strip_markers():
    assert m.strip_markers("one [1] two [12]").split() == ["one", "two"]
    assert m.strip_markers("[a] [1b] [ 1]") == "[a] [1b] [ 1]"


# --- contains_gold --------------------------------------------------------------------------------------

def test_contains_gold():
    answer = "Earlier this year Xi heralded a new year of growing coordination with Russia. [1]"
    assert m.contains_gold(answer, ["A new year of growing coordination with Russia"])
    assert m.contains_gold(answer, ["nothing", "GROWING coordination, with russia!"])
    assert m.contains_gold("filed by (ANI) [1]", ["ANI"])
    assert not m.contains_gold(answer, ["coordination with China"])
    assert not m.contains_gold(answer, [])


def test_contains_gold_ignores_markers_and_empty_golds():
    assert not m.contains_gold("Some sentence. [1]", ["1"])
    assert not m.contains_gold("Some sentence. [1] [2]", ["1 2"])
    assert not m.contains_gold("The sentence.", ["the", "", "  ", "!!"])  # golds that normalise to nothing


def test_contains_gold_matches_whole_words():
    assert not m.contains_gold("if Chinese companies provide support [1]", ["ANI"])


# --- token_f1 (values of the official SQuAD v1.1/v2.0 script's f1_score) -------------------------------

@pytest.mark.parametrize("prediction, golds, expected", [
    ("the cat sat on the mat", ["cat on mat"], 6 / 7),          # p 3/4, r 1
    ("Denver Broncos", ["Broncos"], 2 / 3),                      # p 1/2, r 1
    ("Broncos", ["Denver Broncos"], 2 / 3),                      # p 1, r 1/2
    ("Denver Broncos", ["Carolina Panthers"], 0.0),
    ("Denver Broncos", ["Carolina Panthers", "the Denver Broncos"], 1.0),   # best over golds
    ("the the cat cat cat", ["cat cat"], 0.8),                   # counts clip: common 2, p 2/3, r 1
    ("Santa Clara, California [1]", ["Santa Clara"], 0.8),       # markers stripped: p 2/3, r 1
    ("", ["anything"], 0.0),
    ("anything", [], 0.0),
    ("w x y z", ["y z e f g h"], 0.4),                            # p 2/4, r 2/6
    ("a b c d", ["c d e f g h"], 4 / 9),                          # "a" is an article: p 2/3, r 2/6
])
def test_token_f1_matches_the_squad_script(prediction, golds, expected):
    assert m.token_f1(prediction, golds) == pytest.approx(expected)


@pytest.mark.parametrize("prediction, golds, expected", [
    ("Denver Broncos", ["Denver Broncos"], 1.0),
    ("the Denver Broncos!", ["Denver Broncos"], 1.0),     # normalised as in the SQuAD script
    ("Denver Broncos [1]", ["denver broncos"], 1.0),       # markers stripped
    ("Broncos", ["Denver Broncos"], 0.0),
    ("Denver", ["Carolina", "denver"], 1.0),               # any gold
    ("anything", [], 0.0),
    ("", [""], 0.0),
])
def test_exact_match_is_the_squad_exact_match(prediction, golds, expected):
    assert m.exact_match(prediction, golds) == expected


# --- is_hit / first_hit_rank / evidence_recall ---------------------------------------------------------

EV = {"source": "a.txt", "start": 10, "end": 20}


@pytest.mark.parametrize("passage, hit", [
    (Span("a.txt", 10, 20), True),      # same span
    (Span("a.txt", 0, 11), True),       # overlaps the first character
    (Span("a.txt", 19, 30), True),      # overlaps the last character
    (Span("a.txt", 0, 10), False),      # ends where the evidence starts (half-open spans)
    (Span("a.txt", 20, 30), False),     # starts where the evidence ends
    (Span("a.txt", 12, 15), True),      # inside
    (Span("a.txt", 0, 100), True),      # contains it
    (Span("b.txt", 10, 20), False),     # another file
    (Span("a.txt", 30, 40), False),
])
def test_is_hit_is_same_file_and_overlapping_span(passage, hit):
    assert m.is_hit(passage, EV) is hit


def test_first_hit_rank():
    passages = [Span("b.txt", 10, 20), Span("a.txt", 0, 10), Span("a.txt", 15, 25), Span("a.txt", 10, 20)]
    assert m.first_hit_rank(passages, [EV]) == 3
    assert m.first_hit_rank(passages, [{"source": "b.txt", "start": 0, "end": 11}, EV]) == 1
    assert m.first_hit_rank(passages[:2], [EV]) is None
    assert m.first_hit_rank([], [EV]) is None
    assert m.first_hit_rank(passages, []) is None


def test_evidence_recall():
    ev2 = {"source": "a.txt", "start": 100, "end": 120}
    both = [EV, ev2]
    assert m.evidence_recall([Span("a.txt", 0, 15)], both) == 0.5
    assert m.evidence_recall([Span("a.txt", 0, 15), Span("a.txt", 110, 200)], both) == 1.0
    assert m.evidence_recall([Span("a.txt", 0, 15), Span("a.txt", 12, 18)], both) == 0.5  # no double count
    assert m.evidence_recall([Span("a.txt", 0, 500)], both) == 1.0                         # one passage, two spans
    assert m.evidence_recall([Span("b.txt", 0, 500)], both) == 0.0
    assert m.evidence_recall([], both) == 0.0
    assert m.evidence_recall([Span("a.txt", 0, 15)], []) == 0.0


def test_percentile_nearest_rank():
    assert m.percentile([], 50) == 0.0
    assert m.percentile([5.0], 95) == 5.0
    assert m.percentile([3, 1, 2], 50) == 2
    assert m.percentile(list(range(1, 101)), 0) == 1 and m.percentile(list(range(1, 101)), 100) == 100


# --- aggregation -----------------------------------------------------------------------------------------

def test_summarize_aggregates_rows():
    rows = [
        Row("q1", "answerable", True, rank=1, recall4=1.0, recall10=1.0, contains=True, f1=1.0, seconds=0.01),
        Row("q2", "answerable", True, rank=2, recall4=1.0, recall10=1.0, contains=False, f1=0.5, seconds=0.02),
        Row("q3", "answerable", True, rank=None, abstained=True, valid=True, seconds=0.03),
        Row("u1", "unanswerable", False, abstained=True, seconds=0.04),
        Row("u2", "unanswerable", False, abstained=False, valid=False, seconds=0.05),
    ]
    report = summarize(rows)
    o = report["overall"]
    assert (o["questions"], o["answerable"], o["unanswerable"]) == (5, 3, 2)
    assert o["hits@1"] == pytest.approx(1 / 3, abs=1e-4) and o["hits@4"] == pytest.approx(2 / 3, abs=1e-4)
    assert o["mrr@10"] == 0.5
    assert o["answer_contains_gold"] == pytest.approx(1 / 3, abs=1e-4) and o["token_f1"] == 0.5
    assert o["abstention_recall"] == 0.5 and o["abstention_precision"] == 0.5
    assert o["wrongly_abstained"] == pytest.approx(1 / 3, abs=1e-4)
    assert o["citation_validity"] == 0.8
    assert o["latency_p50_ms"] == 30.0
    assert set(report["by_type"]) == {"answerable", "unanswerable"}
    assert report["by_type"]["unanswerable"]["hits@1"] is None


def test_summarize_reports_short_answers():
    rows = [Row("q1", "answerable", True, typed=True, short=True, short_em=1.0, short_f1=1.0),
            Row("q2", "answerable", True, typed=True, short=False, short_f1=0.5),
            Row("q3", "answerable", True, typed=False, short_f1=0.2),
            Row("q4", "answerable", True, typed=True, abstained=True),
            Row("u1", "unanswerable", False, abstained=True)]
    o = summarize(rows)["overall"]
    assert o["short_exact_match"] == 0.25 and o["short_f1"] == pytest.approx(1.7 / 4, abs=1e-4)
    assert o["short_f1_typed"] == 0.5        # over typed answerable rows, abstentions count 0
    assert o["short_given_typed"] == 0.5     # of typed rows answered, how many got a short answer


def cited(source="a.txt", start=10, end=20) -> Answer:
    c = Citation(1, source, "t", "", start, end, 1, 1, "x" * (end - start), 1.0)
    return Answer("q", "The Denver Broncos won. [1]", (c,), False, "extractive")


def test_turn_right():
    turn = {"kind": "pronoun", "answers": ["Denver Broncos"], "evidence": [EV]}
    assert turn_right(turn, cited())
    assert not turn_right(turn, cited(start=30, end=40))                       # gold text, wrong place
    assert not turn_right({**turn, "answers": ["Carolina"]}, cited())           # right place, no gold
    abstained = Answer("q", "not found", (), True, "extractive")
    assert not turn_right(turn, abstained)
    assert turn_right({"kind": "off-topic", "answers": [], "evidence": []}, abstained)
    assert not turn_right({"kind": "off-topic", "answers": [], "evidence": []}, cited())


def test_summarize_turns_per_kind_in_the_set_order():
    rows = [TurnRow("c1.1", "first", True, False, True, 0.01), TurnRow("c1.2", "off-topic", True, True, True, 0.02),
            TurnRow("c1.3", "pronoun", False, False, True, 0.3), TurnRow("c2.1", "first", False, False, False, 0.01)]
    report = summarize_turns(rows)
    assert list(report["by_type"]) == ["first", "pronoun", "off-topic"]
    o = report["overall"]
    assert (o["turns"], o["right"], o["turns_right"], o["abstained"]) == (4, 2, 0.5, 1)
    assert o["citation_validity"] == 0.75
    assert report["by_type"]["first"]["turns_right"] == 0.5 and report["by_type"]["pronoun"]["right"] == 0


def test_conversation_files_are_recognised(tmp_path):
    assert is_conversation(read_questions(EVAL / "conversations-dev" / "conversations.jsonl"))
    assert not is_conversation(read_questions(SEED_DEV)) and not is_conversation([])


def test_read_questions(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "question": "x"}\n\n{"id": "b", "question": "y"}\n', "utf-8")
    assert [r["id"] for r in read_questions(path)] == ["a", "b"]
    assert [r["id"] for r in read_questions(path, limit=1)] == ["a"]
    path.write_text("{not json\n", "utf-8")
    with pytest.raises(UsageError):
        read_questions(path)
    with pytest.raises(UsageError):
        read_questions(tmp_path / "missing.jsonl")


# --- evaluate() on seed-dev ------------------------------------------------------------------------------

@pytest.mark.usefixtures("one_torch_thread", "shared_model")
def test_evaluate_seed_dev(seed_index):
    questions = read_questions(SEED_DEV)
    calls = []
    report = evaluate(questions, seed_index, progress=lambda done, total: calls.append((done, total)))
    o = report["overall"]
    assert calls[-1] == (12, 12) and len(calls) == 12
    assert (o["questions"], o["answerable"], o["unanswerable"]) == (12, 10, 2)
    assert o["citation_validity"] == 1.0
    assert o["abstention_recall"] == 1.0
    assert o["hits@10"] == 1.0  # every chunk of the one seed file is among the top 10
    for key in ("hits@1", "mrr@10", "answer_contains_gold", "token_f1", "evidence_recall@4", "short_exact_match",
                "short_f1", "short_f1_typed"):
        assert 0.0 <= o[key] <= 1.0, key
    assert o["short_given_typed"] > 0, "typed seed questions get short answers"
    assert o["latency_p95_ms"] >= o["latency_p50_ms"] > 0


# --- real documents (realdocs-dev, realdocs-own) ---------------------------------------------------------

def on_page(text: str, source: str = "manual.pdf", page: int | None = 8) -> Answer:
    c = Citation(1, source, "t", "", 0, 10, 1, 1, "x" * 10, 1.0, page=page)
    return Answer("q", text, (c,), False, "extractive")


def test_real_right_needs_the_phrase_and_the_gold_file_and_page():
    from qa.evaluation.runner import gold_file_cited, real_right

    item = {"id": "rd07", "kind": "number", "answers": ["14-point"], "source": "manual.pdf", "pages": [8]}
    assert real_right(item, on_page("The default font is 14-point\n  Times-Roman. [1]"))
    assert real_right(item, on_page("The default font is 14-POINT [1]"))                  # case folded
    assert not real_right(item, on_page("The default font is 14-point. [1]", page=9))    # wrong page
    assert not real_right(item, on_page("The default font is 14-point. [1]", source="other.pdf"))
    assert not real_right(item, on_page("Fonts are Times-Roman. [1]"))                   # no gold phrase
    assert gold_file_cited(item, on_page("x").citations) and not gold_file_cited(item, on_page("x", page=1).citations)
    html = {"id": "rd01", "kind": "number", "answers": ["1,600"], "source": "limits.html"}
    assert real_right(html, on_page("columns per table | 1,600 [1]", source="limits.html", page=None))
    off = {"id": "rd40", "kind": "off-topic", "answers": [], "unanswerable": True}
    assert real_right(off, Answer("q", "not found", (), True, "extractive")) and not real_right(off, on_page("x"))


def test_real_documents_report_right_and_gold_file_per_kind():
    from qa.evaluation.runner import RealRow, is_real_documents, summarize_real

    assert is_real_documents(read_questions(EVAL / "realdocs-dev" / "questions.jsonl"))
    assert is_real_documents(read_questions(EVAL / "realdocs-own" / "questions.jsonl"))
    assert not is_real_documents(read_questions(SEED_DEV))
    rows = [RealRow("a", "number", True, True, False, True, 0.01), RealRow("b", "number", False, True, False, True, 0.02),
            RealRow("c", "what-is", False, False, False, True, 0.01), RealRow("d", "off-topic", True, False, True, True, 0.01)]
    report = summarize_real(rows)
    assert list(report["by_type"]) == ["number", "what-is", "off-topic"]
    o = report["overall"]
    assert (o["questions"], o["right"], o["share_right"], o["gold_file_cited"], o["abstained"]) == (4, 2, 0.5, 0.6667, 1)
    assert report["by_type"]["number"]["gold_file_cited"] == 1.0 and report["answers"]["b"]["right"] is False


def test_realdocs_corpus_is_the_packaged_files_unchanged():
    """The vendored corpus matches the sha256 list of its fetch.sh (files copied from the Debian packages)."""
    import hashlib
    import re

    folder = EVAL / "realdocs-dev"
    listed = dict(re.findall(r"^(\S+)\t\S+\t/\S+\t([0-9a-f]{64})$", (folder / "fetch.sh").read_text("utf-8"), re.M))
    assert len(listed) == 34 and sorted(listed) == sorted(p.name for p in (folder / "corpus").iterdir())
    for name, digest in listed.items():
        assert hashlib.sha256((folder / "corpus" / name).read_bytes()).hexdigest() == digest, name
