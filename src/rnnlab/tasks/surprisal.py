"""Per-token surprisal of a text, shared by the tasks that score text under a model: a
language model (``rnnlab score`` on an LM run) and a translation model under forced decoding
(the surprisal of a given reference), so ``rnnlab score`` writes both alike.

Surprisal is −log₂ p(token | context) in bits (Hale 2001; Levy 2008): the information a
reader receives from each token, the quantity psycholinguistics relates to reading times.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TextSurprisal"]


@dataclass
class TextSurprisal:
    """One text's surprisal: its tokens (for a translation, the reference's, ``</s>`` last),
    each one's surprisal in bits, whether each is outside the vocabulary (``oov``: scored as
    ``<unk>``), the total in bits, the token count, the mean, perplexity (2^(mean bits)), and
    for character models the sum per whitespace word."""

    tokens: list[str]
    bits: list[float]
    words: list[tuple[str, float]] = field(default_factory=list)
    oov: list[bool] = field(default_factory=list)

    @property
    def total_bits(self) -> float:
        return float(sum(self.bits))

    @property
    def num_tokens(self) -> int:
        return len(self.bits)

    @property
    def mean_bits(self) -> float:
        """Mean surprisal per token in bits (NaN for a text without tokens)."""
        return self.total_bits / len(self.bits) if self.bits else float("nan")

    @property
    def perplexity(self) -> float:
        return 2.0**self.mean_bits  # NaN for a text without tokens
