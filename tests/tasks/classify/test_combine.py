"""The default classifier's lexical member and its combination with the network.

References: scikit-learn's ``TfidfTransformer`` for the TF-IDF weights, its
``LogisticRegression`` for the member's probabilities, the definition of integrated gradients
(completeness) for the attributions; real texts (rotten_tomatoes, trec) throughout.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.feature_extraction.text import TfidfTransformer

from rnnlab.data import datasets
from rnnlab.evaluate.baselines import TFIDF_GRID, tfidf_baseline
from rnnlab.explain.attributions import integrated_gradients, lexical_integrated_gradients
from rnnlab.tasks.classify.combine import _Features, _regression, fit_combination, fit_lexical
from rnnlab.tasks.classify.config import ModelConfig
from rnnlab.tasks.classify.lexical import (
    LexicalModel,
    _counts_and_first,
    _counts_and_first_pairwise,
    count_matrix_rows,
    default_buckets,
    feature_ids,
)
from rnnlab.tasks.classify.model import RecurrentClassifier
from rnnlab.text.batching import encode_texts, pad_batch
from rnnlab.text.tokenize import get_tokenizer
from rnnlab.text.vocab import Vocab

BUCKETS = 2**12


def encoded(splits, n_train: int = 1500, n_other: int = 300):
    """Token ids of real texts: (train ids, train labels, valid ids, valid labels, vocab, K)."""
    tokenizer = get_tokenizer("english", keep_digits=True, keep_punctuation=True)
    train_tokens = tokenizer.tokenize_many(splits.train.texts[:n_train])
    vocab = Vocab.build(train_tokens, max_size=5000, min_count=2)
    classes = sorted(set(splits.train.labels), key=str)
    index = {label: k for k, label in enumerate(classes)}
    valid_tokens = tokenizer.tokenize_many(splits.valid.texts[:n_other])
    return (
        encode_texts(train_tokens, vocab, 60, "head"),
        [index[label] for label in splits.train.labels[:n_train]],
        encode_texts(valid_tokens, vocab, 60, "head"),
        [index[label] for label in splits.valid.labels[:n_other]],
        vocab,
        len(classes),
    )


@pytest.fixture(scope="module")
def rt(rotten_tomatoes):
    return encoded(rotten_tomatoes)


@pytest.fixture(scope="module")
def trec():
    return encoded(datasets.load("trec", seed=0))  # six answer types: a multinomial member


def dense_tfidf(module: LexicalModel, sequences) -> np.ndarray:
    """The module's TF-IDF rows (N, V + M) as a dense matrix."""
    ids, lengths = pad_batch([list(s) for s in sequences], module.pad_id)
    features, weights = module.tfidf(ids, lengths)
    out = torch.zeros(len(sequences), module.num_features + 1, dtype=torch.float64)
    out.scatter_add_(1, features, weights.double())
    return out[:, :-1].numpy()


def test_feature_ids_are_the_numpy_features_padding_and_pad_ids_excluded():
    rng = np.random.default_rng(0)
    vocab_size = 200_000  # (a·V + b) · multiplier wraps past 2⁶³: both sides must agree
    sequences = [list(rng.integers(0, vocab_size, size=n)) for n in (1, 2, 7, 30)]
    sequences[2][3] = 0  # a pad id inside a text forms no unigram and no bigram
    ids, lengths = pad_batch(sequences, 0)
    features = feature_ids(ids, lengths, vocab_size, BUCKETS, pad_id=0)
    empty = vocab_size + BUCKETS
    row, col, _ = count_matrix_rows(sequences, vocab_size, BUCKETS, pad_id=0)
    for i in range(len(sequences)):
        found = sorted(int(f) for f in features[i] if f != empty)
        assert found == sorted(col[row == i].tolist())
        assert all(0 <= f < empty for f in found)
    assert len(col[row == 2]) == 6 + 4  # 6 unigrams, 4 of the 6 bigrams survive the pad


def test_sorted_and_pairwise_counting_agree():
    rng = np.random.default_rng(1)
    features = torch.from_numpy(rng.integers(0, 12, size=(9, 40)))  # many repeats
    counts, first = _counts_and_first(features)
    pair_counts, pair_first = _counts_and_first_pairwise(features)
    torch.testing.assert_close(counts, pair_counts)
    assert torch.equal(first, pair_first)
    row = features[0].tolist()
    assert counts[0].tolist() == [float(row.count(f)) for f in row]
    assert first[0].tolist() == [row.index(f) == i for i, f in enumerate(row)]


def test_tfidf_weights_are_scikit_learns_sublinear_tfidf(rt):
    train, _, _, _, vocab, k = rt
    row, col, ones = count_matrix_rows(train, len(vocab), BUCKETS, vocab.pad_id)
    counts = sp.csr_matrix((ones, (row, col)), shape=(len(train), len(vocab) + BUCKETS))
    counts.sum_duplicates()
    reference = TfidfTransformer(sublinear_tf=True).fit(counts)
    module = fit_lexical(
        train, rt[1], vocab_size=len(vocab), num_classes=k, buckets=BUCKETS, pad_id=vocab.pad_id
    )
    seen = np.asarray(counts.sum(axis=0)).ravel() > 0
    np.testing.assert_allclose(module.idf[:-1].numpy()[seen], reference.idf_[seen], rtol=1e-6)
    assert (module.idf[:-1].numpy()[~seen] == 0).all()  # never seen in training: no weight
    # on training texts every feature is seen, so the rows must be scikit-learn's exactly
    expected = reference.transform(counts[:200]).toarray()
    np.testing.assert_allclose(dense_tfidf(module, train[:200]), expected, atol=1e-6)


@pytest.mark.parametrize("name", ["rt", "trec"])
def test_member_probabilities_are_logistic_regressions(name, request):
    train, y_train, valid, _, vocab, k = request.getfixturevalue(name)
    features = _Features(train, len(vocab), BUCKETS, vocab.pad_id)
    regression = _regression(features.train, np.asarray(y_train), 10.0)
    expected = regression.predict_proba(features.transform(valid))
    module = fit_lexical(
        train, y_train, vocab_size=len(vocab), num_classes=k, buckets=BUCKETS,
        pad_id=vocab.pad_id, c=10.0,
    )  # fmt: skip
    ids, lengths = pad_batch([list(s) for s in valid], vocab.pad_id)
    probs = torch.softmax(module(ids, lengths), dim=-1).numpy()
    np.testing.assert_allclose(probs, expected, atol=2e-5)
    assert (probs.argmax(1) == np.asarray(regression.classes_)[expected.argmax(1)]).all()


@pytest.mark.parametrize("name", ["rt", "trec"])
def test_nb_member_is_wang_and_mannings_log_count_ratio_regression(name, request):
    """Reference: the NB log-count ratio r = ln((p/‖p‖₁)/(q/‖q‖₁)) computed here from the
    binarised counts, and scikit-learn's binary regression on the rows scaled by r — one per
    class against the rest (the positive class only for two)."""
    from sklearn.linear_model import LogisticRegression

    train, y_train, valid, _, vocab, k = request.getfixturevalue(name)
    y = np.asarray(y_train)
    features = _Features(train, len(vocab), BUCKETS, vocab.pad_id)
    rows = features.transform(valid)
    module = fit_lexical(
        train, y_train, vocab_size=len(vocab), num_classes=k, buckets=BUCKETS,
        pad_id=vocab.pad_id, c=10.0, weighting="nb",
    )  # fmt: skip
    ids, lengths = pad_batch([list(s) for s in valid], vocab.pad_id)
    logits = module(ids, lengths).detach().numpy().astype(np.float64)
    binary = (features.train > 0).toarray()
    for positive in [1] if k == 2 else range(k):
        p = 1 + binary[y == positive].sum(axis=0)
        q = 1 + binary[y != positive].sum(axis=0)
        r = np.log(p / p.sum()) - np.log(q / q.sum())
        reference = LogisticRegression(C=10.0, max_iter=1000).fit(
            features.train.multiply(r).tocsr(), y == positive
        )
        expected = reference.decision_function(rows.multiply(r).tocsr())
        got = logits[:, positive] - (logits[:, 0] if k == 2 else 0.0)
        np.testing.assert_allclose(got, expected, atol=2e-4)


def test_the_lexical_weighting_is_chosen_on_validation(rt):
    train, y_train, valid, y_valid, vocab, k = rt
    options = dict(
        vocab_size=len(vocab), num_classes=k, buckets=BUCKETS, pad_id=vocab.pad_id,
        valid_sequences=valid, valid_labels=y_valid,
    )  # fmt: skip
    flat = np.full((len(valid), k), 1.0 / k)  # a network that knows nothing
    chosen = fit_combination(train, y_train, recurrent_valid_probs=flat, **options)
    assert chosen.weighting in ("tfidf", "nb")
    losses = {}
    for weighting in ("tfidf", "nb"):
        for c in (1.0, 3.0, 10.0, 30.0, 100.0, 300.0):
            module = fit_lexical(
                train, y_train, vocab_size=len(vocab), num_classes=k, buckets=BUCKETS,
                pad_id=vocab.pad_id, c=c, weighting=weighting,
            )  # fmt: skip
            ids, lengths = pad_batch([list(s) for s in valid], vocab.pad_id)
            probs = torch.softmax(module(ids, lengths).double(), -1).detach().numpy()
            p = probs[np.arange(len(y_valid)), y_valid]
            losses[weighting, c] = min(
                -np.mean(np.log(w * (1 / k) + (1 - w) * p)) for w in np.linspace(0, 1, 21)
            )
    best = min(losses, key=losses.get)
    assert (chosen.weighting, chosen.c) == best
    assert chosen.summary()["combine_lexical_weighting"] == chosen.weighting


def test_the_weight_follows_the_better_member_on_validation(rt):
    train, y_train, valid, y_valid, vocab, k = rt
    options = dict(
        vocab_size=len(vocab), num_classes=k, buckets=BUCKETS, pad_id=vocab.pad_id,
        valid_sequences=valid, valid_labels=y_valid,
    )  # fmt: skip
    perfect = np.eye(k)[y_valid] * 0.98 + 0.01
    assert (
        fit_combination(train, y_train, recurrent_valid_probs=perfect, **options).recurrent_weight
        == 1.0
    )
    uniform = np.full((len(y_valid), k), 1.0 / k)
    chosen = fit_combination(train, y_train, recurrent_valid_probs=uniform, **options)
    # a uniform network only shrinks the member towards 1/K: a little weight, never most
    assert chosen.recurrent_weight < 0.5 and chosen.valid_log_loss < np.log(k)
    # wrong on every text: the lexical member alone
    wrong = np.eye(k)[(np.asarray(y_valid) + 1) % k] * 0.9 + 0.05
    assert (
        fit_combination(train, y_train, recurrent_valid_probs=wrong, **options).recurrent_weight
        == 0.0
    )
    unchosen = fit_combination(train, y_train, **{**options, "valid_sequences": None})
    assert (unchosen.recurrent_weight, unchosen.c, unchosen.valid_log_loss) == (0.5, 10.0, None)


def test_default_buckets_bound_the_weight_table():
    assert default_buckets(2) == 2**20 and default_buckets(4) == 2**20
    assert default_buckets(20) * 20 <= 2**22 and default_buckets(1000) == 2**16


@pytest.fixture(scope="module")
def combined(rt):
    train, y_train, valid, _, vocab, k = rt
    torch.manual_seed(0)
    config = ModelConfig(embedding_dim=8, hidden_size=8, num_layers=1, embeddings="none")
    model = RecurrentClassifier(len(vocab), ["neg", "pos"], config, vocab.pad_id).eval()
    lexical = fit_lexical(
        train, y_train, vocab_size=len(vocab), num_classes=k, buckets=BUCKETS, pad_id=vocab.pad_id
    )
    model.attach_lexical(lexical, 0.3)
    return model, valid


def test_the_combined_output_is_the_weighted_average_of_the_members(combined):
    model, valid = combined
    ids, lengths = pad_batch([list(s) for s in valid[:50]], 0)
    with torch.no_grad():
        mixed = torch.softmax(model(ids, lengths), dim=-1)
        network = torch.softmax(model.recurrent_logits(ids, lengths), dim=-1)
        lexical = torch.softmax(model.lexical(ids, lengths), dim=-1)
    torch.testing.assert_close(mixed, 0.3 * network + 0.7 * lexical, atol=1e-6, rtol=1e-5)
    model.output = "recurrent"
    try:
        with torch.no_grad():
            torch.testing.assert_close(torch.softmax(model(ids, lengths), -1), network)
    finally:
        model.output = "combined"
    keys = set(model.state_dict())
    assert {"recurrent_weight", "lexical.idf", "lexical.weight", "lexical.bias"} <= keys


def test_token_shares_add_up_to_the_members_logits(combined):
    model, valid = combined
    text = torch.tensor(valid[3])
    shares = model.lexical.token_logits(text)
    with torch.no_grad():
        logits = model.lexical(text.unsqueeze(0), torch.tensor([len(text)]))[0]
    torch.testing.assert_close(shares.sum(0), logits - model.lexical.bias, atol=1e-5, rtol=1e-5)


def test_integrated_gradients_stay_complete_for_the_combination(combined):
    model, valid = combined
    ids = valid[5]
    lexical_share = lexical_integrated_gradients(model.lexical, torch.tensor(ids), 1, 50)
    with torch.no_grad():
        p = torch.softmax(model.lexical(torch.tensor([ids]), torch.tensor([len(ids)])), -1)[0, 1]
        start = torch.softmax(model.lexical.bias, -1)[1]
    assert lexical_share.sum() == pytest.approx(float(p - start), abs=1e-6)
    scores, gap, probs = integrated_gradients(model, ids, 1, steps=50)
    assert gap < 1e-3 and len(scores) == len(ids)
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)


def test_the_tuned_baseline_keeps_the_best_validation_setting(rotten_tomatoes):
    train, valid = rotten_tomatoes.train, rotten_tomatoes.valid
    tuned = tfidf_baseline(
        train.texts, train.labels, valid.texts,
        valid_texts=valid.texts, valid_labels=valid.labels,
    )  # fmt: skip
    assert (tuple(tuned.params["ngram_range"]), tuned.params["c"]) in TFIDF_GRID
    accuracy = np.mean([p == y for p, y in zip(tuned.labels, valid.labels, strict=True)])
    assert tuned.params["valid_accuracy"] == pytest.approx(accuracy)
    untuned, _, _ = tfidf_baseline(train.texts, train.labels, valid.texts)
    assert accuracy >= np.mean([p == y for p, y in zip(untuned, valid.labels, strict=True)])
