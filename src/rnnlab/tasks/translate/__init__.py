"""Translation (and any text-to-text mapping): a sequence-to-sequence model with attention.

Sentence pairs (a table with two columns, two aligned files, or Multi30K) → one tokenizer and
vocabulary per side → embedding → bidirectional ``rnnlab.nn`` encoder → attention decoder →
greedy or beam search → sacreBLEU. The package follows the task contract of
:mod:`rnnlab.tasks.base` — ``config``, ``data``, ``model``, ``estimator``, ``predictor``,
``workflow`` — plus ``decode`` (greedy and batched beam search) and ``scoring`` (sacreBLEU
and its bootstrap); importing it registers the ``"translate"`` task.
"""

from rnnlab.tasks.base import Task, register_task
from rnnlab.tasks.translate.config import (
    COMMAND,
    TranslateDataConfig,
    TranslateDecodeConfig,
    TranslateModelConfig,
    TranslateRunConfig,
)
from rnnlab.tasks.translate.export import translate_metadata
from rnnlab.tasks.translate.predictor import TranslatePredictor, translation_columns
from rnnlab.tasks.translate.workflow import (
    compare_runs,
    evaluate_translate_run,
    train_translator,
)

__all__ = [
    "TASK",
    "TranslateDataConfig",
    "TranslateDecodeConfig",
    "TranslateModelConfig",
    "TranslatePredictor",
    "TranslateRunConfig",
    "Translator",
    "evaluate_translate_run",
    "train_translator",
]

_READ = ("format", "source_col", "target_col", "header", "target_data")

TASK = register_task(
    Task(
        name="translate",
        title="translation model",
        config_type=TranslateRunConfig,
        predictor_type=TranslatePredictor,
        train=train_translator,
        evaluate=evaluate_translate_run,
        read_options=(*_READ, "source_lang", "target_lang"),
        predict_options=("format", "source_col", "header"),
        export_metadata=translate_metadata,
        export_graphs="rnnlab.tasks.translate.export:translator_export",
        onnx_engine="rnnlab.tasks.translate.export:onnx_translator",
        endpoints=("translate",),
        explainable=True,
        explain="rnnlab.cli.translate_display:explain_translations",
        compare=compare_runs,
        app="rnnlab.serve.translate:create_translate_app",
        write_predictions="rnnlab.cli.translate_display:predict_translations",
        print_metrics="rnnlab.cli.translate_display:print_translation",
        predict_backends=("ray",),
        output_columns=translation_columns,
        command=COMMAND,
    )
)


def __getattr__(attribute: str) -> object:
    """``Translator`` on first use: it brings scikit-learn, which loading a model never
    needs."""
    if attribute == "Translator":
        from rnnlab.tasks.translate.estimator import Translator

        return Translator
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
