"""Load benchmark: N concurrent API users against the real web app while the index is rebuilt: by the
app's own Rebuild button, then by `qa index --rebuild` in another process (the default writers).

    .venv/bin/python bench/load_bench.py [--users 16] [--duration 60] [--squad-files 8] [--seed 0]
                                         [--writers ui,cli-rebuild,cli]

The scenario is `testkit.load` (also run short by tests/test_load_short.py); see its docstring.
Prints throughput, latency percentiles (overall, while a writer ran, in the 2 s after each publish,
outside both) and failed requests. Exits 1 when any request failed, any citation was wrong, a writer
failed, or the server did not answer a writer's new document afterwards.
"""
from __future__ import annotations

import argparse
import sys

import harness  # noqa: F401 (puts the checkout on sys.path)
from testkit.load import WRITERS, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--squad-files", type=int, default=8, help="squad-dev corpus files added to the seeds")
    parser.add_argument("--seed", type=int, default=0, help="question RNG seed")
    parser.add_argument("--writers", default="ui,cli-rebuild",
                        help=f"comma-separated writers run one after another: {', '.join(WRITERS)}")
    args = parser.parse_args(argv)
    writers = tuple(w.strip() for w in args.writers.split(",") if w.strip())
    unknown = set(writers) - set(WRITERS)
    if unknown:
        parser.error(f"unknown writers: {', '.join(sorted(unknown))}")
    s = run(args.users, args.duration, args.squad_files, seed=args.seed, writers=writers)
    good = s["errors"] == 0 and s["bad_citations"] == 0 and not s["rebuild_error"] and s["new_file_answered"]
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
