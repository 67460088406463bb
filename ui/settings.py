"""The edges' settings (web server, uploads, feedback) and `Config`: every layer's settings, built once."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from index.config import EnvSettings, between, setting
from index.errors import UsageError
from index.settings import IndexSettings
from qa.settings import AnswerSettings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServeSettings(EnvSettings):
    """How `qa serve` listens and what the chat accepts."""

    host: str = setting("127.0.0.1", "interface to bind (loopback by default)", env="QA_HOST", flag="--host")
    port: int = setting(7860, "port of the web chat", env="QA_PORT", flag="--port", check=between(1, 65535))
    auth: str | None = setting(None, "`user:password` login for the chat", env="QA_AUTH", secret=True)
    api_key: str | None = setting(None, "bearer key for the OpenAI-compatible `/v1` and the MCP `/mcp` endpoints "
                                  "(unset: the password of the chat login, if any)", env="QA_API_KEY", secret=True)
    auth_file: Path | None = setting(None, "a file whose first line is the `user:password` login (instead of "
                                     "QA_AUTH)", env="QA_AUTH_FILE", flag="--auth-file")
    allowed_hosts: tuple[str, ...] = setting((), "more host names the chat answers to, besides localhost and "
                                             "the bind address (comma-separated; the flag repeats)",
                                             env="QA_ALLOWED_HOSTS", flag="--allowed-host")
    upload_limit_mb: float = setting(20.0, "largest file the chat accepts", env="QA_UPLOAD_LIMIT_MB",
                                     check=between(0.001, 10000))
    upload_max_files: int = setting(20, "most files one upload may hold", env="QA_UPLOAD_MAX_FILES",
                                    check=between(1, 10000))
    upload_total_mb: float = setting(100.0, "most megabytes one upload may hold in all", env="QA_UPLOAD_TOTAL_MB",
                                     check=between(0.001, 100000))
    upload_cache_minutes: float = setting(60.0, "how long uploaded files stay in Gradio's cache before they are "
                                          "deleted", env="QA_UPLOAD_CACHE_MINUTES", check=between(0.01, 100_000))
    api_concurrency: int = setting(2, "answers `/v1` computes at once (more requests wait their turn)",
                                   env="QA_API_CONCURRENCY", check=between(1, 64))
    api_max_body_mb: float = setting(4.0, "largest request body `/v1` reads (larger: 413)", env="QA_API_MAX_BODY_MB",
                                     check=between(0.001, 1000))
    api_max_messages: int = setting(200, "most messages one `/v1` request may carry, the question included "
                                    "(more: 400)", env="QA_API_MAX_MESSAGES", check=between(1, 100_000))
    api_max_history_chars: int = setting(200_000, "most characters of conversation before the question in one "
                                         "`/v1` request (more: 400)", env="QA_API_MAX_HISTORY_CHARS",
                                         check=between(1, 100_000_000))
    insecure_no_auth: bool = setting(False, "serve beyond loopback without a login (otherwise refused: anyone who "
                                     "reaches the chat could exclude, delete, upload and rebuild)",
                                     env="QA_INSECURE_NO_AUTH", flag="--insecure-no-auth")
    feedback_log: Path | None = setting(None, "where thumbs up/down are appended (JSON lines)",
                                        env="QA_FEEDBACK_LOG", shown="<index folder>/feedback.jsonl")

    def validate(self) -> None:
        """One source for the login."""
        if self.auth and self.auth_file is not None:
            raise UsageError("set QA_AUTH or QA_AUTH_FILE, not both", hint="QA_AUTH_FILE keeps the password in a file")

    def check_exposure(self) -> None:
        """Refuse to serve beyond loopback without a login, unless `--insecure-no-auth` says so: the
        Documents tab's actions are callable by anyone who reaches the page."""
        if self.host not in LOOPBACK and not (self.auth or self.auth_file) and not self.insecure_no_auth:
            raise UsageError(f"serving on {self.host} without a login would let anyone who reaches it change the "
                             "documents (exclude, delete, upload, rebuild)",
                             hint="set QA_AUTH=user:password (or QA_AUTH_FILE), or pass --insecure-no-auth")


@dataclass(frozen=True)
class Config:
    """The settings of every layer, built together at an edge."""

    index: IndexSettings = field(default_factory=IndexSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags) -> "Config":
        """Each layer's settings from `QA_*` variables, then the flags that layer owns (None = not given)."""
        return cls(*(kind.from_env(env, **_owned(kind, flags)) for kind in (IndexSettings, AnswerSettings,
                                                                           ServeSettings)))

    @property
    def feedback_log(self) -> Path:
        """The feedback log: QA_FEEDBACK_LOG, or `feedback.jsonl` in the index folder."""
        return self.serve.feedback_log or self.index.db_dir / "feedback.jsonl"


def _owned(kind, flags: dict) -> dict:
    names = set(kind.__dataclass_fields__)
    return {k: v for k, v in flags.items() if k in names}


def from_process(**flags) -> Config:
    """The settings of this process: its environment, then command-line `flags` (the edges call this)."""
    return Config.from_env(os.environ, **flags)
