"""Cosine-softmax topic classifier on sentence embeddings.

Each topic gets a unit "prototype" vector, initialised at the centroid of its example embeddings
and then trained with full-batch Adam so that prototypes move away from each other's examples.
Trained prototypes beat plain centroids or nearest-neighbour voting by several points of
accuracy (see ``bench/README_faq.md``); very large knowledge bases fall back to centroids,
whose training cost would be out of proportion.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int64]

SCALE = 40.0
STEPS = 150
LEARNING_RATE = 0.01
# examples x topics x steps above which training is skipped (about 15 s of one core).
TRAINING_BUDGET = 4.5e8
MIN_STEPS = 20


@dataclass(frozen=True, slots=True)
class Prototypes:
    """Unit prototype per topic (columns) and a bias per topic."""

    weights: Matrix
    """Shape ``(dim, topics)``; every column has unit length."""
    bias: Matrix
    """Shape ``(topics,)``."""
    scale: float = SCALE

    def logits(self, vectors: Matrix) -> Matrix:
        """Topic logits for unit ``vectors`` of shape ``(n, dim)``."""
        out: Matrix = self.scale * (vectors @ self.weights) + self.bias
        return out


def _unit_columns(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=0, keepdims=True)
    norms[norms == 0] = 1.0
    out: Matrix = (matrix / norms).astype(np.float32)
    return out


def centroids(vectors: Matrix, labels: Labels, topics: int) -> Matrix:
    """Unit centroid of each topic's vectors, as columns ``(dim, topics)``."""
    sums = np.zeros((topics, vectors.shape[1]), dtype=np.float32)
    np.add.at(sums, labels, vectors)
    return _unit_columns(sums.T.copy())


def train_prototypes(vectors: Matrix, labels: Labels, topics: int, *, steps: int | None = None) -> Prototypes:
    """Fit prototypes to labelled unit vectors.

    Args:
        vectors: Example embeddings, ``(n, dim)``, unit length.
        labels: Topic index of each example.
        topics: Number of topics (a topic without examples keeps a zero prototype).
        steps: Adam steps; default :data:`STEPS` within :data:`TRAINING_BUDGET`.

    Returns:
        The trained prototypes (plain centroids when the budget allows too few steps).

    """
    weights = centroids(vectors, labels, topics)
    bias = np.zeros(topics, dtype=np.float32)
    n = vectors.shape[0]
    if steps is None:
        steps = min(STEPS, int(TRAINING_BUDGET / max(1, n * topics)))
    if steps < MIN_STEPS or topics < 2 or n == 0:
        return Prototypes(weights, bias)
    targets = np.zeros((n, topics), dtype=np.float32)
    targets[np.arange(n), labels] = 1.0
    m_w = np.zeros_like(weights)
    v_w = np.zeros_like(weights)
    m_b = np.zeros_like(bias)
    v_b = np.zeros_like(bias)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        norms = np.linalg.norm(weights, axis=0, keepdims=True)
        norms[norms == 0] = 1.0
        unit = weights / norms
        z = SCALE * (vectors @ unit) + bias
        z -= z.max(axis=1, keepdims=True)
        probs = np.exp(z)
        probs /= probs.sum(axis=1, keepdims=True)
        grad_z = (probs - targets) / n
        grad_unit = SCALE * (vectors.T @ grad_z)
        # Gradient through the column normalisation: keep only the part orthogonal to the column.
        grad_w = (grad_unit - unit * (grad_unit * unit).sum(axis=0, keepdims=True)) / norms
        grad_b = grad_z.sum(axis=0)
        m_w = beta1 * m_w + (1 - beta1) * grad_w
        v_w = beta2 * v_w + (1 - beta2) * grad_w * grad_w
        weights -= LEARNING_RATE * (m_w / (1 - beta1**t)) / (np.sqrt(v_w / (1 - beta2**t)) + eps)
        m_b = beta1 * m_b + (1 - beta1) * grad_b
        v_b = beta2 * v_b + (1 - beta2) * grad_b * grad_b
        bias -= LEARNING_RATE * (m_b / (1 - beta1**t)) / (np.sqrt(v_b / (1 - beta2**t)) + eps)
    logger.debug("trained %d prototypes on %d examples in %d steps", topics, n, steps)
    return Prototypes(_unit_columns(weights), bias.astype(np.float32))
