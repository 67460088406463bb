"""The `qa` command: index, ask, eval, serve. The only place errors become messages and exit codes."""
from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from index.errors import QAError
from index.settings import Settings

_common = [
    click.option("--seeds", "seeds_dir", type=click.Path(path_type=Path), help="Documents folder [QA_SEEDS]."),
    click.option("--db", "db_dir", type=click.Path(path_type=Path), help="Index folder [QA_DB]."),
]


def common(fn):
    """Add --seeds/--db to a command."""
    for option in reversed(_common):
        fn = option(fn)
    return fn


def settings_from(**flags) -> Settings:
    """Settings from QA_* variables, then command-line flags (the edge that reads the environment)."""
    return Settings.from_env(os.environ, **{k: v for k, v in flags.items() if v is not None})


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
    from qa.cli_index import run_index

    run_index(settings_from(seeds_dir=seeds_dir, db_dir=db_dir), rebuild, watch, as_json)


@main.command("ask")
@click.argument("question")
@common
@click.option("--k", type=click.IntRange(1, 50), help="Passages to retrieve.")
@click.option("--llm", type=click.Choice(["extractive", "openai", "ollama"]), help="Answerer [QA_LLM].")
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as one JSON object.")
@handled
def ask_cmd(question, seeds_dir, db_dir, k, llm, as_json):
    """Answer QUESTION from the indexed documents, with cited sources."""
    from qa.cli_output import print_answer
    from qa.pipeline import build_pipeline

    settings = settings_from(seeds_dir=seeds_dir, db_dir=db_dir, llm=llm)
    result = build_pipeline(settings).answer(question, k=k)
    print_answer(result, as_json)


@main.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@common
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@handled
def eval_cmd(questions, seeds_dir, db_dir, limit, as_json):
    """Score the assistant on a question set (JSONL with gold answers and evidence)."""
    from qa.cli_output import print_metrics, progress_bar
    from qa.eval import evaluate, read_questions

    if seeds_dir is None:
        raise click.UsageError("--seeds CORPUS_DIR is required for eval")
    db_dir = db_dir or Path(".qa-index") / ("eval-" + seeds_dir.resolve().parent.name)
    rows = read_questions(questions, limit)
    with progress_bar(len(rows), "answering") as bar:
        report = evaluate(rows, settings_from(seeds_dir=seeds_dir, db_dir=db_dir), bar)
    print_metrics(report, as_json)


@main.command("serve")
@common
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=7860, show_default=True, type=int)
@click.option("--auth", help="user:password to require a login [QA_AUTH].")
@handled
def serve_cmd(seeds_dir, db_dir, host, port, auth):
    """Start the web chat (builds the index first if there is none)."""
    from ui.app import serve

    serve(settings_from(seeds_dir=seeds_dir, db_dir=db_dir, auth=auth), host=host, port=port)
