"""``rnnlab train classify`` and ``rnnlab train tag``: parse the flags, train, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rnnlab.cli.common import clean_errors, err_console, out_console, overrides, replacing_run
from rnnlab.cli.common import run_config as run_config_from
from rnnlab.cli.display import print_metrics, print_repeats, tagging_headline, tagging_table
from rnnlab.errors import ConfigError

__all__ = ["train_app"]


# Switches every train command has, declared once.
ResumeFlag = Annotated[bool, typer.Option("--resume", help="Continue an interrupted run in --out.")]
OverwriteFlag = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace the run already in --out; the old one stays until the new one finishes.",
    ),
]

train_app = typer.Typer(
    help="Train a model; writes a run directory. Add --nproc N to any of these commands to "
    "train on N processes of this machine (torchrun, DistributedDataParallel).",
    no_args_is_help=True,
)


@train_app.command(
    "classify",
    epilog=(
        "Examples:\n\n"
        "  rnnlab train classify --data imdb --out runs/imdb\n\n"
        "  rnnlab train classify --data reviews.csv --text-col review --label-col stars "
        "--valid dev.csv --test test.csv --cell lstm --epochs 5 --out runs/reviews\n\n"
        "  rnnlab train classify --config runs/imdb/config.toml --out runs/imdb --resume"
    ),
)
@clean_errors
def train_classify(
    out: Annotated[Path, typer.Option(help="Run directory to write.")] = Path("runs/classify"),
    data: Annotated[
        str | None,
        typer.Option(
            help="Training table (CSV/TSV/JSONL/Parquet) or dataset name (imdb, rotten_tomatoes, "
            "chinese_reviews, bbc_news, trec, tweets)."
        ),
    ] = None,
    valid: Annotated[
        str | None, typer.Option(help="Validation table (default: 10% of --data).")
    ] = None,
    test: Annotated[str | None, typer.Option(help="Test table, evaluated after training.")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML config; flags override it.")] = None,
    text_col: Annotated[str | None, typer.Option(help="Column holding the text.")] = None,
    label_col: Annotated[str | None, typer.Option(help="Column holding the label.")] = None,
    format: Annotated[
        str | None,
        typer.Option(help="csv, tsv, jsonl, parquet or xlsx (default: from the suffix)."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Text encoding of the tables: auto (the default: detected from the first "
            "bytes, recorded in the run's config), or a name such as utf-8, gb18030, big5, "
            "cp1252."
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            help="CSV delimiter: auto (the default: told from the first lines among , ; tab "
            "|), tab, or one character."
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(
            help="Sheet of .xlsx workbooks: a name or 0-based index (default: the first)."
        ),
    ] = None,
    skip_empty: Annotated[
        bool | None, typer.Option("--skip-empty", help="Drop rows with empty text.")
    ] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(help="english, chinese, char or auto (chinese when most letters are CJK)."),
    ] = None,
    max_len: Annotated[
        int | None, typer.Option(help="Keep at most this many tokens per text.")
    ] = None,
    max_vocab: Annotated[
        int | None, typer.Option(help="Vocabulary size (most frequent tokens).")
    ] = None,
    cell: Annotated[str | None, typer.Option(help="gru, lstm or rnn.")] = None,
    hidden_size: Annotated[int | None, typer.Option()] = None,
    embedding_dim: Annotated[int | None, typer.Option()] = None,
    num_layers: Annotated[int | None, typer.Option()] = None,
    bidirectional: Annotated[bool | None, typer.Option("--bidirectional/--unidirectional")] = None,
    pooling: Annotated[
        str | None, typer.Option(help="last, mean, max or concat ([last, max, mean]).")
    ] = None,
    init_from: Annotated[
        str | None,
        typer.Option(
            help="Fine-tune from a word-level language-model run (rnnlab train lm): its "
            "tokenizer, vocabulary, embedding and recurrent layers, with ULMFiT's schedule."
        ),
    ] = None,
    combine: Annotated[
        str | None,
        typer.Option(
            help="tfidf (the default): average the network's probabilities with a TF-IDF "
            "1–2-gram + logistic-regression model of the same tokens, weight chosen on the "
            "validation split; none: the network alone."
        ),
    ] = None,
    dropout: Annotated[float | None, typer.Option(help="Dropout between recurrent layers.")] = None,
    recurrent_dropout: Annotated[
        float | None, typer.Option(help="Variational dropout on h_{t-1} (runs the step path).")
    ] = None,
    embeddings: Annotated[
        str | None,
        typer.Option(
            help="Where the embedding layer starts: auto (the default: skip-gram vectors "
            "trained first on the training texts, when gensim is installed), skipgram, none "
            "(random), a word2vec/GloVe/rnnlab file or a packaged name (glove-6b-50d; set "
            "--embedding-dim to their size)."
        ),
    ] = None,
    freeze: Annotated[
        bool | None,
        typer.Option("--freeze/--fine-tune", help="Keep pretrained embeddings fixed."),
    ] = None,
    weight_dropout: Annotated[
        float | None, typer.Option(help="DropConnect on the recurrent weights W_hh.")
    ] = None,
    epochs: Annotated[int | None, typer.Option()] = None,
    batch_size: Annotated[int | None, typer.Option()] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate.")] = None,
    patience: Annotated[
        int | None, typer.Option(help="Early-stopping patience in epochs (0 = off).")
    ] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or cuda:N.")] = None,
    resume: ResumeFlag = False,
    overwrite: OverwriteFlag = False,
    seeds: Annotated[
        int | None,
        typer.Option(help="Train N runs (seeds s, s+1, …) into OUT/seed-*; report mean ± sd."),
    ] = None,
    folds: Annotated[
        int | None,
        typer.Option(help="K-fold cross-validation into OUT/fold-*; report mean ± sd."),
    ] = None,
) -> None:
    """Train a text classifier (embedding → RNN/LSTM/GRU → pooling → softmax)."""
    from rnnlab.tasks.classify import ClassifyRunConfig, train_classifier
    from rnnlab.tasks.classify.finetune import FINE_TUNING
    from rnnlab.tasks.pretrained import SELF_TRAINED
    from rnnlab.train.progress import RichProgress

    flags = overrides(
        data__data=data,
        data__valid=valid,
        data__test=test,
        data__text_col=text_col,
        data__label_col=label_col,
        data__format=format,
        data__encoding=encoding,
        data__delimiter=delimiter,
        data__sheet=sheet,
        data__skip_empty=skip_empty,
        data__tokenizer=tokenizer,
        data__max_len=max_len,
        data__max_vocab=max_vocab,
        model__cell=cell,
        model__hidden_size=hidden_size,
        model__embedding_dim=embedding_dim,
        model__num_layers=num_layers,
        model__bidirectional=bidirectional,
        model__pooling=pooling,
        model__init_from=init_from,
        model__combine=combine,
        model__dropout=dropout,
        model__recurrent_dropout=recurrent_dropout,
        model__weight_dropout=weight_dropout,
        model__embeddings=embeddings,
        model__freeze_embeddings=freeze,
        train__epochs=epochs,
        train__batch_size=batch_size,
        train__lr=lr,
        train__patience=patience,
        train__seed=seed,
        train__device=device,
    )
    if init_from and config is None and not resume:  # ULMFiT's recipe under the flags
        flags = {**FINE_TUNING, **flags}
    run_config = run_config_from(ClassifyRunConfig, config, out, resume, flags, overwrite)
    if seeds is not None or folds is not None:
        return train_repeats(run_config, out, seeds, folds, resume, overwrite=overwrite)
    with replacing_run(out, overwrite):
        summary = train_classifier(
            run_config, out, resume=resume, callbacks=(RichProgress(console=err_console),)
        )
    pad = summary.padding
    if pad:
        err_console.print(
            f"length bucketing: {pad['bucketed']:.1%} padding per batch instead of "
            f"{pad['random']:.1%} with random batches"
        )
    coverage = summary.metrics.get("embedding_coverage")
    if coverage is not None:
        source = summary.metrics.get("embedding_source")
        err_console.print(
            f"embeddings: {coverage:.1%} of the vocabulary initialised from "
            + ("skip-gram vectors of the training texts" if source == SELF_TRAINED else source)
            + (" (frozen)" if run_config.model.freeze_embeddings else "")
        )
    print_metrics("classify", summary.metrics, f"{summary.evaluated_on} metrics", out_console)
    out_console.print(
        f"{summary.evaluated_on} accuracy {summary.metrics['accuracy']:.4f}  "
        f"macro-F1 {summary.metrics['macro_f1']:.4f}  "
        f"({summary.metrics['num_examples']} texts, trained in {summary.seconds:.0f} s, "
        f"best epoch {summary.best_epoch})"
    )
    out_console.print(
        f"run directory: {summary.run_dir}  (metrics: {summary.run_dir / 'metrics.json'})"
    )
    if summary.report is not None:
        out_console.print(f"report: {summary.report}")


@train_app.command(
    "tag",
    epilog=(
        "Examples:\n\n"
        "  rnnlab train tag --data peoples_daily_pos --out runs/pos\n\n"
        "  rnnlab train tag --data wnut16 --decoder softmax --char-encoder none --out runs/w\n\n"
        "  rnnlab train tag --data train.conll --valid dev.conll --test test.conll "
        "--tag-col 3 --out runs/ner\n\n"
        "  rnnlab train tag --data pd.txt --format wordtag --out runs/pd\n\n"
        "  rnnlab train tag --data en_ewt-ud-train.conllu --conllu-tags xpos --out runs/ud"
    ),
)
@clean_errors
def train_tag(
    out: Annotated[Path, typer.Option(help="Run directory to write.")] = Path("runs/tag"),
    data: Annotated[
        str | None,
        typer.Option(
            help="Tagged training file or dataset name (wnut16, peoples_daily_pos, "
            "peoples_daily_ner)."
        ),
    ] = None,
    valid: Annotated[
        str | None, typer.Option(help="Validation file (default: 10% of --data).")
    ] = None,
    test: Annotated[str | None, typer.Option(help="Test file, evaluated after training.")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML config; flags override it.")] = None,
    format: Annotated[
        str | None,
        typer.Option(help="conll, wordtag or conllu (default: conllu for *.conllu, else conll)."),
    ] = None,
    token_col: Annotated[
        int | None, typer.Option(help="CoNLL column of the tokens (default 0).")
    ] = None,
    tag_col: Annotated[
        int | None, typer.Option(help="CoNLL column of the tags (default -1, the last).")
    ] = None,
    conllu_tags: Annotated[str | None, typer.Option(help="upos or xpos.")] = None,
    scheme: Annotated[
        str | None,
        typer.Option(help="Tags to learn: auto (the data's), bio, bioes or plain."),
    ] = None,
    cell: Annotated[str | None, typer.Option(help="gru, lstm or rnn.")] = None,
    hidden_size: Annotated[int | None, typer.Option()] = None,
    embedding_dim: Annotated[int | None, typer.Option()] = None,
    num_layers: Annotated[int | None, typer.Option()] = None,
    bidirectional: Annotated[bool | None, typer.Option("--bidirectional/--unidirectional")] = None,
    decoder: Annotated[
        str | None, typer.Option(help="crf (Viterbi over tag transitions) or softmax.")
    ] = None,
    char_encoder: Annotated[
        str | None, typer.Option(help="Character features of each word: cnn, gru or none.")
    ] = None,
    embeddings: Annotated[
        str | None,
        typer.Option(
            help="Pretrained word vectors (a file or a packaged name); set "
            "--embedding-dim to their size."
        ),
    ] = None,
    freeze: Annotated[
        bool | None,
        typer.Option("--freeze/--fine-tune", help="Keep pretrained embeddings fixed."),
    ] = None,
    epochs: Annotated[int | None, typer.Option()] = None,
    batch_size: Annotated[int | None, typer.Option()] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate.")] = None,
    patience: Annotated[
        int | None, typer.Option(help="Early-stopping patience in epochs (0 = off).")
    ] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or cuda:N.")] = None,
    resume: ResumeFlag = False,
    overwrite: OverwriteFlag = False,
) -> None:
    """Train a sequence tagger (NER, POS): words + characters → BiGRU/BiLSTM → CRF or softmax."""
    from rnnlab.tasks.tag import TagRunConfig, train_tagger
    from rnnlab.train.progress import RichProgress

    flags = overrides(
        data__data=data,
        data__valid=valid,
        data__test=test,
        data__format=format,
        data__token_col=token_col,
        data__tag_col=tag_col,
        data__conllu_tags=conllu_tags,
        data__scheme=scheme,
        model__cell=cell,
        model__hidden_size=hidden_size,
        model__embedding_dim=embedding_dim,
        model__num_layers=num_layers,
        model__bidirectional=bidirectional,
        model__decoder=decoder,
        model__char_encoder=char_encoder,
        model__embeddings=embeddings,
        model__freeze_embeddings=freeze,
        train__epochs=epochs,
        train__batch_size=batch_size,
        train__lr=lr,
        train__patience=patience,
        train__seed=seed,
        train__device=device,
    )
    run_config = run_config_from(TagRunConfig, config, out, resume, flags, overwrite)
    with replacing_run(out, overwrite):
        summary = train_tagger(
            run_config, out, resume=resume, callbacks=(RichProgress(console=err_console),)
        )
    coverage = summary.metrics.get("embedding_coverage")
    if coverage is not None:
        err_console.print(f"embeddings: {coverage:.1%} of the vocabulary initialised")
    out_console.print(tagging_table(summary.metrics, f"{summary.evaluated_on} metrics"))
    out_console.print(
        f"{summary.evaluated_on} {tagging_headline(summary.metrics)}, trained in "
        f"{summary.seconds:.0f} s, best epoch {summary.best_epoch}"
    )
    out_console.print(
        f"run directory: {summary.run_dir}  (metrics: {summary.run_dir / 'metrics.json'})"
    )


def train_repeats(
    config: Any,
    out: Path,
    seeds: int | None,
    folds: int | None,
    resume: bool,
    *,
    overwrite: bool = False,
    **task: Any,
) -> None:
    """``train classify --seeds N`` or ``--folds K`` (``train lm --seeds N``, with the task's
    ``train`` and ``scores`` in ``task``): train the runs, print their summary. With
    ``overwrite``, the runs ``out`` holds are replaced when all the new ones have finished."""
    from rnnlab.tasks.repeats import cross_validate, train_seeds
    from rnnlab.train.progress import RichProgress

    if seeds is not None and folds is not None:
        raise ConfigError(
            "--seeds and --folds cannot be combined; run the folds with one seed, or the "
            "seeds on one split."
        )
    options = {"resume": resume, "callbacks": (RichProgress(console=err_console),)}

    def announce(name: str) -> None:
        err_console.print(f"training {out / name}")

    with replacing_run(out, overwrite):
        if seeds is not None:
            summary = train_seeds(config, out, seeds, on_run=announce, **task, **options)
        else:
            summary = cross_validate(config, out, folds, on_run=announce, **options)
    print_repeats(summary, out_console)


@train_app.command(
    "lm",
    epilog=(
        "Examples:\n\n"
        "  rnnlab train lm --data ptb --out runs/ptb\n\n"
        "  rnnlab train lm --data ptb --level char --out runs/ptb-char\n\n"
        "  rnnlab train lm --data corpus.txt --valid dev.txt --bptt 70 --out runs/corpus"
    ),
)
@clean_errors
def train_lm(
    out: Annotated[Path, typer.Option(help="Run directory to write.")] = Path("runs/lm"),
    data: Annotated[
        str | None,
        typer.Option(
            help="Text file (one document per line), ptb, peoples_daily_text or a "
            "classification dataset (its training texts only)."
        ),
    ] = None,
    valid: Annotated[
        str | None, typer.Option(help="Validation text (default: 10% of --data's lines).")
    ] = None,
    test: Annotated[str | None, typer.Option(help="Test text, evaluated after training.")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML config; flags override it.")] = None,
    level: Annotated[str | None, typer.Option(help="word or char.")] = None,
    continuous: Annotated[
        bool | None,
        typer.Option(
            "--continuous/--lines",
            help="Text files as running text (a paragraph is a document) or one per line.",
        ),
    ] = None,
    tokenizer: Annotated[
        str | None, typer.Option(help="Word level: auto, whitespace, english or chinese.")
    ] = None,
    bptt: Annotated[int | None, typer.Option(help="Truncated-BPTT window (tokens).")] = None,
    max_vocab: Annotated[int | None, typer.Option(help="Vocabulary size.")] = None,
    cell: Annotated[str | None, typer.Option(help="lstm, gru or rnn.")] = None,
    hidden_size: Annotated[int | None, typer.Option()] = None,
    embedding_dim: Annotated[int | None, typer.Option()] = None,
    num_layers: Annotated[int | None, typer.Option()] = None,
    embeddings: Annotated[
        str | None,
        typer.Option(
            help="Where the embedding layer starts: none (random, the default), skipgram "
            "(vectors gensim trains first on the training lines), a word2vec/GloVe/rnnlab "
            "file or a packaged name (set --embedding-dim to their size)."
        ),
    ] = None,
    epochs: Annotated[int | None, typer.Option()] = None,
    batch_size: Annotated[int | None, typer.Option()] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    optimizer: Annotated[
        str | None, typer.Option(help="adamw (default), adam, sgd or nt-asgd.")
    ] = None,
    softmax: Annotated[
        str | None,
        typer.Option(help="Output layer: auto (default), full or adaptive (two-level)."),
    ] = None,
    patience: Annotated[
        int | None, typer.Option(help="Early-stopping patience in epochs (0 = off).")
    ] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    seeds: Annotated[
        int | None,
        typer.Option(help="Train N runs (seeds s, s+1, …) into OUT/seed-*; report mean ± sd."),
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or cuda:N.")] = None,
    resume: ResumeFlag = False,
    overwrite: OverwriteFlag = False,
) -> None:
    """Train a language model (embedding → LSTM/GRU → tied softmax), word or character level."""
    from rnnlab.tasks.lm import LMRunConfig
    from rnnlab.tasks.lm import train_lm as run_train_lm
    from rnnlab.train.progress import RichProgress

    flags = overrides(
        data__data=data,
        data__valid=valid,
        data__test=test,
        data__level=level,
        data__continuous=continuous,
        data__tokenizer=tokenizer,
        data__bptt=bptt,
        data__max_vocab=max_vocab,
        model__cell=cell,
        model__hidden_size=hidden_size,
        model__embedding_dim=embedding_dim,
        model__num_layers=num_layers,
        model__embeddings=embeddings,
        train__epochs=epochs,
        train__batch_size=batch_size,
        train__lr=lr,
        train__optimizer=optimizer,
        model__softmax=softmax,
        train__patience=patience,
        train__seed=seed,
        train__device=device,
    )
    run_config = run_config_from(LMRunConfig, config, out, resume, flags, overwrite)
    callbacks = (RichProgress(console=err_console),)
    if seeds is not None:
        from rnnlab.tasks.repeats import LM_SCORES

        return train_repeats(
            run_config, out, seeds, None, resume, overwrite=overwrite, train=run_train_lm,
            scores=LM_SCORES,
        )  # fmt: skip
    with replacing_run(out, overwrite):
        summary = run_train_lm(run_config, out, resume=resume, callbacks=callbacks)
    print_metrics("lm", summary.metrics, f"{summary.evaluated_on} metrics", out_console)
    split = summary.evaluated_on
    out_console.print(
        f"{split} perplexity {summary.metrics[f'{split}_perplexity']:.2f}  "
        f"bits/token {summary.metrics[f'{split}_bits_per_token']:.4f}  "
        f"({summary.metrics[f'{split}_tokens']} tokens, trained in {summary.seconds:.0f} s, "
        f"best epoch {summary.best_epoch})"
    )
    out_console.print(
        f"run directory: {summary.run_dir}  (metrics: {summary.run_dir / 'metrics.json'})"
    )
    if summary.report is not None:
        out_console.print(f"report: {summary.report}")


@train_app.command(
    "forecast",
    epilog=(
        "Examples:\n\n"
        "  rnnlab train forecast --data airline --horizon 12 --out runs/airline\n\n"
        "  rnnlab train forecast --data sales.csv --time-col date --target-col units "
        "--id-col store --horizon 8 --windows 3 --out runs/sales\n\n"
        "  rnnlab train forecast --data long.csv --quantiles 0.025,0.1,0.5,0.9,0.975 --out runs/q"
    ),
)
@clean_errors
def train_forecast(
    out: Annotated[Path, typer.Option(help="Run directory to write.")] = Path("runs/forecast"),
    data: Annotated[
        str | None,
        typer.Option(
            help="CSV/TSV/parquet of series (long: unique_id, ds, y; or wide with --time-col "
            "and --target-col), or airline, lynx, shampoo, sunspots, nile, co2."
        ),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="TOML config; flags override it.")] = None,
    time_col: Annotated[str | None, typer.Option(help="Column of timestamps (default ds).")] = None,
    target_col: Annotated[str | None, typer.Option(help="Column to forecast (default y).")] = None,
    id_col: Annotated[
        str | None, typer.Option(help="Column naming the series (default unique_id).")
    ] = None,
    past_covariates: Annotated[
        str | None, typer.Option(help="Comma-separated columns known up to the origin only.")
    ] = None,
    future_covariates: Annotated[
        str | None, typer.Option(help="Comma-separated columns known for the horizon too.")
    ] = None,
    freq: Annotated[
        str | None, typer.Option(help="pandas frequency (MS, W, D, h…); default: inferred.")
    ] = None,
    season_length: Annotated[
        int | None, typer.Option(help="Steps per season (default: from the frequency).")
    ] = None,
    fill: Annotated[
        str | None,
        typer.Option(help="Missing values and gaps: none (refuse), linear, ffill, zero."),
    ] = None,
    horizon: Annotated[int | None, typer.Option(help="Steps ahead (default: M4's).")] = None,
    lookback: Annotated[int | None, typer.Option(help="Steps the model reads.")] = None,
    transform: Annotated[
        str | None, typer.Option(help="auto (log if positive), none, log or boxcox.")
    ] = None,
    scaling: Annotated[str | None, typer.Option(help="window or series.")] = None,
    windows: Annotated[int | None, typer.Option(help="Backtest origins, rolling.")] = None,
    step: Annotated[
        int | None, typer.Option(help="Steps between origins (default horizon).")
    ] = None,
    refit: Annotated[
        bool | None, typer.Option("--refit/--no-refit", help="Refit at every origin.")
    ] = None,
    cell: Annotated[str | None, typer.Option(help="gru, lstm or rnn.")] = None,
    hidden_size: Annotated[int | None, typer.Option()] = None,
    num_layers: Annotated[int | None, typer.Option()] = None,
    decoder: Annotated[str | None, typer.Option(help="direct or recursive.")] = None,
    loss: Annotated[str | None, typer.Option(help="quantile, mae or mse.")] = None,
    quantiles: Annotated[
        str | None, typer.Option(help="Comma-separated levels with 0.5 (default 0.1,0.5,0.9).")
    ] = None,
    ensemble: Annotated[int | None, typer.Option(help="Models averaged (median).")] = None,
    combine: Annotated[
        str | None,
        typer.Option(
            help="inverse_mase (the default): the recurrent model combined with AutoETS, "
            "AutoARIMA and Theta, weighted by 1/MASE² on validation windows of the training "
            "part, with conformal intervals from the same windows; none: the recurrent model "
            "alone."
        ),
    ] = None,
    validation_windows: Annotated[
        int | None,
        typer.Option(
            help="Windows at the end of the training part that weight the combination and "
            "calibrate its intervals; 0 (the default): the later half of the training part, "
            "at least 24 windows and two seasons where the data allow."
        ),
    ] = None,
    epochs: Annotated[int | None, typer.Option()] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    seeds: Annotated[
        int | None,
        typer.Option(help="Train N runs (seeds s, s+1, …) into OUT/seed-*; report mean ± sd."),
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or cuda:N.")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Train an interrupted run again, same settings.")
    ] = False,
    overwrite: OverwriteFlag = False,
) -> None:
    """Train a recurrent forecaster and backtest it beside naive, seasonal naive, drift,
    AutoETS, AutoARIMA and Theta on the same windows."""
    from rnnlab.tasks.forecast import ForecastRunConfig
    from rnnlab.tasks.forecast import train_forecast as run_train_forecast

    for flag, value in (("--horizon", horizon), ("--lookback", lookback), ("--step", step)):
        if value is not None and value < 1:
            raise ConfigError(
                f"{flag} must be at least 1, got {value}; leave it out for the default "
                "(from the frequency and the series' length)."
            )

    flags = overrides(
        data__data=data,
        data__time_col=time_col,
        data__target_col=target_col,
        data__id_col=id_col,
        data__past_covariates=_names(past_covariates),
        data__future_covariates=_names(future_covariates),
        data__freq=freq,
        data__season_length=season_length,
        data__fill=fill,
        data__horizon=horizon,
        data__lookback=lookback,
        data__transform=transform,
        data__scaling=scaling,
        data__windows=windows,
        data__step=step,
        data__refit=refit,
        model__cell=cell,
        model__hidden_size=hidden_size,
        model__num_layers=num_layers,
        model__decoder=decoder,
        model__loss=loss,
        model__quantiles=_levels(quantiles),
        model__ensemble=ensemble,
        model__combine=combine,
        data__validation_windows=validation_windows,
        train__epochs=epochs,
        train__lr=lr,
        train__seed=seed,
        train__device=device,
    )
    run_config = run_config_from(ForecastRunConfig, config, out, resume, flags, overwrite)
    if seeds is not None:
        from rnnlab.tasks.repeats import FORECAST_SCORES

        return train_repeats(
            run_config, out, seeds, None, resume, overwrite=overwrite,
            train=run_train_forecast, scores=FORECAST_SCORES,
        )  # fmt: skip
    with replacing_run(out, overwrite):
        summary = run_train_forecast(run_config, out, resume=resume)
    print_metrics("forecast", summary.metrics, "held-out windows", out_console)
    out_console.print(f"trained in {summary.seconds:.1f} s")
    out_console.print(
        f"run directory: {summary.run_dir}  (metrics: {summary.run_dir / 'metrics.json'}, "
        f"forecasts: {summary.run_dir / 'analysis' / 'forecasts.csv'})"
    )
    if summary.report is not None:
        out_console.print(f"report: {summary.report}")


def _names(text: str | None) -> list[str] | None:
    """``"a, b"`` → ``["a", "b"]`` (None stays None)."""
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def _levels(text: str | None) -> list[float] | None:
    """``"0.1,0.5,0.9"`` → floats; one sentence naming a part that is not a number."""
    if text is None:
        return None
    levels = []
    for part in _names(text) or []:
        try:
            levels.append(float(part))
        except ValueError:
            raise ConfigError(
                f"--quantiles: {part!r} is not a number; write levels such as 0.1,0.5,0.9."
            ) from None
    return levels


@train_app.command(
    "classify-series",
    epilog=(
        "Examples:\n\n"
        "  rnnlab train classify-series --data gunpoint --out runs/gunpoint\n\n"
        "  rnnlab train classify-series --data train.ts --test test.ts --out runs/ecg"
    ),
)
@clean_errors
def train_classify_series(
    out: Annotated[Path, typer.Option(help="Run directory to write.")] = Path("runs/series"),
    data: Annotated[
        str | None,
        typer.Option(help="Training series: a .ts file, gunpoint or italy_power_demand."),
    ] = None,
    test: Annotated[
        str | None, typer.Option(help="Test series (.ts); built-in sets bring their own.")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="TOML config; flags override it.")] = None,
    cell: Annotated[str | None, typer.Option(help="gru, lstm or rnn.")] = None,
    hidden_size: Annotated[int | None, typer.Option()] = None,
    num_layers: Annotated[int | None, typer.Option()] = None,
    epochs: Annotated[int | None, typer.Option()] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    seeds: Annotated[
        int | None,
        typer.Option(help="Train N runs (seeds s, s+1, …) into OUT/seed-*; report mean ± sd."),
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or cuda:N.")] = None,
    resume: ResumeFlag = False,
    overwrite: OverwriteFlag = False,
) -> None:
    """Train a recurrent classifier of time series (bidirectional GRU over the values) and
    evaluate it beside the majority class and 1-nearest-neighbour."""
    from rnnlab.tasks.classify_series import SeriesClassifyRunConfig, train_series_classifier
    from rnnlab.train.progress import RichProgress

    flags = overrides(
        data__data=data,
        data__test=test,
        model__cell=cell,
        model__hidden_size=hidden_size,
        model__num_layers=num_layers,
        train__epochs=epochs,
        train__lr=lr,
        train__seed=seed,
        train__device=device,
    )
    run_config = run_config_from(SeriesClassifyRunConfig, config, out, resume, flags, overwrite)
    if seeds is not None:
        from rnnlab.tasks.repeats import SERIES_SCORES

        return train_repeats(
            run_config, out, seeds, None, resume, overwrite=overwrite,
            train=train_series_classifier, scores=SERIES_SCORES,
        )  # fmt: skip
    with replacing_run(out, overwrite):
        summary = train_series_classifier(
            run_config, out, resume=resume, callbacks=(RichProgress(console=err_console),)
        )
    m = summary.metrics
    dtw = m.get("baseline_1nn_dtw_accuracy")
    dtw = "" if dtw is None else f"1-NN (DTW) {dtw:.4f}  "
    out_console.print(
        f"test accuracy {m['accuracy']:.4f} [{m['accuracy_ci_low']:.4f}, "
        f"{m['accuracy_ci_high']:.4f}]  1-NN (Euclidean) {m['baseline_1nn_accuracy']:.4f}  "
        + dtw
        + f"majority {m['baseline_majority_accuracy']:.4f}  McNemar vs 1-NN p = "
        f"{m['mcnemar_1nn_p_value']:.4g}  ({m['test_size']} series, trained in "
        f"{summary.seconds:.1f} s)"
    )
    out_console.print(
        f"run directory: {summary.run_dir}  (metrics: {summary.run_dir / 'metrics.json'})"
    )
    if summary.report is not None:
        out_console.print(f"report: {summary.report}")
