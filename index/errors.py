"""The project's one error tree. `QAError` and `UsageError` are its root; each layer owns a branch:

    QAError                      (this module; every error raised on purpose, with a `hint`)
    ├── UsageError               bad input from the user: a question, a flag, a variable, an upload (exit 2)
    ├── IndexingError            this module: the `index` layer (seeds, store, model, lock)
    ├── AnswerError              qa/errors.py: the `qa` layer (LLM endpoint, answerer)
    └── ServeError               ui/errors.py: the edges (web server, uploads)

Only the edges (ui/) turn these into messages and exit codes.
"""


class QAError(Exception):
    """Base of every error the product raises on purpose. `hint` says what to do next."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint

    @property
    def message(self) -> str:
        """The message without the hint."""
        return str(self.args[0]) if self.args else type(self).__name__

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(QAError):
    """Bad input from the user: an empty question, a bad flag or variable value, a refused upload."""

    exit_code = 2


class IndexingError(QAError):
    """Base of the `index` layer's errors."""


class SeedsMissingError(IndexingError):
    """The seeds directory does not exist."""


class NothingIndexedError(IndexingError):
    """No file at all could be indexed."""


class IndexMissingError(IndexingError):
    """There is no index to answer from."""


class IndexMismatchError(IndexingError):
    """The index was built with another embedding model."""


class StoreError(IndexingError):
    """The vector store failed: unreachable server, read-only or full disk, unreadable files."""


class StoreDamagedError(StoreError):
    """The index store cannot be opened (e.g. a truncated `chroma.sqlite3`): `qa index` moves it aside."""


class IndexBusyError(IndexingError):
    """Another process is writing the same index."""


class EmbedderError(IndexingError):
    """The embedding model cannot be loaded or run."""
