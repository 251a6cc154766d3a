"""IMDB sentiment end to end: seconds per epoch and time to 88 % and 90 % test accuracy.

    python benchmarks/bench_classify.py [--epochs 3] [--targets 0.88,0.90] [--threads 2]
        [--only default]

The first contestants train the same network, the classic recipe — embedding 128 → 2-layer
GRU 128 → last state → linear, the same
vocabulary (30,000 words), the same initialisation (rnnlab.nn.orthogonal_init_), Adam 1e-3,
batch 32, gradient clipping 5 — on the same 19,904 training reviews of ``rnnlab.data.datasets``'
IMDB split, and are scored on its 2,500 test reviews after every epoch (scoring time not
counted). What differs is the engineering:

* ``rnnlab``        length-bucketed batches (reviews up to 400 tokens, padded only to the
                    longest in their batch), ``rnnlab.nn.GRU`` with per-sequence lengths
                    on the path it picks itself (the step path's compiled loops with
                    ``rnnlab[fast]``);
* ``rnnlab, pure PyTorch``  the same on the step path with its loops in PyTorch (what runs
                    without ``rnnlab[fast]`` or a compiler);
* ``torch.nn.GRU``  the textbook PyTorch recipe: every review padded/truncated to 400 tokens
                    (padding in front, as Keras' ``pad_sequences``, so that the last state
                    follows the last word), random batches, ``torch.nn.GRU`` on the padded
                    tensor;
* ``keras``         the same model in Keras 3 (``mask_zero=True``), when Keras is installed
                    (it is an optional extra, not a dependency).

A last row trains rnnlab's default classifier (``ModelConfig()``: skip-gram vectors of the
training reviews in the embedding, bidirectional, concat pooling) on the same batches, for its
time to each target; the seconds spent training the vectors count in its first epoch.
``--only`` runs the contestants whose name contains one of its comma-separated words.

One process, one contestant at a time, on ``--threads`` intra-op threads. Prints a table with
the ratio of each baseline's seconds per epoch to rnnlab's.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from rnnlab.config import TrainConfig
from rnnlab.data import datasets
from rnnlab.nn import GRU, orthogonal_init_, recurrence
from rnnlab.nn.native_build import native_status
from rnnlab.tasks.classify.config import ModelConfig
from rnnlab.tasks.classify.data import ClassificationBatches
from rnnlab.tasks.classify.model import RecurrentClassifier
from rnnlab.tasks.pretrained import init_embeddings, vectors_source
from rnnlab.text.batching import encode_texts
from rnnlab.text.tokenize import get_tokenizer
from rnnlab.text.vocab import Vocab
from rnnlab.train import Callback, Trainer

MAX_LEN = 400
BATCH = 32
# The network every engineering contestant trains (the defaults before concat pooling).
CLASSIC = ModelConfig(bidirectional=False, pooling="last")


def prepare(seed: int) -> dict:
    data = datasets.load("imdb", seed=seed)
    tokenizer = get_tokenizer("english")
    train_tokens = tokenizer.tokenize_many(data.train.texts)
    vocab = Vocab.build(train_tokens, max_size=30_000, min_count=2)
    labels = sorted(set(data.train.labels))
    index = {label: k for k, label in enumerate(labels)}
    return {
        "vocab": vocab,
        "labels": labels,
        "train_tokens": train_tokens,
        "train_ids": encode_texts(train_tokens, vocab, MAX_LEN, "head"),
        "train_y": [index[y] for y in data.train.labels],
        "test_ids": encode_texts(tokenizer.tokenize_many(data.test.texts), vocab, MAX_LEN, "head"),
        "test_y": [index[y] for y in data.test.labels],
    }


class _EpochLog(Callback):
    """After each epoch: training seconds (from the Trainer's record) and test accuracy."""

    def __init__(self, model: RecurrentClassifier, test: ClassificationBatches) -> None:
        self.model, self.test, self.rows = model, test, []

    def on_epoch_end(self, record: dict) -> None:
        accuracy = self.model.evaluate(self.test.batches())["accuracy"]
        self.model.train()
        self.rows.append((record["seconds"], accuracy))


def run_rnnlab(
    data: dict,
    epochs: int,
    seed: int,
    path: str = "auto",
    compiled: bool = True,
    model_config: ModelConfig = CLASSIC,
) -> list[tuple[float, float]]:
    if not compiled:  # the step path's PyTorch loops, as without rnnlab[fast]
        original = recurrence._compiled_loops
        recurrence._compiled_loops = lambda *tensors: None
        try:
            return run_rnnlab(data, epochs, seed, path, model_config=model_config)
        finally:
            recurrence._compiled_loops = original
    torch.manual_seed(seed)  # the initial weights too, as in the other contestants
    model = RecurrentClassifier(len(data["vocab"]), data["labels"], model_config)
    start = time.perf_counter()
    if source := vectors_source(model_config.embeddings):
        init_embeddings(model.encoder.embedding, source, data["vocab"], freeze=False,
                        seed=seed, corpus=data["train_tokens"])  # fmt: skip
    vector_seconds = time.perf_counter() - start
    for module in model.modules():
        if isinstance(module, GRU):
            module.path = path
    train = ClassificationBatches(
        data["train_ids"], data["train_y"], BATCH, shuffle=True, seed=seed
    )
    test = ClassificationBatches(data["test_ids"], data["test_y"], 256)
    log = _EpochLog(model, test)
    config = TrainConfig(epochs=epochs, batch_size=BATCH, seed=seed, checkpoint_every=0)
    Trainer(config, callbacks=[log]).fit(model, train)
    (first_seconds, first_accuracy), *rest = log.rows
    return [(first_seconds + vector_seconds, first_accuracy), *rest]


class _PaddedGRUClassifier(nn.Module):
    def __init__(self, vocab_size: int, num_labels: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 128, padding_idx=0)
        self.gru = orthogonal_init_(nn.GRU(128, 128, num_layers=2, batch_first=True))
        self.head = nn.Linear(128, num_labels)
        with torch.no_grad():
            nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
            self.embedding.weight[0].zero_()

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(self.embedding(ids))  # (B, T, H)
        return self.head(out[:, -1])


def _pre_padded(sequences: list[list[int]]) -> torch.Tensor:
    ids = torch.zeros(len(sequences), MAX_LEN, dtype=torch.long)
    for row, seq in enumerate(sequences):
        if seq:
            ids[row, MAX_LEN - len(seq) :] = torch.tensor(seq)
    return ids


def run_torch_padded(data: dict, epochs: int, seed: int) -> list[tuple[float, float]]:
    torch.manual_seed(seed)
    model = _PaddedGRUClassifier(len(data["vocab"]), len(data["labels"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = _pre_padded(data["train_ids"]), torch.tensor(data["train_y"])
    x_test, y_test = _pre_padded(data["test_ids"]), torch.tensor(data["test_y"])
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        for batch in torch.randperm(len(y), generator=generator).split(BATCH):
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(xb).argmax(-1) for xb in x_test.split(256)])
        rows.append((seconds, float((predicted == y_test).float().mean())))
    return rows


def run_keras(data: dict, epochs: int, seed: int) -> list[tuple[float, float]] | None:
    try:
        import keras
    except ImportError:
        return None
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.layers.Embedding(len(data["vocab"]), 128, mask_zero=True),
            keras.layers.GRU(128, return_sequences=True),
            keras.layers.GRU(128),
            keras.layers.Dense(len(data["labels"]), activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3, clipnorm=5.0),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    x, y = _pre_padded(data["train_ids"]).numpy(), np.asarray(data["train_y"])
    x_test, y_test = _pre_padded(data["test_ids"]).numpy(), np.asarray(data["test_y"])
    rows = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
        seconds = time.perf_counter() - start
        rows.append((seconds, float(model.evaluate(x_test, y_test, verbose=0)[1])))
    return rows


def time_to(rows: list[tuple[float, float]], target: float) -> float | None:
    elapsed = 0.0
    for seconds, accuracy in rows:
        elapsed += seconds
        if accuracy >= target:
            return elapsed
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--targets", default="0.88,0.90")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default="", help="comma-separated parts of contestant names")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data = prepare(args.seed)
    contestants: list[tuple[str, Callable]] = [("rnnlab (bucketing, lengths)", run_rnnlab)]
    if native_status().available:
        contestants += [
            (
                "rnnlab, pure PyTorch (step path)",
                functools.partial(run_rnnlab, path="step", compiled=False),
            ),
        ]
    contestants += [
        (f"torch.nn.GRU (padded to {MAX_LEN})", run_torch_padded),
        (f"keras (padded to {MAX_LEN}, mask_zero)", run_keras),
        ("rnnlab default classifier", functools.partial(run_rnnlab, model_config=ModelConfig())),
    ]
    if args.only:
        wanted = args.only.split(",")
        contestants = [(n, r) for n, r in contestants if any(w in n for w in wanted)]
    results = {}
    for name, run in contestants:
        rows = run(data, args.epochs, args.seed)
        if rows is None:
            print(f"{name}: not installed, skipped")
            continue
        results[name] = rows
        print(name, " ".join(f"[{s:.0f}s {a:.4f}]" for s, a in rows), flush=True)

    reference = statistics.median(s for s, _ in next(iter(results.values())))
    targets = [float(t) for t in args.targets.split(",")]
    print(f"\nIMDB, {args.epochs} epochs, {args.threads} threads, test accuracy")
    header = f"{'':40} {'s/epoch':>8} {'x rnnlab':>9} {'best test':>10}" + "".join(
        f" {f'time to {t:.0%}':>13}" for t in targets
    )
    print(header)
    print("-" * len(header))
    for name, rows in results.items():
        per_epoch = statistics.median(s for s, _ in rows)
        reached = [time_to(rows, t) for t in targets]
        print(
            f"{name:40} {per_epoch:8.1f} {per_epoch / reference:8.2f}x "
            f"{max(a for _, a in rows):10.4f}"
            + "".join(f" {'not reached' if r is None else f'{r:.0f} s':>13}" for r in reached)
        )


if __name__ == "__main__":
    main()
