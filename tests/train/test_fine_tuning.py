"""ULMFiT's training devices: the slanted triangular rate as Howard & Ruder (2018, eq. 3) state
it, discriminative learning rates per layer group, and gradual unfreezing — checked on a
real classifier over real sentences (rotten_tomatoes) by which weights each epoch moves."""

from __future__ import annotations

import math

import pytest
import torch

from rnnlab.config import TrainConfig
from rnnlab.errors import ConfigError
from rnnlab.tasks.classify.config import ModelConfig
from rnnlab.tasks.classify.data import ClassificationBatches
from rnnlab.tasks.classify.model import RecurrentClassifier
from rnnlab.text.batching import encode_texts
from rnnlab.text.tokenize import get_tokenizer
from rnnlab.text.vocab import Vocab
from rnnlab.train import Callback, Trainer
from rnnlab.train.optim import build_optimizer, lr_factor, unfrozen_groups
from tests.train.digits import digits_splits, make_model


def ulmfit_stlr(t: int, total: int, cut_frac: float = 0.1, ratio: float = 32.0) -> float:
    """Eq. 3 of Howard & Ruder (2018), divided by η_max."""
    cut = math.floor(total * cut_frac)
    p = t / cut if t < cut else 1 - (t - cut) / (cut * (1 / cut_frac - 1))
    return (1 + p * (ratio - 1)) / ratio


def test_the_slanted_schedule_is_ulmfits_formula():
    total = 1000
    factor = lr_factor("slanted", 0, total)
    for t in (0, 1, 50, 99, 100, 101, 400, 999):
        assert factor(t) == pytest.approx(ulmfit_stlr(t, total), abs=1e-12)
    assert factor(100) == 1.0 and factor(0) == pytest.approx(1 / 32)


def test_a_set_warmup_places_the_peak():
    factor = lr_factor("slanted", 30, 300)
    assert factor(30) == 1.0 and factor(15) < factor(29) < 1.0 and factor(31) < 1.0


def small_classifier(num_layers: int = 2) -> RecurrentClassifier:
    config = ModelConfig(embedding_dim=8, hidden_size=8, num_layers=num_layers, cell="lstm")
    return RecurrentClassifier(50, ["neg", "pos"], config)


def test_layer_groups_hold_every_parameter_once_in_input_to_output_order():
    model = small_classifier(num_layers=3)
    groups = model.layer_groups()
    assert len(groups) == 5  # embedding, three recurrent layers, head
    assert groups[0] == [model.encoder.embedding.weight]
    assert groups[-1] == list(model.head.parameters())
    names = {id(p): n for n, p in model.named_parameters()}
    for layer, group in enumerate(groups[1:-1]):
        assert {names[id(p)] for p in group} == {  # both directions of the layer
            f"encoder.rnn.{w}_l{layer}{side}"
            for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            for side in ("", "_reverse")
        }


def test_discriminative_rates_divide_by_the_decay_per_group_below_the_top():
    model = small_classifier()
    optimizer = build_optimizer(model, TrainConfig(lr=1e-2, layer_lr_decay=2.6))
    rates = [group["lr"] for group in optimizer.param_groups]
    assert rates == pytest.approx([1e-2 / 2.6**3, 1e-2 / 2.6**2, 1e-2 / 2.6, 1e-2])


def test_a_model_without_layer_groups_is_refused_in_one_sentence():
    with pytest.raises(ConfigError, match="names its layer groups"):
        train, valid, _ = digits_splits()
        Trainer(TrainConfig(gradual_unfreezing=True, epochs=1)).fit(make_model(), train, valid)


def test_unfrozen_groups_open_one_more_each_epoch():
    assert list(unfrozen_groups(4, 0)) == [3]
    assert list(unfrozen_groups(4, 1)) == [2, 3]
    assert list(unfrozen_groups(4, 9)) == [0, 1, 2, 3]


class Snapshots(Callback):
    """The model's parameters at the end of every epoch."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model, self.seen = model, []

    def on_epoch_end(self, record) -> None:
        self.seen.append({k: v.detach().clone() for k, v in self.model.named_parameters()})


def test_gradual_unfreezing_moves_only_the_open_groups_each_epoch(rotten_tomatoes, one_thread):
    texts, labels = rotten_tomatoes.train.texts[:200], rotten_tomatoes.train.labels[:200]
    tokens = get_tokenizer("english").tokenize_many(texts)
    vocab = Vocab.build(tokens, max_size=300)
    classes = sorted(set(labels))
    batches = ClassificationBatches(
        encode_texts(tokens, vocab, 30, "head"), [classes.index(y) for y in labels], 32,
        shuffle=True, seed=0,
    )  # fmt: skip
    config = ModelConfig(embedding_dim=8, hidden_size=8, num_layers=2, cell="gru")
    model = RecurrentClassifier(len(vocab), classes, config)
    start = {k: v.detach().clone() for k, v in model.named_parameters()}
    snapshots = Snapshots(model)
    cfg = TrainConfig(epochs=4, lr=1e-2, gradual_unfreezing=True, layer_lr_decay=2.6, seed=0)
    Trainer(cfg, callbacks=(snapshots,)).fit(model, batches, None)
    groups = model.layer_groups()
    names = {id(p): n for n, p in model.named_parameters()}
    group_of = {names[id(p)]: k for k, group in enumerate(groups) for p in group}
    before = start
    for epoch, after in enumerate(snapshots.seen):
        open_groups = set(unfrozen_groups(len(groups), epoch))
        for name, value in after.items():
            moved = not torch.equal(value, before[name])
            assert moved == (group_of[name] in open_groups), (epoch, name)
        before = after
    assert all(p.requires_grad for p in model.parameters())  # as it was before training
