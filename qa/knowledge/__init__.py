"""What the answerers know of the indexed documents: corpus, sentence table, mentions, files."""
