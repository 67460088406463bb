"""Command-line options generated from the settings declarations: a `setting(..., flag="--x")` field is an
option of the commands that take its settings class, with its help, variable, type and range, so a flag is
declared once (in the layer's settings) and cannot drift from the CLI (tests/test_cli_flags.py)."""
from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Callable

import click

from index.config import base_type, between, one_of


def flagged(kind) -> list[dataclasses.Field]:
    """The fields of settings class `kind` that declare a command-line flag."""
    return [f for f in dataclasses.fields(kind) if f.metadata.get("flag")]


def option(kind, f: dataclasses.Field) -> Callable:
    """The click option of field `f` of settings class `kind`: its flag, the field's name as the parameter,
    None when not given (the variable or the default then applies)."""
    base = base_type(typing.get_type_hints(kind)[f.name])
    meta = f.metadata
    shown = f" [{meta['env']}]" if meta.get("env") else ""
    extra: dict = {"help": meta["help"][:1].upper() + meta["help"][1:] + "." + shown}
    if base is bool:
        extra.update(is_flag=True, default=None)
    elif typing.get_origin(base) is tuple:
        extra.update(multiple=True, default=None)
    else:
        extra["type"] = _type(base, meta.get("check"))
    return click.option(meta["flag"], f.name, **extra)


def flags(kind, *names: str) -> Callable:
    """A decorator adding the options of settings class `kind` (only the fields `names`, if given)."""
    fields = [f for f in flagged(kind) if not names or f.name in names]

    def add(fn):
        for f in reversed(fields):
            fn = option(kind, f)(fn)
        return fn
    return add


def given(values: dict) -> dict:
    """The flags actually given: a repeatable flag not given arrives as an empty tuple, meaning "unset"."""
    return {k: (v or None) if isinstance(v, tuple) else v for k, v in values.items()}


def _type(base, check) -> click.ParamType:
    if isinstance(check, one_of):
        return click.Choice(list(check.choices))
    if isinstance(check, between) and base is int:
        return click.IntRange(int(check.low), int(check.high))
    if isinstance(check, between) and base is float:
        return click.FloatRange(check.low, check.high)
    if base is Path:
        return click.Path(path_type=Path)
    return {int: click.INT, float: click.FLOAT}.get(base, click.STRING)
