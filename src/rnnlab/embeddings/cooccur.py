"""GloVe's co-occurrence matrix, counted in bounded memory.

For every pair of in-vocabulary tokens ``i`` (centre) and ``j`` (context) at distance
``1 <= d <= window`` within one document, ``X_ij`` grows by ``1/d`` — and ``X_ji`` by the
same, since the window is symmetric (Pennington et al., 2014, section 4.2; the reference
``cooccur.c``). As in the reference tool, tokens outside the vocabulary are removed before the
window is applied, so they do not count toward distances.

Counting is vectorised with numpy: documents are concatenated into a chunk of token ids (with
a document id per token, so windows never cross documents); for each distance ``d`` the pairs
``(ids[:-d], ids[d:])`` of the same document are taken at once. Each chunk becomes a scipy
sparse matrix (duplicates summed) that is merged into the running total, so memory is bounded
by the chunk size plus the nonzeros of ``X`` itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from rnnlab.embeddings.events import ProgressEvent, ProgressFn
from rnnlab.errors import ValueRangeError

__all__ = ["cooccurrence"]


def _chunk_matrix(ids: np.ndarray, docs: np.ndarray, window: int, size: int) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    for d in range(1, min(window, len(ids) - 1) + 1):
        same = docs[:-d] == docs[d:]
        left, right = ids[:-d][same], ids[d:][same]
        weight = np.full(len(left), 1.0 / d, dtype=np.float64)
        rows += [left, right]
        cols += [right, left]
        vals += [weight, weight]
    if not rows:
        return sp.csr_matrix((size, size), dtype=np.float64)
    coo = sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    )
    return coo.tocsr()  # sums duplicate (i, j) entries


def cooccurrence(
    documents: Iterable[Sequence[str]],
    vocab: Mapping[str, int],
    window: int = 10,
    chunk_tokens: int = 2_000_000,
    progress: ProgressFn | None = None,
    total_words: int = 0,
) -> sp.csr_matrix:
    """The symmetric, distance-weighted co-occurrence matrix ``X`` of ``documents``.

    Args:
        documents: token lists (a re-iterable stream is read once).
        vocab: token -> row index, ``0 <= index < len(vocab)``; other tokens are dropped.
        window: largest distance counted.
        chunk_tokens: tokens collected before a chunk is counted and merged (memory bound).
        progress, total_words: optional progress callback and the corpus size it reports.

    Returns:
        ``(V, V)`` float64 CSR matrix, ``V = len(vocab)``.
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueRangeError(f"window: expected an integer >= 1, got {window!r}.")
    size = len(vocab)
    total = sp.csr_matrix((size, size), dtype=np.float64)
    buf_ids: list[int] = []
    buf_docs: list[int] = []
    doc = words = 0
    start = time.perf_counter()
    get = vocab.get

    def flush() -> None:
        nonlocal total
        if buf_ids:
            chunk = _chunk_matrix(
                np.asarray(buf_ids, dtype=np.int64), np.asarray(buf_docs), window, size
            )
            total = total + chunk
            buf_ids.clear()
            buf_docs.clear()
            if progress is not None:
                elapsed = time.perf_counter() - start
                progress(ProgressEvent("cooccur", 0, 0, words, total_words, elapsed))

    for tokens in documents:
        words += len(tokens)
        ids = [i for i in map(get, tokens) if i is not None]
        if len(ids) > 1:
            buf_ids.extend(ids)
            buf_docs.extend([doc] * len(ids))
            doc += 1
        if len(buf_ids) >= chunk_tokens:
            flush()
    flush()
    total.sum_duplicates()
    return total
