"""Every registered answerer implements the whole `qa.answerers.Answerer` protocol with its signatures, and the
searches answerers are given (`HybridSearch`, the filtered `ScopedSearch`) implement `qa.answerers.Search`:
the pipeline calls these members and nothing else, without probing."""
from __future__ import annotations

import inspect

import pytest

from index.settings import IndexSettings
from qa.answerers import ANSWERERS, Answerer, Parts, Search
from qa.retrieval.filters import Filter
from qa.retrieval.hybrid import HybridSearch, ScopedSearch
from qa.settings import AnswerSettings
from testkit.fakes import HashEmbedder, MemoryStore


def members(protocol: type) -> dict[str, object]:
    """The protocol's declared methods and properties (its own, not `Protocol`'s)."""
    return {name: value for name, value in vars(protocol).items()
            if not name.startswith("_") and (callable(value) or isinstance(value, property))}


def params(fn) -> list[str]:
    return [p.name for p in inspect.signature(fn).parameters.values() if p.name != "self"]


def assert_implements(obj, protocol: type) -> None:
    for name in getattr(protocol, "__annotations__", {}):  # declared attributes (`name`)
        assert hasattr(obj, name), f"{type(obj).__name__} lacks {name}"
    for name, declared in members(protocol).items():
        found = inspect.getattr_static(type(obj), name, None)
        assert found is not None, f"{type(obj).__name__} lacks {name}"
        if isinstance(declared, property):
            assert isinstance(found, property), f"{type(obj).__name__}.{name} is not a property"
        else:
            assert params(found) == params(declared), f"{type(obj).__name__}.{name}{inspect.signature(found)}"


@pytest.fixture
def search(tmp_path) -> HybridSearch:
    settings = IndexSettings(seeds_dir=tmp_path, db_dir=tmp_path / "db")
    return HybridSearch(settings, HashEmbedder(), MemoryStore(settings))


def test_the_protocols_declare_what_the_pipeline_and_the_answerers_use():
    assert set(members(Answerer)) == {"stream", "standalone", "warm_up"}
    assert set(members(Search)) == {"search", "embed_query", "embed", "lexical", "seeds_dir"}


@pytest.mark.parametrize("name", list(ANSWERERS))
def test_every_registered_answerer_implements_the_protocol(name, search):
    settings = AnswerSettings(llm_base_url="http://127.0.0.1:9/v1", llm_model="m")
    answerer = ANSWERERS[name].make(Parts(search, settings, chat_model=object()))
    assert answerer.name == name
    assert_implements(answerer, Answerer)


def test_both_searches_implement_the_search_protocol(search):
    assert_implements(search, Search)
    assert_implements(ScopedSearch(search, Filter(type=("md",))), Search)
    assert not hasattr(ScopedSearch, "__getattr__")  # declared members only: nothing forwarded blindly
