"""Passages for a question: hybrid dense + BM25 search, filters, named sources, sentence scores."""
