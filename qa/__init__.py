"""Cited answers over the indexed seed documents."""
from qa.pipeline import Assistant, answer, build_pipeline
from qa.types import Answer, Citation, Passage

__all__ = ["Answer", "Assistant", "Citation", "Passage", "answer", "build_pipeline"]
