"""The encoders in `index.embedding.embedders.EMBEDDERS`: ONNX Runtime in fp32 gives torch's vectors, the default (int8
where harmless) stays close to them, the exported model is cached once per content and variant, and an
index remembers mixed and int8 vectors so they are never mixed with fp32 ones."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import EVAL, SEEDS
from index.builds.build import build
from index.embedding import onnx_cache, onnx_export
from index.embedding.embedders import (
    EMBEDDERS,
    SentenceTransformerEmbedder,
    mismatch,
    open_embedder,
    resolve_model,
    vectors,
)
from index.embedding.onnx_encoder import OnnxEmbedder
from index.errors import IndexMismatchError, UsageError
from index.ingest import sentences
from index.ingest.chunk import index_text
from index.settings import DEFAULT_MODEL, IndexSettings
from qa.pipeline import build_assistant

MODEL_DIR = Path(resolve_model(DEFAULT_MODEL))


def sample_texts() -> list[str]:
    """Real chunks of two corpora (title-prefixed as the build embeds them), some longer than the model sees."""
    texts = []
    for path in sorted((EVAL / "squad-dev" / "corpus").iterdir())[:3] + sorted(SEEDS.iterdir())[:1]:
        text = path.read_text("utf-8")
        texts += [index_text(text[at:at + 1000], {"title": path.stem}) for at in range(0, 6000, 1500)]
    return texts + ["Zürich’s café – “naïve” 東京 🚀 façade", "x", "A short question?"]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


@pytest.fixture(scope="module")
def fp32() -> OnnxEmbedder:
    """The fp32 ONNX encoder (QA_ENCODER=onnx-fp32)."""
    model = open_embedder(IndexSettings(encoder="onnx-fp32"))
    assert isinstance(model, OnnxEmbedder) and model.variant == "fp32"
    return model


@pytest.mark.slow
def test_onnx_fp32_gives_torchs_vectors_for_chunks_and_spans(fp32):
    texts = sample_texts()
    spans = [sentences.split(t) + [(0, len(t))] for t in texts]
    torch_model = SentenceTransformerEmbedder()
    want, want_spans = torch_model.embed_spans(texts, spans)
    got, got_spans = fp32.embed_spans(texts, spans)
    assert got.shape == want.shape == (len(texts), 384)
    assert cosines(got, want).min() > 0.9999
    assert cosines(fp32.embed(texts), torch_model.embed(texts)).min() > 0.9999
    for g, w in zip(got_spans, want_spans):
        seen = np.linalg.norm(w, axis=1) > 0  # spans past the truncation are zero in both
        assert ((np.linalg.norm(g, axis=1) > 0) == seen).all()
        assert cosines(g[seen], w[seen]).min() > 0.9999


def test_the_default_stays_close_to_fp32_and_closer_than_int8(embedder, fp32, tmp_path: Path):
    assert isinstance(embedder, OnnxEmbedder) and embedder.variant == "mixed"
    texts = sample_texts()
    spans = [sentences.split(t) for t in texts]
    want, want_spans = fp32.embed_spans(texts, spans)
    got, got_spans = embedder.embed_spans(texts, spans)
    int8 = open_embedder(IndexSettings(encoder="onnx-int8", model_cache=tmp_path / "cache"))
    close, coarse = cosines(got, want), cosines(int8.embed(texts), want)
    assert close.min() > 0.985 and close.mean() > 0.995  # the lowest: the one-character and the short texts
    assert (close > coarse).all() and 1 - close.mean() < (1 - coarse.mean()) / 2
    spans_close = np.concatenate([cosines(g, w) for g, w in zip(got_spans, want_spans) if len(w)])
    assert np.median(spans_close) > 0.99


def test_the_mixed_graph_keeps_the_first_layer_and_the_feed_forward_outputs_in_fp32(embedder):
    import onnx

    nodes = onnx.load(str(onnx_cache.model_file(MODEL_DIR, "mixed", embedder.roots))).graph.node
    float_weights = sorted(n.input[1] for n in nodes if n.op_type in ("MatMul", "Attention"))
    assert float_weights == sorted([f"encoder.layer.{i}.output.dense.weight.T" for i in range(6)] + [
        "encoder.layer.0.qkv.weight", "encoder.layer.0.attention.output.dense.weight.T",
        "encoder.layer.0.intermediate.dense.weight.T"])
    assert sum(n.op_type == "QAttention" for n in nodes) == 5 and sum(n.op_type == "MatMulInteger" for n in nodes) == 10


def test_span_vectors_come_from_the_same_pass_as_the_text_vector(embedder):
    texts = ["One sentence here. Another one there.", "Short."]
    spans = [[(0, 18), (19, 37), (40, 50)], []]
    vectors, span_vectors = embedder.embed_spans(texts, spans)
    assert np.allclose(vectors, embedder.embed(texts), atol=1e-6)
    assert np.allclose(np.linalg.norm(span_vectors[0][:2], axis=1), 1.0, atol=1e-5)
    assert not span_vectors[0][2].any()  # a span past the end of the text has no tokens: zero vector
    assert span_vectors[1].shape == (0, 384)
    assert embedder.embed([]).shape == (0, 384)


def test_the_export_is_cached_once_per_content_and_variant(tmp_path: Path):
    roots = [tmp_path / "cache"]
    paths = []
    threads = [threading.Thread(target=lambda: paths.append(onnx_cache.model_file(MODEL_DIR, "fp32", roots)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(paths)) == 1 and len(paths) == 3  # concurrent first uses wait for one export
    path = paths[0]
    key = onnx_cache.content_key(MODEL_DIR, roots)
    assert path == roots[0] / "onnx" / f"{key}-v{onnx_cache.EXPORTER}-fp32" / "model.onnx"
    assert [p.name for p in path.parent.iterdir()] == ["model.onnx"]  # no temporary file left behind
    stamp = path.stat().st_mtime_ns
    assert onnx_cache.model_file(MODEL_DIR, "fp32", roots) == path and path.stat().st_mtime_ns == stamp


def test_an_unwritable_cache_falls_back_to_the_index_folder(tmp_path: Path, embedder):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    settings = IndexSettings(model_cache=blocked, db_dir=tmp_path / "db")
    model = open_embedder(settings)
    assert np.allclose(model.embed(["fallback"]), embedder.embed(["fallback"]), atol=1e-6)
    assert list((tmp_path / "db" / "model" / "onnx").glob("*-mixed/model.onnx"))


def test_a_model_that_cannot_be_exported_says_why(tmp_path: Path):
    assert onnx_export.unsupported(MODEL_DIR) is None
    other = tmp_path / "model"
    shutil.copytree(MODEL_DIR, other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "model_type": "mpnet"}))
    assert "mpnet" in onnx_export.unsupported(other)
    (other / "config.json").write_text(json.dumps(config))
    (other / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert "pooling" in onnx_export.unsupported(other)
    settings = IndexSettings(embed_model=str(other), db_dir=tmp_path / "db", model_cache=tmp_path / "cache")
    assert isinstance(open_embedder(settings), SentenceTransformerEmbedder)  # the default falls back to torch
    assert vectors(settings) == "fp32" and "vectors" not in settings.chunking_key  # and records what torch makes
    assert isinstance(open_embedder(settings.replace(encoder="onnx-fp32")), SentenceTransformerEmbedder)
    with pytest.raises(Exception, match="onnx-int8 cannot run"):
        open_embedder(settings.replace(encoder="onnx-int8"))


def test_encoders_come_from_one_registry():
    assert list(EMBEDDERS) == ["onnx", "onnx-fp32", "onnx-int8", "torch"]
    assert IndexSettings().encoder == "onnx"
    assert IndexSettings.from_env({"QA_ENCODER": "torch"}).encoder == "torch"
    with pytest.raises(UsageError, match="QA_ENCODER"):
        IndexSettings.from_env({"QA_ENCODER": "tensorflow"})
    assert IndexSettings.from_env({"XDG_CACHE_HOME": "/tmp/x"}).model_cache == Path("/tmp/x/seedqa")
    assert IndexSettings.from_env({"XDG_CACHE_HOME": "/tmp/x", "QA_MODEL_CACHE": "/tmp/y"}).model_cache == Path("/tmp/y")
    # fp32 vectors are the same from either backend, so they share an index; mixed and int8 ones are recorded.
    assert IndexSettings(encoder="torch").chunking_key == IndexSettings(encoder="onnx-fp32").chunking_key
    assert "vectors" not in IndexSettings(encoder="torch").chunking_key
    assert IndexSettings().chunking_key["vectors"] == "mixed"
    assert IndexSettings(encoder="onnx-int8").chunking_key["vectors"] == "int8"


def test_a_mismatch_names_the_encoders_that_made_the_index():
    before = {"embed_model": DEFAULT_MODEL}  # an index from before the default was mixed: fp32 vectors
    assert mismatch(before, IndexSettings()) == ("the index holds fp32 vectors (made by QA_ENCODER=onnx-fp32 or "
                                                 "QA_ENCODER=torch); QA_ENCODER=onnx makes mixed ones")
    assert mismatch(before, IndexSettings(encoder="torch")) is None
    assert "QA_ENCODER=onnx-int8" in mismatch({**before, "vectors": "int8"}, IndexSettings())
    assert "unknown encoder" in mismatch({**before, "vectors": "fp16"}, IndexSettings())


def test_a_default_index_is_rebuilt_for_fp32_and_refused_to_an_fp32_reader(seeds_copy, make_settings, embedder,
                                                                           fp32):
    mixed = make_settings(seeds_copy)
    first = build(mixed, embedder=embedder)
    assert first.chunks and mismatch({"embed_model": DEFAULT_MODEL, "vectors": "mixed"}, mixed) is None
    exact = mixed.replace(encoder="onnx-fp32")
    with pytest.raises(IndexMismatchError, match="holds mixed vectors .made by QA_ENCODER=onnx."):
        build_assistant(exact, embedder=fp32).answer("What did Xi herald during his call with Putin?")
    again = build(exact, embedder=fp32)
    assert again.rebuilt_because and "vectors" in again.rebuilt_because
    answer = build_assistant(exact.replace(encoder="torch"), embedder=fp32).answer(
        "What did Xi herald during his call with Putin?")
    assert answer.citations  # an index of fp32 vectors serves the torch encoder too
    with pytest.raises(IndexMismatchError, match="holds fp32 vectors"):
        build_assistant(mixed, embedder=embedder).answer("What did Xi herald during his call with Putin?")
