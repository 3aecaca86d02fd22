"""Fine-tunes multilingual-e5-small on a knowledge base's own examples (few-shot tuning).

A frozen sentence encoder places "my card hasn't arrived" and "how long does card delivery take"
close together because both are about cards; a knowledge base may need them apart. Tuning
trains the whole encoder for a few hundred steps with a cosine-softmax head whose topic
prototypes start at the topics' mean embeddings (the matcher's own classifier, made trainable
end to end), the few-shot recipe that lifts Banking77 10-shot by several points. The tuned
weights are written into the same int8 ONNX graph as the stock model (:mod:`core.faq.e5_onnx`),
so answering costs exactly what it did.

PyTorch is needed only here, while a knowledge base is tuned (``pip install torch``); it is
imported on first use.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from core.faq.e5_onnx import E5OnnxEmbedder

Matrix = npt.NDArray[np.float32]
ProgressFn = Callable[[str, int, int], None]


class TuningUnavailable(RuntimeError):
    """PyTorch is not installed, so the encoder cannot be tuned."""


@dataclass(frozen=True, slots=True)
class TuningPlan:
    """How the encoder is tuned; every field is part of the tuned model's cache key.

    The defaults were chosen on CLINC150 10-shot (``val``), never on Banking77 or the held-out
    questions (see ``bench/README_faq.md``).
    """

    steps: int = 200
    """Optimiser steps, whatever the knowledge base's size (bounds the build time)."""
    batch: int = 32
    encoder_lr: float = 1e-4
    prototype_lr: float = 3e-3
    scale: float = 20.0
    """Cosine-softmax temperature: logits are ``scale × cos(vector, prototype)``."""
    warmup: float = 0.1
    """Share of the steps over which the learning rate rises linearly (then falls linearly)."""
    weight_decay: float = 0.01
    seed: int = 20241123

    def digest(self) -> str:
        """A short hash of the plan."""
        text = ",".join(f"{k}={v}" for k, v in sorted(asdict(self).items()))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _require_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise TuningUnavailable(
            "tuning the FAQ encoder needs PyTorch: install it with 'pip install torch' "
            "(the CPU build is enough), or turn tuning off (engine.tune_encoder: false)"
        ) from exc


def tune_weights(
    embedder: E5OnnxEmbedder,
    texts: Sequence[str],
    labels: Sequence[int],
    topics: int,
    plan: TuningPlan | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Matrix]:
    """Tune the encoder behind ``embedder`` to tell ``topics`` apart by their example ``texts``.

    Args:
        embedder: The stock int8 embedder: its tokenizer and input embeddings are used as they
            are, so tuned vectors are computed from exactly what inference will see.
        texts: Training texts (lightly normalised examples and titles).
        labels: Topic index of each text.
        topics: Number of topics.
        plan: Hyperparameters (default :class:`TuningPlan`).
        progress: Called as ``progress("tuning", step, steps)``.

    Returns:
        The tuned float32 tensors by name (see :func:`tunable_names`).

    Raises:
        TuningUnavailable: PyTorch is not installed.
        ValueError: Fewer than two topics have examples.

    """
    _require_torch()
    import torch
    from torch.nn import functional

    from core.faq.e5_torch import E5Encoder

    plan = plan or TuningPlan()
    if len(set(labels)) < 2:
        raise ValueError("tuning needs examples of at least two topics")
    report = progress or (lambda _stage, _done, _total: None)
    torch.manual_seed(plan.seed)
    shuffle = random.Random(plan.seed)
    ids = [embedder.token_ids(text) for text in texts]
    target = torch.tensor(list(labels), dtype=torch.long)
    encoder = E5Encoder(embedder.weights_file)

    def inputs(rows: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        hidden, mask = embedder.inputs([ids[r] for r in rows])
        return torch.from_numpy(hidden), torch.from_numpy(mask)

    with torch.no_grad():
        encoder.eval()
        start = torch.zeros(topics, embedder.dim)
        order = sorted(range(len(ids)), key=lambda r: len(ids[r]))
        for first in range(0, len(order), 64):
            rows = order[first : first + 64]
            start.index_add_(0, target[rows], encoder(*inputs(rows)))
    prototypes = torch.nn.Parameter(functional.normalize(start, dim=-1))
    optimiser = torch.optim.AdamW(
        [
            {"params": list(encoder.parameters()), "lr": plan.encoder_lr, "weight_decay": plan.weight_decay},
            {"params": [prototypes], "lr": plan.prototype_lr, "weight_decay": 0.0},
        ]
    )
    warmup = max(1.0, plan.warmup * plan.steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (plan.steps - step) / plan.steps)
    )
    encoder.train()
    queue: list[int] = []
    report("tuning", 0, plan.steps)
    for step in range(plan.steps):
        if len(queue) < plan.batch:
            epoch = list(range(len(ids)))
            shuffle.shuffle(epoch)
            queue.extend(epoch)
        rows, queue = queue[: plan.batch], queue[plan.batch :]
        vectors = encoder(*inputs(rows))
        logits = plan.scale * vectors @ functional.normalize(prototypes, dim=-1).T
        loss = functional.cross_entropy(logits, target[rows])
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        schedule.step()
        report("tuning", step + 1, plan.steps)
    weights: dict[str, Matrix] = encoder.export()
    return weights


def tuned_embedder(
    base: E5OnnxEmbedder,
    texts: Sequence[str],
    labels: Sequence[int],
    topics: int,
    plan: TuningPlan | None = None,
    progress: ProgressFn | None = None,
) -> E5OnnxEmbedder:
    """``base`` tuned on ``texts``, loaded from the model cache when it was tuned before.

    The variant's name is a hash of the plan and of every (label, text) pair, so a changed
    knowledge base is tuned anew and an unchanged one never is.

    Args:
        base: The stock int8 embedder.
        texts: Training texts.
        labels: Topic index of each text.
        topics: Number of topics.
        plan: Hyperparameters (default :class:`TuningPlan`).
        progress: Called as ``progress("tuning", step, steps)`` while tuning.

    Returns:
        The tuned embedder.

    """
    plan = plan or TuningPlan()
    digest = hashlib.sha256(f"{plan.digest()}|{topics}".encode())
    for label, text in zip(labels, texts, strict=True):
        digest.update(f"\n{label}\t{text}".encode())
    return base.variant(
        digest.hexdigest()[:16], lambda: tune_weights(base, texts, labels, topics, plan, progress)
    )
