"""How the checkout installs: `./run` installs it in editable mode on every run, and that must print nothing
beyond pip's own lines (issue 26: setuptools' "Editable installation" warning came each time)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


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
