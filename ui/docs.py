"""README sections generated from the code: the configuration table (from the layers' settings classes), the
tables of answerers and of encoders (from their registries) and the table of file formats (from
`index.ingest.load.FORMATS`). `python -m ui.docs` rewrites them in README.md; `--check` exits 1 when the README is
out of date (a test runs it)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from index.embedding.embedders import EMBEDDERS
from index.ingest.load import FORMATS
from index.settings import IndexSettings
from qa.answerers import ANSWERERS
from qa.settings import AnswerSettings
from ui.settings import ServeSettings

README = Path(__file__).resolve().parents[1] / "README.md"
LAYERS = [("index", IndexSettings), ("qa", AnswerSettings), ("ui", ServeSettings)]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def config_table() -> str:
    """Every setting: variable, flag, default, meaning, and the layer that owns it."""
    rows = ["| variable | flag | default | meaning | layer |", "|---|---|---|---|---|"]
    for layer, kind in LAYERS:
        for f in kind.documented():
            flag = f"`{f['flag']}`" if f["flag"] else ""
            default = f"`{f['default']}`" if f["default"] else ""
            limits = f" (range {f['range']})" if f["range"] and "," not in f["range"] else ""
            rows.append(f"| `{f['env']}` | {flag} | {default} | {_cell(f['help'] + limits)} | `{layer}` |")
    return "\n".join(rows)


def answerers_table() -> str:
    """Every registered answerer and what it does."""
    rows = ["| `QA_LLM` / `--llm` | what it does | needs an LLM server |", "|---|---|---|"]
    rows += [f"| `{s.name}` | {_cell(s.summary)} | {'yes' if s.needs_endpoint else 'no'} |" for s in ANSWERERS.values()]
    return "\n".join(rows)


def encoders_table() -> str:
    """Every registered way to run the embedding model, and the vectors it makes."""
    rows = ["| `QA_ENCODER` | how the model runs | vectors (an index serves encoders of the same) |", "|---|---|---|"]
    rows += [f"| `{s.name}` | {_cell(s.help)} | {s.vectors} |" for s in EMBEDDERS.values()]
    return "\n".join(rows)


def formats_table() -> str:
    """Every registered file format: its extensions, the library that reads it, what a citation points to."""
    rows = ["| extensions | format | read with | a citation points to |", "|---|---|---|---|"]
    groups: dict[int, list[str]] = {}
    for ext, fmt in FORMATS.items():
        groups.setdefault(id(fmt), []).append(ext)
    for exts in groups.values():
        fmt = FORMATS[exts[0]]
        rows.append(f"| {' '.join(f'`{e}`' for e in exts)} | {_cell(fmt.name)} | {_cell(fmt.library)} | "
                    f"{_cell(fmt.located_by)} |")
    return "\n".join(rows)


SECTIONS = {"config": config_table, "answerers": answerers_table, "encoders": encoders_table,
            "formats": formats_table}


def render(text: str) -> str:
    """`text` with every `<!-- generated: NAME -->` ... `<!-- end: NAME -->` section regenerated."""
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n)(?:.*?\n)?(<!-- end: {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no generated section {name!r}")
        text = pattern.sub(lambda m: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    """Rewrite README.md, or with `--check` report whether it is current."""
    current = README.read_text("utf-8")
    fresh = render(current)
    if "--check" in argv:
        if fresh != current:
            print("README.md is out of date: run `python -m ui.docs`", file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
