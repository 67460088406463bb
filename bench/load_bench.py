"""Load benchmark: N concurrent API users against the real web app, with one rebuild in the middle.

    .venv/bin/python bench/load_bench.py [--users 16] [--duration 60] [--squad-files 8] [--seed 0]

The scenario is `ui.testing.load` (also run short by tests/test_load_short.py); see its docstring.
Prints throughput, latency percentiles (overall, during the rebuild, outside it) and error counts.
Exits 1 when any request failed or any citation was wrong.
"""
from __future__ import annotations

import argparse
import sys

import harness  # noqa: F401 (puts the checkout on sys.path)
from ui.testing.load import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--squad-files", type=int, default=8, help="squad-dev corpus files added to the seeds")
    parser.add_argument("--seed", type=int, default=0, help="question RNG seed")
    args = parser.parse_args(argv)
    s = run(args.users, args.duration, args.squad_files, seed=args.seed)
    return 0 if s["errors"] == 0 and s["bad_citations"] == 0 and not s["rebuild_error"] else 1


if __name__ == "__main__":
    sys.exit(main())
