"""Write a sentence-transformers BERT model (the bundled all-MiniLM-L6-v2, or a local one like it) as an
ONNX graph, straight from its `model.safetensors`: no torch, no optimiser pass.

The graph is the one ONNX Runtime's BERT fusion would produce (its `com.microsoft` contrib ops
EmbedLayerNormalization, Attention, SkipLayerNormalization, BiasGelu), so a session opens fast and runs
the fused kernels. Inputs `input_ids`, `attention_mask`, `token_type_ids` (int64, [batch, seq], padded on
the right); output `last_hidden_state` (float32, [batch, seq, hidden]): the token vectors from which
both the chunk vector (mean) and the sentence vectors (late chunking) are pooled. `quantize` derives
the int8 and mixed variants (dynamic, per-channel weights). Needs the `onnx` and `safetensors` packages.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

OPSET = 17
MS = "com.microsoft"


def _json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def unsupported(model_dir: Path) -> str | None:
    """Why the model in `model_dir` cannot be exported (None when it can): it must be a BERT encoder
    in safetensors with mean pooling, as sentence-transformers' MiniLM/BERT models are."""
    cfg = _json(model_dir / "config.json") or {}
    modules = [m.get("type", "").rsplit(".", 1)[-1] for m in (_json(model_dir / "modules.json") or [])]
    pooling = _json(model_dir / "1_Pooling" / "config.json") or {}
    reasons = {
        "no model.safetensors": not (model_dir / "model.safetensors").is_file(),
        "no tokenizer.json": not (model_dir / "tokenizer.json").is_file(),
        f"model type {cfg.get('model_type')!r} is not bert": cfg.get("model_type") != "bert",
        "activation is not gelu": cfg.get("hidden_act") != "gelu",
        "position embeddings are not absolute": cfg.get("position_embedding_type", "absolute") != "absolute",
        f"modules {modules} are not Transformer, Pooling(, Normalize)":
            modules[:2] != ["Transformer", "Pooling"] or set(modules[2:]) - {"Normalize"},
        "pooling is not the mean of the tokens": not pooling.get("pooling_mode_mean_tokens") or any(
            v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"),
        "the model lower-cases outside its tokenizer": bool((max_length_config(model_dir)).get("do_lower_case")),
    }
    return next((why for why, bad in reasons.items() if bad), None)


def max_length_config(model_dir: Path) -> dict:
    """sentence-transformers' own settings (`max_seq_length`, `do_lower_case`)."""
    return _json(model_dir / "sentence_bert_config.json") or {}


def export(model_dir: Path, out: Path) -> Path:
    """Write the fp32 graph of the model in `model_dir` to `out`."""
    import onnx
    from onnx import TensorProto, helper
    from safetensors.numpy import load_file

    cfg = json.loads((model_dir / "config.json").read_text("utf-8"))
    graph = _Graph(load_file(str(model_dir / "model.safetensors")))
    hidden = graph.encoder(cfg)
    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
            for n in ("input_ids", "attention_mask", "token_type_ids")]
    output = helper.make_tensor_value_info(hidden, TensorProto.FLOAT, ["batch", "seq", cfg["hidden_size"]])
    model = helper.make_model(helper.make_graph(graph.nodes, "sentence-encoder", ints, [output], graph.inits),
                              opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)],
                              producer_name="seedqa")
    model.ir_version = 8
    onnx.save(model, str(out))
    return out


class _Graph:
    """Nodes and weights of the graph being written; every node named (quantisation needs names)."""

    def __init__(self, weights: dict[str, np.ndarray]):
        self.w, self.nodes, self.inits = weights, [], []
        # Older checkpoints prefix every tensor with "bert."
        self.prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

    def init(self, name: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def weight(self, key: str, transpose: bool = False) -> str:
        array = self.w[self.prefix + key]
        return self.init(key + (".T" if transpose else ""), array.T if transpose else array)

    def node(self, op: str, inputs: list[str], output: str | None = None, ms: bool = False, **attrs) -> str:
        from onnx import helper

        output = output or f"{op}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, domain=MS if ms else "", **attrs))
        return output

    def encoder(self, cfg: dict) -> str:
        """The embeddings and every layer; returns the name of the output."""
        from onnx import TensorProto, helper

        eps = cfg["layer_norm_eps"]
        as_i32 = {n: self.node("Cast", [n], n + "_i32", to=TensorProto.INT32)
                  for n in ("input_ids", "token_type_ids", "attention_mask")}
        e = "embeddings."
        self.nodes.append(helper.make_node(
            "EmbedLayerNormalization",
            [as_i32["input_ids"], as_i32["token_type_ids"], self.weight(e + "word_embeddings.weight"),
             self.weight(e + "position_embeddings.weight"), self.weight(e + "token_type_embeddings.weight"),
             self.weight(e + "LayerNorm.weight"), self.weight(e + "LayerNorm.bias"), as_i32["attention_mask"]],
            ["embedded", "mask_index"], name="embedded", domain=MS, epsilon=eps))
        x = "embedded"
        for i in range(cfg["num_hidden_layers"]):
            x = self.layer(f"encoder.layer.{i}.", x, cfg["num_attention_heads"], eps)
        return self.node("Identity", [x], "last_hidden_state")

    def layer(self, p: str, x: str, heads: int, eps: float) -> str:
        """One transformer layer: attention, then the feed-forward block, each with a residual LayerNorm."""
        a = p + "attention.self."
        qkv_w = np.concatenate([self.w[self.prefix + a + n + ".weight"].T for n in ("query", "key", "value")], 1)
        qkv_b = np.concatenate([self.w[self.prefix + a + n + ".bias"] for n in ("query", "key", "value")])
        ctx = self.node("Attention", [x, self.init(p + "qkv.weight", qkv_w), self.init(p + "qkv.bias", qkv_b),
                                      "mask_index"], ms=True, num_heads=heads)
        x = self.skip_norm(ctx, x, p + "attention.output.", eps)
        h = self.node("BiasGelu", [self.node("MatMul", [x, self.weight(p + "intermediate.dense.weight", True)]),
                                   self.weight(p + "intermediate.dense.bias")], ms=True)
        return self.skip_norm(h, x, p + "output.", eps)

    def skip_norm(self, h: str, residual: str, p: str, eps: float) -> str:
        """LayerNorm(h @ W + b + residual), as one fused op."""
        y = self.node("MatMul", [h, self.weight(p + "dense.weight", True)])
        return self.node("SkipLayerNormalization", [y, residual, self.weight(p + "LayerNorm.weight"),
                                                    self.weight(p + "LayerNorm.bias"), self.weight(p + "dense.bias")],
                         ms=True, epsilon=eps)


def quantize(src: Path, out: Path, mixed: bool = False) -> Path:
    """Write an int8 variant of the fp32 graph `src` to `out` (dynamic quantisation, per-channel weights:
    per-tensor scales cost far more accuracy on this model). `mixed` quantises only where it measured
    harmless (see `int8_in_mixed`); otherwise every weight matrix is int8."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    nodes = [n.name for n in onnx.load(str(src)).graph.node if int8_in_mixed(n)] if mixed else None
    logging.disable(logging.WARNING)  # its advice to pre-process the graph is for image models
    try:
        # Shape inference cannot type the outputs of the com.microsoft ops, hence DefaultTensorType.
        quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8, per_channel=True, nodes_to_quantize=nodes,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        logging.disable(logging.NOTSET)
    return out


def int8_in_mixed(node) -> bool:
    """Whether the mixed variant runs `node` in int8: the attention and the first feed-forward projection
    of every layer but the first. The first layer and each layer's feed-forward output projection stay
    fp32: int8 activations use one scale per tensor, and the inputs there have the outlying values
    (after GELU, and at the bottom of the network) that one scale resolves worst. Measured on squad-dev
    and multihop-dev, those two cost a multihop question at hits@1 each; the rest, none."""
    weight = node.input[1] if len(node.input) > 1 else ""
    return node.op_type in ("Attention", "MatMul") and not weight.startswith("encoder.layer.0.") and weight.endswith(
        ("qkv.weight", "attention.output.dense.weight.T", "intermediate.dense.weight.T"))
