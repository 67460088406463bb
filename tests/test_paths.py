"""Paths that cross a process boundary are absolute: `qa index` run from a folder outside the repository,
with a relative seeds folder (the default `seeds`, `--seeds seeds`, `QA_SEEDS=seeds`), indexes the user's
files, not the checkout's; the same holds for an installed (non-editable) wheel."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SEEDS

SEED = next(p.name for p in SEEDS.iterdir() if p.suffix == ".txt")
ZEBRA = "The zebra keeper at Hollowmere counted 37 zebras on the morning of the flood.\n" * 3
MINE = "Under the same name as a checkout file: the lighthouse at Quillan Point was painted teal in 1962.\n" * 3


def user_folder(root: Path) -> Path:
    """A user's project folder outside the repository: seeds/zebra.txt and seeds/<a checkout seed's name>."""
    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    (seeds / "zebra.txt").write_text(ZEBRA, "utf-8")
    (seeds / SEED).write_text(MINE, "utf-8")
    return root


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_") and k != "PYTHONPATH"}
    return env | extra


def assert_indexed_the_users_files(qa: list[str], cwd: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run([*qa, "index", "--db", "db", "--json", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["files"] == 2 and not report["skipped"], report
    listed = subprocess.run([*qa, "docs", "list", "--db", "db", "--json", *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert {d["source"]: d["status"] for d in json.loads(listed.stdout)} == {"zebra.txt": "indexed", SEED: "indexed"}
    asked = subprocess.run([*qa, "ask", "What colour was the lighthouse at Quillan Point painted?", "--db", "db",
                            "--json", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert asked.returncode == 0, asked.stderr[-2000:]
    quote = json.loads(asked.stdout)["citations"][0]["quote"]
    assert "teal" in quote, quote  # the user's file, not the checkout's file of the same name


@pytest.mark.parametrize("how", ["default", "flag", "variable"])
def test_relative_seeds_from_a_folder_outside_the_repository(tmp_path, how):
    root = user_folder(tmp_path / "project")
    assert REPO not in root.parents
    args = {"default": (), "flag": ("--seeds", "seeds"), "variable": ()}[how]
    env = clean_env(**({"QA_SEEDS": "seeds"} if how == "variable" else {}))
    assert_indexed_the_users_files([sys.executable, "-m", "ui.cli.main"], root, env, *args)


@pytest.mark.slow
def test_an_installed_wheel_indexes_the_users_files(tmp_path):
    """`pip wheel --no-deps` of the working tree, installed into a throwaway venv that borrows this
    environment's packages (a .pth file), then `qa index` from a folder outside the repository."""
    src = tmp_path / "src"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes((REPO / name).read_bytes())
    # this environment's package folders, in path order (a shared one may hold a newer setuptools)
    shared = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            wheels, src], capture_output=True, text=True, timeout=600,
                           env=clean_env(PYTHONPATH=os.pathsep.join(reversed(shared))))
    assert built.returncode == 0, built.stderr[-2000:]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=300)
    site = next((venv / "lib").glob("python3.*/site-packages"))
    (site / "zz_shared.pth").write_text("\n".join(shared) + "\n", "utf-8")
    wheel = next(wheels.glob("seedqa-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "-q",
                    wheel], check=True, capture_output=True, timeout=600)
    python = venv / "bin" / "python"
    where = subprocess.run([python, "-c", "import index; print(index.__file__)"], cwd=tmp_path, capture_output=True,
                           text=True, env=clean_env(), check=True).stdout.strip()
    assert str(site) in where, where  # the installed copy, not the checkout
    root = user_folder(tmp_path / "project")
    assert_indexed_the_users_files([str(venv / "bin" / "qa")], root, clean_env())
