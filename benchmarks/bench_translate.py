"""Multi30K German → English: training target tokens/s, the time to validation perplexity 40
and 30, and decoding sentences/s, rnnlab against the bentrevett/pytorch-seq2seq anchor, in the
same run.

    python benchmarks/bench_translate.py [--mode speed|converge|decode] [--data-dir DIR]
                                         [--batch-size 128] [--threads 2] [--repeats 3]
                                         [--budget 3600] [--sentences 0] [--contestants ...]

Every contestant reads the same Multi30K pairs (``--data-dir``, default ``$RNNLAB_MULTI30K``
or /work/shared/data/multi30k), tokenised and batched by ``rnnlab.tasks.translate.data`` as
``rnnlab train translate`` does: the word tokenizer on each side (case kept), training pairs
with a side over 80 tokens left out, vocabularies of the tokens seen twice or more, batches of
``--batch-size`` pairs grouped by length and shuffled per epoch from seed 0 — the same batches
in the same order for every contestant (target ``<sos> y``, gold ``y </s>``, padding 0). What
differs:

* ``anchor``      bentrevett/pytorch-seq2seq notebook 3, "Neural Machine Translation by
                  Jointly Learning to Align and Translate" (Bahdanau et al.): ``nn.Embedding``
                  (256) → dropout 0.5 → bidirectional ``torch.nn.GRU(256, 512)``, the
                  decoder's first state tanh(Linear(1024 → 512)) of both final states;
                  additive attention ``v(tanh(attn([s_{t−1} repeated over the source;
                  encoder outputs])))`` (Linear(1536 → 512), v Linear(512 → 1, no bias)),
                  softmax over the source with padding masked and the encoder packed (what the
                  tutorial's notebook 4 adds to the same model); decoder ``nn.Embedding``
                  (256) → dropout 0.5 → ``GRU(1024 + 256, 512)`` → ``fc_out`` Linear(1024 +
                  512 + 256 → V) of [output; context; embedding], one target step at a time in
                  a Python loop. Weights N(0, 0.01), biases 0; Adam 1e-3, cross-entropy
                  ignoring padding, gradient norm clipped to 1. Teacher forcing ratio
                  ``--teacher-forcing`` 1.0 (the notebook trains at 0.5): every step reads the
                  gold previous token, as rnnlab's teacher forcing does, so both do the same
                  work per token; the notebook's ``argmax`` of each step is then skipped.
* ``rnnlab``      ``rnnlab train translate``'s model with its defaults
                  (:class:`~rnnlab.tasks.translate.config.TranslateModelConfig`: bidirectional
                  ``rnnlab.nn`` GRU of 256 units a direction, 256-d embeddings, Luong
                  ``general`` attention after the decoder's step, so teacher forcing runs the
                  decoder's recurrent layer over the whole target and the output layer is one
                  GEMM over the real target tokens; input dropout 0.2, output dropout 0.3,
                  label smoothing 0.1, orthogonal recurrent weights) and its optimiser: Adam
                  (fused where torch has it) at ``train.lr`` 3e-3 with the linear decay over
                  ``--epochs`` epochs, clipping 1 (``rnnlab.train.steps.train_step``). Only the
                  batch size differs from ``rnnlab train translate`` (64 there).
* ``rnnlab-512``  the same at the anchor's sizes (512 units a direction, 256-d embeddings):
                  the recurrent machinery compared like for like.

``--mode speed`` (the default): target tokens/s (``</s>`` counted, padding not) is the median
of ``--repeats`` timings of ``--steps`` training steps (forward, backward, clipping, Adam) after
``--warmup`` steps, each repeat on the next batches of the same stream. ``--mode converge``:
each contestant trains from the seed for ``--budget`` training seconds, scored every
``--eval-every`` steps on the whole validation split (val, 1,014 pairs, batches sorted by
length; perplexity = exp of the mean NLL per target token, no label smoothing; scoring time not
counted); the time to a perplexity is the training seconds until the first evaluation at or
below it, "> N s" when the budget ran out first (a ratio against it is then a lower bound).
Converge mode then translates the test set with the trained weights as below. ``--mode
decode``: sentences/s translating test_2016_flickr (1,000 sentences; ``--sentences`` fewer),
text in and text out: rnnlab's :class:`~rnnlab.tasks.translate.predictor.TranslatePredictor`
with beam 5 (and greedily, beam 1, for reference) in batches of ``--decode-batch``, against
the anchor's greedy loop one sentence at a time (the notebook's ``translate_sentence``), the
median of ``--decode-repeats`` timings after translating 8 sentences. Here the weights are
untrained (the seed's; fine for speed, no translation is meant), and so that how soon an
untrained model happens to end a sentence decides nothing, every contestant's output bias of
``</s>`` is set to −10⁴: every hypothesis runs to its length limit, the same for all,
floor(2 · source length) + 5 tokens (rnnlab's ``max_ratio``; the notebook's fixed 50 would be
longer), and sentences/s measures the cost of the same number of decoding steps.

Validation perplexity is teacher-forced for every contestant (the notebook's ``evaluate``
turns teacher forcing off, which scores free-running predictions against shifted gold tokens:
not a perplexity). One contestant at a time; no timed assertions: the numbers are printed.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from rnnlab.nn.native_build import native_status
from rnnlab.tasks.translate.config import (
    TranslateDecodeConfig,
    TranslateModelConfig,
    TranslateRunConfig,
)
from rnnlab.tasks.translate.data import (
    EOS,
    MULTI30K_SPLITS,
    ParallelText,
    SideTokenizer,
    TranslateBatch,
    TranslateBatches,
    build_vocab,
    encode_side,
    read_aligned,
)
from rnnlab.tasks.translate.decode import max_lengths
from rnnlab.tasks.translate.model import Seq2Seq
from rnnlab.tasks.translate.predictor import TranslatePredictor
from rnnlab.text.vocab import Vocab
from rnnlab.train.memory import keep_freed_memory
from rnnlab.train.optim import build_optimizer, build_scheduler
from rnnlab.train.steps import train_step as rnnlab_train_step

TARGETS = (40.0, 30.0)
ANCHOR_LR, ANCHOR_CLIP = 1e-3, 1.0
DEFAULT_DATA = "/work/shared/data/multi30k"


# --------------------------------------------------------------------------- the anchor


class AnchorEncoder(nn.Module):
    def __init__(self, vocab: int, emb: int, enc_hid: int, dec_hid: int, dropout: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb, enc_hid, bidirectional=True)
        self.fc = nn.Linear(enc_hid * 2, dec_hid)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src: Tensor, src_len: Tensor) -> tuple[Tensor, Tensor]:
        embedded = self.dropout(self.embedding(src))  # (S, B, E)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, src_len.cpu(), enforce_sorted=False)
        packed_outputs, hidden = self.rnn(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(packed_outputs, total_length=src.shape[0])
        hidden = torch.tanh(self.fc(torch.cat((hidden[-2], hidden[-1]), dim=1)))
        return outputs, hidden  # (S, B, 2H), (B, H_dec)


class AnchorAttention(nn.Module):
    def __init__(self, enc_hid: int, dec_hid: int) -> None:
        super().__init__()
        self.attn = nn.Linear(enc_hid * 2 + dec_hid, dec_hid)
        self.v = nn.Linear(dec_hid, 1, bias=False)

    def forward(self, hidden: Tensor, encoder_outputs: Tensor, mask: Tensor) -> Tensor:
        src_len = encoder_outputs.shape[0]
        hidden = hidden.unsqueeze(1).repeat(1, src_len, 1)  # (B, S, H_dec)
        encoder_outputs = encoder_outputs.permute(1, 0, 2)  # (B, S, 2H)
        energy = torch.tanh(self.attn(torch.cat((hidden, encoder_outputs), dim=2)))
        attention = self.v(energy).squeeze(2)  # (B, S)
        attention = attention.masked_fill(mask == 0, -1e10)
        return torch.softmax(attention, dim=1)


class AnchorDecoder(nn.Module):
    def __init__(self, vocab: int, emb: int, enc_hid: int, dec_hid: int, dropout: float) -> None:
        super().__init__()
        self.output_dim = vocab
        self.attention = AnchorAttention(enc_hid, dec_hid)
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(enc_hid * 2 + emb, dec_hid)
        self.fc_out = nn.Linear(enc_hid * 2 + dec_hid + emb, vocab)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, input: Tensor, hidden: Tensor, encoder_outputs: Tensor, mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        embedded = self.dropout(self.embedding(input.unsqueeze(0)))  # (1, B, E)
        a = self.attention(hidden, encoder_outputs, mask).unsqueeze(1)  # (B, 1, S)
        weighted = torch.bmm(a, encoder_outputs.permute(1, 0, 2)).permute(1, 0, 2)  # (1, B, 2H)
        output, hidden = self.rnn(torch.cat((embedded, weighted), dim=2), hidden.unsqueeze(0))
        prediction = self.fc_out(
            torch.cat((output.squeeze(0), weighted.squeeze(0), embedded.squeeze(0)), dim=1)
        )
        return prediction, hidden.squeeze(0)


class AnchorSeq2Seq(nn.Module):
    """bentrevett/pytorch-seq2seq notebook 3 (with notebook 4's packing and mask), seq-first."""

    def __init__(
        self, src_vocab: int, tgt_vocab: int, emb: int = 256, hidden: int = 512,
        dropout: float = 0.5, teacher_forcing: float = 1.0,
    ) -> None:  # fmt: skip
        super().__init__()
        self.encoder = AnchorEncoder(src_vocab, emb, hidden, hidden, dropout)
        self.decoder = AnchorDecoder(tgt_vocab, emb, hidden, hidden, dropout)
        self.teacher_forcing = teacher_forcing
        for name, param in self.named_parameters():
            if "weight" in name:
                nn.init.normal_(param.data, mean=0, std=0.01)
            else:
                nn.init.constant_(param.data, 0)

    def forward(
        self, src: Tensor, src_len: Tensor, trg: Tensor, teacher_forcing: float | None = None
    ) -> Tensor:
        """src (S, B), trg (T, B) = ``<sos> y`` → predictions (T, B, V) of ``y </s>``."""
        ratio = self.teacher_forcing if teacher_forcing is None else teacher_forcing
        encoder_outputs, hidden = self.encoder(src, src_len)
        mask = src != 0  # (S, B) → (B, S)
        mask = mask.permute(1, 0)
        outputs = []
        input = trg[0]
        for t in range(trg.shape[0]):
            output, hidden = self.decoder(input, hidden, encoder_outputs, mask)
            outputs.append(output)
            if t + 1 < trg.shape[0]:
                teacher = ratio >= 1.0 or float(torch.rand(())) < ratio
                input = trg[t + 1] if teacher else output.argmax(1)
        return torch.stack(outputs)

    def loss(self, batch: TranslateBatch) -> Tensor:
        assert batch.tgt_in is not None and batch.tgt_out is not None
        output = self(batch.src.t(), batch.src_lengths, batch.tgt_in.t())
        return nn.functional.cross_entropy(
            output.flatten(0, 1), batch.tgt_out.t().flatten(), ignore_index=0
        )

    @torch.no_grad()
    def translate(self, ids: list[int], sos: int, eos: int, max_len: int) -> list[int]:
        """The notebook's ``translate_sentence``: one sentence, greedy, up to ``max_len``."""
        src = torch.tensor(ids, dtype=torch.long).unsqueeze(1)  # (S, 1)
        encoder_outputs, hidden = self.encoder(src, torch.tensor([len(ids)]))
        mask = (src != 0).permute(1, 0)
        trg = [sos]
        for _ in range(max_len):
            output, hidden = self.decoder(
                torch.tensor([trg[-1]], dtype=torch.long), hidden, encoder_outputs, mask
            )
            trg.append(int(output.argmax(1)))
            if trg[-1] == eos:
                break
        return trg[1:-1] if trg[-1] == eos else trg[1:]


# --------------------------------------------------------------------------- contestants


@dataclass
class Data:
    src_tok: SideTokenizer
    tgt_tok: SideTokenizer
    src_vocab: Vocab
    tgt_vocab: Vocab
    train: TranslateBatches
    valid: TranslateBatches
    test: ParallelText

    @property
    def eos(self) -> int:
        return self.tgt_vocab.token_to_id(EOS)


@dataclass
class Contestant:
    """A model with one training step, an exact validation score and a translator."""

    name: str
    model: nn.Module
    step: Callable[[TranslateBatch], None]
    evaluate: Callable[[], float]
    translate: Callable[[list[str], int], list[str]]  # (sentences, beam) → translations
    curve: list[tuple[int, float, float]] = field(default_factory=list)  # (steps, s, ppl)
    tokens_per_s: float = 0.0
    decode: dict[str, float] = field(default_factory=dict)  # "greedy"/"beam 5" → sentences/s

    @property
    def params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def anchor_contestant(data: Data, teacher_forcing: float) -> Contestant:
    torch.manual_seed(0)
    model = AnchorSeq2Seq(len(data.src_vocab), len(data.tgt_vocab), teacher_forcing=teacher_forcing)
    optimizer = torch.optim.Adam(model.parameters(), lr=ANCHOR_LR)

    def step(batch: TranslateBatch) -> None:
        optimizer.zero_grad()
        loss = model.loss(batch)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), ANCHOR_CLIP)
        optimizer.step()
        loss.item()  # the notebook's epoch_loss += loss.item()

    @torch.no_grad()
    def evaluate() -> float:
        model.eval()
        total, count = 0.0, 0
        for batch in data.valid.batches():
            assert batch.tgt_in is not None and batch.tgt_out is not None
            output = model(batch.src.t(), batch.src_lengths, batch.tgt_in.t(), 1.0)
            total += float(nn.functional.cross_entropy(
                output.flatten(0, 1), batch.tgt_out.t().flatten(), ignore_index=0, reduction="sum"
            ))  # fmt: skip
            count += batch.num_tokens
        model.train()
        return math.exp(total / count)

    def translate(sentences: list[str], beam: int) -> list[str]:
        model.eval()
        out = []
        for sentence in sentences:
            ids = data.src_vocab.encode(data.src_tok(sentence))
            limit = max_lengths(torch.tensor([len(ids)]), 2.0, 5)[0]
            found = model.translate(ids, Vocab.sos_id, data.eos, limit)
            out.append(data.tgt_tok.detokenize([data.tgt_vocab.id_to_token(i) for i in found]))
        model.train()
        return out

    return Contestant("anchor", model, step, evaluate, translate)


def rnnlab_contestant(
    data: Data, name: str, hidden: int, epochs: int, decode_batch: int
) -> Contestant:
    torch.manual_seed(0)
    config = TranslateRunConfig()
    model_config = TranslateModelConfig(hidden_size=hidden) if hidden else config.model
    model = Seq2Seq(len(data.src_vocab), len(data.tgt_vocab), model_config, eos_id=data.eos)
    model.train()
    optimizer = build_optimizer(model, config.train)
    total = epochs * data.train.num_batches()
    scheduler = build_scheduler(optimizer, config.train, total)
    clip = config.train.clip_norm

    def step(batch: TranslateBatch) -> None:
        rnnlab_train_step(model, optimizer, batch, clip)
        if scheduler is not None:
            scheduler.step()

    @torch.no_grad()
    def evaluate() -> float:
        model.eval()
        perplexity = model.evaluate(data.valid.batches())["perplexity"]
        model.train()
        return perplexity

    def translate(sentences: list[str], beam: int) -> list[str]:
        predictor = TranslatePredictor(
            model, data.src_tok, data.tgt_tok, data.src_vocab, data.tgt_vocab,
            TranslateDecodeConfig(),
        )  # fmt: skip
        try:
            return [str(t) for t in predictor.translate(sentences, beam, batch_size=decode_batch)]
        finally:
            model.train()

    return Contestant(name, model, step, evaluate, translate)


# --------------------------------------------------------------------------- data


def load_data(directory: Path, source: str, target: str, batch_size: int) -> Data:
    """Multi30K as ``rnnlab train translate`` prepares it (the Translator's ``fit``)."""
    defaults = TranslateRunConfig().data

    def split(name: str) -> ParallelText:
        stem = MULTI30K_SPLITS[name]
        return read_aligned(directory / f"{stem}.{source}.gz", directory / f"{stem}.{target}.gz")

    train, valid, test = split("train"), split("valid"), split("test")
    src_tok = SideTokenizer.resolve(defaults.source_tokenizer, train.sources, defaults.lowercase)
    tgt_tok = SideTokenizer.resolve(defaults.target_tokenizer, train.targets, defaults.lowercase)
    src_tokens = [src_tok(s) for s in train.sources]
    tgt_tokens = [tgt_tok(t) for t in train.targets]
    kept = [i for i, (s, t) in enumerate(zip(src_tokens, tgt_tokens, strict=True))
            if 0 < len(s) <= defaults.max_len and 0 < len(t) <= defaults.max_len]  # fmt: skip
    src_tokens = [src_tokens[i] for i in kept]
    tgt_tokens = [tgt_tokens[i] for i in kept]
    src_vocab = build_vocab(src_tokens, defaults.max_vocab, defaults.min_count)
    tgt_vocab = build_vocab(tgt_tokens, defaults.max_vocab, defaults.min_count)
    eos = tgt_vocab.token_to_id(EOS)
    seed = TranslateRunConfig().train.seed
    batches = TranslateBatches(
        encode_side(src_vocab, src_tokens), encode_side(tgt_vocab, tgt_tokens), batch_size,
        eos_id=eos, shuffle=True, bucketing=True, seed=seed,
    )  # fmt: skip
    vsrc = [src_tok(s) for s in valid.sources]
    vtgt = [tgt_tok(t) for t in valid.targets]
    order = sorted(range(len(vsrc)), key=lambda i: (len(vsrc[i]), len(vtgt[i])))
    valid_batches = TranslateBatches(
        encode_side(src_vocab, [vsrc[i] for i in order]),
        encode_side(tgt_vocab, [vtgt[i] for i in order]),
        batch_size,
        eos_id=eos,
    )
    return Data(src_tok, tgt_tok, src_vocab, tgt_vocab, batches, valid_batches, test)


def endless(batches: TranslateBatches) -> Iterator[TranslateBatch]:
    epoch = 0
    while True:
        yield from batches.batches(epoch)
        epoch += 1


# --------------------------------------------------------------------------- measurements


def tokens_per_second(
    contestant: Contestant, data: Data, steps: int, warmup: int, repeats: int
) -> float:
    """Median target tokens/s of ``steps`` training steps after ``warmup`` ones."""
    stream = endless(data.train)
    rates = []
    for _ in range(repeats):
        for _ in range(warmup):
            contestant.step(next(stream))
        tokens, start = 0, time.perf_counter()
        for _ in range(steps):
            batch = next(stream)
            contestant.step(batch)
            tokens += batch.num_tokens
        rates.append(tokens / (time.perf_counter() - start))
    return statistics.median(rates)


def run_curve(contestant: Contestant, data: Data, budget: float, eval_every: int) -> None:
    """Train until validation perplexity reaches the lowest target or the budget is spent."""
    seconds = 0.0
    for done, batch in enumerate(endless(data.train), start=1):
        start = time.perf_counter()
        contestant.step(batch)
        seconds += time.perf_counter() - start
        if done % eval_every == 0 or seconds >= budget:
            perplexity = contestant.evaluate()
            contestant.curve.append((done, seconds, perplexity))
            print(f"  {contestant.name}: {done} steps, {seconds:.0f} s, valid {perplexity:.1f}",
                  flush=True)  # fmt: skip
            if perplexity <= min(TARGETS) or seconds >= budget:
                return


def sentences_per_second(
    contestant: Contestant, sentences: list[str], beam: int, repeats: int
) -> float:
    """Median sentences/s translating ``sentences`` (after translating the first 8)."""
    contestant.translate(sentences[:8], beam)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        contestant.translate(sentences, beam)
        rates.append(len(sentences) / (time.perf_counter() - start))
    return statistics.median(rates)


def never_end(contestant: Contestant, eos: int) -> None:
    """Output bias of ``</s>`` to −10⁴: untrained weights decode to the length limit."""
    model = contestant.model
    layer = model.decoder.fc_out if isinstance(model, AnchorSeq2Seq) else model.output
    with torch.no_grad():
        layer.bias[eos] = -1e4


def measure_decoding(contestant: Contestant, sentences: list[str], repeats: int) -> None:
    searches = [("greedy", 1)] if contestant.name == "anchor" else [("beam 5", 5), ("greedy", 1)]
    for label, beam in searches:
        rate = sentences_per_second(contestant, sentences, beam, repeats)
        contestant.decode[label] = rate
        print(f"{contestant.name}: {label} {rate:,.1f} sentences/s", flush=True)


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


# --------------------------------------------------------------------------- tables


def print_speed(results: list[Contestant], data: Data) -> None:
    reference = next((c for c in results if c.name == "anchor"), results[0])
    epoch_tokens = sum(len(t) + 1 for t in data.train.targets or [])
    header = f"{'':12} {'params':>11} {'tokens/s':>9} {'ratio':>6} {'s/epoch':>8}"
    print(header)
    print("-" * len(header))
    for c in results:
        print(f"{c.name:12} {c.params:11,} {c.tokens_per_s:9,.0f} "
              f"{c.tokens_per_s / reference.tokens_per_s:5.2f}× "
              f"{epoch_tokens / c.tokens_per_s:8,.0f}")  # fmt: skip


def print_converge(results: list[Contestant]) -> None:
    reference = next((c for c in results if c.name == "anchor"), results[0])
    header = f"{'':12} {'steps':>6} {'best valid':>10}"
    header += "".join(f" {f'to {t:g}':>9} {'ratio':>7}" for t in TARGETS)
    print(header)
    print("-" * len(header))
    for c in results:
        line = f"{c.name:12} {c.curve[-1][0]:6} {min(ppl for _, _, ppl in c.curve):10.1f}"
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
    print("\nValidation perplexity at equal training steps:")
    names = [c.name for c in results]
    print(f"{'steps':>8} " + " ".join(f"{n:>12}" for n in names))
    for done in sorted({d for c in results for d, _, _ in c.curve}):
        cells = []
        for c in results:
            found = next((ppl for d, _, ppl in c.curve if d == done), None)
            cells.append(f"{found:12.1f}" if found is not None else f"{'':>12}")
        print(f"{done:>8} " + " ".join(cells))


def print_decoding(results: list[Contestant], sentences: int, trained: bool) -> None:
    reference = next((c for c in results if c.name == "anchor"), None)
    base = None if reference is None else reference.decode.get("greedy")
    weights = "trained" if trained else "untrained"
    print(f"\nTranslating {sentences} test_2016_flickr sentences ({weights} weights), text to "
          "text; ratio against the anchor's greedy one-sentence loop")  # fmt: skip
    header = f"{'':12} {'search':>8} {'sentences/s':>12} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for c in results:
        for label, rate in c.decode.items():
            ratio = f"{rate / base:5.2f}×" if base else ""
            print(f"{c.name:12} {label:>8} {rate:12,.1f} {ratio:>6}")


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="speed", choices=["speed", "converge", "decode"])
    parser.add_argument(
        "--data-dir", default=os.environ.get("RNNLAB_MULTI30K") or DEFAULT_DATA,
        help="directory of Multi30K's train/val/test_2016_flickr.{de,en,fr}.gz",
    )  # fmt: skip
    parser.add_argument("--source-lang", default="de")
    parser.add_argument("--target-lang", default="en")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="timed training steps a repeat")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps before each repeat")
    parser.add_argument("--budget", type=float, default=3600.0, help="training seconds each")
    parser.add_argument("--eval-every", type=int, default=100, help="training steps")
    parser.add_argument(
        "--epochs", type=int, default=TranslateRunConfig().train.epochs,
        help="rnnlab's linear learning-rate decay runs over this many epochs",
    )  # fmt: skip
    parser.add_argument("--teacher-forcing", type=float, default=1.0, help="anchor's ratio")
    parser.add_argument("--sentences", type=int, default=0, help="test sentences (0: all)")
    parser.add_argument("--decode-batch", type=int, default=64, help="rnnlab's decoding batch")
    parser.add_argument("--decode-repeats", type=int, default=1, help="timings of decoding")
    parser.add_argument(
        "--contestants", nargs="+", default=["anchor", "rnnlab", "rnnlab-512"],
        choices=["anchor", "rnnlab", "rnnlab-512"],
    )  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    kept = keep_freed_memory()  # rnnlab's Trainer sets it; here for every contestant alike

    data = load_data(Path(args.data_dir), args.source_lang, args.target_lang, args.batch_size)
    sentences = data.test.sources[: args.sentences or None]
    print(
        f"{cpu_name()}, {args.threads} threads, torch {torch.__version__}; "
        f"{native_status().reason.rstrip('.')}; glibc malloc keeps freed memory: {kept}\n"
        f"Multi30K {args.source_lang}→{args.target_lang} ({args.data_dir}): "
        f"{len(data.train):,} training pairs ({data.train.num_batches()} batches of "
        f"{args.batch_size} an epoch), vocabularies {len(data.src_vocab):,} / "
        f"{len(data.tgt_vocab):,}, {len(data.valid):,} validation pairs, "
        f"{len(data.test):,} test sentences",
        flush=True,
    )
    builders = {
        "anchor": lambda: anchor_contestant(data, args.teacher_forcing),
        "rnnlab": lambda: rnnlab_contestant(data, "rnnlab", 0, args.epochs, args.decode_batch),
        "rnnlab-512": lambda: rnnlab_contestant(
            data, "rnnlab-512", 512, args.epochs, args.decode_batch
        ),
    }
    results = []
    for name in args.contestants:
        contestant = builders[name]()
        if args.mode == "speed":
            contestant.tokens_per_s = tokens_per_second(
                contestant, data, args.steps, args.warmup, args.repeats
            )
            print(f"{name}: {contestant.tokens_per_s:,.0f} target tokens/s", flush=True)
        elif args.mode == "converge":
            run_curve(contestant, data, args.budget, args.eval_every)
            measure_decoding(contestant, sentences, args.decode_repeats)
        else:
            never_end(contestant, data.eos)
            measure_decoding(contestant, sentences, args.decode_repeats)
        results.append(contestant)

    print(f"\nMulti30K {args.source_lang}→{args.target_lang}, batch {args.batch_size}, "
          f"{args.threads} threads, {cpu_name()}, torch {torch.__version__}")  # fmt: skip
    if args.mode == "speed":
        print(f"Target tokens/s: median of {args.repeats} × {args.steps} training steps "
              f"after {args.warmup} warm-up steps each; s/epoch at that rate")  # fmt: skip
        print_speed(results, data)
    elif args.mode == "converge":
        print(f"Training seconds to validation perplexity (budget {args.budget:g} s each, "
              f"scored every {args.eval_every} steps)")  # fmt: skip
        print_converge(results)
        print_decoding(results, len(sentences), trained=True)
    else:
        print_decoding(results, len(sentences), trained=False)


if __name__ == "__main__":
    main()
