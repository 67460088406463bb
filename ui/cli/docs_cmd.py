"""`qa docs`: the document manager in the terminal (list, rm, exclude, include, reindex), as in the chat's
Documents tab. Heavy modules are imported by the commands that need them."""
from __future__ import annotations

import json

import click

STATUSES = ("indexed", "skipped", "pending")


def register(main: click.Group, common, handled, config) -> None:
    """Add the `docs` group to the `qa` command (the shared options, error handling and settings)."""

    def scoped(fn):
        """The shared --seeds/--db options and --collection."""
        return common(click.option("--collection", help="A named collection (default: the documents folder).")(fn))

    def settings(seeds_dir, db_dir, collection):
        from index.manager import collections

        return collections.settings_for(config(seeds_dir=seeds_dir, db_dir=db_dir).index, collection)

    @main.group("docs")
    def docs() -> None:
        """List and manage the documents: what was indexed, what was skipped and why."""

    @docs.command("list")
    @scoped
    @click.option("--status", type=click.Choice(STATUSES), help="Only documents with this status.")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
    @handled
    def list_cmd(seeds_dir, db_dir, collection, status, as_json):
        """Every document: indexed (chunks, pages, title, date), skipped (the reason) or pending."""
        from index.manager.catalog import documents

        rows = [d for d in documents(settings(seeds_dir, db_dir, collection))
                if status is None or d.status == status]
        if as_json:
            click.echo(json.dumps([d.to_json() for d in rows], ensure_ascii=False))
            return
        for d in rows:
            click.echo(_line(d))
        click.echo("\n" + _counts(rows), err=True)  # a line apart from the list

    @docs.command("rm")
    @click.argument("names", nargs=-1, required=True)
    @scoped
    @click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
    @handled
    def rm_cmd(names, seeds_dir, db_dir, collection, as_json):
        """Delete documents NAMES (their files in the seeds folder and their passages in the index)."""
        from index.manager.catalog import remove

        report = _with_progress(remove, settings(seeds_dir, db_dir, collection), names, as_json)
        _done(f"removed {', '.join(names)}", report, as_json, removed=list(names))

    @docs.command("exclude")
    @click.argument("names", nargs=-1, required=True)
    @scoped
    @handled
    def exclude_cmd(names, seeds_dir, db_dir, collection):
        """Keep documents NAMES out of answers without deleting them."""
        _toggle(settings(seeds_dir, db_dir, collection), names, True)

    @docs.command("include")
    @click.argument("names", nargs=-1, required=True)
    @scoped
    @handled
    def include_cmd(names, seeds_dir, db_dir, collection):
        """Let excluded documents NAMES back into answers."""
        _toggle(settings(seeds_dir, db_dir, collection), names, False)

    @docs.command("reindex")
    @click.argument("names", nargs=-1, required=True)
    @scoped
    @click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
    @handled
    def reindex_cmd(names, seeds_dir, db_dir, collection, as_json):
        """Read and embed documents NAMES again (also retries skipped ones, e.g. after installing OCR)."""
        from index.manager.catalog import reindex

        report = _with_progress(reindex, settings(seeds_dir, db_dir, collection), names, as_json)
        _done(f"re-indexed {', '.join(names)}", report, as_json)


def _toggle(settings, names, excluded: bool) -> None:
    from index.manager.catalog import exclude

    changed = exclude(settings, list(names), excluded)
    verb = "excluded from answers" if excluded else "included in answers"
    for name in names:
        click.echo(f"{name}: {verb}" + ("" if name in changed else " (already)"))


def _with_progress(action, settings, names, quiet: bool = False):
    """`action(settings, names)` (a catalog change that builds), with progress bars on the terminal (none
    when `quiet`: with --json)."""
    from ui.cli.index_cmd import progress_bars

    with progress_bars(quiet) as progress:
        return action(settings, list(names), progress=progress)


def _done(what: str, report, as_json: bool, **extra) -> None:
    from ui.cli.index_cmd import show_report

    if as_json:
        click.echo(json.dumps({**extra, "report": report.to_json() if report else None}, ensure_ascii=False))
        return
    click.echo(what)
    if report is None:
        click.echo("no indexed documents are left")
    else:
        show_report(report, False)


def _line(d) -> str:
    flag = " (excluded from answers)" if d.excluded else ""
    if d.status != "indexed" and not d.chunks:
        return f"{d.status:8} {d.source}{flag}: {d.reason}"
    pages = f", {d.pages} pages" if d.pages else ""
    ocr = f" ({d.ocr_pages} by OCR)" if d.ocr_pages else ""
    date = f", {d.published}" if d.published else ""
    detail = f" [{d.reason}]" if d.reason else ""
    return f"{d.status:8} {d.source}{flag}: {d.chunks} chunks{pages}{ocr}{date}, “{d.title}”{detail}"


def _counts(rows) -> str:
    counts = {s: sum(1 for d in rows if d.status == s) for s in STATUSES}
    excluded = sum(1 for d in rows if d.excluded)
    return ", ".join(f"{n} {s}" for s, n in counts.items()) + (f", {excluded} excluded" if excluded else "")
