"""``RUN/report.html`` of a sequence-tagging run: one self-contained page.

Sections (each a ``<section id=…>``, in :data:`TAG_SECTIONS`): ``summary``, ``metrics``
(token accuracy, entity precision / recall / F1 with their intervals), ``per_tag`` (precision,
recall, F1 and support per entity type — per tag for plain tags such as parts of speech),
``confusions`` (which tag the model put for which, token by token), ``worst`` (the sentences
with the most wrong tags, each wrong token marked), ``evaluations`` (every later ``rnnlab
evaluate RUN --data X``), ``curves`` and ``config``.

Built from the run's own files only (``metrics.json``, ``analysis/per_tag.csv``,
``analysis/confusions.csv``, ``analysis/worst_sentences.csv``, ``history.jsonl``,
``config.toml``), which :mod:`rnnlab.tasks.tag.analysis` writes, so it can be rendered again
at any time without the model.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnlab.explain.charts import confusion_figure, learning_curves_figure
from rnnlab.explain.page import (
    REPORT_FILE,
    ci_cell,
    evaluation_rows,
    image,
    number,
    page,
    read_csv_rows,
    read_jsonl,
    run_files,
    table,
)
from rnnlab.fileio import atomic_write_text

__all__ = [
    "CONFUSIONS_FILE",
    "PER_TAG_FILE",
    "TAG_SECTIONS",
    "WORST_FILE",
    "render_tag_report",
    "write_tag_report",
]

# In RUN/analysis/ (and RUN/evaluations/NAME/analysis/).
PER_TAG_FILE = "per_tag.csv"
CONFUSIONS_FILE = "confusions.csv"
WORST_FILE = "worst_sentences.csv"

TAG_SECTIONS = (
    "summary",
    "metrics",
    "per_tag",
    "confusions",
    "worst",
    "evaluations",
    "curves",
    "config",
)
_MAX_CONFUSIONS = 15
_MAX_SENTENCES = 10
# The heat map of every tag pair reads up to this many tags; beyond it only the table shows.
_MAX_MATRIX_TAGS = 20
_WRONG = "background:#f6c7c7"


def _summary_section(metrics: dict[str, Any]) -> str:
    return (
        f"<p>Sequence tagger scored on {html.escape(str(metrics.get('data', '?')))} "
        f"({html.escape(str(metrics.get('evaluated_on', metrics.get('split', '?'))))} split): "
        f"{metrics.get('num_sentences', '?')} sentences, {metrics.get('num_tokens', '?')} "
        f"tokens. Best epoch {metrics.get('best_epoch', '?')}, trained in "
        f"{metrics.get('train_seconds', '?')} s.</p>"
    )


def _metrics_section(metrics: dict[str, Any]) -> str:
    rows = [["token accuracy", ci_cell(metrics, "accuracy")]]
    if "f1" in metrics:
        rows += [
            ["entity precision", ci_cell(metrics, "precision")],
            ["entity recall", ci_cell(metrics, "recall")],
            ["entity F1", ci_cell(metrics, "f1")],
        ]
    entity = (
        "An entity counts as found only when its type, first and last token all match (conlleval); "
        if "f1" in metrics
        else ""
    )
    note = (
        f"<p class=muted>{entity}95 % percentile bootstrap intervals over sentences in "
        "brackets.</p>"
    )
    counts = ""
    if "num_true" in metrics:
        counts = (
            f"<p>{metrics['num_true']} true entities, {metrics.get('num_predicted', '?')} "
            f"predicted, {metrics.get('num_correct', '?')} of them right.</p>"
        )
    return table(["score", "value [95 % CI]"], rows) + counts + note


def _per_tag_section(rows: Sequence[dict[str, str]]) -> str:
    if not rows:
        return f"<p class=muted>No analysis/{PER_TAG_FILE} in this run.</p>"
    unit = rows[0].get("unit", "entity")
    header = ["entity type" if unit == "entity" else "tag", "precision", "recall", "F1",
              "support", "predicted", "correct"]  # fmt: skip
    cells = [
        [html.escape(row["tag"]), number(float(row["precision"])), number(float(row["recall"])),
         number(float(row["f1"])), row["support"], row["predicted"], row["correct"]]
        for row in rows
    ]  # fmt: skip
    what = (
        "Whole entities, per type (support: true entities of the type)."
        if unit == "entity"
        else "Tokens, per tag (support: tokens whose true tag it is)."
    )
    return f"<p class=muted>{what} All rows: analysis/{PER_TAG_FILE}.</p>" + table(header, cells)


def _confusions_section(rows: Sequence[dict[str, str]]) -> str:
    if not rows:
        return f"<p class=muted>No analysis/{CONFUSIONS_FILE} in this run.</p>"
    wrong = [r for r in rows if r["true"] != r["predicted"]]
    parts = []
    if wrong:
        cells = [
            [html.escape(r["true"]), html.escape(r["predicted"]), r["count"],
             number(float(r["share_of_true"]), 3)]
            for r in wrong[:_MAX_CONFUSIONS]
        ]  # fmt: skip
        parts.append(
            f"<p>The {min(len(wrong), _MAX_CONFUSIONS)} most frequent of {len(wrong)} kinds "
            f"of wrong tag, token by token; all of them in analysis/{CONFUSIONS_FILE}.</p>"
            + table(["true tag", "predicted tag", "tokens", "share of the true tag"], cells)
        )
    else:
        parts.append("<p>Every token has its true tag.</p>")
    tags = sorted({r["true"] for r in rows} | {r["predicted"] for r in rows})
    if len(tags) <= _MAX_MATRIX_TAGS:
        index = {tag: i for i, tag in enumerate(tags)}
        matrix = [[0] * len(tags) for _ in tags]
        for r in rows:
            matrix[index[r["true"]]][index[r["predicted"]]] += int(r["count"])
        parts.append(image(confusion_figure(matrix, tags), "confusion matrix of the tags"))
    return "".join(parts)


def _marked(tokens: list[str], true: list[str], predicted: list[str]) -> str:
    """The sentence with each wrongly tagged token marked, its true and predicted tag shown."""
    out = []
    for token, gold, guess in zip(tokens, true, predicted, strict=False):
        if gold == guess:
            out.append(html.escape(token))
        else:
            tip = html.escape(f"true {gold}, predicted {guess}")
            out.append(
                f'<span class=tok style="{_WRONG}" title="{tip}">{html.escape(token)}'
                f"<sub>{html.escape(gold)}→{html.escape(guess)}</sub></span>"
            )
    return " ".join(out)


def _worst_section(rows: Sequence[dict[str, str]]) -> str:
    if not rows:
        return "<p>No sentence has a wrong tag.</p>"
    cells = []
    for r in rows[:_MAX_SENTENCES]:
        tokens, true, predicted = (r[key].split(" ") for key in ("text", "true", "predicted"))
        entities = "–" if r.get("missed", "") == "" else f"{r['missed']} / {r['spurious']}"
        cells.append(
            [r["sentence"], f"{r['errors']} of {r['tokens']}", entities,
             f"<span class=tokens>{_marked(tokens, true, predicted)}</span>"]
        )  # fmt: skip
    return (
        f"<p>The {len(cells)} sentences with the most wrongly tagged tokens (marked: "
        "<sub>true→predicted</sub>); every sentence with a mistake is in "
        f"analysis/{WORST_FILE}.</p>"
        + table(["sentence", "wrong tags", "entities missed / spurious", "text"], cells)
    )


def _evaluations_section(run_dir: Path) -> str:
    rows = [
        [html.escape(name), html.escape(str(m.get("data", "?"))), str(m.get("num_sentences", "?")),
         ci_cell(m, "accuracy"), ci_cell(m, "f1") if "f1" in m else "–"]
        for name, m in evaluation_rows(run_dir)
    ]  # fmt: skip
    if not rows:
        return (
            "<p class=muted>No other evaluations yet; <code>rnnlab evaluate RUN --data X</code> "
            "adds one under evaluations/.</p>"
        )
    return (
        table(["name", "data", "sentences", "token accuracy [95% CI]", "entity F1 [95% CI]"], rows)
        + "<p class=muted>Each in evaluations/NAME/ (metrics.json, analysis/).</p>"
    )


def _curves_section(run_dir: Path, metrics: dict[str, Any]) -> str:
    history = read_jsonl(run_dir / "history.jsonl")
    if not history:
        return "<p class=muted>No history.jsonl in this run.</p>"
    metric = "f1" if "f1" in metrics else "accuracy"
    return image(learning_curves_figure(history, metric), "learning curves")


def render_tag_report(run_dir: str | Path) -> str:
    """The report page of a tagging run as an HTML string (see the module docstring)."""
    run_dir = Path(run_dir)
    metrics, config_text = run_files(run_dir)
    analysis = run_dir / "analysis"
    blocks = {
        "summary": ("Summary", _summary_section(metrics)),
        "metrics": ("Token accuracy and entity scores" if "f1" in metrics else "Token accuracy",
                    _metrics_section(metrics)),
        "per_tag": ("Per entity type" if "f1" in metrics else "Per tag",
                    _per_tag_section(read_csv_rows(analysis / PER_TAG_FILE))),
        "confusions": ("Confusions between tags",
                       _confusions_section(read_csv_rows(analysis / CONFUSIONS_FILE))),
        "worst": ("The worst sentences", _worst_section(read_csv_rows(analysis / WORST_FILE))),
        "evaluations": ("Evaluations on other data", _evaluations_section(run_dir)),
        "curves": ("Learning curves", _curves_section(run_dir, metrics)),
        "config": ("Configuration", f"<pre>{html.escape(config_text)}</pre>"),
    }  # fmt: skip
    return page(run_dir, blocks)


def write_tag_report(run_dir: str | Path) -> Path:
    """Render and write ``run_dir/report.html`` atomically; returns its path."""
    path = Path(run_dir) / REPORT_FILE
    atomic_write_text(path, render_tag_report(run_dir))
    return path
