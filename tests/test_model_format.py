"""Model files written by an earlier release still load and predict the same.

``tests/fixtures/*-format1.safetensors`` were written by rnnlab 0.1.0 (model format 1,
before the task packages) from tiny models, with their outputs on a few inputs in
``format1-outputs.json``; one fixture per task and format version, as the style guide asks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import rnnlab
from rnnlab.runs import FORMAT_VERSION, load_model_file

FIXTURES = Path(__file__).parent / "fixtures"
OUTPUTS = json.loads((FIXTURES / "format1-outputs.json").read_text(encoding="utf-8"))


def test_the_fixtures_are_format_version_1_files():
    for name in ("classify", "tag"):
        _, meta = load_model_file(FIXTURES / f"{name}-format1.safetensors")
        assert meta["task"] == name and meta["rnnlab_version"] == "0.1.0"
    assert FORMAT_VERSION == 1  # a new version needs a new fixture beside these


def test_a_format1_classifier_loads_and_gives_the_same_probabilities():
    predictor = rnnlab.load(FIXTURES / "classify-format1.safetensors")
    expected = OUTPUTS["classify"]
    probs = predictor.predict_proba(expected["texts"])
    np.testing.assert_allclose(probs, np.array(expected["probabilities"]), atol=1e-5)
    assert predictor.labels == ["neg", "pos"]


def test_a_format1_tagger_loads_and_gives_the_same_tags():
    predictor = rnnlab.load(FIXTURES / "tag-format1.safetensors")
    expected = OUTPUTS["tag"]
    assert predictor.predict(expected["sentences"]) == expected["tags"]


@pytest.mark.parametrize("name", ["classify", "tag"])
def test_a_format1_model_exports_to_onnx(name, tmp_path):
    pytest.importorskip("onnxruntime", reason="the ONNX check needs onnxruntime")
    from rnnlab.deploy.onnx import export_onnx

    result = export_onnx(FIXTURES / f"{name}-format1.safetensors", tmp_path / "m.onnx")
    assert result.max_abs_diff < 1e-4
