"""``LMPredictor``: a trained language model ready to generate text and score surprisal
(what ``rnnlab.load`` returns for an ``lm`` model file).

    >>> import rnnlab
    >>> lines = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 10
    >>> trained = rnnlab.LanguageModel(hidden_size=16, epochs=2, batch_size=2, bptt=10)
    >>> trained.fit(lines).save("lm.safetensors")
    PosixPath('lm.safetensors')
    >>> lm = rnnlab.load("lm.safetensors")  # a run directory or a model file
    >>> lm.generate("the cat", max_new_tokens=5, temperature=0.8, seed=1)  # doctest: +ELLIPSIS
    ['...']
    >>> scored = lm.surprisal(["the dog sat on the mat"])[0]
    >>> len(scored.bits), scored.total_bits == sum(scored.bits)  # bits of each of the 6 tokens
    (6, True)

Sampling draws from a ``torch.Generator`` made for each call from ``seed``, so the same seed
gives the same text whatever else runs in the process (concurrent requests included);
``temperature=0`` is greedy decoding. Surprisal of token w_t is −log₂ p(w_t | w_<t) in bits;
each text is scored on its own from the start-of-text context (``<eos>``, as the corpus puts
between lines), so the numbers do not depend on how texts are batched. A token outside the
vocabulary reads as ``<unk>``: its surprisal is that of ``<unk>`` (the model's probability of
*some* unknown word there), not of the word itself, and :class:`TextSurprisal` marks it.

Texts are tokenised as the model was trained (its saved tokenizer), and punctuation is kept
where the vocabulary has it. A word-level model trained on pre-tokenised text (whitespace
tokenizer: PTB, WikiText, People's Daily) saw punctuation as tokens of its own, while raw
text glues it to words ("said."): a token outside the vocabulary has the punctuation at its
ends split off, kept as tokens where the vocabulary has them and dropped where it does not,
as the corpus had no such tokens (``"(said."`` → ``said`` ``.`` for a vocabulary with "."
but not "("). A model trained with the English tokenizer without punctuation (what
``tokenizer = "auto"`` picks for raw text) has none in its vocabulary, and its tokenizer
drops punctuation as it did in training.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from rnnlab.errors import DataError, ValueRangeError
from rnnlab.runs import load_model_file, rebuilding
from rnnlab.tasks.base import Predictor
from rnnlab.tasks.lm.config import LMModelConfig
from rnnlab.tasks.lm.data import EOS
from rnnlab.tasks.lm.model import RecurrentLM
from rnnlab.tasks.surprisal import TextSurprisal
from rnnlab.text.tokenize import Tokenizer
from rnnlab.text.vocab import Vocab

__all__ = ["LMPredictor", "TextSurprisal", "splitter"]


# A whitespace token split into leading punctuation, the rest, and trailing punctuation.
_EDGES = re.compile(r"([^\w\s]*)(.*?)([^\w\s]*)", re.DOTALL)


def splitter(tokenizer: dict[str, Any], level: str) -> Callable[[str], list[str]]:
    """text → tokens as a model of ``level`` with ``tokenizer``'s settings reads it:
    characters, whitespace-separated words, or the named tokenizer's words."""
    if level == "char":
        return list
    if tokenizer.get("name") == "whitespace":
        return str.split
    return Tokenizer.from_dict(tokenizer)


def _check(name: str, ok: bool, expected: str, value: Any) -> None:
    if not ok:
        raise ValueRangeError(f"{name} must be {expected}, got {value!r}.")


class LMPredictor(Predictor):
    """Generates continuations and scores texts with a trained :class:`RecurrentLM`."""

    task = "lm"
    # Generation and scoring loop over the model step by step in PyTorch; the ONNX graph of
    # rnnlab export is for programs outside Python (rnnlab.tasks.lm.export).
    engines = ("torch",)

    def __init__(
        self, model: RecurrentLM, vocab: Vocab, tokenizer: dict[str, Any], level: str
    ) -> None:
        self.model = model.eval()
        self.engine = self.model
        self.vocab = vocab
        self.tokenizer = tokenizer
        self.level = level
        self._split = splitter(tokenizer, level)

    @property
    def labels(self) -> list:
        """A language model has no label set: it chooses among the whole vocabulary."""
        return []

    @classmethod
    def from_file(cls, path: str | Path, device: Any = "cpu") -> LMPredictor:
        tensors, meta = load_model_file(path)
        if meta["task"] != "lm":
            raise DataError(
                f"{path} holds a '{meta['task']}' model; LMPredictor reads 'lm' models "
                "(rnnlab.load picks the right predictor)."
            )
        vocab = Vocab.from_dict(meta["vocab"], source=f"{path} (vocab)")
        with rebuilding(path, "lm"):
            # Files written before the two-level softmax existed hold a full one.
            stored = {"softmax": "full", **meta["model_config"]}
            model = RecurrentLM(len(vocab), LMModelConfig(**stored))
            model.load_file_tensors(tensors)
            level = meta["preprocessing"]["level"]
        return cls(model.to(device), vocab, meta["tokenizer"], level)

    # ------------------------------------------------------------------ text ↔ ids
    def tokens(self, text: str) -> list[str]:
        """The tokens of ``text`` as the model reads them (no ``<eos>`` added): its
        tokenizer's; for a whitespace-tokenised model, punctuation glued to a word outside
        the vocabulary is split off, and kept where the vocabulary has it (see the module
        docstring)."""
        if not isinstance(text, str):
            raise DataError(
                f"text: expected a str, got {type(text).__name__} {text!r:.40}; drop or fill "
                "missing texts before scoring or generating."
            )
        found = list(self._split(text))
        if self.level == "char" or self.tokenizer.get("name") != "whitespace":
            return found
        return [piece for token in found for piece in self._unglued(token)]

    def _unglued(self, token: str) -> list[str]:
        """``token`` if the vocabulary has it; else the punctuation at its ends split off,
        kept where the vocabulary has it (``"said."`` → ``said``, ``.``), dropped where not."""
        if token in self.vocab:
            return [token]
        match = _EDGES.fullmatch(token)  # always matches: every part may be empty
        lead, core, trail = match.groups() if match else ("", token, "")
        if not (lead or trail):
            return [token]
        return [*self._punctuation(lead), *([core] if core else []), *self._punctuation(trail)]

    def _punctuation(self, run: str) -> list[str]:
        """The vocabulary's tokens for the punctuation ``run``: the run itself (``...``),
        else those of its characters the vocabulary has."""
        if not run:
            return []
        if run in self.vocab:
            return [run]
        return [ch for ch in run if ch in self.vocab]

    def unknown_words(self, text: str) -> list[str]:
        """Tokens of ``text`` outside the vocabulary (they read as ``<unk>``), in order."""
        return [t for t in dict.fromkeys(self.tokens(text)) if t not in self.vocab]

    def _detokenize(self, tokens: Sequence[str]) -> str:
        return ("" if self.level == "char" else " ").join(tokens)

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def generate(
        self,
        prompt: str,
        max_new_tokens: int = 50,
        *,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        repetition_penalty: float = 1.0,
        num_samples: int = 1,
        stop: str | None = None,
        seed: int | None = None,
        beam: int = 0,
        context: int = 0,
    ) -> list[str]:
        """``num_samples`` continuations of ``prompt`` (the new text only).

        With ``beam`` B ≥ 1, beam search instead of sampling: the B most probable
        continuations (sum of log-probabilities) are kept at each step and the
        ``num_samples`` best returned (``num_samples`` ≤ B); beam 1 is greedy decoding.

        Each step divides the logits by ``temperature`` (0: greedy, the most probable token),
        keeps the ``top_k`` most probable tokens (0: all) and the smallest set whose
        probabilities sum to ``top_p``, and penalises tokens already in the context
        (CTRL's rule: positive logits divided by ``repetition_penalty``, negative ones
        multiplied). Generation stops at ``<eos>``, at ``stop`` or after ``max_new_tokens``.

        ``context`` > 0 is the most prompt tokens the caller means the model to condition on
        (say, to compare with a fixed-window model); a longer prompt is refused, not cut.
        """
        _check("max_new_tokens", isinstance(max_new_tokens, int) and max_new_tokens >= 1,
               "an integer >= 1", max_new_tokens)  # fmt: skip
        _check("temperature", temperature >= 0, "a number >= 0 (0: greedy)", temperature)
        _check("top_k", isinstance(top_k, int) and top_k >= 0, "an integer >= 0", top_k)
        _check("top_p", 0 < top_p <= 1, "in (0, 1]", top_p)
        _check("repetition_penalty", repetition_penalty > 0, "a number > 0", repetition_penalty)
        _check("num_samples", isinstance(num_samples, int) and num_samples >= 1,
               "an integer >= 1", num_samples)  # fmt: skip
        _check("beam", isinstance(beam, int) and beam >= 0, "an integer >= 0 (0: sample)", beam)
        _check("context", isinstance(context, int) and context >= 0,
               "an integer >= 0 (0: the whole prompt)", context)  # fmt: skip
        prompt_tokens = len(self.tokens(prompt)) if context else 0
        if prompt_tokens > context:
            raise ValueRangeError(
                f"the prompt has {prompt_tokens} tokens, more than the context of {context} "
                "asked for; shorten the prompt or raise context (--context)."
            )
        if beam:
            _check("num_samples", num_samples <= beam, f"at most --beam ({beam})", num_samples)
            return self._beam_search(prompt, max_new_tokens, beam, num_samples, stop)
        generator = torch.Generator().manual_seed(0 if seed is None else seed)
        device = next(self.model.parameters()).device
        context = [self.vocab.token_to_id(EOS), *self.vocab.encode(self.tokens(prompt))]
        ids = torch.tensor([context] * num_samples, device=device)  # (S, P)
        logits, state, _, _ = self.model(ids)
        logits = logits[:, -1]  # (S, V)
        seen = torch.zeros_like(logits, dtype=torch.bool).scatter_(1, ids, True)

        def sample(logits: torch.Tensor) -> torch.Tensor:
            chosen = self._choose(logits, seen, temperature, top_k, top_p, repetition_penalty,
                                  generator)  # fmt: skip
            seen.scatter_(1, chosen.unsqueeze(1), True)
            return chosen

        outputs = self._continue(logits, state, max_new_tokens, sample, stop)
        texts = [self._detokenize(tokens) for tokens in outputs]
        if stop:
            texts = [text.split(stop)[0] for text in texts]
        return texts

    def _beam_search(
        self, prompt: str, max_new_tokens: int, width: int, count: int, stop: str | None
    ) -> list[str]:
        """The ``count`` best of ``width`` beams (see :meth:`generate`)."""
        device = next(self.model.parameters()).device
        eos = self.vocab.token_to_id(EOS)
        context = torch.tensor([[eos, *self.vocab.encode(self.tokens(prompt))]], device=device)
        logits, state, _, _ = self.model(context)
        beams: list[tuple[list[int], float]] = [([], 0.0)]
        finished: list[tuple[list[int], float]] = []
        logp = torch.log_softmax(logits[:, -1].float(), dim=-1)  # (beams, V)
        for _ in range(max_new_tokens):
            scores = torch.tensor([s for _, s in beams], device=device).unsqueeze(1) + logp
            top = torch.topk(scores.flatten(), min(width, scores.numel()))
            survivors, rows = [], []
            for value, flat in zip(top.values.tolist(), top.indices.tolist(), strict=True):
                row, token = divmod(flat, logp.shape[1])
                tokens = [*beams[row][0], token]
                done = token == eos or (stop and stop in self._detokenize(self._words(tokens)))
                (finished if done else survivors).append((tokens, value))
                if not done:
                    rows.append(row)
            if not survivors or len(finished) >= width:
                beams = survivors
                break
            beams = survivors
            index = torch.tensor(rows, device=device)
            state = (
                tuple(s[:, index] for s in state) if isinstance(state, tuple) else state[:, index]
            )
            last = torch.tensor([[tokens[-1]] for tokens, _ in beams], device=device)
            step, state, _, _ = self.model(last, state)
            logp = torch.log_softmax(step[:, -1].float(), dim=-1)
        ranked = sorted(finished + beams, key=lambda pair: -pair[1])[:count]
        texts = [self._detokenize(self._words(tokens)) for tokens, _ in ranked]
        return [text.split(stop)[0] for text in texts] if stop else texts

    def _words(self, ids: Sequence[int]) -> list[str]:
        """Token strings of ``ids``, up to the first ``<eos>``."""
        out = []
        for i in ids:
            token = self.vocab.id_to_token(i)
            if token == EOS:
                break
            out.append(token)
        return out

    @staticmethod
    def _choose(
        logits: torch.Tensor,
        seen: torch.Tensor,
        temperature: float,
        top_k: int,
        top_p: float,
        penalty: float,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """The next token id of each row of ``logits`` (S, V)."""
        logits = logits.float().clone()
        if penalty != 1.0:
            penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
            logits = torch.where(seen, penalised, logits)
        if temperature == 0:
            return logits.argmax(dim=-1)
        logits = logits / temperature
        if top_k:
            kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if top_p < 1.0:
            ordered, order = torch.sort(logits, dim=-1, descending=True)
            sorted_probs = torch.softmax(ordered, dim=-1)
            before = sorted_probs.cumsum(dim=-1) - sorted_probs  # mass ahead of each token
            drop = before >= top_p  # keeps the first token that reaches top_p
            ordered = ordered.masked_fill(drop, float("-inf"))
            logits = torch.full_like(logits, float("-inf")).scatter(1, order, ordered)
        probs = torch.softmax(logits, dim=-1).cpu()
        return torch.multinomial(probs, 1, generator=generator).squeeze(1).to(logits.device)

    def predict(self, inputs: Any, batch_size: int = 64, *, max_new_tokens: int = 20) -> list:
        """The greedy continuation of each prompt (a string or a list of them), at most
        ``max_new_tokens`` tokens long: ``generate(prompt, max_new_tokens, temperature=0)``,
        the same name and meaning as ``generate``'s and ``rnnlab generate --max-new-tokens``.

        ``predict`` is the task contract's one-call use of a model (``rnnlab.predict``,
        ``rnnlab predict``); :meth:`generate` has the sampling and beam options.
        ``batch_size`` prompts are continued together (the continuations do not depend on
        it): prompts of equal length read their context in one batch, and then all of them
        take each new token in one step.
        """
        _check("max_new_tokens", isinstance(max_new_tokens, int) and max_new_tokens >= 1,
               "an integer >= 1", max_new_tokens)  # fmt: skip
        _check("batch_size", isinstance(batch_size, int) and batch_size >= 1,
               "an integer >= 1", batch_size)  # fmt: skip
        prompts = [inputs] if isinstance(inputs, str) else list(inputs)
        texts: list[str] = []
        for first in range(0, len(prompts), batch_size):
            texts += self._greedy(prompts[first : first + batch_size], max_new_tokens)
        return texts

    @torch.no_grad()
    def _greedy(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        """Greedy continuations of ``prompts`` taken together, each what
        ``generate(prompt, max_new_tokens, temperature=0)`` gives for it alone."""
        device = next(self.model.parameters()).device
        eos = self.vocab.token_to_id(EOS)
        contexts = [[eos, *self.vocab.encode(self.tokens(p))] for p in prompts]
        by_length: dict[int, list[int]] = {}
        for i, context in enumerate(contexts):
            by_length.setdefault(len(context), []).append(i)
        order, last_logits, states = [], [], []
        for rows in by_length.values():  # the model takes no lengths: equal ones together
            ids = torch.tensor([contexts[i] for i in rows], device=device)  # (b, P)
            logits, state, _, _ = self.model(ids)
            order += rows
            last_logits.append(logits[:, -1])
            states.append(state)
        back = torch.tensor(order, device=device).argsort()  # prompt i is row back[i]
        logits = torch.cat(last_logits)[back]  # (B, V)
        if isinstance(states[0], tuple):  # LSTM: (h, c), each (L, B, H)
            state: Any = tuple(
                torch.cat(part, dim=1)[:, back] for part in zip(*states, strict=True)
            )
        else:
            state = torch.cat(states, dim=1)[:, back]  # (L, B, H)
        outputs = self._continue(logits, state, max_new_tokens, _greedy_choice)
        return [self._detokenize(tokens) for tokens in outputs]

    def _continue(
        self,
        logits: torch.Tensor,
        state: Any,
        max_new_tokens: int,
        choose: Callable[[torch.Tensor], torch.Tensor],
        stop: str | None = None,
    ) -> list[list[str]]:
        """The tokens each row appends, one ``choose(logits (B, V)) → ids (B,)`` per step,
        until ``<eos>``, ``stop`` in its text, or ``max_new_tokens``; all rows step
        together, and the loop ends when every row has stopped."""
        outputs: list[list[str]] = [[] for _ in range(len(logits))]
        alive = [True] * len(logits)
        for _ in range(max_new_tokens):
            chosen = choose(logits)
            for s, token_id in enumerate(chosen.tolist()):
                if not alive[s]:
                    continue
                token = self.vocab.id_to_token(token_id)
                if token == EOS:
                    alive[s] = False
                    continue
                outputs[s].append(token)
                if stop and stop in self._detokenize(outputs[s]):
                    alive[s] = False
            if not any(alive):
                break
            step, state, _, _ = self.model(chosen.unsqueeze(1), state)
            logits = step[:, -1]
        return outputs

    # ------------------------------------------------------------------ surprisal
    @torch.no_grad()
    def surprisal(self, texts: str | Sequence[str]) -> list[TextSurprisal]:
        """Per-token surprisal in bits of each text, scored from the start-of-text context;
        tokens outside the vocabulary are scored as ``<unk>`` and marked ``oov``."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        device = next(self.model.parameters()).device
        start = self.vocab.token_to_id(EOS)
        results = []
        for text in texts:
            tokens = self.tokens(text)
            if not tokens:
                results.append(TextSurprisal([], []))
                continue
            ids = torch.tensor([[start, *self.vocab.encode(tokens)]], device=device)
            logits = self.model(ids[:, :-1])[0][0]  # (n, V)
            nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")
            bits = (nll / math.log(2)).tolist()
            scored = TextSurprisal(tokens, bits, oov=[t not in self.vocab for t in tokens])
            if self.level == "char":
                scored.words = _word_sums(tokens, bits)
            results.append(scored)
        return results


def _word_sums(chars: Sequence[str], bits: Sequence[float]) -> list[tuple[str, float]]:
    """(word, summed surprisal of its characters) for the whitespace-separated words."""
    words: list[tuple[str, float]] = []
    current, total = "", 0.0
    for ch, b in zip(chars, bits, strict=True):
        if ch.isspace():
            if current:
                words.append((current, total))
            current, total = "", 0.0
        else:
            current, total = current + ch, total + b
    if current:
        words.append((current, total))
    return words


def _greedy_choice(logits: torch.Tensor) -> torch.Tensor:
    """The most probable token of each row (temperature 0)."""
    return logits.float().argmax(dim=-1)
