"""``rnnlab export`` and ``rnnlab.load(engine="onnx")`` on a translation run, through the
task's doors (``export_graphs``, ``export_metadata``, ``onnx_engine``): the two graphs on
onnxruntime give PyTorch's translations, greedy and beam."""

from __future__ import annotations

import copy
import json

import pytest
from typer.testing import CliRunner

import rnnlab
from rnnlab.cli import app as cli
from rnnlab.threads import torch_threads

from .conftest import TEN_PAIRS

pytest.importorskip("onnx", reason="export needs onnx")
pytest.importorskip("onnxruntime", reason="running the graphs needs onnxruntime")

SOURCES = [s for s, _ in TEN_PAIRS] + ["Ein Mann mit einem roten Hut sitzt auf einer Bank."]


def test_export_writes_both_graphs_that_translate_like_pytorch(run, tmp_path):
    from rnnlab.deploy.onnx import read_onnx_metadata
    from rnnlab.tasks.translate.export import OnnxSeq2Seq

    out = tmp_path / "de-en-onnx"
    result = CliRunner().invoke(cli, ["export", str(run.run_dir), "--onnx", str(out)])
    assert result.exit_code == 0, result.output
    assert "encoder.onnx" in result.stdout and "beam-2 translation" in result.stdout
    assert {p.name for p in out.iterdir()} == {"encoder.onnx", "decoder.onnx", "model.json"}
    meta = read_onnx_metadata(out / "decoder.onnx")
    assert meta["task"] == "translate" and meta == json.loads((out / "model.json").read_text())
    assert meta["preprocessing"]["eos_id"] == 3 and "target" in meta["vocab"]
    predictor = rnnlab.load(run.run_dir)
    with torch_threads(1):
        on_onnx = copy.copy(predictor).use_engine(OnnxSeq2Seq(out, predictor.model))
        for beam in (1, 3):
            assert on_onnx.translate(SOURCES, beam=beam) == predictor.translate(SOURCES, beam=beam)


def test_load_with_the_onnx_engine_translates_like_torch(run):
    with torch_threads(1):
        on_onnx = rnnlab.load(run.run_dir, engine="onnx")
        on_torch = rnnlab.load(run.run_dir)
        assert type(on_onnx.engine).__name__ == "OnnxSeq2Seq"
        assert not on_onnx.model.training  # tracing leaves the model in eval mode (dropout off)
        assert on_onnx.translate(SOURCES) == on_torch.translate(SOURCES)
        assert on_onnx.translate(SOURCES[:3], beam=1) == on_torch.translate(SOURCES[:3], beam=1)


def test_export_to_an_onnx_file_name_is_refused_in_one_sentence(run, tmp_path):
    result = CliRunner().invoke(
        cli, ["export", str(run.run_dir), "--onnx", str(tmp_path / "mt.onnx")]
    )
    assert result.exit_code == 2
    assert "exports several graphs, so --onnx names a directory" in result.output
    assert "Traceback" not in result.output and not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "overrides",
    [
        {"cell": "lstm", "num_layers": 2, "input_feeding": True},
        {"cell": "lstm", "attention": "dot"},
        {"attention": "additive", "input_feeding": True},
    ],
)
def test_the_export_check_holds_on_padded_batches_for_each_variant(overrides):
    """An LSTM's encoder graph runs each source length apart (its traced c_n of a padded row
    is taken at the padded end), so padded batches translate as on PyTorch; dropout stays
    off after tracing."""
    from types import SimpleNamespace

    import torch

    from rnnlab.tasks.translate.config import TranslateModelConfig
    from rnnlab.tasks.translate.export import translator_export
    from rnnlab.tasks.translate.model import Seq2Seq

    with torch_threads(1):
        torch.manual_seed(0)
        config = TranslateModelConfig(hidden_size=16, embedding_dim=8, input_dropout=0.3,
                                      output_dropout=0.3, **overrides)  # fmt: skip
        model = Seq2Seq(30, 20, config, eos_id=3)
        graphs = translator_export(SimpleNamespace(model=model))
    assert graphs.max_abs_diff < 1e-4 and set(graphs.files) == {"encoder.onnx", "decoder.onnx"}
    assert not model.training
