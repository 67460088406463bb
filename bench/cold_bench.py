"""Cold start, side by side: `qa ask` and `qa serve` against the LangChain tutorial's query script.

    .venv/bin/python bench/cold_bench.py [--rounds 5] [--baseline CHECKOUT]

Setup, untimed: a copy of `seeds/` is indexed by `qa index` and by the tutorial's own build
(`bench/tutorial.py build`). Then every round runs these fresh processes, one after the other, so that
a drifting machine load hits them alike:

* the tutorial's query script (`bench/tutorial.py query`: imports, model load, `similarity_search`);
* `qa ask QUESTION` on the seed index (imports, model load, answer, printed);
* `qa ask` on a folder that holds no index (the error; the folder must still not exist afterwards);
* `qa serve`, timed until its page answers (GET / returns 200, polled every 50 ms), then stopped;
* `qa ask QUESTION --server URL`, asking a `qa serve` started once before the rounds.

With `--baseline DIR` (a checkout of an earlier commit, for example `git worktree add /tmp/before main~5`),
that checkout's `qa ask` and `qa serve` run in every round too, on an index it built itself: the "before"
rows. Printed: the median wall time and CPU time (user + system, from the kernel's accounting) of each,
and each one's ratio to the tutorial's query script and to its "before" row. CPU time is what a busy
machine distorts least. The model and the index are in the OS file cache (a first run warms it); with
`--drop-caches` (root), the page cache is emptied before every timed process instead, so each reads its
libraries, model and index from disk, as the first command after a reboot does.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from harness import REPO, Run, median, run_process

sys.path.insert(0, str(REPO))
from testkit.servers import SEEDS, XI_QUESTION, free_port, stop_server, wait_until_up  # noqa: E402

PY = sys.executable


def env_for(checkout: Path) -> dict:
    """The environment a user would have, offline, running the code in `checkout`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return env | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(checkout)}


def qa(checkout: Path, *args: str) -> list[str]:
    return [PY, "-m", "ui.cli.main", *args]


def serve_until_up(checkout: Path, seeds: Path, db: Path) -> Run:
    """Start `qa serve`, poll its page; wall and CPU time until the page answers."""
    import subprocess

    import psutil

    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(qa(checkout, "serve", "--seeds", str(seeds), "--db", str(db), "--port", str(port)),
                            cwd=checkout, env=env_for(checkout), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                    if resp.status == 200:
                        wall = time.perf_counter() - started
                        times = psutil.Process(proc.pid).cpu_times()
                        return Run(wall, times.user + times.system, 0, "", "")
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"qa serve exited with {proc.returncode}")
    finally:
        stop_server(proc)


def setup(work: Path, baseline: Path | None) -> dict:
    """Seeds copy, our index, the tutorial's Chroma DB, and the baseline's own index."""
    seeds = work / "seeds"
    shutil.copytree(SEEDS, seeds)
    places = {"seeds": seeds, "db": work / "db", "tutorial_db": work / "tutorial-db", "missing": work / "missing"}
    for cmd, where in ((qa(REPO, "index", "--seeds", str(seeds), "--db", str(places["db"])), REPO),
                       ([PY, str(REPO / "bench" / "tutorial.py"), "build", str(seeds), str(places["tutorial_db"])],
                        REPO)):
        done = run_process(cmd, env=env_for(REPO), cwd=where)
        assert done.code == 0, done.err[-2000:]
    if baseline:
        places["baseline_db"] = work / "baseline-db"
        done = run_process(qa(baseline, "index", "--seeds", str(seeds), "--db", str(places["baseline_db"])),
                           env=env_for(baseline), cwd=baseline)
        assert done.code == 0, done.err[-2000:]
    return places


def drop_caches() -> None:
    """Empty the kernel's page cache (root only), so that the next process reads its files from disk."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("1")
    except OSError as exc:
        raise SystemExit(f"--drop-caches needs root and a writable /proc/sys/vm/drop_caches ({exc})") from exc


def one_round(p: dict, baseline: Path | None, cold: bool = False, server: str | None = None) -> dict[str, Run]:
    """Every measurement once, in a fixed order; with `cold`, each from an empty page cache."""
    def run(cmd, checkout: Path = REPO) -> Run:
        if cold:
            drop_caches()
        return run_process(cmd, env=env_for(checkout), cwd=checkout)

    def serve(checkout: Path, db: Path) -> Run:
        if cold:
            drop_caches()
        return serve_until_up(checkout, p["seeds"], db)

    runs = {"tutorial query script": run([PY, str(REPO / "bench" / "tutorial.py"), "query", str(p["tutorial_db"]),
                                          XI_QUESTION])}
    runs["qa ask"] = run(qa(REPO, "ask", XI_QUESTION, "--db", str(p["db"])))
    assert runs["qa ask"].code == 0 and "Xi heralded" in runs["qa ask"].out, runs["qa ask"].err[-2000:]
    runs["qa ask, no index"] = run(qa(REPO, "ask", XI_QUESTION, "--db", str(p["missing"])))
    assert runs["qa ask, no index"].code == 1 and "no index found" in runs["qa ask, no index"].err
    assert not p["missing"].exists(), "qa ask created the index folder"
    runs["qa serve, page up"] = serve(REPO, p["db"])
    if server:
        runs["qa ask --server"] = run(qa(REPO, "ask", XI_QUESTION, "--server", server))
        assert runs["qa ask --server"].code == 0 and "Xi heralded" in runs["qa ask --server"].out
    if baseline:
        runs["before: qa ask"] = run(qa(baseline, "ask", XI_QUESTION, "--db", str(p["baseline_db"])), baseline)
        assert runs["before: qa ask"].code == 0, runs["before: qa ask"].err[-2000:]
        runs["before: qa serve, page up"] = serve(baseline, p["baseline_db"])
    return runs


def report(rounds: list[dict[str, Run]], cold: bool = False) -> None:
    cache = ", each from an empty page cache" if cold else ", files in the page cache"
    names = list(rounds[0])
    wall = {n: median([r[n].wall for r in rounds]) for n in names}
    cpu = {n: median([r[n].cpu for r in rounds]) for n in names}
    peer = "tutorial query script"
    print(f"cold start: medians of {len(rounds)} interleaved rounds (fresh processes{cache}); load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"{'':28}{'wall s':>8}{'cpu s':>8}{'wall / tutorial':>17}{'cpu / tutorial':>16}{'wall / before':>15}"
          f"{'cpu / before':>14}")
    for n in names:
        before = f"before: {n}"
        vs_before = (f"{wall[n] / wall[before]:>15.2f}{cpu[n] / cpu[before]:>14.2f}" if before in wall else "")
        print(f"{n:28}{wall[n]:>8.2f}{cpu[n]:>8.2f}{wall[n] / wall[peer]:>17.3f}{cpu[n] / cpu[peer]:>16.3f}"
              + vs_before)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (medians)")
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit, for the 'before' rows")
    parser.add_argument("--drop-caches", action="store_true",
                        help="start every timed process with an empty page cache, as after a reboot (root only)")
    args = parser.parse_args(argv)
    baseline = args.baseline.resolve() if args.baseline else None
    with tempfile.TemporaryDirectory(prefix="cold-bench-") as tmp, running(Path(tmp)) as start:
        places = setup(Path(tmp), baseline)
        server = start(places)
        one_round(places, baseline, server=server)  # warm the OS file cache: every process below finds its files in memory
        rounds = []
        for n in range(args.rounds):
            rounds.append(one_round(places, baseline, args.drop_caches, server))
            print(f"round {n + 1}: " + ", ".join(f"{k} {v.wall:.2f}s" for k, v in rounds[-1].items()),
                  file=sys.stderr, flush=True)
        report(rounds, args.drop_caches)


@contextlib.contextmanager
def running(work: Path):
    """A `qa serve` left running on the seed index for `qa ask --server`: `start(places)` returns its URL."""
    import subprocess

    procs = []

    def start(places: dict) -> str:
        port = free_port()
        procs.append(subprocess.Popen(qa(REPO, "serve", "--seeds", str(places["seeds"]), "--db", str(places["db"]),
                                         "--port", str(port)), cwd=REPO, env=env_for(REPO), start_new_session=True,
                                      stdout=subprocess.DEVNULL, stderr=open(work / "serve.log", "w")))
        url = f"http://127.0.0.1:{port}/"
        wait_until_up(url, procs[-1], work / "serve.log")
        return url

    try:
        yield start
    finally:
        for proc in procs:
            stop_server(proc)


if __name__ == "__main__":
    main()
