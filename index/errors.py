"""The one small error hierarchy of the library; the CLI and UI turn these into messages."""


class QAError(Exception):
    """Base of every error the library raises on purpose. `hint` says what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  hint: {self.hint}" if self.hint else base


class UsageError(QAError):
    """Bad input from the user: an empty question, a bad flag value, a refused upload."""

    exit_code = 2


class SeedsMissingError(QAError):
    """The seeds directory does not exist."""


class NothingIndexedError(QAError):
    """No file at all could be indexed."""


class IndexMissingError(QAError):
    """There is no index to answer from."""


class IndexMismatchError(QAError):
    """The index was built with another embedding model."""


class StoreError(QAError):
    """The vector store failed: unreachable server, read-only or full disk."""


class IndexBusyError(QAError):
    """Another process is writing the same index."""


class LLMError(QAError):
    """The configured LLM endpoint failed: unreachable, timed out or returned garbage."""
