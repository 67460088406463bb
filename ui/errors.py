"""The edges' branch of the error tree (the root is `index.errors.QAError`)."""
from index.errors import QAError, UsageError


class ServeError(QAError):
    """Base of the web server's errors (a port in use, a bad login setting)."""


class UploadRefused(UsageError):
    """An uploaded file was refused; the message says why. Nothing was written."""


class PortInUse(ServeError):
    """The chat's port is taken; the message names a free one. A usage error: another `--port` fixes it."""

    exit_code = 2
