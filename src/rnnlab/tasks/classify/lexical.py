"""A lexical model inside the classifier: TF-IDF of word 1- and 2-grams → logistic regression.

Recurrent and bag-of-n-gram models err on different texts (Mesnil et al. 2014 combined a
recurrent LM with NBSVM on IMDB for that reason), so the default classifier averages its
recurrent network's probabilities with those of this model (:mod:`rnnlab.tasks.classify.
combine` fits it and chooses the weight). It works on the run's own token ids, so the one
model file, its ONNX graph and the server need nothing but ``(ids, lengths)``:

features of a text with ids x_1 … x_T (from the run's vocabulary of V entries)::

    unigram   f = x_t                                         t = 1 … T
    bigram    f = V + h(x_t, x_{t+1})                         t = 1 … T − 1
              h(a, b) = ((a·V + b) · 2654435761 mod 2³²) div (2³² / M)   (Knuth's
              multiplicative hash, its top log₂ M bits: M buckets, M a power of two)

weights, as scikit-learn's ``TfidfTransformer(sublinear_tf=True, smooth_idf=True)``::

    w_f = (1 + ln c_f) · idf_f      c_f = count of f in the text
    idf_f = ln((1 + n) / (1 + df_f)) + 1   over the n training texts; 0 where df_f = 0
    v = w / ‖w‖₂                    (features never seen in training count for nothing,
                                     as a vocabulary-based vectorizer would drop them)

and logits = v · W + b (W, b from scikit-learn's ``LogisticRegression``). Padding and the
padding id never form a feature. The repeats of a feature in a text are counted with a stable
sort of each row (O(T log T)); in an exported graph with a comparison of every pair of
positions (O(T²)), which ONNX expresses with plain Equal / ReduceSum nodes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    "HASH_MULTIPLIER",
    "LexicalModel",
    "bigram_buckets",
    "count_matrix_rows",
    "default_buckets",
    "feature_ids",
]

HASH_MULTIPLIER = 2654435761  # ⌊2³² / φ⌋, Knuth's multiplicative hashing constant
_TWO_32 = 2**32


def default_buckets(num_classes: int) -> int:
    """Bigram buckets M for K classes: 2²⁰ up to 4 classes, halved as K doubles (≥ 2¹⁶), so
    that the weight table (V + M) × K stays near 4 M numbers (16 MB) whatever K is."""
    buckets = 2**20
    while buckets > 2**16 and buckets * num_classes > 2**22:
        buckets //= 2
    return buckets


def bigram_buckets(first: Tensor, second: Tensor, vocab_size: int, buckets: int) -> Tensor:
    """h(a, b) of the module docstring, elementwise over int64 tensors (same in NumPy)."""
    pair = first * vocab_size + second
    return (pair * HASH_MULTIPLIER) % _TWO_32 // (_TWO_32 // buckets)


def feature_ids(ids: Tensor, lengths: Tensor, vocab_size: int, buckets: int, pad_id: int) -> Tensor:
    """The features of each row (B, 2T − 1): unigrams then bigrams; ``V + M`` (the empty
    feature, weight 0) at padding, past a row's length and wherever a pad id takes part."""
    steps = ids.shape[1]
    empty = vocab_size + buckets
    positions = torch.arange(steps, device=ids.device).unsqueeze(0)
    valid = (positions < lengths.unsqueeze(1)) & (ids != pad_id)
    unigrams = torch.where(valid, ids, torch.full_like(ids, empty))
    pair_valid = valid[:, 1:] & valid[:, :-1]
    hashed = vocab_size + bigram_buckets(ids[:, :-1], ids[:, 1:], vocab_size, buckets)
    bigrams = torch.where(pair_valid, hashed, torch.full_like(hashed, empty))
    return torch.cat([unigrams, bigrams], dim=1)


class LexicalModel(nn.Module):
    """TF-IDF (unigrams + hashed bigrams of token ids) → linear layer: logits (B, K).

    The tables are buffers, not parameters: they are fitted by scikit-learn
    (:func:`rnnlab.tasks.classify.combine.fit_lexical`), never by the Trainer, and are saved
    in the model file with the network's weights.
    """

    def __init__(self, vocab_size: int, num_classes: int, buckets: int, pad_id: int = 0) -> None:
        super().__init__()
        self.vocab_size, self.buckets, self.pad_id = vocab_size, buckets, pad_id
        size = vocab_size + buckets + 1  # the last row is the empty feature
        self.register_buffer("idf", torch.zeros(size))
        self.register_buffer("weight", torch.zeros(size, num_classes))
        self.register_buffer("bias", torch.zeros(num_classes))

    @property
    def num_features(self) -> int:
        """V + M: the columns of the training matrix (the empty feature excluded)."""
        return self.vocab_size + self.buckets

    def features(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """Feature ids (B, N) of each row, see :func:`feature_ids`."""
        return feature_ids(ids, lengths, self.vocab_size, self.buckets, self.pad_id)

    def tfidf(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Feature ids (B, N) and each position's L2-normalised TF-IDF weight (B, N): a
        feature's weight sits at its first occurrence in the row, 0 at its repeats."""
        features = self.features(ids, lengths)
        counts, first = _counts_and_first(features)
        raw = torch.where(first, (1.0 + torch.log(counts)) * self.idf[features], 0.0)
        norm = raw.square().sum(dim=1, keepdim=True).sqrt().clamp_min(1e-12)
        return features, raw / norm

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """Logits (B, K) = v · W + b."""
        features, weights = self.tfidf(ids, lengths)
        return (weights.unsqueeze(-1) * self.weight[features]).sum(dim=1) + self.bias

    def token_logits(self, ids: Tensor) -> Tensor:
        """Each token's share (T, K) of one text's logits − b (for attributions): a feature's
        term v_f · W_f split evenly over its occurrences, a bigram's half to each of its two
        tokens. The rows add up to ``forward(ids) − b``."""
        row = ids.unsqueeze(0)
        lengths = torch.tensor([ids.shape[0]], device=ids.device)
        features, weights = self.tfidf(row, lengths)
        counts, _ = _counts_and_first(features)
        # each occurrence of f carries v_f / c_f of the feature's term
        share = _spread(weights, features)[0] / counts[0]
        terms = share.unsqueeze(-1) * self.weight[features[0]]  # (N, K)
        steps = ids.shape[0]
        out = terms[:steps].clone()
        bigram_terms = terms[steps:]
        out[:-1] += bigram_terms / 2
        out[1:] += bigram_terms / 2
        return out


def _counts_and_first(features: Tensor) -> tuple[Tensor, Tensor]:
    """For each position of each row: how often its feature occurs in the row (float), and
    whether this is the feature's first occurrence there. A stable sort of each row puts
    equal features side by side, earliest first (O(N log N)); an exported graph compares
    all pairs instead (:func:`_counts_and_first_pairwise`), as ONNX's TopK promises no
    stable order. Both give the same answer (a test checks it)."""
    if torch.jit.is_tracing():
        return _counts_and_first_pairwise(features)
    ordered, order = torch.sort(features, dim=1, stable=True)
    starts = torch.ones_like(ordered, dtype=torch.bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = starts.long().cumsum(dim=1) - 1  # the run of equal features each belongs to
    sizes = torch.zeros(ordered.shape, dtype=torch.float32, device=features.device)
    sizes.scatter_add_(1, group, torch.ones_like(sizes))
    counts = torch.empty_like(sizes).scatter_(1, order, sizes.gather(1, group))
    first = torch.empty_like(starts).scatter_(1, order, starts)
    return counts, first


def _counts_and_first_pairwise(features: Tensor) -> tuple[Tensor, Tensor]:
    """:func:`_counts_and_first` by comparing every pair of positions, (B, N, N): plain
    Equal / ReduceSum nodes in ONNX, whatever the batch size."""
    steps = features.shape[1]
    earlier = torch.ones(steps, steps, dtype=torch.bool, device=features.device).tril(-1)
    same = features.unsqueeze(2) == features.unsqueeze(1)
    return same.sum(dim=2).to(torch.float32), ~(same & earlier).any(dim=2)


def _spread(weights: Tensor, features: Tensor) -> Tensor:
    """Each position gets the weight its feature holds at its first occurrence."""
    same = features.unsqueeze(2) == features.unsqueeze(1)  # (B, N, N)
    return (same.to(weights.dtype) * weights.unsqueeze(1)).sum(dim=2)


def count_matrix_rows(
    sequences: list[list[int]], vocab_size: int, buckets: int, pad_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, count) triplets of the texts' feature counts, for a sparse matrix of
    shape (len(sequences), V + M): the same features as :func:`feature_ids`, in NumPy."""
    rows, cols = [], []
    for i, seq in enumerate(sequences):
        a = np.asarray(seq, dtype=np.int64)
        keep = a != pad_id
        unigrams = a[keep]
        pairs = keep[:-1] & keep[1:]
        pair = a[:-1][pairs] * vocab_size + a[1:][pairs]
        # int64 products may wrap around; the residue mod 2³² is the same, as in torch
        with np.errstate(over="ignore"):
            bigrams = vocab_size + (pair * HASH_MULTIPLIER) % _TWO_32 // (_TWO_32 // buckets)
        found = np.concatenate([unigrams, bigrams])
        rows.append(np.full(found.shape[0], i, dtype=np.int64))
        cols.append(found)
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return row, col, np.ones(row.shape[0], dtype=np.float64)
