"""`qa chat`: a conversation in the terminal. Each question is answered with the conversation so far as
history (the earlier questions and the assistant's own answers), so follow-ups such as "When did he say
that?" or "And in 1911?" resolve against the earlier turns."""
from __future__ import annotations

import click

from index.errors import UsageError
from qa.errors import LLMError
from qa.pipeline import Assistant
from ui.cli.output import print_answer

QUIT = {"exit", "quit", ":q"}
NEW = "/new"


def run_chat(assistant: Assistant, k: int | None = None) -> int:
    """Read questions until end of input or `exit`; `/new` starts a new conversation. Returns the number
    of questions answered."""
    click.secho(f"Ask about your documents. Follow-ups use the conversation; {NEW} starts over, "
                "exit (or Ctrl-D) ends.", dim=True, err=True)
    history: list[dict] = []
    answered = 0
    while (question := _read()) is not None:
        if question == NEW:
            history = []
            click.secho("(new conversation)", dim=True, err=True)
            continue
        try:
            answer = assistant.answer(question, history=history, k=k)
        except UsageError as exc:  # a bad question loses nothing: say why and ask again
            click.secho(f"error: {exc}", fg="red", err=True)
            continue
        except LLMError as exc:  # nor does a failing LLM server: the conversation goes on, ask again
            hint = f" ({exc.hint})" if exc.hint else ""
            click.secho(f"error: {exc.message}{hint}; the conversation is kept, ask again", fg="red", err=True)
            continue
        print_answer(answer, False)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        answered += 1
    return answered


def _read() -> str | None:
    """The next question (None at end of input or on exit); blank lines are skipped."""
    while True:
        try:
            line = click.prompt(click.style("you", bold=True), prompt_suffix="> ", default="", show_default=False)
        except (EOFError, click.Abort):
            return None
        line = line.strip()
        if line.lower() in QUIT:
            return None
        if line:
            return line
