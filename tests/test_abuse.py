"""Hostile settings and command lines, through the real `qa` command: refused before anything is touched.

Before: `QA_CHUNK_SIZE=0` (or an overlap >= the size) dropped the collection and the manifest before it
failed, and the next `qa ask` silently abstained; `QA_K=abc`, `QA_MAX_FILE_MB=x` and `QA_CHROMA_PORT=abc`
printed a traceback; `qa ask --db /nonexistent` created the folder; `--seeds <a file>` said the folder
"does not exist"; `--auth user:pass` put the password where `ps` shows it.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.builds.build import build
from index.generations import generation
from index.settings import IndexSettings
from testkit.servers import XI_QUESTION, XI_QUOTE
from ui.server.guard import allowed_hosts, login
from ui.settings import Config, ServeSettings

BAD_ENV = [
    ({"QA_CHUNK_SIZE": "0"}, "QA_CHUNK_SIZE must be between 50 and 20000, not 0"),
    ({"QA_CHUNK_SIZE": "300", "QA_CHUNK_OVERLAP": "300"}, "QA_CHUNK_OVERLAP (300) must be smaller than QA_CHUNK_SIZE"),
    ({"QA_CHUNK_OVERLAP": "-1"}, "QA_CHUNK_OVERLAP must be at least 0, not -1"),
    ({"QA_K": "abc"}, "QA_K / --k must be an integer, not 'abc'"),
    ({"QA_K": "0"}, "QA_K / --k must be between 1 and"),
    ({"QA_K": "1.7"}, "QA_K / --k must be an integer, not '1.7'"),
    ({"QA_MAX_FILE_MB": "x"}, "QA_MAX_FILE_MB must be a number, not 'x'"),
    ({"QA_CHROMA_PORT": "abc"}, "QA_CHROMA_PORT must be an integer, not 'abc'"),
]


def snapshot(db: Path) -> dict:
    """Every file under the index folder with its bytes (to prove nothing was touched)."""
    return {p.relative_to(db).as_posix(): p.read_bytes() for p in sorted(db.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder) -> IndexSettings:
    import shutil

    from conftest import SEEDS

    root = tmp_path_factory.mktemp("abuse")
    shutil.copytree(SEEDS, root / "seeds", copy_function=shutil.copyfile)
    settings = IndexSettings(seeds_dir=root / "seeds", db_dir=root / "db")
    build(settings, embedder=embedder)
    return settings


@pytest.mark.parametrize("env, message", BAD_ENV, ids=[next(iter(e)) + "=" + next(iter(e.values())) for e, _ in BAD_ENV])
def test_bad_settings_are_refused_before_anything_is_touched(built, qa_cli, env, message):
    before = snapshot(built.db_dir)
    for command in (["index"], ["index", "--rebuild"], ["ask", XI_QUESTION]):
        done = qa_cli(*command, "--seeds", built.seeds_dir, "--db", built.db_dir, env=env)
        assert done.returncode == 2, (command, done.stderr[-2000:])
        assert message in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert snapshot(built.db_dir) == before


def test_the_index_still_answers_after_the_refusals(built, qa_cli):
    done = qa_cli("ask", XI_QUESTION, "--seeds", built.seeds_dir, "--db", built.db_dir, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert not answer["abstained"] and XI_QUOTE in answer["citations"][0]["quote"]


def test_asking_a_missing_index_creates_nothing(tmp_path, qa_cli):
    db = tmp_path / "nonexistent" / "db"
    done = qa_cli("ask", XI_QUESTION, "--db", db)
    assert done.returncode == 1 and f"no index found in {db}" in done.stderr and "`qa index`" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "nonexistent").exists()


def test_seeds_naming_a_file_says_so(tmp_path, qa_cli):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder", "utf-8")
    done = qa_cli("index", "--seeds", a_file, "--db", tmp_path / "db")
    assert done.returncode == 1 and f"seeds path {a_file} is a file, not a folder" in done.stderr, done.stderr
    assert "does not exist" not in done.stderr and not (tmp_path / "db").exists()


def test_the_password_cannot_be_given_on_the_command_line(qa_cli):
    done = qa_cli("serve", "--auth", "alice:s3cret")
    assert done.returncode == 2 and "No such option" in done.stderr


def test_login_from_a_file_and_the_allowed_hosts(tmp_path):
    secret = tmp_path / "login"
    secret.write_text("alice:pa:ss\n", "utf-8")
    cfg = Config.from_env({"QA_AUTH_FILE": str(secret), "QA_ALLOWED_HOSTS": "qa.internal, Chat.Example"})
    assert login(cfg.serve) == ("alice", "pa:ss") and "pa:ss" not in repr(cfg)
    assert set(allowed_hosts(cfg.serve)) == {"localhost", "127.0.0.1", "[::1]", "qa.internal", "chat.example"}
    assert set(allowed_hosts(ServeSettings(host="::1"))) == {"localhost", "127.0.0.1", "[::1]"}
    assert "10.1.2.3" in allowed_hosts(ServeSettings(host="10.1.2.3", allowed_hosts=("a.b",)))
    from index.errors import UsageError

    with pytest.raises(UsageError, match="not both"):
        Config.from_env({"QA_AUTH": "a:b", "QA_AUTH_FILE": str(secret)})
    secret.write_text("no colon here\n", "utf-8")
    with pytest.raises(UsageError, match="must look like user:password"):
        login(cfg.serve)
    with pytest.raises(UsageError, match="cannot read the login file"):
        login(ServeSettings(auth_file=tmp_path / "missing"))


def test_generation_layout_is_per_location(built):
    """The pointer and generations live in the index folder (one location per collection later)."""
    ptr = generation.read(built)
    assert ptr.live.dir.parent == generation.location(built) == built.db_dir
    assert (built.db_dir / generation.POINTER).is_file() and ptr.live.lexical.is_dir()
