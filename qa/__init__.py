"""Cited answers over the indexed seed documents."""
from qa.pipeline import Assistant, answer, build_assistant
from qa.settings import AnswerSettings
from qa.types import Answer, Citation, Passage, Short

__all__ = ["Answer", "AnswerSettings", "Assistant", "Citation", "Passage", "Short", "answer", "build_assistant"]
