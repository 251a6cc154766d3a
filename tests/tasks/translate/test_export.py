"""The encoder graph and one-step decoder graph on onnxruntime give PyTorch's translations."""

from __future__ import annotations

import copy

import pytest
import torch

from rnnlab.tasks.translate.export import OnnxSeq2Seq, export_translator
from rnnlab.threads import torch_threads

from .conftest import TEN_PAIRS

pytest.importorskip("onnx", reason="export needs onnx")
pytest.importorskip("onnxruntime", reason="running the graphs needs onnxruntime")


@pytest.mark.parametrize("beam", [1, 3])
def test_search_on_onnxruntime_gives_the_same_translations(memorised, tmp_path, beam):
    sources = [s for s, _ in TEN_PAIRS]
    with torch_threads(1):
        export_translator(memorised.model, tmp_path)
        on_onnx = copy.copy(memorised).use_engine(OnnxSeq2Seq(tmp_path, memorised.model))
        assert on_onnx.translate(sources, beam=beam) == memorised.translate(sources, beam=beam)
        ids = memorised._ids(sources[:3])
        from rnnlab.tasks.translate.data import make_batch

        batch = make_batch(ids, None, [0, 1, 2], eos_id=3, sos_id=1)
        m_torch, s_torch = memorised.model.encode(batch.src, batch.src_lengths)
        m_onnx, s_onnx = on_onnx.engine.encode(batch.src, batch.src_lengths)
        torch.testing.assert_close(m_onnx.values, m_torch.values, rtol=1e-4, atol=1e-5)
        prev = torch.full((3,), 1)
        got = on_onnx.engine.decode_step(prev, s_onnx, None, m_onnx)[0]
        want = memorised.model.decode_step(prev, s_torch, None, m_torch)[0]
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_lstm_with_input_feeding_exports(tmp_path):
    from rnnlab.tasks.translate.config import TranslateModelConfig
    from rnnlab.tasks.translate.data import make_batch
    from rnnlab.tasks.translate.decode import beam_search
    from rnnlab.tasks.translate.model import Seq2Seq

    with torch_threads(1):
        torch.manual_seed(0)
        config = TranslateModelConfig(hidden_size=16, embedding_dim=8, cell="lstm",
                                      num_layers=2, input_feeding=True)  # fmt: skip
        model = Seq2Seq(30, 20, config, eos_id=3).eval()
        export_translator(model, tmp_path)
        engine = OnnxSeq2Seq(tmp_path, model)
        batch = make_batch([[5, 6, 7], [8, 9, 10, 11, 12]], None, [0, 1], eos_id=3, sos_id=1)
        want = beam_search(model, batch.src, batch.src_lengths, beam=2, max_extra=3)
        got = beam_search(engine, batch.src, batch.src_lengths, beam=2, max_extra=3)
    assert [[h.tokens for h in hs] for hs in got] == [[h.tokens for h in hs] for hs in want]
