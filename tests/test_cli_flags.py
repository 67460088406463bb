"""One source for flags (issue #27): the `qa` command's options are generated from the settings
declarations, so every declared flag is an option (with the setting's type, range and choices) of every
command that takes its settings class, and a new setting with a flag needs no hand-written option."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import click
import pytest
from click.testing import CliRunner

from index.config import between, one_of, setting
from index.settings import IndexSettings
from qa.settings import AnswerSettings
from ui.cli.flags import flagged, flags
from ui.cli.main import main
from ui.settings import ServeSettings

pytestmark = pytest.mark.unit

KINDS = (IndexSettings, AnswerSettings, ServeSettings)


def commands(group: click.Group, prefix: str = ""):
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from commands(cmd, prefix + name + " ")
        else:
            yield prefix + name, cmd


def options(cmd: click.Command) -> dict[str, click.Option]:
    return {flag: p for p in cmd.params if isinstance(p, click.Option) for flag in p.opts}


def test_every_declared_flag_is_an_option_with_the_settings_range():
    everywhere = {}
    for _, cmd in commands(main):
        everywhere.update(options(cmd))
    for kind in KINDS:
        for f in flagged(kind):
            opt = everywhere.get(f.metadata["flag"])
            assert opt is not None, f"{f.metadata['flag']} is declared by {kind.__name__} but no command takes it"
            assert opt.name == f.name
            check = f.metadata["check"]
            if isinstance(check, between):
                assert (opt.type.min, opt.type.max) == (check.low, check.high), f.metadata["flag"]
            if isinstance(check, one_of):
                assert list(opt.type.choices) == list(check.choices), f.metadata["flag"]


def test_a_command_taking_a_settings_class_takes_all_its_flags():
    """A command with one flag of a class (`qa mcp --k`) has all that class's flags (`--llm` too)."""
    for name, cmd in commands(main):
        have = set(options(cmd))
        for kind in (AnswerSettings, ServeSettings):
            declared = {f.metadata["flag"] for f in flagged(kind)}
            if have & declared:
                assert declared <= have, f"qa {name} lacks {sorted(declared - have)}"


def test_a_new_setting_with_a_flag_is_an_option_without_more_code():
    @dataclass(frozen=True)
    class Tuned(AnswerSettings):
        depth: int = setting(30, "candidates reranked", env="QA_DEPTH", flag="--depth", check=between(1, 100))

    @click.command()
    @flags(Tuned)
    def cmd(**given):
        click.echo(json.dumps(dataclasses.asdict(Tuned.from_env({}, **given))))

    runner = CliRunner()
    done = runner.invoke(cmd, ["--depth", "7", "--k", "3"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["depth"] == 7 and json.loads(done.output)["k"] == 3
    refused = runner.invoke(cmd, ["--depth", "0"])
    assert refused.exit_code == 2 and "--depth" in refused.output
    assert "QA_DEPTH" in runner.invoke(cmd, ["--help"]).output


def test_the_retrieval_weights_are_settings_with_their_defaults_unchanged():
    from index.errors import UsageError
    from qa.types import Weights

    assert AnswerSettings().weights == Weights(0.6, 50, 30, 0.3, 0.75, 2.0)
    tuned = AnswerSettings.from_env({"QA_LEXICAL_WEIGHT": "0.9", "QA_RERANK": "12"})
    assert (tuned.weights.lexical, tuned.weights.rerank) == (0.9, 12)
    with pytest.raises(UsageError, match="QA_LEXICAL_WEIGHT must be between 0 and 1"):
        AnswerSettings.from_env({"QA_LEXICAL_WEIGHT": "1.5"})
