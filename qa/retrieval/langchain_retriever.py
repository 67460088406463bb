"""The hybrid search as a LangChain retriever, for users' own chains (imported on demand: LangChain costs
about a second to import, and answering does not need it)."""
from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from qa.retrieval.filters import Filter
from qa.retrieval.hybrid import HybridSearch


class SeedRetriever(BaseRetriever):
    """The hybrid search as a LangChain retriever, for use in users' own chains."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    search: HybridSearch
    k: int = 4
    where: Filter | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        passages = self.search.search(self.search.embed_query(query), self.k, self.where)
        return [Document(page_content=p.text, id=p.id,
                         metadata={**p.meta, "score": p.score, "dense": p.dense, "lexical": p.lexical})
                for p in passages]
