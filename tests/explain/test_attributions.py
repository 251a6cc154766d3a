"""Integrated gradients and occlusion on a GRU trained on real IMDB reviews.

IG is checked against a hand-written Riemann sum of the same path integral, against its own
completeness axiom computed from two forward passes, and against occlusion in sign.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from rnnlab.errors import ConfigError
from rnnlab.explain import Explanation
from rnnlab.explain.attributions import lexical_integrated_gradients
from rnnlab.nn.layers import _RecurrentBase
from rnnlab.tasks.classify.predictor import TextPredictor

pytest.importorskip("captum", reason="integrated gradients need captum")

EXPLANATION_KEYS = {
    "text", "tokens", "attributions", "label", "target", "probabilities", "method",
    "completeness_gap",
}  # fmt: skip


def short_reviews(imdb, n: int) -> list[str]:
    """The first ``n`` test reviews of at most 120 words (quick to explain, easy to read)."""
    return [t for t in imdb.test.texts if len(t.split()) <= 120][:n]


def probability(predictor: TextPredictor, ids: list[int], target: int) -> float:
    with torch.no_grad():
        logits = predictor.model(torch.tensor([ids]), torch.tensor([len(ids)]))
    return float(torch.softmax(logits, -1)[0, target])


def riemann_ig(
    predictor: TextPredictor, ids: list[int], target: int, steps: int = 400
) -> np.ndarray:
    """IG_t = Σ_d (e − e′)_td · mean_k ∂F(e′ + α_k (e − e′))/∂e_td, α_k at interval midpoints,
    written from the definition with a forward hook on the embedding layer."""
    model = predictor.model
    embedding = model.encoder.embedding
    x = torch.tensor([ids])
    e = embedding(x).detach()
    e0 = embedding(torch.full_like(x, predictor.vocab.pad_id)).detach()
    alphas = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps
    path = (e0 + alphas[:, None, None] * (e - e0)).requires_grad_()  # (S, T, E)
    handle = embedding.register_forward_hook(lambda module, args, out: path)
    try:
        logits = model(x.expand(steps, -1), torch.full((steps,), len(ids)))
        (grads,) = torch.autograd.grad(torch.softmax(logits, -1)[:, target].sum(), path)
    finally:
        handle.remove()
    return ((e - e0)[0] * grads.mean(0)).sum(-1).numpy()


def test_explanation_matches_the_contract(imdb_predictor, imdb):
    text = short_reviews(imdb, 1)[0]
    (explanation,) = imdb_predictor.explain(text)
    record = explanation.to_dict()
    assert isinstance(explanation, Explanation)
    assert set(record) == EXPLANATION_KEYS
    assert record["method"] == "ig" and record["text"] == text
    assert (
        len(record["tokens"])
        == len(record["attributions"])
        == len(imdb_predictor.encode([text])[0])
    )
    assert record["label"] == record["target"] == imdb_predictor.predict([text])[0]
    assert set(record["probabilities"]) == {"neg", "pos"}
    assert isinstance(record["completeness_gap"], float)
    assert all(isinstance(a, float) for a in record["attributions"])
    (other,) = imdb_predictor.explain([text], method="occlusion", target="neg")
    assert other.target == "neg" and other.completeness_gap is None


def test_ig_is_complete_and_equals_the_path_integral(imdb_predictor, imdb):
    """Σ_t IG_t = F(x) − F(baseline) up to the integration error, which is reported."""
    pad = imdb_predictor.vocab.pad_id
    for text in short_reviews(imdb, 8):
        (explanation,) = imdb_predictor.explain(text, steps=50)
        ids = imdb_predictor.encode([text])[0]
        k = imdb_predictor.labels.index(explanation.target)
        difference = probability(imdb_predictor, ids, k) - probability(
            imdb_predictor, [pad] * len(ids), k
        )
        total = sum(explanation.attributions)
        assert abs(total - difference) < 5e-3, (total, difference)
        assert explanation.completeness_gap == pytest.approx(abs(total - difference), abs=1e-4)
        reference = riemann_ig(imdb_predictor, ids, k)
        model = imdb_predictor.model
        if model.lexical is not None:  # the default: the network's share is w·IG above, the
            # lexical member's follows its TF-IDF path (tests/tasks/classify/test_combine.py)
            share = 1 - float(model.recurrent_weight)
            reference = reference + share * lexical_integrated_gradients(
                model.lexical, torch.tensor(ids), k, 50
            )
        scale = np.abs(reference).max()
        assert np.abs(np.array(explanation.attributions) - reference).max() < 0.02 * scale


def test_occlusion_is_the_drop_when_a_token_is_deleted(imdb_predictor, imdb):
    text = short_reviews(imdb, 1)[0]
    (explanation,) = imdb_predictor.explain(text, method="occlusion", target="pos")
    ids = imdb_predictor.encode([text])[0]
    full = probability(imdb_predictor, ids, 1)
    for t in (0, len(ids) // 2, len(ids) - 1):
        expected = full - probability(imdb_predictor, ids[:t] + ids[t + 1 :], 1)
        assert explanation.attributions[t] == pytest.approx(expected, abs=1e-5)


def test_occlusion_agrees_in_sign_with_ig_on_the_top_tokens(imdb_predictor, imdb):
    """Statistical: on 30 real reviews the 3 tokens with the largest |IG| mostly move the
    prediction the same way when deleted (chance would be 50 %)."""
    texts = short_reviews(imdb, 30)
    ig = imdb_predictor.explain(texts, method="ig", steps=32)
    occ = imdb_predictor.explain(texts, method="occlusion")
    agree = []
    for a, b in zip(ig, occ, strict=True):
        top = np.argsort(-np.abs(a.attributions))[:3]
        agree += [np.sign(a.attributions[t]) == np.sign(b.attributions[t]) for t in top]
    assert np.mean(agree) >= 0.75, np.mean(agree)


def test_bad_method_and_target_are_clear_errors(imdb_predictor):
    with pytest.raises(ConfigError, match=r"method must be one of .*got 'shap'"):
        imdb_predictor.explain("fine", method="shap")
    with pytest.raises(ConfigError, match=r"target must be one of the model's labels \['neg', "):
        imdb_predictor.explain("fine", target="positive")


def test_explain_runs_the_step_path_even_for_a_fused_model(imdb_predictor, imdb, monkeypatch):
    """cuDNN refuses backward in eval mode, so explaining must not use the fused kernel —
    here forced on the CPU, where it would silently work and hide the bug."""
    text = short_reviews(imdb, 1)[0]
    expected = imdb_predictor.explain(text)[0].attributions
    predictor = copy.deepcopy(imdb_predictor)
    predictor.model.encoder.rnn.path = "fused"
    calls = []
    original = _RecurrentBase._step_path

    def counting(self, *args, **kwargs):
        calls.append(self.path)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_RecurrentBase, "_step_path", counting)
    attributions = predictor.explain(text)[0].attributions
    assert calls and set(calls) == {"step"}
    assert predictor.model.encoder.rnn.path == "fused"  # restored afterwards
    np.testing.assert_allclose(attributions, expected, atol=1e-5)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (cuDNN)")
def test_explain_on_gpu_with_the_cudnn_model(imdb_predictor, imdb):
    """On a GPU the fused path is cuDNN, whose backward raises in eval mode (captum #328,
    #564); explaining must route around it and give the CPU's attributions."""
    text = short_reviews(imdb, 1)[0]
    cpu = imdb_predictor.explain(text)[0]
    model = copy.deepcopy(imdb_predictor.model).cuda().eval()
    model.encoder.rnn.path = "fused"
    ids = torch.tensor([imdb_predictor.encode([text])[0]], device="cuda")
    embedded = model.encoder.embedding(ids).detach().requires_grad_()
    output, _ = model.encoder.rnn(embedded)
    with pytest.raises(
        RuntimeError, match=r"(?i)cudnn RNN backward can only be called in training"
    ):
        output.sum().backward()
    gpu = TextPredictor(
        model,
        imdb_predictor.tokenizer,
        imdb_predictor.vocab,
        max_len=imdb_predictor.max_len,
        truncate=imdb_predictor.truncate,
        device="cuda",
    )
    explanation = gpu.explain(text)[0]
    assert explanation.completeness_gap < 5e-3
    np.testing.assert_allclose(explanation.attributions, cpu.attributions, atol=1e-3)
