"""The Store contract and its Chroma implementation, read from the live generation."""
