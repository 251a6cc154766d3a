"""The fused output layer against its definition: ``linear_cross_entropy`` equals
``F.cross_entropy(F.linear(…))`` in value and gradients, and the two-level softmax is a
normalised distribution whose training loss is exactly its own −log p."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from rnnlab.nn.softmax import TiedAdaptiveSoftmax, linear_cross_entropy


def _inputs(rows: int = 60, dim: int = 8, vocab: int = 30, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, dim, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(vocab, dim, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(vocab, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, vocab, (rows,), generator=g)
    m = (torch.rand(rows, generator=g) > 0.3).double()
    return x, w, b, y, m


@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_cross_entropy_matches_torch_in_value_and_gradients(with_bias):
    x, w, b, y, m = _inputs()
    bias = b if with_bias else None
    ours = linear_cross_entropy(x, w, y, bias, m)
    reference = (F.cross_entropy(F.linear(x, w, bias), y, reduction="none") * m).sum()
    inputs = (x, w, b) if with_bias else (x, w)
    ours_grads = torch.autograd.grad(ours * 1.7, inputs)
    reference_grads = torch.autograd.grad(reference * 1.7, inputs)
    torch.testing.assert_close(ours, reference, rtol=1e-12, atol=1e-12)
    for got, want in zip(ours_grads, reference_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_linear_cross_entropy_is_stable_for_huge_logits_and_refuses_a_second_backward():
    x, w, b, y, m = _inputs()
    big = (x * 1e3).detach().requires_grad_()
    loss = linear_cross_entropy(big, w, y, b, m)
    reference = (F.cross_entropy(F.linear(big, w, b), y, reduction="none") * m).sum()
    assert torch.isfinite(loss)
    torch.testing.assert_close(loss, reference)
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="backward twice"):
        loss.backward()


def test_the_two_level_softmax_is_normalised_and_trains_on_its_own_log_likelihood():
    x, w, b, y, m = _inputs()
    y[:5] = torch.tensor([0, 9, 10, 11, 29])  # both sides of the cutoff and its edges
    softmax = TiedAdaptiveSoftmax(cutoff=10, in_features=8).double()
    torch.nn.init.normal_(softmax.cluster_weight)
    log_p = softmax.log_probs(x, w, b)
    torch.testing.assert_close(log_p.exp().sum(-1), torch.ones(60, dtype=torch.float64))
    nll = softmax.nll(x, w, b, y, m)
    reference = -(log_p.gather(1, y[:, None]).squeeze(1) * m).sum()
    params = (x, w, b, softmax.cluster_weight, softmax.cluster_bias)
    torch.testing.assert_close(nll, reference, rtol=1e-12, atol=1e-12)
    for got, want in zip(
        torch.autograd.grad(nll, params), torch.autograd.grad(reference, params), strict=True
    ):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    head_only = y.clamp(max=9)  # no row in the tail: the tail is never computed
    assert torch.isfinite(softmax.nll(x, w, b, head_only, m))


def test_a_cutoff_beyond_the_vocabulary_is_refused():
    x, w, b, y, m = _inputs(vocab=30)
    with pytest.raises(ValueError, match="no tail"):
        TiedAdaptiveSoftmax(cutoff=30, in_features=8).double().nll(x, w, b, y, m)
