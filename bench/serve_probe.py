"""The serving process of the scale benchmarks: opens a finished index as `qa serve` does, answers
questions, then one follow-up, and prints one JSON line with its latency and peak memory.

    PYTHONPATH=CHECKOUT python bench/serve_probe.py < spec.json

It imports only what answering needs (`qa.pipeline`, from whichever checkout is first on `sys.path`),
so that two checkouts compared on the same corpus pay for nothing but their own code. The spec:
seeds, db, chunk_size, encoder, Chroma host and port, and the questions.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def high_water_mb() -> float:
    """This process's peak resident set size in MB (the kernel's VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    from index import memory
    from index.settings import IndexSettings
    from qa.pipeline import build_assistant

    if hasattr(memory, "limit_arenas"):  # what the `qa` command does first (checkouts that have it)
        memory.limit_arenas()

    spec = json.loads(sys.stdin.read())
    settings = IndexSettings(seeds_dir=Path(spec["seeds"]), db_dir=Path(spec["db"]), chunk_size=spec["chunk_size"],
                             chunk_overlap=0, chroma_host=spec.get("host"), chroma_port=spec.get("port") or 8000,
                             encoder=spec.get("encoder", "onnx"))
    assistant = build_assistant(settings)
    questions = spec["questions"]
    first = assistant.answer(questions[0])
    times = []
    for question in questions:
        started = time.perf_counter()
        assistant.answer(question)
        times.append((time.perf_counter() - started) * 1000)
    single = high_water_mb()
    history = [{"role": "user", "content": questions[0]}, {"role": "assistant", "content": first.text}]
    started = time.perf_counter()
    assistant.answer("And where was that?", history=history)  # the first follow-up builds the sentence table
    times.sort()
    print(json.dumps({"p50": times[len(times) // 2], "p95": times[min(len(times) - 1, int(len(times) * 0.95))],
                      "rss_mb": single, "follow_s": time.perf_counter() - started, "rss_conv_mb": high_water_mb()}))


if __name__ == "__main__":
    main()
