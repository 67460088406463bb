"""What every layer's settings share: fields that name their `QA_*` variable and flag, parsing and
validation with messages that name the variable, and `from_env`. Each layer declares its own frozen
settings class with `setting(...)` fields; only the edges call `from_env` (nothing else reads the
environment)."""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Callable, Mapping

from index.errors import UsageError

Check = Callable[[Any], str | None]  # returns what is wrong with a value, or None


def setting(default: Any, help: str, env: str | None = None, flag: str | None = None,
            check: Check | None = None, secret: bool = False, shown: str | None = None) -> Any:
    """A settings field: its default, `QA_*` variable, command-line flag, help text and check."""
    return dataclasses.field(default=default, repr=not secret, metadata={
        "env": env, "flag": flag, "help": help, "check": check, "shown": shown, "secret": secret})


@dataclasses.dataclass(frozen=True)
class between:  # noqa: N801 - used like the other checks, as a function
    """A check: the number lies in [low, high] (the bounds are kept: the CLI makes them a click range)."""

    low: float
    high: float

    def __call__(self, v: Any) -> str | None:
        return None if self.low <= v <= self.high else f"between {self.low:g} and {self.high:g}"


def at_least(low: float) -> Check:
    """A check: the number is at least `low`."""
    return lambda v: None if v >= low else f"at least {low:g}"


def above(low: float) -> Check:
    """A check: the number is greater than `low`."""
    return lambda v: None if v > low else f"greater than {low:g}"


class one_of:  # noqa: N801 - used like the other checks, as a function
    """A check: the value is one of `choices` (kept: the CLI makes them a click choice)."""

    def __init__(self, *choices: str):
        self.choices = tuple(choices)

    def __call__(self, v: Any) -> str | None:
        return None if v in self.choices else "one of " + ", ".join(self.choices)


class EnvSettings:
    """Base of the layers' frozen settings dataclasses: typed, validated, buildable from `QA_*` variables."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = _convert(f, hints[f.name], getattr(self, f.name))
            object.__setattr__(self, f.name, value)
        self.validate()

    def validate(self) -> None:
        """Checks across fields; subclasses raise `UsageError` naming the variables."""

    def replace(self, **changes):
        """A copy with `changes` applied (None included: it means "unset")."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides):
        """Settings from `QA_*` variables in `env`, then `overrides` (flags); a None override is ignored."""
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            raw = (env or {}).get(f.metadata.get("env") or "")
            if raw is not None and raw.strip():
                values[f.name] = _parse(f, hints[f.name], raw.strip())
        values.update(cls._from_env_extra(env or {}, values))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def _from_env_extra(cls, env: Mapping[str, str], values: dict) -> dict:
        """Values a subclass derives from the environment beyond one variable per field."""
        return {}

    @classmethod
    def documented(cls) -> list[dict]:
        """One row per field (variable, flag, default, meaning), for the README and `--help`."""
        return [{"env": f.metadata["env"], "flag": f.metadata["flag"], "help": f.metadata["help"],
                 "default": f.metadata["shown"] or _shown(f.default), "range": allowed(f.metadata.get("check"))}
                for f in dataclasses.fields(cls) if f.metadata.get("help")]  # type: ignore[arg-type]


def allowed(check: Check | None) -> str:
    """What a check admits, for the docs: `1 – 50`, `a, b`, or "" when it cannot say."""
    if isinstance(check, between):
        return " – ".join(str(int(n)) if float(n).is_integer() else str(n) for n in (check.low, check.high))
    if isinstance(check, one_of):
        return ", ".join(check.choices)
    return ""


def label(f: dataclasses.Field) -> str:
    """How messages name a field: its variable and flag (`QA_K / --k`), else its name."""
    names = [n for n in (f.metadata.get("env"), f.metadata.get("flag")) if n]
    return " / ".join(names) or f.name


def invalid(f: dataclasses.Field, value: Any, wanted: str) -> UsageError:
    """The `UsageError` for a bad value of field `f`."""
    shown = repr(value) if not f.metadata.get("secret") else "(hidden)"
    return UsageError(f"{label(f)} must be {wanted}, not {shown}", hint=f.metadata.get("help"))


def base_type(kind) -> type:
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    return args[0] if typing.get_origin(kind) in (typing.Union, types.UnionType) else kind


def _parse(f: dataclasses.Field, kind, raw: str) -> Any:
    base = base_type(kind)
    try:
        if base is bool:
            return _bool(raw)
        if base in (int, float):
            return base(raw)
        if typing.get_origin(base) is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        raise invalid(f, raw, "an integer" if base is int else "a number") from None
    return raw


def _bool(raw: str) -> bool:
    low = raw.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _convert(f: dataclasses.Field, kind, value: Any) -> Any:
    """`value` as the field's type (str -> Path, exact numbers only), then the field's check."""
    if value is None:
        if typing.get_origin(kind) is None and kind is not type(None):
            raise invalid(f, value, "set")
        return None
    base = base_type(kind)
    if base is Path and isinstance(value, (str, Path)):
        value = Path(value).expanduser()
    elif base is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif base in (int, float) and (isinstance(value, bool) or not isinstance(value, base)):
        raise invalid(f, value, "an integer" if base is int else "a number")
    elif typing.get_origin(base) is tuple and isinstance(value, (list, tuple)):
        value = tuple(value)
    check = f.metadata.get("check")
    wrong = check(value) if check else None
    if wrong:
        raise invalid(f, value, wrong)
    return value


def _shown(value: Any) -> str:
    if value is None or value == ():
        return ""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)
