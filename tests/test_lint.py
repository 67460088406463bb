"""The code stays clean (issue #27): ruff with the project's rule set (pyproject.toml `[tool.ruff]`: unused and
undefined names, pycodestyle's errors and warnings, sorted imports) finds nothing, and vulture finds no dead
code in the product or the test helpers (names used only by libraries are in tests/vulture_whitelist.py)."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.unit

PRODUCT = ("index", "qa", "ui", "testkit")


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def dead_code() -> list[str]:
    """vulture's findings in the product and testkit; tests/ and bench/ count as users of what they call."""
    done = subprocess.run([sys.executable, "-m", "vulture", *PRODUCT, "tests", "bench", "tests/vulture_whitelist.py", "--exclude", "qa/evalsets",
                           "--min-confidence", "60"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 3), done.stderr  # 3: dead code found
    # click commands are used through their decorators; tests/ and bench/ are checked by their own use
    return [line for line in done.stdout.splitlines() if line.startswith(tuple(p + "/" for p in PRODUCT))
            and not re.search(r"unused function '\w+_cmd'", line)]


def test_vulture_finds_no_dead_code():
    assert dead_code() == []
