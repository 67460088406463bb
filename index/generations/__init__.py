"""The index on disk: generations and their pointer, the manifest, the writer lock."""
