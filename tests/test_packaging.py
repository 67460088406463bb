"""How the checkout installs: `./run` installs it in editable mode on every run, and that must print nothing
beyond pip's own lines (issue 26: setuptools' "Editable installation" warning came each time)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO


@pytest.mark.slow
def test_the_editable_install_has_nothing_to_warn_about(tmp_path):
    """pip installs the checkout as `./run` does (isolated build with a current setuptools) into a throwaway
    venv; `-v` shows what the build backend says, which newer pips print even with `-q`."""
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=300)
    done = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "install", "-v", "--no-deps",
                           "-e", str(REPO)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    said = done.stdout + done.stderr
    assert "Successfully installed seedqa" in said
    assert "Editable installation" not in said and "Warning:" not in said, said[-4000:]


@pytest.mark.slow
def test_the_wheel_holds_the_product_and_no_test_helpers(tmp_path):
    """Built as pip builds it (isolated, with the setuptools pyproject.toml asks for). The helpers tests and benchmarks share (`testkit/`: sample writers, fakes, servers, the load scenario)
    stay in the checkout; the wheel holds the three layers, their evaluation sets and static files."""
    import shutil
    import zipfile

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "index", "qa", "ui", "testkit", "tests"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(
            REPO / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                        if (REPO / name).is_dir() else {}))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                           "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("seedqa-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "qa/pipeline.py" in names and "index/ingest/load.py" in names and "ui/cli/main.py" in names
    assert any(n.startswith("qa/evalsets/") for n in names) and any(n.startswith("ui/web/static/") for n in names)
    helpers = [n for n in names if n.split("/")[0] in ("testkit", "tests")
               or n.rsplit("/", 1)[-1] in ("samples.py", "fakes.py", "testing.py") or "/testing/" in n]
    assert helpers == []
