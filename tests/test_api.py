"""The public names of ``rnnlab``: they import, ``dir`` lists them, and ``load`` returns the
one ``Predictor`` type every task's predictor derives from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import rnnlab
from rnnlab.tasks.classify.predictor import TextPredictor
from rnnlab.tasks.tag.predictor import TagPredictor

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_public_name_imports_and_is_listed():
    for name in rnnlab.__all__:
        assert getattr(rnnlab, name) is not None, name
    assert set(rnnlab.__all__) <= set(dir(rnnlab))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        rnnlab.Nope  # noqa: B018


def test_no_public_name_is_shadowed_by_a_subpackage():
    """Importing ``rnnlab.evaluate.metrics`` sets ``rnnlab.evaluate`` to that package: a
    function of the same name would be replaced, so none may share a subpackage's name."""
    import rnnlab.evaluate.metrics

    folder = Path(rnnlab.__file__).parent
    subpackages = {p.name for p in folder.iterdir() if (p / "__init__.py").exists()}
    assert not set(rnnlab.__all__) & subpackages
    assert callable(rnnlab.evaluate_run) and callable(rnnlab.predict) and callable(rnnlab.load)


def test_load_returns_a_predictor_of_the_files_task():
    assert issubclass(TextPredictor, rnnlab.Predictor) and issubclass(
        TagPredictor, rnnlab.Predictor
    )
    classifier = rnnlab.load(FIXTURES / "classify-format1.safetensors")
    tagger = rnnlab.load(FIXTURES / "tag-format1.safetensors")
    assert isinstance(classifier, TextPredictor) and classifier.task == "classify"
    assert isinstance(tagger, TagPredictor) and tagger.task == "tag"
    assert rnnlab.SequenceTagger.__name__ == "SequenceTagger"


def test_import_rnnlab_stays_light():
    """``import rnnlab`` loads neither torch nor the tasks: the names load on first use."""
    code = "import sys, rnnlab; print('torch' in sys.modules, 'rnnlab.tasks' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"], result.stderr


def test_loading_a_model_does_not_import_scikit_learn():
    """Predicting and serving never need the estimators, so start-up skips scikit-learn."""
    code = (
        "import sys, rnnlab\n"
        f"rnnlab.load({str(FIXTURES / 'classify-format1.safetensors')!r})\n"
        f"rnnlab.load({str(FIXTURES / 'tag-format1.safetensors')!r})\n"
        "print('sklearn' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False"], result.stderr
