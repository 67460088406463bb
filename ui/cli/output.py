"""How the CLI shows answers, reports and progress."""
from __future__ import annotations

import contextlib
import json
import sys
import textwrap

import click

from qa.sharing.export import SHORT_LABEL
from qa.types import Answer


def print_answer(answer: Answer, as_json: bool) -> None:
    """The short answer (when there is one), the answer, then its cited sources (title, file:lines, date,
    quote, with the short answer marked in it)."""
    if as_json:
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        return
    if answer.short:
        click.secho(f"{SHORT_LABEL}: {answer.short.text} [{answer.short.n}]", bold=True)
    click.echo(answer_lines(answer.text) + "\n")
    if answer.flagged:
        click.secho(f"note: {answer.flagged}", fg="yellow")
    if answer.abstained and answer.related:
        click.secho("Closest passages (related, not an answer):", bold=True)
        for p in answer.related:
            click.echo(f"  - {p.title} ({p.source}, lines {p.start_line}-{p.end_line})")
    for c in answer.citations:
        date = f", {c.published}" if c.published else ""
        click.secho(f"[{c.n}] {c.title}{date}", bold=True)
        click.echo(f"    {c.location()}" + (f" · {c.heading}" if c.heading else ""))
        click.echo(textwrap.indent(textwrap.fill(f"“{_marked(c, answer)}”", 96), "    "))


def answer_lines(text: str) -> str:
    """The answer text wrapped at 100 columns, keeping its lines: a summary's or list's bullets (`- `) and a
    comparison's group labels each start a line."""
    out = []
    for line in text.split("\n"):
        bullet = line.startswith("- ")
        out.append(textwrap.fill(line, 100, subsequent_indent="  " if bullet else "") if line else "")
    return "\n".join(out)


def _marked(c, answer: Answer) -> str:
    """The quote, with the short answer in it highlighted on a terminal (plain text elsewhere: click
    drops the styling when the output is not a terminal, so the quote stays verbatim)."""
    short = answer.short
    if not short or short.n != c.n or not c.start <= short.start < short.end <= c.end:
        return c.quote
    a, b = short.start - c.start, short.end - c.start
    return c.quote[:a] + click.style(c.quote[a:b], bold=True, underline=True) + c.quote[b:]


def write_evidence(path, answer: Answer, folders) -> None:
    """Write the answer as an evidence bundle (`qa.sharing.evidence`) to `path`; say so on stderr."""
    from qa.sharing.evidence import bundle
    from qa.sharing.export import Turn

    data = bundle(answer.question, [Turn(answer.question, answer)], folders)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    click.echo(f"evidence: {len(answer.citations)} quote(s) from {len(data['documents'])} file(s) in {path}", err=True)


def print_verdict(verdict, as_json: bool) -> None:
    """`qa verify`'s report: each stale quote with why, then a summary line."""
    if as_json:
        click.echo(json.dumps(verdict.to_json(), ensure_ascii=False))
        return
    for q in verdict.stale:
        click.secho(f"stale: answer {q.turn + 1}, source [{q.n}] {q.source} chars {q.start}-{q.end}: {q.reason}",
                    fg="red")
        click.echo(textwrap.indent(textwrap.fill(f"“{q.quote}”", 96), "    "))
    changed = [f.source for f in verdict.files if f.present and not f.unchanged]
    gone = [f.source for f in verdict.files if not f.present]
    held = len(verdict.quotes) - len(verdict.stale)
    click.echo(f"{'ok' if verdict.ok else 'STALE'}: {held} of {len(verdict.quotes)} quotes hold in "
               f"{len(verdict.files)} file(s)" + (f"; changed since: {', '.join(changed)}" if changed else "")
               + (f"; missing: {', '.join(gone)}" if gone else ""))


def print_metrics(report: dict, as_json: bool) -> None:
    """The eval report as JSON or a table."""
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    groups = {"overall": report["overall"], **report["by_type"]}
    for qid, got in report.get("answers", {}).items():  # real documents: each question's outcome
        click.echo(f"{qid} {'right' if got['right'] else 'wrong'}: {' '.join(got['text'].split())[:150]}")
    keys = list(report["overall"])
    click.echo(f"{'metric':24}" + "".join(f"{g[:14]:>16}" for g in groups))
    for key in keys:
        cells = "".join(f"{'-' if v[key] is None else v[key]:>16}" for v in groups.values())
        click.echo(f"{key:24}{cells}")


@contextlib.contextmanager
def progress_bar(total: int, label: str):
    """A tqdm bar on a terminal (nothing otherwise); yields a `(done, total)` callback."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, disable=not sys.stderr.isatty(), file=sys.stderr, leave=False)
    try:
        yield lambda done, _total: bar.update(done - bar.n)
    finally:
        bar.close()
