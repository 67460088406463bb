"""`.qaignore` in the seeds folder: paths left out of the index, in gitignore syntax (via pathspec)."""
from __future__ import annotations

from pathlib import Path

NAME = ".qaignore"
REASON = f"ignored by {NAME}"


class Ignore:
    """The rules of one `.qaignore` (none when the file is missing): which paths the index leaves out."""

    def __init__(self, lines: list[str]):
        import pathspec

        self.spec = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None

    def __bool__(self) -> bool:
        return self.spec is not None

    def file(self, source: str) -> bool:
        """True when the file at `source` (relative to the seeds folder, `/`-separated) is ignored."""
        return bool(self.spec) and self.spec.match_file(source)

    def directory(self, source: str) -> bool:
        """True when the whole directory `source` is ignored (it is then not walked)."""
        return bool(self.spec) and self.spec.match_file(source.rstrip("/") + "/")


def read(seeds_dir: Path) -> Ignore:
    """The `.qaignore` of `seeds_dir` (empty rules when there is none or it is unreadable)."""
    try:
        text = (Path(seeds_dir) / NAME).read_text("utf-8", errors="replace")
    except OSError:
        return Ignore([])
    return Ignore(text.splitlines())
