"""ONNX export of a translation model: an encoder graph and a one-step decoder graph.

    encoder.onnx   src (batch, src_steps) int64, src_lengths (batch,) int64
                   → values, keys (batch, src_steps, hidden), mask (batch, src_steps) bool,
                     h0 (layers, batch, hidden) [, c0 for LSTM]
    decoder.onnx   prev (batch,) int64, h (layers, batch, hidden) [, c] [, feed (batch, A)],
                   values, keys, mask
                   → logp (batch, V), h' [, c'] [, feed'], weights (batch, src_steps)

A search loop needs nothing else: greedy and beam search (:mod:`.decode`) run unchanged on
:class:`OnnxSeq2Seq`, which answers ``encode`` and ``decode_step`` from onnxruntime
sessions, so the loop sits outside the graphs and runs on either engine. Why two graphs and
not one: the number of decoding steps and the beam's reordering depend on the outputs, which
a traced graph cannot express; one step is the unit every search needs.

The task's doors (:mod:`rnnlab.tasks.base`): :func:`translator_export` (``export_graphs``:
both graphs, checked against PyTorch on sentences of unseen lengths, for ``rnnlab export
RUN --onnx DIR``), :func:`translate_metadata` (``export_metadata``: tokenizers,
vocabularies, special ids, decoding settings and the graphs' inputs and outputs) and
:func:`onnx_translator` (``onnx_engine``: the graphs built in memory, for
``rnnlab.load(RUN, engine="onnx")``).
"""

from __future__ import annotations

import copy
import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.errors import MissingDependencyError
from rnnlab.fileio import atomic_write_bytes, make_dir
from rnnlab.tasks.translate.decode import beam_search, greedy
from rnnlab.tasks.translate.model import Memory, Seq2Seq, State

__all__ = [
    "OPSET",
    "OnnxSeq2Seq",
    "TranslatorGraphs",
    "check_translator",
    "export_translator",
    "onnx_translator",
    "translate_metadata",
    "translator_export",
    "translator_graphs",
]

OPSET = 17
ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"


class _Encoder(nn.Module):
    def __init__(self, model: Seq2Seq) -> None:
        super().__init__()
        self.model = model

    def forward(self, src: Tensor, src_lengths: Tensor) -> tuple[Tensor, ...]:
        memory, state = self.model.encode(src, src_lengths)
        states = state if isinstance(state, tuple) else (state,)
        return (memory.values, memory.keys, memory.mask, *states)


class _DecoderStep(nn.Module):
    def __init__(self, model: Seq2Seq) -> None:
        super().__init__()
        self.model = model
        self.lstm = model.config.cell == "lstm"
        self.feeding = model.config.input_feeding

    def forward(self, prev: Tensor, *rest: Tensor) -> tuple[Tensor, ...]:
        parts = list(rest)
        state: State = (parts.pop(0), parts.pop(0)) if self.lstm else parts.pop(0)
        feed = parts.pop(0) if self.feeding else None
        values, keys, mask = parts
        memory = Memory(values, keys, mask, torch.zeros(0, dtype=torch.long))
        logp, state, feed, weights = self.model.decode_step(prev, state, feed, memory)
        states = state if isinstance(state, tuple) else (state,)
        return (logp, *states, *((feed,) if feed is not None else ()), weights)


def _names(model: Seq2Seq) -> tuple[list[str], list[str], list[str], list[str]]:
    """Input and output names of the encoder and the decoder step."""
    lstm, feeding = model.config.cell == "lstm", model.config.input_feeding
    states = ["h", "c"] if lstm else ["h"]
    encoder_out = ["values", "keys", "mask", *[f"{s}0" for s in states]]
    decoder_in = ["prev", *states, *(["feed"] if feeding else []), "values", "keys", "mask"]
    decoder_out = ["logp", *[f"{s}_out" for s in states], *(["feed_out"] if feeding else [])]
    return ["src", "src_lengths"], encoder_out, decoder_in, [*decoder_out, "weights"]


_AXES = {
    "src": {0: "batch", 1: "src_steps"},
    "src_lengths": {0: "batch"},
    "values": {0: "batch", 1: "src_steps"},
    "keys": {0: "batch", 1: "src_steps"},
    "mask": {0: "batch", 1: "src_steps"},
    "weights": {0: "batch", 1: "src_steps"},
    "prev": {0: "batch"},
    "logp": {0: "batch"},
    "feed": {0: "batch"},
    "feed_out": {0: "batch"},
    **{name: {1: "batch"} for name in ("h", "c", "h0", "c0", "h_out", "c_out")},
}


def _export(module: nn.Module, example: tuple[Tensor, ...], inputs: list[str],
            outputs: list[str], opset: int = OPSET) -> bytes:  # fmt: skip
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the graphs are checked numerically instead
        torch.onnx.export(
            module,
            example,
            buffer,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes={name: _AXES[name] for name in (*inputs, *outputs)},
            opset_version=opset,
            dynamo=False,
        )
    return buffer.getvalue()


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
    except ModuleNotFoundError:
        raise MissingDependencyError(
            "ONNX export needs the onnx package; run `pip install 'rnnlab[onnx]'`."
        ) from None


def translator_graphs(model: Seq2Seq, opset: int = OPSET) -> dict[str, bytes]:
    """The serialised encoder and one-step decoder graphs of ``model`` by file name
    (``encoder.onnx``, ``decoder.onnx``); batch and source-length axes are dynamic."""
    _require_onnx()
    model = model.eval()
    enc_in, enc_out, dec_in, dec_out = _names(model)
    src = torch.tensor([[4, 5, 6, 7, 8], [9, 10, 11, 0, 0]])
    lengths = torch.tensor([5, 3])
    # In eval mode: the exporter restores the wrapper's mode onto the model after tracing.
    encoder = _Encoder(model).eval()
    with torch.no_grad():
        encoded = encoder(src, lengths)
    values, keys, mask, *states = encoded
    feed = [model.initial_feed(2, values)] if model.config.input_feeding else []
    prev = torch.tensor([model.sos_id, model.sos_id])
    example = (prev, *states, *feed, values, keys, mask)  # type: ignore[arg-type]
    return {
        ENCODER_FILE: _export(encoder, (src, lengths), enc_in, enc_out, opset),
        DECODER_FILE: _export(_DecoderStep(model).eval(), example, dec_in, dec_out, opset),
    }


def export_translator(
    model: Seq2Seq, directory: str | Path, opset: int = OPSET
) -> tuple[Path, Path]:
    """Write ``encoder.onnx`` and ``decoder.onnx`` of ``model`` into ``directory`` (without
    metadata: ``rnnlab export`` adds it); batch and source-length axes are dynamic."""
    graphs = translator_graphs(model, opset)
    directory = make_dir(directory)
    encoder_path, decoder_path = directory / ENCODER_FILE, directory / DECODER_FILE
    atomic_write_bytes(encoder_path, graphs[ENCODER_FILE])
    atomic_write_bytes(decoder_path, graphs[DECODER_FILE])
    return encoder_path, decoder_path


@dataclass(frozen=True)
class TranslatorGraphs:
    """Both graphs of a translation model, checked: what the ``export_graphs`` door returns.

    Attributes:
        files: file name → serialised ONNX graph (``encoder.onnx``, ``decoder.onnx``).
        max_abs_diff: the largest |onnxruntime − PyTorch| over the encoder's outputs and the
            next-token probabilities and attention weights of the decoder's first two steps,
            plus the number of sentences whose greedy or beam translation differs (so one
            different translation fails any tolerance below 1).
        checked_shape: (sentences, longest source) of the check batch.
        compared: what was compared, in words, for the command's message.
    """

    files: dict[str, bytes]
    max_abs_diff: float
    checked_shape: tuple[int, int]
    compared: str


def _check_batch(vocab_size: int, batch: int, steps: int, seed: int) -> tuple[Tensor, Tensor]:
    """Random source ids ≥ 4 (no special token), the first row ``steps`` long, the others
    of random lengths, padded with 0: other shapes than the tracing example's."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, steps + 1, (batch,), generator=generator)
    lengths[0] = steps
    src = torch.randint(4, max(vocab_size, 5), (batch, steps), generator=generator)
    src = src.masked_fill(torch.arange(steps).unsqueeze(0) >= lengths.unsqueeze(1), 0)
    return src, lengths


def _largest_difference(got: Any, want: Any) -> float:
    pairs = zip(got if isinstance(got, tuple) else (got,),
                want if isinstance(want, tuple) else (want,), strict=True)  # fmt: skip
    return max(float((g.double() - w.double()).abs().max()) for g, w in pairs)


def check_translator(engine: OnnxSeq2Seq, model: Seq2Seq, *, batch: int = 7, steps: int = 13,
                     beam: int = 2, seed: int = 1) -> float:  # fmt: skip
    """The :attr:`TranslatorGraphs.max_abs_diff` of ``engine`` against ``model`` on a padded
    batch of ``batch`` random sentences up to ``steps`` tokens, searched greedily and with
    beam ``beam``."""
    src, lengths = _check_batch(model.src_embedding.num_embeddings, batch, steps, seed)
    with torch.no_grad():
        want_memory, want_state = model.encode(src, lengths)
        got_memory, got_state = engine.encode(src, lengths)
        diff = max(
            _largest_difference(got_memory.values, want_memory.values),
            _largest_difference(got_memory.keys, want_memory.keys),
            _largest_difference(got_state, want_state),
        )
        prev = torch.full((batch,), model.sos_id, dtype=torch.long)
        want_feed = model.initial_feed(batch, want_memory.values)
        got_feed = engine.initial_feed(batch, got_memory.values)
        for _ in range(2):
            want = model.decode_step(prev, want_state, want_feed, want_memory)
            got = engine.decode_step(prev, got_state, got_feed, got_memory)
            # Probabilities, not log-probabilities: a float32 log of a rare token is far
            # from 0 and carries a larger absolute error that means nothing for the search.
            diff = max(
                diff,
                _largest_difference(got[0].exp(), want[0].exp()),
                _largest_difference(got[3], want[3]),
            )
            want_state, want_feed = want[1], want[2]
            got_state, got_feed = got[1], got[2]
            prev = want[0].argmax(dim=-1)
    differ = sum(
        g.tokens != w.tokens
        for g, w in zip(greedy(engine, src, lengths), greedy(model, src, lengths), strict=True)
    )
    found = beam_search(engine, src, lengths, beam=beam)
    expected = beam_search(model, src, lengths, beam=beam)
    differ += sum(g[0].tokens != w[0].tokens for g, w in zip(found, expected, strict=True))
    return diff + differ


def translator_export(predictor: Any, opset: int = OPSET) -> TranslatorGraphs:
    """The ``export_graphs`` door: ``predictor``'s model as its two graphs, run on
    onnxruntime beside PyTorch (:func:`check_translator`) before anything is written."""
    model = predictor.model
    if any(p.device.type != "cpu" for p in model.parameters()):
        model = copy.deepcopy(model).cpu()  # leave the caller's model on its device
    model = model.eval()
    files = translator_graphs(model, opset)
    batch, steps, beam = 7, 13, 2
    diff = check_translator(OnnxSeq2Seq(files, model), model, batch=batch, steps=steps, beam=beam)
    compared = (
        f"a padded batch of {batch} sentences up to {steps} tokens (encoder outputs, "
        "next-token probabilities and attention of two decoder steps, plus 1 for each "
        f"greedy or beam-{beam} translation that differs): max |Δ|"
    )
    return TranslatorGraphs(files, diff, (batch, steps), compared)


def onnx_translator(model: Seq2Seq) -> OnnxSeq2Seq:
    """The ``onnx_engine`` door: ``model``'s two graphs built in memory and run by
    onnxruntime behind ``encode`` / ``decode_step`` (no file is written)."""
    if any(p.device.type != "cpu" for p in model.parameters()):
        model = copy.deepcopy(model).cpu()
    return OnnxSeq2Seq(translator_graphs(model.eval()), model)


def translate_metadata(predictor: Any) -> dict[str, Any]:
    """The ``export_metadata`` door: what a consumer in any language needs to tokenise a
    sentence, run the two graphs in a search loop and read the translation."""
    model = predictor.model
    _, encoder_out, decoder_in, decoder_out = _names(model)
    source_vocab, target_vocab = predictor.source_vocab, predictor.target_vocab
    return {
        "labels": [],
        "graphs": {
            ENCODER_FILE: {"inputs": ["src", "src_lengths"], "outputs": encoder_out},
            DECODER_FILE: {"inputs": decoder_in, "outputs": decoder_out},
        },
        "tokenizer": {
            "source": predictor.source_tokenizer.to_dict(),
            "target": predictor.target_tokenizer.to_dict(),
        },
        "vocab": {"source": source_vocab.to_dict(), "target": target_vocab.to_dict()},
        "preprocessing": {
            "pad_id": model.pad_id,
            "sos_id": model.sos_id,
            "eos_id": model.eos_id,
            "src": "int64 (batch, src_steps): source token ids, padded with pad_id",
            "src_lengths": "int64 (batch,): tokens per sentence, 1 <= length <= src_steps",
            "cell": model.config.cell,
            "encoder_batches": (
                "an LSTM's encoder graph takes a padded row's c0 at the padded end: run it "
                "on sentences of one length at a time, unpadded (h0, values and keys are "
                "exact at any padding)"
                if model.config.cell == "lstm"
                else "any padding"
            ),
            "input_feeding": model.config.input_feeding,
            "attentional_size": model.attentional_size,
            "decoding": _decoding(predictor.decoding),
            "search": (
                "encode once; then from prev = sos_id feed the decoder its outputs (h [, c] "
                "[, feed]) and the encoder's values, keys and mask, taking logp's best token "
                "(greedy) or the K best extensions (beam) until eos_id or "
                "floor(max_ratio * source length) + 5 tokens; scores divide log p by "
                "((5 + length) / 6) ** length_penalty (GNMT), length counting eos"
            ),
        },
    }


def _decoding(settings: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(settings)


class OnnxSeq2Seq:
    """A :class:`Seq2Seq`'s ``encode`` / ``decode_step`` answered by onnxruntime, so that
    :func:`~rnnlab.tasks.translate.decode.greedy` and ``beam_search`` run on it unchanged.

    ``graphs`` is a directory holding ``encoder.onnx`` and ``decoder.onnx`` (what ``rnnlab
    export`` writes) or those file names mapped to the serialised graphs."""

    training = False

    def __init__(self, graphs: str | Path | Mapping[str, bytes], model: Seq2Seq) -> None:
        try:
            import onnxruntime as ort
        except ModuleNotFoundError:
            raise MissingDependencyError(
                "Running the ONNX graphs needs onnxruntime; run `pip install 'rnnlab[onnx]'`."
            ) from None
        if isinstance(graphs, Mapping):
            encoder, decoder = graphs[ENCODER_FILE], graphs[DECODER_FILE]
        else:
            encoder, decoder = (str(Path(graphs) / n) for n in (ENCODER_FILE, DECODER_FILE))
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, torch.get_num_threads())
        cpu = ["CPUExecutionProvider"]
        self.encoder = ort.InferenceSession(encoder, options, cpu)
        self.decoder = ort.InferenceSession(decoder, options, cpu)
        self.config = model.config
        self.eos_id, self.sos_id = model.eos_id, model.sos_id
        self.attentional_size = model.attentional_size
        self.lstm = model.config.cell == "lstm"
        _, self.encoder_outputs, self.decoder_inputs, self.decoder_outputs = _names(model)

    def eval(self) -> OnnxSeq2Seq:
        return self

    def train(self, mode: bool = True) -> OnnxSeq2Seq:
        return self

    def encode(self, src: Tensor, src_lengths: Tensor) -> tuple[Memory, State]:
        """The encoder graph's memory and the decoder's first state. An LSTM's graph runs
        on the sentences of each length apart, unpadded: its traced layers take a padded
        row's final cell state c_n at the padded end (:func:`rnnlab.nn.fused.
        padded_per_layer`), while outputs and h_n are exact at any padding."""
        src, src_lengths = src.cpu(), src_lengths.cpu()
        if not self.lstm or bool((src_lengths == src.shape[1]).all()):
            return self._encode(src, src_lengths)
        batch, steps = src.shape
        values = keys = None
        states: list[Tensor] = []
        for n in sorted(set(src_lengths.tolist())):
            rows = (src_lengths == n).nonzero().squeeze(1)
            part, (h, c) = self._encode(src[rows, :n], src_lengths[rows])  # type: ignore[misc]
            if values is None or keys is None:
                values = part.values.new_zeros(batch, steps, part.values.shape[-1])
                keys = part.keys.new_zeros(batch, steps, part.keys.shape[-1])
                states = [h.new_zeros(h.shape[0], batch, h.shape[-1]) for _ in range(2)]
            values[rows, :n], keys[rows, :n] = part.values, part.keys
            states[0][:, rows], states[1][:, rows] = h, c
        assert values is not None and keys is not None
        mask = torch.arange(steps).unsqueeze(0) < src_lengths.unsqueeze(1)
        return Memory(values, keys, mask, src_lengths), (states[0], states[1])

    def _encode(self, src: Tensor, src_lengths: Tensor) -> tuple[Memory, State]:
        found = self.encoder.run(None, {"src": src.numpy(), "src_lengths": src_lengths.numpy()})
        values, keys, mask, *states = (torch.from_numpy(np.asarray(x)) for x in found)
        memory = Memory(values, keys, mask, src_lengths)
        state: State = (states[0], states[1]) if self.lstm else states[0]
        return memory, state

    def initial_feed(self, batch: int, like: Tensor) -> Tensor | None:
        if not self.config.input_feeding:
            return None
        return like.new_zeros(batch, self.attentional_size)

    def decode_step(
        self, prev: Tensor, state: State, feed: Tensor | None, memory: Memory
    ) -> tuple[Tensor, State, Tensor | None, Tensor]:
        states = state if isinstance(state, tuple) else (state,)
        given = [prev, *states, *((feed,) if feed is not None else ()), memory.values,
                 memory.keys, memory.mask]  # fmt: skip
        inputs: dict[str, Any] = {
            name: t.contiguous().numpy() for name, t in zip(self.decoder_inputs, given, strict=True)
        }
        found = [torch.from_numpy(np.asarray(x)) for x in self.decoder.run(None, inputs)]
        logp, *rest = found
        new_state: State = (rest.pop(0), rest.pop(0)) if self.lstm else rest.pop(0)
        new_feed = rest.pop(0) if feed is not None else None
        return logp, new_state, new_feed, rest.pop(0)
