"""The `qa` command through click's CliRunner (index, ask, eval, exit codes), plus the real console script once."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import EVAL, REPO, SEEDS, assert_well_formed
from index.settings import IndexSettings
from qa.pipeline import build_assistant
from qa.types import Answer, Citation, Passage, Short
from qa.wording import NOT_FOUND
from ui.cli.main import main

pytestmark = pytest.mark.usefixtures("one_torch_thread", "clean_qa_env", "shared_model")

XI = "What did Xi herald during his call with Putin?"
CAVOLI = "Who is the commander of US European Command?"
OFF_TOPIC = "What is the tallest mountain in Africa?"
REPORT_KEYS = {"files", "chunks", "added", "updated", "removed", "unchanged", "skipped", "seconds"}
METRIC_KEYS = {"hits@1", "mrr@10", "answer_contains_gold", "citation_validity", "abstention_recall"}
SEED_FILE = "000_ce4e22ba4c4cf3bd.txt"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def first_index(tmp_path_factory) -> tuple[IndexSettings, dict]:
    """Seeds copied to tmp and indexed once by `qa index --json` itself: the settings and that first report."""
    root = tmp_path_factory.mktemp("cli")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds, copy_function=shutil.copyfile)
    settings = IndexSettings(seeds_dir=seeds, db_dir=root / "db")
    result = CliRunner().invoke(main, ["index", "--seeds", str(seeds), "--db", str(settings.db_dir), "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return settings, json.loads(result.stdout)


@pytest.fixture
def indexed(first_index) -> IndexSettings:
    return first_index[0]


def where(settings: IndexSettings) -> list[str]:
    return ["--seeds", str(settings.seeds_dir), "--db", str(settings.db_dir)]


def ask(runner: CliRunner, settings: IndexSettings, question: str, *flags: str):
    return runner.invoke(main, ["ask", *where(settings), *flags, "--", question])


def answer_from_json(data: dict) -> Answer:
    """Rebuild an `Answer` from `ask --json` output (checks the object has the Answer's fields, the text
    under `answer` and, for one more release, under its old name `text` too)."""
    assert data["text"] == data.pop("answer")
    cites = tuple(Citation(**c) for c in data.pop("citations"))
    passages = tuple(Passage(**p) for p in data.pop("passages"))
    related = tuple(Passage(**p) for p in data.pop("related"))
    short = data.pop("short")
    return Answer(citations=cites, passages=passages, related=related, short=Short(**short) if short else None, **data)


def test_index_json_prints_the_report(first_index):
    report = first_index[1]
    assert REPORT_KEYS <= set(report)
    assert (report["files"], report["added"], report["updated"], report["removed"]) == (1, 1, 0, 0)
    assert report["unchanged"] == 0 and report["chunks"] >= 1 and report["skipped"] == []
    assert isinstance(report["seconds"], (int, float)) and report["seconds"] >= 0


def test_second_index_run_changes_nothing(runner, indexed, first_index):
    result = runner.invoke(main, ["index", *where(indexed), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert REPORT_KEYS <= set(report)
    assert (report["files"], report["added"], report["updated"], report["removed"], report["unchanged"]) == (1, 0, 0, 0, 1)
    assert report["chunks"] == first_index[1]["chunks"]


def test_plain_index_prints_a_summary(runner, indexed):
    result = runner.invoke(main, ["index", *where(indexed)])
    assert result.exit_code == 0
    assert "1 files" in result.stdout and "1 unchanged" in result.stdout


def test_ask_json_gives_an_answer_object(runner, indexed):
    result = ask(runner, indexed, XI, "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout.count("\n") == 1, "one JSON object on one line"
    answer = answer_from_json(json.loads(result.stdout))
    assert answer.question == XI and not answer.abstained
    assert "growing coordination with Russia" in answer.text
    assert_well_formed(answer, indexed.seeds_dir)


def test_ask_json_carries_the_short_answer(runner, indexed):
    result = ask(runner, indexed, CAVOLI, "--json")
    assert result.exit_code == 0, result.output
    answer = answer_from_json(json.loads(result.stdout))
    assert answer.short == Short("Chris Cavoli", answer.short.start, answer.short.end, 1, "person")
    text = (indexed.seeds_dir / SEED_FILE).read_text("utf-8")
    assert text[answer.short.start:answer.short.end] == "Chris Cavoli"
    assert_well_formed(answer, indexed.seeds_dir)


def test_plain_ask_prints_the_short_answer_first(runner, indexed):
    result = ask(runner, indexed, CAVOLI)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Answer: Chris Cavoli [1]\n")


def test_chat_follows_up_in_the_terminal(runner, indexed):
    script = (f"{CAVOLI}\n\nWhat did he tell lawmakers?\nWhen did he say that?\n/new\nWhen did he say that?\n"
              "exit\nnever asked\n")
    result = runner.invoke(main, ["chat", *where(indexed)], input=script)
    assert result.exit_code == 0, (result.output, result.exception)
    blocks = [" ".join(b.split()) for b in result.stdout.split("you> ")]
    asked = [b for b in blocks if b.startswith(("Who is", "What did", "When did"))]
    assert len(asked) == 4 and "never asked" not in result.stdout
    assert "Answer: Chris Cavoli [1]" in asked[0]
    assert '"quite successful"' in asked[1], "the follow-up resolves 'he' to Cavoli from the history"
    assert "Answer: this week" in asked[2], "'that' is what he told lawmakers, said this week"
    assert NOT_FOUND in asked[3], "after /new the same follow-up has nothing to refer to"
    assert "new conversation" in result.stderr


def readme_chat_transcripts() -> list[str]:
    """The README's ```console blocks that show a `qa chat` session."""
    import re

    text = (REPO / "README.md").read_text("utf-8")
    return [b for b in re.findall(r"^```console\n(.*?)^```", text, re.S | re.M) if b.startswith("$ qa chat")]


def test_readme_chat_transcript_is_what_qa_chat_prints(runner, indexed):
    """Every `you>` line of the README's transcript is asked in order; every other line shown must be printed,
    in that order (the transcript may leave lines out)."""
    transcripts = readme_chat_transcripts()
    assert transcripts, "the README shows a qa chat session"
    for block in transcripts:
        lines = block.splitlines()[1:]
        questions = [line[len("you> "):] for line in lines if line.startswith("you> ")]
        result = runner.invoke(main, ["chat", *where(indexed)], input="\n".join(questions) + "\n")
        assert result.exit_code == 0, result.output
        out, at = " ".join(result.stdout.split()), 0
        for line in lines:
            shown = " ".join(line.split())
            found = out.find(shown, at)
            assert found >= 0, f"README line not printed (in order): {line!r}\n{result.stdout}"
            at = found + len(shown)


def test_chat_reports_a_bad_question_and_goes_on(runner, indexed):
    result = runner.invoke(main, ["chat", *where(indexed)], input="why " * 1250 + "\n" + CAVOLI + "\n")
    assert result.exit_code == 0, result.output
    assert "limit" in result.stderr and "Answer: Chris Cavoli" in result.stdout


def test_chat_reports_a_failing_llm_server_and_keeps_the_conversation(runner, indexed):
    """An `LLMError` used to end `qa chat`, and the conversation with it."""
    from llm_stub import StubLLM

    replies = ["Gen. Chris Cavoli is the commander of US European Command [1].", "What did Chris Cavoli tell lawmakers?",
               "Cavoli told lawmakers that Russia has been quite successful at reconstituting its military [1]."]
    with StubLLM(replies, failures=1) as stub:
        env = {"QA_LLM_BASE_URL": stub.url, "QA_LLM_MODEL": "stub"}
        script = f"{CAVOLI}\n{CAVOLI}\nWhat did he tell lawmakers?\n"
        result = runner.invoke(main, ["chat", "--llm", "openai", *where(indexed)], input=script, env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"error: LLM server at {stub.url} returned HTTP 500" in result.stderr
    assert "the conversation is kept" in result.stderr
    assert replies[0] in result.stdout and "quite successful" in result.stdout
    rewrite = [m["content"] for m in stub.messages(2)]
    assert rewrite[1:3] == [CAVOLI, replies[0]]  # the answered turn is the history; the failed one is not


def test_eval_conversations_reports_turns_right_per_kind(runner, tmp_path):
    result = runner.invoke(main, ["eval", "conversations-dev", "--db", str(tmp_path / "db"), "--limit", "2", "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    report = json.loads(result.stdout)
    assert report["overall"]["turns"] == 8 and set(report["by_type"]) == {"first", "pronoun", "metadata", "off-topic",
                                                                          "topic-shift"}
    assert 0 <= report["overall"]["right"] <= 8 and report["overall"]["citation_validity"] == 1.0
    assert (tmp_path / "db" / "seeds" / "manifest.json").is_file(), "each named corpus is indexed under --db"


def test_ask_json_with_k(runner, indexed):
    result = ask(runner, indexed, XI, "--json", "--k", "2")
    assert result.exit_code == 0
    answer = answer_from_json(json.loads(result.stdout))
    assert_well_formed(answer, indexed.seeds_dir)


def test_plain_ask_prints_the_answer_then_sources_with_lines_and_quotes(runner, indexed, embedder):
    expected = build_assistant(indexed, embedder=embedder).answer(XI)
    assert expected.citations
    result = ask(runner, indexed, XI)
    assert result.exit_code == 0, result.output
    out = result.stdout
    squashed = "".join(out.split())
    first = out.index(f"[{expected.citations[0].n}] ")  # the first source heading, after the answer text
    assert "".join(expected.text.split()) in "".join(out[:first].split())
    for c in expected.citations:
        assert c.location() in out and f"{SEED_FILE}, line" in out
        assert "".join(f"“{c.quote}”".split()) in squashed
        assert out.index(c.location()) > first
        assert c.title in out and c.published in out


def test_ask_off_topic_abstains_with_exit_code_0(runner, indexed):
    result = ask(runner, indexed, OFF_TOPIC)
    assert result.exit_code == 0, result.output
    assert NOT_FOUND in result.stdout
    assert "Closest passages" in result.stdout and SEED_FILE in result.stdout
    assert "“" not in result.stdout  # no quote is offered as the answer
    data = json.loads(ask(runner, indexed, OFF_TOPIC, "--json").stdout)
    assert data["abstained"] is True and data["citations"] == [] and data["related"]


@pytest.mark.parametrize("question", ["", "   ", "\t\n"], ids=["empty", "spaces", "whitespace"])
def test_empty_question_exits_2(runner, indexed, question):
    result = ask(runner, indexed, question)
    assert result.exit_code == 2
    assert "error:" in result.stderr and "empty" in result.stderr
    assert result.stdout == ""


def test_over_long_question_exits_2(runner, indexed):
    result = ask(runner, indexed, "why " * 1250)
    assert result.exit_code == 2 and "limit" in result.stderr


@pytest.mark.parametrize("k", ["0", "51", "-3", "four"])
def test_bad_k_exits_2(runner, indexed, k):
    result = runner.invoke(main, ["ask", *where(indexed), "--k", k, XI])
    assert result.exit_code == 2
    assert "--k" in result.output
    assert isinstance(result.exception, SystemExit)


def test_missing_index_exits_1_with_the_message(runner, tmp_path, indexed):
    result = runner.invoke(main, ["ask", "--seeds", str(indexed.seeds_dir), "--db", str(tmp_path / "nothing"), XI])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "error: no index found" in result.stderr and "qa index" in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


def test_index_of_a_missing_seeds_dir_exits_1_with_a_message(runner, tmp_path):
    result = runner.invoke(main, ["index", "--seeds", str(tmp_path / "no-such-seeds"), "--db", str(tmp_path / "db")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "does not exist" in result.stderr and "no-such-seeds" in result.stderr
    assert "Traceback" not in result.output


def test_eval_json_prints_the_metrics(runner, tmp_path):
    questions = EVAL / "seed-dev" / "questions.jsonl"
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds, copy_function=shutil.copyfile)
    db = tmp_path / "db"
    result = runner.invoke(main, ["eval", str(questions), "--seeds", str(seeds), "--db", str(db), "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    report = json.loads(result.stdout)
    overall = report["overall"]
    assert METRIC_KEYS <= set(overall)
    assert (overall["questions"], overall["answerable"], overall["unanswerable"]) == (12, 10, 2)
    assert overall["citation_validity"] == 1.0 and overall["abstention_recall"] == 1.0
    for key in METRIC_KEYS:
        assert 0.0 <= overall[key] <= 1.0, key
    assert (db / "manifest.json").is_file(), "eval indexed the corpus into --db"
    limited = runner.invoke(main, ["eval", str(questions), "--seeds", str(seeds), "--db", str(db), "--json",
                                   "--limit", "3"])
    assert limited.exit_code == 0 and json.loads(limited.stdout)["overall"]["questions"] == 3


def test_eval_without_seeds_is_a_usage_error(runner):
    questions = EVAL / "seed-dev" / "questions.jsonl"
    result = runner.invoke(main, ["eval", str(questions)])
    assert result.exit_code == 2 and "--seeds" in result.output


def test_console_script_reports_a_missing_index_without_a_traceback(tmp_path):
    script = Path(sys.executable).parent / "qa"
    if not script.exists():
        script = REPO / ".venv" / "bin" / "qa"
    assert script.exists(), "the `qa` console script is installed in the venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")} | {"OMP_NUM_THREADS": "1"}
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds, copy_function=shutil.copyfile)
    proc = subprocess.run([str(script), "ask", XI, "--seeds", str(seeds), "--db", str(tmp_path / "db")],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "error: no index found" in proc.stderr and "qa index" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
