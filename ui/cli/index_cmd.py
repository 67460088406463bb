"""`qa index`: one build (with a progress bar) or a watch loop."""
from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from typing import Callable, Iterator

import click

from index.builds.build import build
from index.settings import IndexSettings
from index.types import IndexReport


def run_index(settings: IndexSettings, rebuild: bool, watch: bool, as_json: bool) -> None:
    """Build once, print the report; with `watch`, rebuild whenever the seeds change."""
    _show(_build(settings, rebuild, as_json), as_json)
    if not watch:
        return
    from watchfiles import watch as watch_files

    ready = False
    with _interrupt() as stopped:
        # The first (possibly empty) batch comes once the watcher is set up: only then is "watching" true,
        # and a file changed after the first build but before that is caught by a build then.
        for changes in watch_files(settings.seeds_dir, debounce=800, step=200, rust_timeout=500,
                                   yield_on_timeout=True, stop_event=stopped):
            if not ready:
                ready = True
                click.echo(f"watching {settings.seeds_dir} (Ctrl-C to stop)", err=True)
                changes = changes or _changed_since_build(settings)
            if changes and not stopped.is_set():
                _rebuild_quietly(settings, as_json)
    raise KeyboardInterrupt


@contextlib.contextmanager
def _interrupt() -> Iterator[threading.Event]:
    """An event Ctrl-C sets, besides raising KeyboardInterrupt as usual. Native code running when the signal
    comes (the store's, in a build) can take the KeyboardInterrupt and drop it; the event still ends the
    watch loop, which would otherwise wait for changes forever."""
    stopped = threading.Event()

    def on_interrupt(signum, frame):
        stopped.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield stopped
    finally:
        signal.signal(signal.SIGINT, previous)


def _changed_since_build(settings: IndexSettings) -> bool:
    """Whether the seeds differ from what the index holds (a cheap check: no model, no store)."""
    from index.manager.catalog import PENDING, documents

    return any(d.status == PENDING for d in documents(settings))


def _rebuild_quietly(settings: IndexSettings, as_json: bool) -> None:
    try:
        _show(_build(settings, False, as_json), as_json)
    except Exception as exc:  # keep watching; the next change may fix it
        click.secho(f"error: {exc}", fg="red", err=True)


def _build(settings: IndexSettings, rebuild: bool, quiet: bool = False) -> IndexReport:
    with progress_bars(quiet) as progress:
        return build(settings, progress=progress, rebuild=rebuild)


UNITS = {"reading": "file", "embedding": "passage"}  # what each stage counts (others count steps)
BAR = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit}s [{elapsed}<{remaining}, {rate_fmt}]"


@contextlib.contextmanager
def progress_bars(quiet: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A build progress callback drawing one tqdm bar per stage on a terminal: files read, then passages
    embedded, each with its rate and the time left; each stays on screen once done, so the summary that
    follows has its history. Nothing when stderr is not a terminal or when `quiet` (`--json`)."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}
    shown = not quiet and sys.stderr.isatty()

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for bar in bars.values():  # a stage starts: the one before is over (its last line stays)
                bar.close()
            bars[stage] = tqdm(total=total, desc=stage, unit=UNITS.get(stage, "step"), bar_format=BAR,
                               disable=not shown, file=sys.stderr, leave=True, dynamic_ncols=True,
                               mininterval=0.5)
        bar = bars[stage]
        bar.total = total
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()


def show_report(report: IndexReport, as_json: bool) -> None:
    """The build report: one JSON object, or the summary, the skipped files and notes."""
    _show(report, as_json)


def _show(report: IndexReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    if report.rebuilt_because:
        click.echo(f"full rebuild: {report.rebuilt_because}")
    for problem in report.repaired:
        click.echo(f"repaired: {problem}")
    click.echo(report.summary())
    for skip in report.skipped:
        click.echo(f"  skipped {skip.path}: {skip.reason}")
    for note in report.notes:
        click.echo(f"  note {note.path}: {note.reason}")
