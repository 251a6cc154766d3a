"""CRF against brute-force enumeration of every tag path, and gradcheck in float64."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnlab.nn import CRF


def _path_score(crf: CRF, emissions: torch.Tensor, path: tuple[int, ...]) -> torch.Tensor:
    score = crf.start_transitions[path[0]] + emissions[0, path[0]]
    for t in range(1, len(path)):
        score = score + crf.transitions[path[t - 1], path[t]] + emissions[t, path[t]]
    return score + crf.end_transitions[path[-1]]


def _brute_force(crf: CRF, emissions: torch.Tensor, length: int):
    paths = list(itertools.product(range(crf.num_tags), repeat=length))
    scores = torch.stack([_path_score(crf, emissions[:length], p) for p in paths])
    return paths, scores


@pytest.fixture
def case():
    torch.manual_seed(3)
    crf = CRF(3).double()
    torch.nn.init.normal_(crf.transitions)
    torch.nn.init.normal_(crf.start_transitions)
    torch.nn.init.normal_(crf.end_transitions)
    emissions = torch.randn(4, 5, 3, dtype=torch.float64)
    lengths = torch.tensor([5, 1, 3, 4])
    mask = torch.arange(5).unsqueeze(0) < lengths.unsqueeze(1)
    tags = torch.randint(0, 3, (4, 5))
    return crf, emissions, lengths, mask, tags


def test_log_likelihood_equals_enumeration(case):
    crf, emissions, lengths, mask, tags = case
    log_likelihood = crf(emissions, tags, mask)
    for b, length in enumerate(lengths.tolist()):
        _, scores = _brute_force(crf, emissions[b], length)
        log_z = torch.logsumexp(scores, 0)
        gold = _path_score(crf, emissions[b], tuple(tags[b, :length].tolist()))
        torch.testing.assert_close(log_likelihood[b], gold - log_z)
        torch.testing.assert_close(crf.log_partition(emissions, mask)[b], log_z)


def test_probabilities_sum_to_one(case):
    crf, emissions, _, _, _ = case
    paths = list(itertools.product(range(3), repeat=3))
    tags = torch.tensor(paths)
    em = emissions[0, :3].unsqueeze(0).expand(len(paths), -1, -1)
    total = crf(em, tags).exp().sum()
    torch.testing.assert_close(total, torch.tensor(1.0, dtype=torch.float64))


def test_viterbi_equals_enumeration(case):
    crf, emissions, lengths, mask, _ = case
    decoded = crf.decode(emissions, mask)
    for b, length in enumerate(lengths.tolist()):
        paths, scores = _brute_force(crf, emissions[b], length)
        assert tuple(decoded[b]) == paths[int(scores.argmax())]
        assert len(decoded[b]) == length


def test_gradcheck(case):
    crf, emissions, _, mask, tags = case
    emissions = emissions.clone().requires_grad_(True)

    def fn(em, start, end, trans):
        params = {"start_transitions": start, "end_transitions": end, "transitions": trans}
        return torch.func.functional_call(crf, params, (em, tags, mask))

    params = tuple(
        p.detach().clone().requires_grad_(True)
        for p in (crf.start_transitions, crf.end_transitions, crf.transitions)
    )
    assert torch.autograd.gradcheck(fn, (emissions, *params))
