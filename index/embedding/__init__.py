"""Chunks to vectors: the Embedder protocol and registry, ONNX Runtime export and encoder."""
