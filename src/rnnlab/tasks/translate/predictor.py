"""``TranslatePredictor``: a trained translation model ready to translate, score and show its
attention (what ``rnnlab.load`` returns for a ``translate`` model file).

    >>> import rnnlab
    >>> german = ["ein hund rennt über die wiese", "eine katze schläft auf dem sofa"] * 12
    >>> english = ["a dog runs across the meadow", "a cat sleeps on the sofa"] * 12
    >>> trained = rnnlab.Translator(hidden_size=32, epochs=30, lr=0.01).fit(german, english)
    >>> trained.save("de-en.safetensors")
    PosixPath('de-en.safetensors')
    >>> mt = rnnlab.load("de-en.safetensors")  # a run directory or a model file
    >>> mt.translate(["ein hund rennt über die wiese"], beam=5)
    ['a dog runs across the meadow']
    >>> scored = mt.surprisal(["ein hund rennt über die wiese"], ["a dog runs on the sofa"])[0]
    >>> scored.tokens  # the reference's tokens, each with its surprisal in bits
    ['a', 'dog', 'runs', 'on', 'the', 'sofa', '</s>']

Sentences are tokenised with the source side's saved tokenizer, sorted by length into
batches (results come back in input order) and decoded by :mod:`.decode`; translations are
detokenised with the target side's tokenizer. An empty sentence translates to ``""``.

The model file is rnnlab's one-file safetensors format (:mod:`rnnlab.runs`) with task
``"translate"``: both sides' tokenizers under ``tokenizer`` (``source``, ``target``), both
vocabularies under ``vocab``, and the decoding settings under ``preprocessing``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rnnlab.errors import DataError
from rnnlab.runs import load_model_file, rebuilding, save_model_file
from rnnlab.tasks.base import Predictor
from rnnlab.tasks.surprisal import TextSurprisal
from rnnlab.tasks.translate.config import TranslateDecodeConfig, TranslateModelConfig
from rnnlab.tasks.translate.data import (
    EOS,
    ParallelText,
    SideTokenizer,
    TranslateBatches,
    encode_side,
)
from rnnlab.tasks.translate.decode import Hypothesis, beam_search, greedy
from rnnlab.tasks.translate.model import Seq2Seq
from rnnlab.tasks.translate.scoring import sentence_scores, translation_metrics
from rnnlab.text.vocab import Vocab

__all__ = [
    "Attention",
    "TranslatePredictor",
    "save_translator",
    "translation_columns",
]


@dataclass
class Attention:
    """A translation's attention matrix: ``weights[i][j]`` is how much target token i
    (``</s>`` last) attended to source token j."""

    source_tokens: list[str]
    target_tokens: list[str]
    weights: list[list[float]]
    translation: str


def _as_texts(texts: str | Sequence[str], what: str) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    out = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(
                f"{what}[{i}]: expected a str, got {type(text).__name__} {text!r:.40}; drop or "
                "fill missing sentences."
            )
        out.append(text)
    return out


class TranslatePredictor(Predictor):
    """Translates sentences with a trained :class:`Seq2Seq` (beam search by default)."""

    task = "translate"
    # "onnx": the encoder and one-step decoder graphs behind encode / decode_step
    # (:class:`~rnnlab.tasks.translate.export.OnnxSeq2Seq`); the search runs unchanged.
    engines = ("torch", "onnx")

    def __init__(
        self,
        model: Seq2Seq,
        source_tokenizer: SideTokenizer,
        target_tokenizer: SideTokenizer,
        source_vocab: Vocab,
        target_vocab: Vocab,
        decoding: TranslateDecodeConfig | None = None,
        *,
        device: str | torch.device = "cpu",
    ) -> None:
        self.model = model.to(device).eval()
        self.engine = self.model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.source_vocab = source_vocab
        self.target_vocab = target_vocab
        self.decoding = decoding or TranslateDecodeConfig()
        self.device = torch.device(device)

    @property
    def labels(self) -> list:
        """A translation model chooses between no fixed labels."""
        return []

    @classmethod
    def from_file(cls, path: str | Path, device: Any = "cpu") -> TranslatePredictor:
        """Load a run directory or model file."""
        tensors, meta = load_model_file(path)
        if meta["task"] != "translate":
            raise DataError(
                f"{path} holds a '{meta['task']}' model; TranslatePredictor reads 'translate' "
                "models (rnnlab.load picks the right predictor)."
            )
        with rebuilding(path, "translate"):
            config = TranslateModelConfig(**meta["model_config"])
            source_vocab = Vocab.from_dict(meta["vocab"]["source"], source=f"{path} (source)")
            target_vocab = Vocab.from_dict(meta["vocab"]["target"], source=f"{path} (target)")
            model = Seq2Seq(
                len(source_vocab),
                len(target_vocab),
                config,
                eos_id=target_vocab.token_to_id(EOS),
            )
            model.load_file_tensors(tensors)
            decoding = TranslateDecodeConfig(**meta["preprocessing"]["decoding"])
            source_tokenizer = SideTokenizer.from_dict(meta["tokenizer"]["source"])
            target_tokenizer = SideTokenizer.from_dict(meta["tokenizer"]["target"])
        return cls(
            model,
            source_tokenizer,
            target_tokenizer,
            source_vocab,
            target_vocab,
            decoding,
            device=device,
        )

    # ------------------------------------------------------------------ translation

    def _ids(self, texts: Sequence[str]) -> list[list[int]]:
        return encode_side(self.source_vocab, [self.source_tokenizer(t) for t in texts])

    def _words(self, ids: Sequence[int]) -> list[str]:
        return [self.target_vocab.id_to_token(i) for i in ids]

    def search(
        self,
        texts: str | Sequence[str],
        *,
        beam: int | None = None,
        nbest: int | None = None,
        alpha: float | None = None,
        max_ratio: float | None = None,
        batch_size: int = 64,
        attention: bool = False,
    ) -> list[list[Hypothesis]]:
        """The ``nbest`` hypotheses of each sentence, best first (settings default to the
        run's ``[decode]`` section); an empty sentence gets one empty hypothesis."""
        d = self.decoding
        beam = d.beam if beam is None else beam
        nbest = min(d.nbest if nbest is None else nbest, beam)
        options = {
            "alpha": d.length_penalty if alpha is None else alpha,
            "max_ratio": d.max_ratio if max_ratio is None else max_ratio,
            "attention": attention,
        }
        sentences = _as_texts(texts, "texts")
        ids = self._ids(sentences)
        results: list[list[Hypothesis]] = [[Hypothesis([], 0.0, 0.0)] for _ in sentences]
        keep = [i for i, s in enumerate(ids) if s]
        order = sorted(keep, key=lambda i: len(ids[i]))
        batches = TranslateBatches(
            [ids[i] for i in order], None, batch_size, eos_id=self.model.eos_id
        )
        for batch in batches.batches():
            src = batch.src.to(self.device)
            if beam == 1:
                found = [[h] for h in greedy(self.engine, src, batch.src_lengths, **options)]
            else:
                found = beam_search(
                    self.engine, src, batch.src_lengths, beam=beam, nbest=nbest, **options
                )
            for local, hyps in zip(batch.index.tolist(), found, strict=True):
                results[order[local]] = hyps
        return results

    def detokenize(self, ids: Sequence[int]) -> str:
        """Target ids → text, with the target side's tokenizer."""
        return self.target_tokenizer.detokenize(self._words(ids))

    def translate(
        self,
        texts: str | Sequence[str],
        beam: int | None = None,
        *,
        nbest: int = 1,
        batch_size: int = 64,
        alpha: float | None = None,
    ) -> list[str] | list[list[str]]:
        """Translations of ``texts`` (one per sentence; ``nbest`` > 1: lists, best first)."""
        found = self.search(texts, beam=beam, nbest=nbest, alpha=alpha, batch_size=batch_size)
        if nbest == 1:
            return [self.detokenize(hyps[0].tokens) for hyps in found]
        return [[self.detokenize(h.tokens) for h in hyps] for hyps in found]

    def predict(self, inputs: Any, batch_size: int = 64) -> list:
        """``translate`` with the run's decoding settings."""
        return list(self.translate(inputs, batch_size=batch_size))

    def attention(self, text: str, beam: int | None = None) -> Attention:
        """The translation of ``text`` and its attention matrix, target × source tokens."""
        hyp = self.search([text], beam=beam, attention=True)[0][0]
        source = self.source_tokenizer(text)
        return Attention(
            source,
            [*self._words(hyp.tokens), EOS],
            hyp.attention or [],
            self.detokenize(hyp.tokens),
        )

    @torch.no_grad()
    def surprisal(
        self,
        sources: str | Sequence[str],
        targets: str | Sequence[str] | None = None,
        batch_size: int = 64,
    ) -> list[TextSurprisal]:
        """Per-token surprisal of each reference translation given its source (forced
        decoding): what ``rnnlab score`` writes. Without ``targets`` each source is a
        ``source TAB reference`` line. Unknown target words read as ``<unk>``."""
        src_texts = _as_texts(sources, "sources")
        if targets is None:
            pairs = [text.split("\t") for text in src_texts]
            for i, pair in enumerate(pairs):
                if len(pair) != 2 or not pair[1].strip():
                    raise DataError(
                        f"text {i + 1}: expected 'source<TAB>reference translation', got "
                        f"{src_texts[i]!r:.60}; give each line a source and its translation."
                    )
            src_texts, tgt_texts = [p[0] for p in pairs], [p[1] for p in pairs]
        else:
            tgt_texts = _as_texts(targets, "targets")
        if len(src_texts) != len(tgt_texts):
            raise DataError(
                f"{len(src_texts)} sources but {len(tgt_texts)} targets; give one reference "
                "translation per source sentence."
            )
        tgt_tokens = [self.target_tokenizer(t) for t in tgt_texts]
        batches = TranslateBatches(
            self._ids(src_texts),
            encode_side(self.target_vocab, tgt_tokens),
            batch_size,
            eos_id=self.model.eos_id,
        )
        out: list[TextSurprisal] = [TextSurprisal([], []) for _ in src_texts]
        for batch in batches.batches():
            batch = batch.to(self.device)
            _, gold_logp = self.model.token_losses(batch, 0.0)
            assert batch.tgt_lengths is not None
            bits = (-gold_logp / math.log(2)).tolist()
            start = 0
            for i, n in zip(batch.index.tolist(), batch.tgt_lengths.tolist(), strict=True):
                tokens = [*tgt_tokens[i], EOS]
                oov = [t not in self.target_vocab for t in tokens[:-1]] + [False]
                out[i] = TextSurprisal(tokens, bits[start : start + n], oov=oov)
                start += n
        return out

    # ------------------------------------------------------------------ evaluation

    def evaluate(
        self,
        data: ParallelText,
        *,
        beam: int | None = None,
        batch_size: int = 64,
        n_resamples: int = 1000,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """sacreBLEU BLEU and chrF (cased, detokenised) with 95 % intervals, lowercased
        BLEU, the copy-the-source baseline, and one row per sentence (source, reference,
        translation, sentence BLEU and chrF), worst first."""
        hypotheses = [str(t) for t in self.translate(data.sources, beam, batch_size=batch_size)]
        tokenize = self.target_tokenizer.bleu_tokenize
        metrics = translation_metrics(
            hypotheses,
            data.targets,
            data.sources,
            tokenize=tokenize,
            n_resamples=n_resamples,
        )
        metrics["beam"] = self.decoding.beam if beam is None else beam
        scores = sentence_scores(hypotheses, data.targets, tokenize)
        rows = [
            {
                "line": line,
                "source": source,
                "reference": reference,
                "translation": hypothesis,
                **score,
            }
            for line, source, reference, hypothesis, score in zip(
                data.lines, data.sources, data.targets, hypotheses, scores, strict=True
            )
        ]
        rows.sort(key=lambda r: (r["bleu"], r["chrf"], r["line"]))
        return metrics, rows


def translation_columns(
    predictor: TranslatePredictor, texts: Sequence[str], batch_size: int = 64
) -> dict[str, list[str]]:
    """The ``output_columns`` door: a batch of source sentences → their ``translation``
    column (the run's decoding settings), for batch prediction (``rnnlab predict``, locally
    or on Ray). A blank source (an empty line or cell) gets an empty translation without
    running the model, so that row ``i`` of the output is always the translation of row
    ``i`` of the input."""
    texts = ["" if text is None else str(text) for text in texts]
    found = [""] * len(texts)
    kept = [i for i, text in enumerate(texts) if text.strip()]
    if kept:
        translated = predictor.translate([texts[i] for i in kept], batch_size=batch_size)
        for i, translation in zip(kept, translated, strict=True):
            found[i] = str(translation)
    return {"translation": found}


def save_translator(path: str | Path, predictor: TranslatePredictor) -> Path:
    """Write a translation model as one safetensors file (rnnlab's model format)."""
    model = predictor.model
    return save_model_file(
        path,
        model.file_tensors(),
        task="translate",
        model_config=model.config,
        tokenizer={
            "source": predictor.source_tokenizer.to_dict(),
            "target": predictor.target_tokenizer.to_dict(),
        },
        vocab={
            "source": predictor.source_vocab.to_dict(),
            "target": predictor.target_vocab.to_dict(),
        },
        labels=[],
        preprocessing={"decoding": _asdict(predictor.decoding)},
    )


def _asdict(section: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(section)
