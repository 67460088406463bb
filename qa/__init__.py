"""Cited answers over the indexed seed documents."""
from qa.pipeline import Assistant, answer, build_assistant
from qa.settings import AnswerSettings
from qa.types import Answer, Citation, Passage

__all__ = ["Answer", "AnswerSettings", "Assistant", "Citation", "Passage", "answer", "build_assistant"]
