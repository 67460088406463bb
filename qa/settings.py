"""The answering layer's settings: passages per answer, the answerer, the LLM endpoint."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from index.config import EnvSettings, above, between, one_of, setting
from qa.answerers import DEFAULT, NAMES
from qa.types import Weights

MAX_K = 50


@dataclass(frozen=True)
class AnswerSettings(EnvSettings):
    """Everything `qa` needs beyond the index; built once at an edge (`AnswerSettings.from_env(os.environ)`)."""

    k: int = setting(4, "passages retrieved per answer", env="QA_K", flag="--k", check=between(1, MAX_K))
    answerer: str = setting(DEFAULT, "answerer: " + ", ".join(NAMES) + " (see the table of answerers)",
                            env="QA_LLM", flag="--llm", check=one_of(*NAMES))
    llm_base_url: str | None = setting(None, "the LLM server's URL (an OpenAI-compatible `/v1` API or Ollama)",
                                       env="QA_LLM_BASE_URL")
    llm_model: str | None = setting(None, "the model the LLM server should use", env="QA_LLM_MODEL")
    llm_api_key: str | None = setting(None, "API key for the LLM server (or name a variable holding it "
                                      "with QA_LLM_API_KEY_ENV)", env="QA_LLM_API_KEY", secret=True)
    llm_timeout: float = setting(60.0, "seconds to wait for the LLM server to connect, and for each next piece of "
                                 "a streamed answer", env="QA_LLM_TIMEOUT", check=above(0))
    llm_budget: float = setting(60.0, "seconds one answer may take from the LLM server in all (rewriting a "
                                "follow-up included); a longer answer is cut there, with a note",
                                env="QA_LLM_BUDGET", check=above(0))
    llm_max_tokens: int = setting(512, "most tokens the LLM may write per answer (sent as `max_tokens`, and "
                                  "enforced on the stream when a server ignores it)", env="QA_LLM_MAX_TOKENS",
                                  check=between(16, 32768))

    # Retrieval weights (qa/retrieval/hybrid.py), chosen with bench/tune*.py on the dev sets; tune them for a corpus
    # unlike those (e.g. codes and identifiers, where BM25 matters more) and check with `qa eval`.
    lexical_weight: float = setting(Weights.lexical, "weight of BM25 beside the dense score when picking "
                                    "candidates (0: dense only, 1: BM25 only)", env="QA_LEXICAL_WEIGHT",
                                    check=between(0, 1))
    candidates: int = setting(Weights.candidates, "passages each side of the search (dense, BM25) proposes",
                              env="QA_CANDIDATES", check=between(1, 1000))
    rerank: int = setting(Weights.rerank, "candidates rescored by their best sentence", env="QA_RERANK",
                          check=between(1, 1000))
    rerank_lexical: float = setting(Weights.rerank_lexical, "weight of BM25 in a rescored passage's score, "
                                    "beside its best sentence's", env="QA_RERANK_LEXICAL", check=between(0, 10))
    sentence_coverage: float = setting(Weights.sentence_coverage, "weight of the question's terms a sentence "
                                       "covers in its score", env="QA_SENTENCE_COVERAGE", check=between(0, 10))
    sentence_similarity: float = setting(Weights.sentence_similarity, "weight of a sentence's similarity to the "
                                         "question in its score", env="QA_SENTENCE_SIMILARITY",
                                         check=between(0, 10))

    @property
    def weights(self) -> Weights:
        """The retrieval weights these settings give."""
        return Weights(self.lexical_weight, self.candidates, self.rerank, self.rerank_lexical,
                       self.sentence_coverage, self.sentence_similarity)

    @classmethod
    def _from_env_extra(cls, env: Mapping[str, str], values: dict) -> dict:
        """QA_LLM_API_KEY_ENV names another variable that holds the key (so the key is not in QA_*)."""
        named = env.get("QA_LLM_API_KEY_ENV")
        if values.get("llm_api_key") is None and named and env.get(named):
            return {"llm_api_key": env[named]}
        return {}

    @property
    def has_endpoint(self) -> bool:
        """Whether an LLM server is configured."""
        return bool(self.llm_base_url or self.llm_api_key)
