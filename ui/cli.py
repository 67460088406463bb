"""The `qa` command: index, ask, eval, serve, docs. An edge: the only place, with the web app, where errors
become messages and exit codes. Heavy modules (torch, gradio, chromadb) are imported by the commands
that need them, not here."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from index.errors import QAError
from qa.answerers import ANSWERERS
from qa.settings import MAX_K
from ui import cli_docs
from ui.settings import Config, from_process

_common = [
    click.option("--seeds", "seeds_dir", type=click.Path(path_type=Path), help="Documents folder [QA_SEEDS]."),
    click.option("--db", "db_dir", type=click.Path(path_type=Path), help="Index folder [QA_DB]."),
]


def common(fn):
    """Add --seeds/--db to a command."""
    for option in reversed(_common):
        fn = option(fn)
    return fn


def handled(fn):
    """Turn library errors into a message on stderr and the error's exit code."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except QAError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
    return wrapper


def config(**flags) -> Config:
    """This process's settings: QA_* variables, then the given flags."""
    return from_process(**flags)


@click.group()
@click.version_option(package_name="seedqa")
def main() -> None:
    """Offline, cited question answering over a folder of documents."""


@main.command("index")
@common
@click.option("--rebuild", is_flag=True, help="Re-embed everything.")
@click.option("--watch", is_flag=True, help="Keep running and re-index when files change.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@handled
def index_cmd(seeds_dir, db_dir, rebuild, watch, as_json):
    """Index the seeds folder (only added or changed files are embedded)."""
    from ui.cli_index import run_index

    run_index(config(seeds_dir=seeds_dir, db_dir=db_dir).index, rebuild, watch, as_json)


@main.command("ask")
@click.argument("question")
@common
@click.option("--k", type=click.IntRange(1, MAX_K), help="Passages to retrieve [QA_K].")
@click.option("--llm", "answerer", type=click.Choice(list(ANSWERERS)), help="Answerer [QA_LLM].")
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as one JSON object.")
@handled
def ask_cmd(question, seeds_dir, db_dir, k, answerer, as_json):
    """Answer QUESTION from the indexed documents, with cited sources."""
    from qa.pipeline import build_assistant
    from ui.cli_output import print_answer

    cfg = config(seeds_dir=seeds_dir, db_dir=db_dir, k=k, answerer=answerer)
    print_answer(build_assistant(cfg.index, cfg.answer).answer(question), as_json)


@main.command("eval")
@click.argument("questions")
@common
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@handled
def eval_cmd(questions, seeds_dir, db_dir, limit, as_json):
    """Score the assistant on QUESTIONS: a vendored set's name (seed-dev, squad-dev, multihop-dev) or a
    JSONL file with gold answers and evidence (then --seeds names its corpus)."""
    from qa import evalsets
    from qa.eval import evaluate, read_questions
    from ui.cli_output import print_metrics, progress_bar

    path, seeds_dir = _question_set(questions, seeds_dir)
    db_dir = db_dir or Path(".qa-index") / ("eval-" + (questions if questions in evalsets.SETS else path.stem))
    cfg = config(seeds_dir=seeds_dir, db_dir=db_dir)
    rows = read_questions(path, limit)
    with progress_bar(len(rows), "answering") as bar:
        report = evaluate(rows, cfg.index, cfg.answer, progress=bar)
    print_metrics(report, as_json)


def _question_set(name: str, seeds_dir: Path | None) -> tuple[Path, Path]:
    """(questions file, corpus folder) for a vendored set's name or a file plus --seeds."""
    from qa import evalsets

    if name in evalsets.SETS:
        return evalsets.questions(name), seeds_dir or evalsets.default_corpus(name)
    path = Path(name)
    if not path.is_file():
        raise click.UsageError(f"{name!r} is neither a file nor one of: {', '.join(evalsets.SETS)}")
    if seeds_dir is None:
        raise click.UsageError("--seeds CORPUS_DIR is required with a questions file")
    return path, seeds_dir


@main.command("serve")
@common
@click.option("--host", help="Interface to bind [QA_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port [QA_PORT, default 7860].")
@handled
def serve_cmd(seeds_dir, db_dir, host, port):
    """Start the web chat (builds the index first if there is none). The login comes from QA_AUTH."""
    from ui.app import serve

    serve(config(seeds_dir=seeds_dir, db_dir=db_dir, host=host, port=port))


cli_docs.register(main, common, handled, config)

if __name__ == "__main__":
    main()
