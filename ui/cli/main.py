"""The `qa` command: index, ask, chat, eval, serve, docs. An edge: the only place, with the web app, where errors
become messages and exit codes. Heavy modules (gradio, chromadb, onnxruntime) are imported by the
commands that need them, not here; `qa ask` never imports torch or gradio (tests/test_speed_paths.py)."""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from index.errors import QAError, UsageError
from index.memory import limit_arenas
from index.settings import IndexSettings
from qa.settings import AnswerSettings
from ui.cli import docs_cmd as cli_docs
from ui.cli.flags import flags, given
from ui.settings import Config, ServeSettings, from_process

# The options come from the settings declarations (`setting(..., flag=...)`, ui/cli/flags.py).
common = flags(IndexSettings, "seeds_dir", "db_dir")  # --seeds/--db
answering = flags(AnswerSettings)                     # --k, --llm, ...: each command passes them all on
serving = flags(ServeSettings)                        # --host, --port, ...


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


# This process is ours (`qa`, `python -m ui`), so the hub libraries are told to stay offline before they are
# imported; the library itself loads the model with `local_files_only` and sets nothing (index/embedding/embedders.py).
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
QUIET = {"TOKENIZERS_PARALLELISM": "false"}  # no fork warning from the tokenizers library (a user may set it)


def our_process() -> None:
    """The environment switches of a `qa` process: offline hub libraries, quiet tokenizers."""
    os.environ.update(OFFLINE)
    for name, value in QUIET.items():
        os.environ.setdefault(name, value)


_done = {"quick_exit": False}  # set by commands that leave nothing to write once their output is out


def run() -> None:
    """The console script (`qa`): `main`, then, after `qa ask`, leave without tearing down the model session
    and the store's client, which would add a noticeable fraction to a one-question process."""
    try:
        main()
    except SystemExit as exc:
        if not (_done["quick_exit"] and exc.code in (None, 0)):
            raise
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def config(**flags) -> Config:
    """This process's settings: QA_* variables, then the given flags."""
    return from_process(**flags)


@click.group()
@click.version_option(package_name="seedqa")
def main() -> None:
    """Offline, cited question answering over a folder of documents."""
    our_process()
    limit_arenas()


_collection = click.option("--collection", help="A named collection (created by `qa index --collection NAME "
                                                "--seeds FOLDER`); default: the documents folder.")
_where = click.option("--where", multiple=True, metavar="KEY=VALUE",
                      help="Only documents matching: source=FILE|PATTERN, title=WORDS, type=pdf, after=DATE, "
                           "before=DATE (repeatable).")


@main.command("index")
@common
@_collection
@click.option("--rebuild", is_flag=True, help="Re-embed everything.")
@click.option("--watch", is_flag=True, help="Keep running and re-index when files change.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@handled
def index_cmd(seeds_dir, db_dir, collection, rebuild, watch, as_json):
    """Index the seeds folder (only added or changed files are embedded). With --collection NAME, index
    the named collection instead: --seeds FOLDER creates it (or moves it to FOLDER)."""
    from ui.cli.index_cmd import run_index

    run_index(collection_settings(seeds_dir, db_dir, collection), rebuild, watch, as_json)


def collection_settings(seeds_dir, db_dir, name):
    """The index settings of collection `name` (None: the default one); --seeds registers its folder."""
    from index.manager import collections

    if not name or name == collections.DEFAULT:
        return config(seeds_dir=seeds_dir, db_dir=db_dir).index
    base = config(db_dir=db_dir).index
    if seeds_dir is not None:
        return collections.register(base, name, seeds_dir)
    return collections.settings_for(base, name)


@main.command("collections")
@flags(IndexSettings, "db_dir")
@handled
def collections_cmd(db_dir):
    """List the collections: name, documents folder, files indexed."""
    from index.generations import manifest as mf
    from index.manager import collections

    base = config(db_dir=db_dir).index
    for name in collections.names(base.db_dir):
        settings = collections.settings_for(base, name)
        click.echo(f"{name}\t{settings.seeds_dir}\t{len(mf.read(settings.db_dir).files)} files")


@main.command("ask")
@click.argument("question")
@common
@answering
@_collection
@_where
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as one JSON object.")
@click.option("--evidence", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write an evidence bundle (quotes, offsets, each file's SHA-256) for `qa verify`.")
@click.option("--server", metavar="URL", help="Ask the `qa serve` at URL (e.g. http://127.0.0.1:7860) instead of "
                                              "opening the index here; its key: QA_API_KEY.")
@handled
def ask_cmd(question, seeds_dir, db_dir, collection, where, as_json, evidence, server, **answer_flags):
    """Answer QUESTION from the indexed documents, with cited sources."""
    import functools

    from index.manager import collections
    from ui.cli.output import print_answer, write_evidence

    cfg = config(seeds_dir=seeds_dir, db_dir=db_dir, **given(answer_flags))
    if server:
        answer = _ask_server(server, question, cfg, answer_flags.get("k"), answer_flags.get("answerer"),
                             collection, where, evidence)
    else:
        from qa.pipeline import build_assistant

        answer = build_assistant(cfg.index, cfg.answer).answer(question, where=list(where), collection=collection)
    print_answer(answer, as_json)
    if evidence:
        write_evidence(evidence, answer, functools.partial(collections.folder, cfg.index))
    _done["quick_exit"] = True


def _ask_server(url, question, cfg: Config, k, answerer, collection, where, evidence):
    """`qa ask --server`: the flags given travel with the question; the server's settings do the rest."""
    from qa.retrieval import filters
    from ui.api.bearer import api_key
    from ui.cli import remote

    if evidence:
        raise UsageError("--evidence reads the documents on this machine, which --server does not open",
                         hint="leave out --server to write an evidence bundle")
    return remote.ask(url, question, key=api_key(cfg.serve), k=k, answerer=answerer, collection=collection,
                      where=filters.of(list(where)))


@main.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False))
@common
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@handled
def verify_cmd(bundle, seeds_dir, db_dir, as_json):
    """Check every quote of an evidence BUNDLE against the documents as they are now; exit 1 naming the
    stale quotes (a file changed so that a quote is no longer at its offsets)."""
    import functools

    from index.manager import collections
    from qa.sharing.evidence import read_bundle, verify
    from ui.cli.output import print_verdict

    settings = config(seeds_dir=seeds_dir, db_dir=db_dir).index
    folders = functools.partial(collections.folder, settings)
    verdict = verify(read_bundle(bundle), folders, settings.read_options)
    print_verdict(verdict, as_json)
    sys.exit(0 if verdict.ok else 1)


@main.command("chat")
@common
@answering
@handled
def chat_cmd(seeds_dir, db_dir, **answer_flags):
    """A conversation in the terminal: ask, then follow up ("When did he say that?"). /new starts over;
    exit or Ctrl-D ends."""
    from qa.pipeline import build_assistant
    from ui.cli.chat_cmd import run_chat

    cfg = config(seeds_dir=seeds_dir, db_dir=db_dir, **given(answer_flags))
    run_chat(build_assistant(cfg.index, cfg.answer))


@main.command("eval")
@click.argument("questions")
@common
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions (conversations).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@handled
def eval_cmd(questions, seeds_dir, db_dir, limit, as_json):
    """Score the assistant on QUESTIONS: a vendored set's name (seed-dev, squad-dev, multihop-dev,
    conversations-dev, conversations-news-dev, conversations-heldout, conversations-unseen, nonfactoid-dev,
    nonfactoid-own, realdocs-dev, realdocs-own) or a JSONL file with gold answers and evidence (then --seeds names
    its corpus).
    Conversations are asked turn by turn with the real history; the report gives turns right per kind.
    Non-factoid questions (summaries, lists, yes/no, ...) report right, key recall, citation precision and
    verdicts per kind; real-documents questions report right and gold file cited per kind."""
    from qa import evalsets
    from qa.evaluation.nonfactoid import is_nonfactoid
    from qa.evaluation.runner import evaluate_real_documents, is_conversation, is_real_documents, read_questions
    from ui.cli.output import print_metrics, progress_bar

    path, seeds_dir = _question_set(questions, seeds_dir)
    db_dir = db_dir or Path(".qa-index") / ("eval-" + (questions if questions in evalsets.SETS else path.stem))
    rows = read_questions(path, limit)
    conversations, forms = is_conversation(rows), is_nonfactoid(rows)
    if seeds_dir is None and not (conversations or forms):
        raise click.UsageError("--seeds CORPUS_DIR is required with a questions file")
    cfg = config(seeds_dir=seeds_dir, db_dir=db_dir)
    with progress_bar(sum(len(r["turns"]) for r in rows) if conversations else len(rows), "answering") as bar:
        if conversations or forms:
            report = _evaluate_per_corpus(rows, cfg, seeds_dir, db_dir, bar, forms)
        elif is_real_documents(rows):
            report = evaluate_real_documents(rows, cfg.index, cfg.answer, progress=bar)
        else:
            from qa.evaluation.runner import evaluate

            report = evaluate(rows, cfg.index, cfg.answer, progress=bar)
    print_metrics(report, as_json)


def _evaluate_per_corpus(rows, cfg: Config, seeds_dir: Path | None, db_dir: Path, bar, forms: bool) -> dict:
    """Each conversation (or non-factoid question) over the corpus it names (a vendored corpus, or --seeds
    for all), one index each."""
    from dataclasses import replace

    from qa import evalsets
    from qa.evaluation.nonfactoid import evaluate_forms
    from qa.evaluation.runner import evaluate_conversations

    def settings_for(corpus: str):
        folder = seeds_dir or evalsets.corpus(corpus)
        return replace(cfg.index, seeds_dir=folder, db_dir=db_dir / (corpus or "corpus"))

    run = evaluate_forms if forms else evaluate_conversations
    return run(rows, settings_for, cfg.answer, progress=bar)


def _question_set(name: str, seeds_dir: Path | None) -> tuple[Path, Path]:
    """(questions file, corpus folder) for a vendored set's name or a file plus --seeds."""
    from qa import evalsets

    if name in evalsets.SETS:
        return evalsets.questions(name), seeds_dir or evalsets.default_corpus(name)
    path = Path(name)
    if not path.is_file():
        raise click.UsageError(f"{name!r} is neither a file nor one of: {', '.join(evalsets.SETS)}")
    return path, seeds_dir


@main.command("serve")
@common
@serving
@handled
def serve_cmd(seeds_dir, db_dir, **serve_flags):
    """Start the web chat (builds the index first if there is none). The login comes from QA_AUTH or
    QA_AUTH_FILE, never from the command line (other users can read it in `ps`)."""
    from ui.web.app import serve

    try:
        serve(config(seeds_dir=seeds_dir, db_dir=db_dir, **given(serve_flags)))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        # The server is closed and every write is atomic (a rebuild in progress is abandoned as after a kill);
        # the interpreter's teardown would only meet native threads (ONNX Runtime, Chroma) still running,
        # which abort or crash the process ("terminate called without an active exception").
        os._exit(130)


@main.command("mcp")
@common
@answering
@handled
def mcp_cmd(seeds_dir, db_dir, **answer_flags):
    """Serve the tools ask, search and list_documents over MCP on stdin/stdout (for agents and IDEs;
    the client starts this command). Run `qa index` first."""
    from qa.pipeline import build_assistant
    from ui.api.mcp_server import run_stdio

    cfg = config(seeds_dir=seeds_dir, db_dir=db_dir, **given(answer_flags))
    run_stdio(cfg, lambda: build_assistant(cfg.index, cfg.answer))


cli_docs.register(main, common, handled, config)

if __name__ == "__main__":
    run()
