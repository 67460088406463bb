"""Beside the store: the BM25 snapshot by column, sentence vectors read by row."""
