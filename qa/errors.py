"""The `qa` layer's branch of the error tree (the root is `index.errors.QAError`)."""
from index.errors import QAError


class AnswerError(QAError):
    """Base of the answering layer's errors."""


class LLMError(AnswerError):
    """The configured LLM endpoint failed: unreachable, timed out or returned garbage."""
