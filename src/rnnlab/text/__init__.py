"""Text pipeline: tokenizers, vocabulary, encoding, padding and length bucketing.

>>> from rnnlab.text import Vocab, encode_texts, get_tokenizer, pad_batch
>>> tok = get_tokenizer("english")
>>> tokens = tok.tokenize_many(["A fine film.<br />Fine!", "Dull."])
>>> vocab = Vocab.build(tokens)
>>> ids, lengths = pad_batch(encode_texts(tokens, vocab, max_len=400))
>>> ids.shape, lengths.tolist()
(torch.Size([2, 4]), [4, 1])
"""

from __future__ import annotations

from rnnlab.text.batching import (
    BucketBatchSampler,
    PaddingReport,
    encode_texts,
    pad_batch,
    padding_fraction,
    padding_report,
)
from rnnlab.text.tokenize import TOKENIZERS, Tokenizer, get_tokenizer
from rnnlab.text.vocab import Vocab

__all__ = [
    "TOKENIZERS",
    "BucketBatchSampler",
    "PaddingReport",
    "Tokenizer",
    "Vocab",
    "encode_texts",
    "get_tokenizer",
    "pad_batch",
    "padding_fraction",
    "padding_report",
]
