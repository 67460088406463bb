"""Property tests: whatever text is asked, the only outcomes are an `Answer` or a `UsageError` (exit code 2 in the
CLI), and an Answer's citations always quote the file exactly (`quote == file_text[start:end]`).

About 1,250 generated questions: ~1,100 against one warm `Assistant`, ~150 through `qa ask` in CliRunner.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings, strategies as st

from conftest import SEEDS, assert_well_formed
from index.errors import UsageError
from qa.conversation.question import MAX_CHARS
from qa.pipeline import Assistant, build_assistant
from qa.types import Answer, Citation
from ui.cli.main import main

pytestmark = pytest.mark.usefixtures("one_torch_thread", "clean_qa_env", "shared_model")

SEED_TEXT = "".join(p.read_text("utf-8") for p in sorted(SEEDS.iterdir()) if p.suffix == ".txt")
SEED_WORDS = sorted(set(re.findall(r"[A-Za-z][A-Za-z'-]+", SEED_TEXT)))
SEED_SENTENCES = [s.strip() for s in re.split(r"(?<=[.?!])\s+", SEED_TEXT) if len(s.strip()) > 20]
STARTS = ["Who", "What", "When", "Where", "Which", "Why", "How many", "How much", "In what year", "Did", ""]
BLANKS = " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u2028\u2029\u3000\x00\x07\x1b\x7f\u200b\u200e\ufeff\ue000"
RELAXED = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                     HealthCheck.large_base_example, HealthCheck.filter_too_much])

# --- strategies -----------------------------------------------------------------------------------------

any_text = st.text(max_size=300)
control_and_unicode = st.text(
    alphabet=st.characters(categories=["Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "So", "Lo", "Nd"]),
    max_size=200)
blank = st.text(alphabet=st.sampled_from(BLANKS), max_size=60)
seed_words = st.builds(lambda start, words, end: f"{start} {' '.join(words)}{end}".strip(),
                       st.sampled_from(STARTS), st.lists(st.sampled_from(SEED_WORDS), min_size=1, max_size=12),
                       st.sampled_from(["?", "", " ?", "?!", "\x00?", "\u200b?", "\n"]))
seed_sentence = st.builds(lambda s, cut, noise: s[:cut] + noise, st.sampled_from(SEED_SENTENCES),
                          st.integers(15, 400), st.text(alphabet=st.sampled_from(BLANKS + "?!.,"), max_size=4))
# Around the length limit: a short unit repeated to 3,900..4,100 characters (cleaned length may be less).
long_text = st.tuples(st.text(min_size=1, max_size=8), st.integers(3_900, 4_100)).map(
    lambda t: (t[0] * (t[1] // len(t[0]) + 1))[:t[1]])
very_long = st.tuples(st.sampled_from(SEED_WORDS), st.integers(4_001, 20_000)).map(
    lambda t: ((t[0] + " ") * t[1])[:t[1]])
mixed = st.lists(st.one_of(any_text, control_and_unicode, seed_words, blank), min_size=1, max_size=4).map("".join)


# --- the oracle -----------------------------------------------------------------------------------------

def _is_blank(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] == "C"


def required(question: str) -> str | None:
    """'usage' or 'answer' when the documented behaviour forces one, None when either is acceptable.

    Blank questions (only whitespace/control/format characters) are usage errors; questions whose visible
    characters alone exceed the limit are usage errors; a question with text and at most MAX_CHARS characters
    in all must be answered (an answer or an abstention).
    """
    visible = sum(not _is_blank(ch) for ch in question)
    if visible == 0 or visible > MAX_CHARS:
        return "usage"
    if len(question) <= MAX_CHARS:
        return "answer"
    return None


# --- against one warm Assistant -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def assistant(seed_index, embedder) -> Assistant:
    return build_assistant(seed_index, embedder=embedder)


def check_assistant(assistant: Assistant, seeds_dir, question: str, tally: Counter) -> None:
    must = required(question)
    try:
        answer = assistant.answer(question)
    except UsageError as exc:
        assert must != "answer", f"usage error for a valid question {question!r}: {exc}"
        assert exc.exit_code == 2
        tally["usage"] += 1
        return
    assert must != "usage", f"answered a question that should be refused: {question!r}"
    assert_well_formed(answer, seeds_dir)
    tally["abstained" if answer.abstained else "cited"] += 1


def outcomes(assistant: Assistant, seeds_dir, strategy, max_examples: int, examples=()) -> Counter:
    """Ask `max_examples` generated questions (plus `examples`); how many ended in each outcome.

    Each test asserts on its own tally, so none depends on which other tests ran before it.
    """
    tally: Counter = Counter()

    @settings(max_examples=max_examples, database=None, **RELAXED)
    @given(question=strategy)
    def run(question):
        check_assistant(assistant, seeds_dir, question, tally)

    for question in examples:
        run = example(question=question)(run)
    run()
    return tally


def test_any_text(assistant, seed_index):
    tally = outcomes(assistant, seed_index.seeds_dir, any_text, 400, ["", "?", "\x00"])
    assert tally["abstained"] >= 100 and tally["usage"] >= 2, tally


def test_questions_made_of_the_seed_text(assistant, seed_index):
    tally = outcomes(assistant, seed_index.seeds_dir, st.one_of(seed_words, seed_sentence), 300, [
        "What did Xi herald during his call with Putin?",
        "\x00Who said Russia would struggle to sustain its war effort without PRC inputs?\x07"])
    assert tally["cited"] >= 20, tally


def test_control_characters_and_unicode(assistant, seed_index):
    tally = outcomes(assistant, seed_index.seeds_dir, st.one_of(control_and_unicode, mixed), 200)
    assert tally["usage"] >= 1 and tally["abstained"] >= 1, tally


@settings(max_examples=100, **RELAXED)
@given(question=blank)
def test_blank_questions_are_usage_errors(assistant, question):
    with pytest.raises(UsageError):
        assistant.answer(question)


def test_long_questions(assistant, seed_index):
    tally = outcomes(assistant, seed_index.seeds_dir, st.one_of(long_text, very_long), 100, [
        "a" * MAX_CHARS, "a" * (MAX_CHARS + 1), "  " + "b" * MAX_CHARS + "\x00", "Xi " * 1400])
    assert tally["usage"] >= 10 and tally["abstained"] + tally["cited"] >= 1, tally


# --- through the CLI -----------------------------------------------------------------------------------

def _answer(data: dict) -> Answer:
    citations = tuple(Citation(**c) for c in data["citations"])
    return Answer(data["question"], data["text"], citations, data["abstained"], data["backend"])


@settings(max_examples=150, **RELAXED)
@given(question=st.one_of(any_text, seed_words, control_and_unicode, blank, long_text))
@example(question="--help")
@example(question="-x")
@example(question="")
def test_cli_ask(seed_index, question):
    runner = CliRunner()
    args = ["ask", "--seeds", str(seed_index.seeds_dir), "--db", str(seed_index.db_dir), "--json", "--", question]
    result = runner.invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception} for {question!r}")
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    must = required(question)
    if result.exit_code == 2:
        assert must != "answer", (question, result.stderr)
        assert result.stderr.startswith("error: ") and result.stdout == ""
        assert "Traceback" not in result.output
        return
    assert must != "usage", question
    assert_well_formed(_answer(json.loads(result.stdout)), seed_index.seeds_dir)
