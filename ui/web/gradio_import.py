"""Gradio, imported once the way the web chat needs it. Every module of the chat takes `gr` from here.

* Analytics and version checks are off before gradio is imported (it reads the variable at import).
* Gradio's component metaclass regenerates gradio's own type stubs (`.pyi` files inside site-packages)
  each time a component class is defined, on every import: it parses each component's source file twice
  and renders a template for each of its 82 classes. That is a development task for gradio's authors;
  nothing reads the stubs at run time, only type checkers. It costs 0.9 s of the 2.3 s `import gradio`
  takes here (5 runs each way, medians 2.25 s and 1.36 s), so the chat imports gradio with that step
  replaced by one that does nothing, which also keeps the process from writing into site-packages.
  Gradio has no option for this (6.31: `ComponentMeta.__new__` calls `create_or_modify_pyi` for every
  class), so the step is replaced only in the releases it was checked against (`CHECKED`;
  tests/test_speed_paths.py fails on any other, to be checked again); any other release, or gradio
  imported before this module, is imported as it comes, with the stubs rewritten, and a log line says so
  (`stubs_skipped()` says which happened).
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.metadata
import logging
import os
import sys
from types import ModuleType

META_MODULE = "gradio.component_meta"  # where gradio defines the stub writer
STUB_WRITER = "create_or_modify_pyi"
CHECKED = ("6.31.0",)  # gradio releases whose stub writer is known to be only that (read their component_meta)
log = logging.getLogger(__name__)


def _no_stubs(*_args, **_kwargs) -> None:
    """Stands in for gradio's stub writer: the type stubs gradio ships stay as they are."""


class _SkipStubs(importlib.abc.MetaPathFinder):
    """Finds `gradio.component_meta` where Python's path finder does, and replaces the stub writer as soon
    as the module has run, before any component class is defined. Any other module, and that one if the
    path finder cannot find it, is left to the finders after this one."""

    def find_spec(self, name, path, target=None):
        if name != META_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            _patch_after_exec(spec.loader)
        return spec


def _patch_after_exec(loader) -> None:
    exec_module = loader.exec_module

    def exec_then_patch(module: ModuleType) -> None:
        exec_module(module)
        if callable(getattr(module, STUB_WRITER, None)):
            setattr(module, STUB_WRITER, _no_stubs)

    loader.exec_module = exec_then_patch


def stubs_skipped() -> bool:
    """Whether the imported gradio defines its components without rewriting its type stubs."""
    meta = sys.modules.get(META_MODULE)
    return meta is not None and getattr(meta, STUB_WRITER, None) is _no_stubs


def _why_not() -> str | None:
    """Why gradio is imported as it comes (None: its stub writer is replaced)."""
    if "gradio" in sys.modules:
        return "gradio was imported before ui.web.gradio_import"
    try:
        version = importlib.metadata.version("gradio")
    except importlib.metadata.PackageNotFoundError:
        return "gradio's version is unknown"
    return None if version in CHECKED else f"gradio {version} is not one of the releases checked ({', '.join(CHECKED)})"


os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
_finder = _SkipStubs()
_reason = _why_not()
if _reason is None:
    sys.meta_path.insert(0, _finder)
else:
    log.warning("gradio rewrites its type stubs at import (about 0.9 s more at start): %s", _reason)
try:
    import gradio as gr  # noqa: E402
finally:
    if _finder in sys.meta_path:  # here, not in find_spec, where the import system iterates over this list
        sys.meta_path.remove(_finder)

__all__ = ["gr", "stubs_skipped"]
