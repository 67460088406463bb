"""Any `Embedder` as LangChain `Embeddings` (imported on demand: LangChain is not on the query path)."""
from __future__ import annotations

from langchain_core.embeddings import Embeddings

from index.embed import Embedder


class LangChainEmbeddings(Embeddings):
    """Adapter so any `Embedder` can be used where LangChain expects `Embeddings`."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors for documents."""
        return self.embedder.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Vector for a query."""
        return self.embedder.embed([text])[0].tolist()
