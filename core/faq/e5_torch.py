"""multilingual-e5-small as a PyTorch module, for tuning it (:mod:`core.faq.tuning`) only.

Same network as :func:`core.faq.e5_onnx.build_graph` (post-LayerNorm BERT, mean pooling) in
float32, initialised from the model file's dequantised weights. Importing this module imports
PyTorch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional

from core.faq.e5_onnx import WeightSource
from core.faq.e5_weights import Header

Matrix = np.ndarray

_LINEAR = ("q", "k", "v", "ao", "fi", "fo")
_NORMS = ("aln", "oln")


def _parameter(value: Matrix) -> nn.Parameter:
    return nn.Parameter(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))


class EncoderLayer(nn.Module):
    """One transformer layer (self-attention, then the feed-forward block; LayerNorm after each)."""

    def __init__(self, model: WeightSource, prefix: str) -> None:
        """Read the layer called ``prefix`` (``l0`` … ``l11``) from ``model``."""
        super().__init__()
        h = model.header
        self.header = h
        shapes = {
            "q": (h.hidden, h.hidden),
            "k": (h.hidden, h.hidden),
            "v": (h.hidden, h.hidden),
            "ao": (h.hidden, h.hidden),
            "fi": (h.ffn, h.hidden),
            "fo": (h.hidden, h.ffn),
        }
        self.weights = nn.ParameterDict()
        for part in _LINEAR:
            rows, cols = shapes[part]
            self.weights[f"{part}_w"] = _parameter(model.linear(f"{prefix}.{part}.w", rows, cols))
            self.weights[f"{part}_b"] = _parameter(model.floats(f"{prefix}.{part}.b", (rows,)))
        for part in _NORMS:
            self.weights[f"{part}_w"] = _parameter(model.floats(f"{prefix}.{part}.w", (h.hidden,)))
            self.weights[f"{part}_b"] = _parameter(model.floats(f"{prefix}.{part}.b", (h.hidden,)))

    def forward(self, x: Tensor, additive_mask: Tensor) -> Tensor:
        """Transform ``x`` ``(batch, tokens, hidden)``; padding is masked by ``additive_mask``."""
        w = self.weights
        h = self.header
        batch, tokens, hidden = x.shape
        size = hidden // h.heads

        def heads(part: str) -> Tensor:
            projected = functional.linear(x, w[f"{part}_w"], w[f"{part}_b"])
            return projected.view(batch, tokens, h.heads, size).transpose(1, 2)

        q, k, v = heads("q"), heads("k"), heads("v")
        attention = torch.softmax(q @ k.transpose(-1, -2) / size**0.5 + additive_mask, dim=-1)
        context = (attention @ v).transpose(1, 2).reshape(batch, tokens, hidden)
        attended = x + functional.linear(context, w["ao_w"], w["ao_b"])
        x = functional.layer_norm(attended, (hidden,), w["aln_w"], w["aln_b"], h.eps)
        inner = functional.gelu(functional.linear(x, w["fi_w"], w["fi_b"]))
        out = x + functional.linear(inner, w["fo_w"], w["fo_b"])
        return functional.layer_norm(out, (hidden,), w["oln_w"], w["oln_b"], h.eps)


class E5Encoder(nn.Module):
    """The encoder after the embedding lookup: LayerNorm, 12 layers, mean pooling, unit length."""

    def __init__(self, model: WeightSource) -> None:
        """Initialise from ``model``'s (dequantised) weights."""
        super().__init__()
        h: Header = model.header
        self.header = h
        self.ln_w = _parameter(model.floats("emb.ln.w", (h.hidden,)))
        self.ln_b = _parameter(model.floats("emb.ln.b", (h.hidden,)))
        self.layers = nn.ModuleList(EncoderLayer(model, f"l{i}") for i in range(h.layers))

    def forward(self, hidden: Tensor, mask: Tensor) -> Tensor:
        """Unit-length sentence vectors of input embeddings ``hidden`` with token ``mask``."""
        h = self.header
        additive = ((1.0 - mask) * -1e4)[:, None, None, :]
        x = functional.layer_norm(hidden, (h.hidden,), self.ln_w, self.ln_b, h.eps)
        for layer in self.layers:
            x = layer(x, additive)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return functional.normalize(pooled, dim=-1)

    def export(self) -> dict[str, Matrix]:
        """The current weights as float32 arrays, named as in the model file."""
        tensors: dict[str, Tensor] = {"emb.ln.w": self.ln_w, "emb.ln.b": self.ln_b}
        for i, layer in enumerate(self.layers):
            assert isinstance(layer, EncoderLayer)
            for key, value in layer.weights.items():
                part, kind = key.split("_")
                tensors[f"l{i}.{part}.{kind}"] = value
        return {name: value.detach().numpy().astype(np.float32) for name, value in tensors.items()}
