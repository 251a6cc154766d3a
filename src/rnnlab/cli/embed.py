"""``rnnlab embed``: train, evaluate, inspect and convert word vectors from the command line.

Thin like the rest of the CLI: parses, calls :mod:`rnnlab.embeddings`, prints. Progress (with
words/s) goes to standard error, results to standard output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from rnnlab.cli.common import clean_errors, err_console, out_console
from rnnlab.errors import ConfigError

embed_app = typer.Typer(
    help="Word embeddings: train (skipgram, cbow, fasttext, glove), evaluate, inspect, convert.",
    no_args_is_help=True,
)


class _Progress:
    """Renders :class:`~rnnlab.embeddings.events.ProgressEvent` as a rich progress bar."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        )
        self.tasks: dict[str, Any] = {}

    def __call__(self, event: Any) -> None:
        name = (
            event.stage if event.stage != "train" else f"train epoch {event.epoch}/{event.epochs}"
        )
        key = event.stage
        info = f"{event.words:,} words  {event.words_per_s:,.0f} words/s"
        if event.loss is not None:
            info += f"  loss {event.loss:.4f}"
        if key not in self.tasks:
            self.tasks[key] = self.bar.add_task(name, total=event.total_words or None, info=info)
        self.bar.update(
            self.tasks[key],
            description=name,
            completed=event.words,
            total=event.total_words or None,
            info=info,
        )

    def __enter__(self) -> _Progress:
        self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.stop()


def _split(words: str | None) -> list[str]:
    return [w.strip() for w in (words or "").split(",") if w.strip()]


def _print_scores(scores: dict[str, Any]) -> None:
    out = out_console
    analogy = scores["analogy"]
    answered = sum(n for _, n in analogy.sections.values())
    out.print(
        f"analogies: accuracy {analogy.accuracy:.4f} on {answered}"
        f" of {analogy.questions} questions (searched the {analogy.restrict_vocab:,} most frequent "
        f"words; {analogy.oov_ratio:.1%} of questions skipped for words outside them)"
    )
    table = Table(title="analogy accuracy per section")
    table.add_column("section")
    table.add_column("accuracy", justify="right")
    table.add_column("answered", justify="right")
    for name, (correct, n) in analogy.sections.items():
        table.add_row(name, f"{correct / n:.4f}" if n else "-", str(n))
    out.print(table)
    for name, res in scores.items():
        if name != "analogy":
            out.print(
                f"{name}: Spearman rho {res.spearman:.4f} on {res.pairs} pairs "
                f"(OOV {res.oov_ratio:.1%})"
            )


@embed_app.command(
    "train",
    epilog=(
        "Examples:\n\n"
        "  rnnlab embed train --data imdb --method skipgram --out vecs/imdb-sg\n\n"
        "  rnnlab embed train --data corpus.txt --method glove --embedding-dim 50 --out vecs/g\n\n"
        "  rnnlab embed train --data imdb --seeds 3 --words good,bad,actor --out vecs/s"
    ),
)
def train_cmd(
    out: Annotated[Path, typer.Option(help="Directory to write the vectors to.")],
    data: Annotated[
        str | None, typer.Option(help="Text file (one document per line) or dataset name.")
    ] = None,
    method: Annotated[str, typer.Option(help="skipgram, cbow, fasttext or glove.")] = "skipgram",
    tokenizer: Annotated[str, typer.Option(help="english, chinese, char or auto.")] = "auto",
    embedding_dim: Annotated[int | None, typer.Option(help="Size of the vectors [100].")] = None,
    window: Annotated[int, typer.Option(help="Context words on each side.")] = 5,
    min_count: Annotated[int, typer.Option(help="Words seen fewer times are left out.")] = 5,
    max_vocab: Annotated[int | None, typer.Option(help="Keep the most frequent words.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Default 5 (15 for glove).")] = None,
    lr: Annotated[
        float | None, typer.Option(help="Starting learning rate (gensim's alpha; glove's).")
    ] = None,
    negative: Annotated[int | None, typer.Option(help="Negative samples (not glove).")] = None,
    sample: Annotated[float | None, typer.Option(help="Down-sampling (not glove).")] = None,
    min_n: Annotated[int | None, typer.Option(help="fasttext: shortest n-gram.")] = None,
    max_n: Annotated[int | None, typer.Option(help="fasttext: longest n-gram.")] = None,
    bucket: Annotated[int | None, typer.Option(help="fasttext: n-gram hash buckets.")] = None,
    x_max: Annotated[float | None, typer.Option(help="glove: weighting cut-off.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="glove: entries per update.")] = None,
    threads: Annotated[int | None, typer.Option(help="Training threads [3].")] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the first run.")] = 0,
    seeds: Annotated[int, typer.Option(help="Train N times; report mean ± sd.")] = 1,
    words: Annotated[str | None, typer.Option(help="With --seeds: words for stability.")] = None,
    top_k: Annotated[
        int | None, typer.Option(help="With --seeds: neighbours compared for stability [10].")
    ] = None,
    corpus: Annotated[str | None, typer.Option(hidden=True)] = None,
    vector_size: Annotated[int | None, typer.Option(hidden=True)] = None,
    learning_rate: Annotated[float | None, typer.Option(hidden=True)] = None,
    workers: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Train word vectors and save them (rnnlab format) to --out. (--corpus, --vector-size,
    --learning-rate and --workers are the older names of --data, --embedding-dim, --lr and
    --threads, still accepted.)"""

    given = dict(locals())

    def run() -> None:
        kw = dict(given)
        renamed = (("data", "corpus"), ("embedding_dim", "vector_size"), ("lr", "learning_rate"),
                   ("threads", "workers"))  # fmt: skip
        for new, old in renamed:
            kw[old] = _one_of(kw.pop(new), kw[old], new, old)
        if kw["corpus"] is None:
            raise ConfigError("Missing option --data: the text file or dataset to train on.")
        kw["vector_size"] = 100 if kw["vector_size"] is None else kw["vector_size"]
        kw["workers"] = 3 if kw["workers"] is None else kw["workers"]
        _train(**kw)

    clean_errors(run)()


def _one_of(new: Any, old: Any, new_name: str, old_name: str) -> Any:
    """The value of a renamed option: its new flag's or its old one's, refused when both
    are given with different values."""
    if new is not None and old is not None and new != old:
        raise ConfigError(
            f"--{new_name.replace('_', '-')} and --{old_name.replace('_', '-')} (its older "
            "name) are both given; keep --" + new_name.replace("_", "-") + "."
        )
    return new if new is not None else old


def _check_seed_options(kw: dict[str, Any]) -> None:
    """--words and --top-k shape the seed-stability report, which only --seeds N ≥ 2 makes;
    refused without it rather than ignored."""

    given = [
        flag for flag, key in (("--words", "words"), ("--top-k", "top_k")) if kw[key] is not None
    ]
    if given and kw["seeds"] < 2:
        raise ConfigError(
            f"{' and '.join(given)} only shape{'s' if len(given) == 1 else ''} the "
            "seed-stability report of --seeds N (N >= 2); add --seeds or drop "
            f"{'it' if len(given) == 1 else 'them'}."
        )


def _train(**kw: Any) -> None:
    _check_seed_options(kw)  # before gensim is imported: a refusal comes at once
    from rnnlab.embeddings import train, train_seeds
    from rnnlab.embeddings.formats import write_vectors
    from rnnlab.embeddings.stability import mean_sd

    top_k = 10 if kw["top_k"] is None else kw["top_k"]
    opts = {
        k: kw[k]
        for k in (
            "tokenizer",
            "vector_size",
            "window",
            "min_count",
            "max_vocab",
            "epochs",
            "learning_rate",
            "negative",
            "sample",
            "min_n",
            "max_n",
            "bucket",
            "x_max",
            "batch_size",
            "workers",
            "seed",
        )
    }
    with _Progress() as progress:
        if kw["seeds"] == 1:
            result = train(kw["corpus"], kw["method"], out=kw["out"], progress=progress, **opts)
        else:
            report = train_seeds(
                kw["corpus"],
                kw["seeds"],
                _split(kw["words"]),
                top_k,
                progress,
                method=kw["method"],
                **opts,
            )
            result = report.runs[0]
            result.vectors.metadata["seeds"] = {
                "seeds": report.seeds,
                "scores": report.scores,
                "stability": report.stability,
                "top_k": top_k,
            }
            write_vectors(result.vectors, kw["out"])
    stats = result.stats
    out_console.print(
        f"{kw['method']}: {len(result.vectors):,} words x {result.vectors.dim} dims from "
        f"{stats['tokens']:,} tokens in {stats['train_seconds']:.1f} s "
        f"({stats['words_per_s']:,} words/s)"
    )
    if kw["seeds"] > 1:
        table = Table(title=f"{kw['seeds']} seeds")
        table.add_column("score")
        table.add_column("mean ± sd", justify="right")
        for name, values in report.scores.items():
            mean, sd = mean_sd(values)
            table.add_row(name, f"{mean:.4f} ± {sd:.4f}")
        for word, jac in report.stability.items():
            shown = "not in vocabulary" if jac is None else f"{jac:.3f}"
            table.add_row(f"top-{top_k} Jaccard '{word}'", shown)
        out_console.print(table)
    out_console.print(f"vectors: {kw['out']}")


@embed_app.command(
    "eval",
    epilog="Examples:\n\n  rnnlab embed eval vecs/imdb-sg\n\n"
    "  rnnlab embed eval glove-6b-50d --similarity my_pairs.tsv",
)
def eval_cmd(
    vectors: Annotated[str, typer.Argument(help="Vectors directory, file or packaged name.")],
    analogies: Annotated[Path | None, typer.Option(help="Analogy file (default: Google).")] = None,
    similarity: Annotated[
        list[Path] | None, typer.Option(help="Word-pair file(s) (default: WordSim353, SimLex).")
    ] = None,
    restrict_vocab: Annotated[
        int, typer.Option(help="Analogies: most frequent words searched.")
    ] = 30_000,
    format: Annotated[str | None, typer.Option(help="Vectors format (default: detected).")] = None,
) -> None:
    """Analogy accuracy (3CosAdd, per section) and word-similarity Spearman rho."""

    def run() -> None:
        from rnnlab.embeddings import evaluate_all, load

        vecs = load(vectors, format)
        _print_scores(evaluate_all(vecs, analogies, similarity or None, restrict_vocab))

    clean_errors(run)()


@embed_app.command("neighbors", epilog="Example:\n\n  rnnlab embed neighbors vecs/imdb-sg good")
def neighbors_cmd(
    vectors: Annotated[str, typer.Argument(help="Vectors directory, file or packaged name.")],
    word: Annotated[str, typer.Argument()],
    top_k: Annotated[int | None, typer.Option(help="How many neighbours [10].")] = None,
    top: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """The nearest neighbours of WORD by cosine similarity (--top is the older name of
    --top-k)."""

    def run() -> None:
        from rnnlab.embeddings import load
        from rnnlab.errors import DataError

        vecs = load(vectors)
        if not vecs.has_vector(word):
            raise DataError(f"word {word!r} is not in the vectors ({len(vecs):,} words).")
        topn = _one_of(top_k, top, "top_k", "top")
        for other, score in vecs.most_similar(word, topn=10 if topn is None else topn):
            out_console.print(f"{other}\t{score:.4f}", highlight=False)

    clean_errors(run)()


@embed_app.command(
    "weat",
    epilog="Example:\n\n  rnnlab embed weat glove-6b-50d --x rose,tulip --y ant,wasp "
    "--a love,peace --b hate,war",
)
def weat_cmd(
    vectors: Annotated[str, typer.Argument(help="Vectors directory, file or packaged name.")],
    x: Annotated[str, typer.Option("--x", help="Target words X, comma separated.")],
    y: Annotated[str, typer.Option("--y", help="Target words Y.")],
    a: Annotated[str, typer.Option("--a", help="Attribute words A.")],
    b: Annotated[str, typer.Option("--b", help="Attribute words B.")],
    permutations: Annotated[
        int, typer.Option(help="Random partitions for the p-value (exact when fewer exist).")
    ] = 100_000,
    seed: Annotated[int, typer.Option(help="Seed of the sampled partitions.")] = 0,
) -> None:
    """WEAT effect size d and one-sided permutation p-value (Caliskan et al., 2017)."""

    def run() -> None:
        from rnnlab.embeddings import load, weat

        res = weat(load(vectors), _split(x), _split(y), _split(a), _split(b), permutations, seed)
        kind = "exact" if res.exact else "sampled"
        out_console.print(
            f"WEAT effect size d = {res.effect_size:.4f}, p = {res.p_value:.4g} "
            f"({res.permutations:,} {kind} partitions)"
        )
        if res.missing:
            out_console.print(f"words without vectors (dropped): {', '.join(res.missing)}")

    clean_errors(run)()


@embed_app.command(
    "convert",
    epilog="Example:\n\n  rnnlab embed convert vecs/imdb-sg --to word2vec-binary --out imdb.bin",
)
def convert_cmd(
    vectors: Annotated[str, typer.Argument(help="Vectors directory, file or packaged name.")],
    to: Annotated[str, typer.Option(help="rnnlab, word2vec, word2vec-binary or glove.")],
    out: Annotated[Path, typer.Option(help="File (or directory for rnnlab) to write.")],
) -> None:
    """Export vectors to another format."""

    def run() -> None:
        from rnnlab.embeddings import load, save

        vecs = load(vectors)
        save(vecs, out, to)
        out_console.print(f"wrote {len(vecs):,} vectors to {out} ({to})")

    clean_errors(run)()
