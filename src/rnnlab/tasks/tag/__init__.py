"""Sequence labelling (named entities, parts of speech): one tag per token.

Words (+ their characters) → BiGRU/BiLSTM → CRF or softmax, on CoNLL, word/tag or CoNLL-U
files and the built-in tagged datasets. The package follows the task contract of
:mod:`rnnlab.tasks.base`: ``config``, ``data``, ``model``, ``estimator``, ``predictor``,
``workflow``, ``export``; importing it registers the ``"tag"`` task.
"""

from rnnlab.tasks.base import Task, register_task
from rnnlab.tasks.tag.config import COMMAND, TagDataConfig, TagModelConfig, TagRunConfig
from rnnlab.tasks.tag.export import tagger_graph, tagger_metadata
from rnnlab.tasks.tag.predictor import TagPredictor
from rnnlab.tasks.tag.workflow import evaluate_tag_run, train_tagger

__all__ = [
    "TASK",
    "SequenceTagger",
    "TagDataConfig",
    "TagModelConfig",
    "TagPredictor",
    "TagRunConfig",
    "evaluate_tag_run",
    "train_tagger",
]

TASK = register_task(
    Task(
        name="tag",
        title="sequence tagger",
        config_type=TagRunConfig,
        command=COMMAND,
        predictor_type=TagPredictor,
        train=train_tagger,
        evaluate=evaluate_tag_run,
        read_options=("format", "token_col", "tag_col", "conllu_tags", "scheme"),
        predict_options=("format", "token_col", "tag_col", "conllu_tags", "scheme"),
        export_graph=tagger_graph,
        export_metadata=tagger_metadata,
        write_predictions="rnnlab.cli.predict:predict_tags",
        print_metrics="rnnlab.cli.display:print_tagging",
    )
)


def __getattr__(attribute: str) -> object:
    """``SequenceTagger`` on first use: it brings scikit-learn, which loading a model never
    needs."""
    if attribute == "SequenceTagger":
        from rnnlab.tasks.tag.estimator import SequenceTagger

        return SequenceTagger
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
