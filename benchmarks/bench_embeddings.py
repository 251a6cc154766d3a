"""Word-embedding benchmark on IMDB train text: rnnlab vs gensim used directly, and GloVe.

Skip-gram, 100 dimensions, the same options for both: rnnlab's words/s should be at least
0.95x gensim's (rnnlab hands gensim a tokenised work file in ``corpus_file`` mode; gensim
direct gets the same token lists from memory). GloVe is timed on the same corpus and scored
on the same analogy (30k most frequent words) and WordSim353 tests.

    python benchmarks/bench_embeddings.py [--workers 2] [--epochs 5] [--glove-epochs 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import rnnlab.data.datasets
import rnnlab.embeddings as emb
from rnnlab.text.tokenize import get_tokenizer


def scores(vectors: emb.Vectors) -> tuple[float, float]:
    return (
        emb.evaluate_analogies(vectors, restrict_vocab=30_000).accuracy,
        emb.evaluate_similarity(vectors).spearman,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--glove-epochs", type=int, default=5)
    args = parser.parse_args()
    from gensim.models import Word2Vec

    texts = rnnlab.data.datasets.load("imdb").train.texts
    opts = dict(vector_size=100, window=5, min_count=5, negative=5, sample=1e-3, seed=0)
    rows: list[tuple] = []
    console = Console()

    def report(row: tuple) -> None:
        rows.append(row)
        console.print(f"{row[0]}: train {row[1]:.1f} s, total {row[2]:.1f} s, {row[3]:,} words/s")

    with tempfile.TemporaryDirectory() as work:
        corpus = Path(work) / "imdb.txt"
        corpus.write_text("\n".join(t.replace("\n", " ") for t in texts) + "\n", "utf-8")

        start = time.perf_counter()
        sg = emb.train(corpus, "skipgram", epochs=args.epochs, workers=args.workers, **opts)
        total = time.perf_counter() - start
        tokens = sg.stats["tokens"]
        report(
            (
                "rnnlab skip-gram",
                sg.stats["train_seconds"],
                total,
                sg.stats["words_per_s"],
                *scores(sg.vectors),
            )
        )

        tok = get_tokenizer("english")
        sentences = [t for t in tok.tokenize_many(texts) if t]
        start = time.perf_counter()
        model = Word2Vec(sg=1, hs=0, epochs=args.epochs, workers=args.workers, alpha=0.025, **opts)
        model.build_vocab(sentences)
        begin_train = time.perf_counter()
        model.train(sentences, total_examples=len(sentences), epochs=args.epochs)
        end = time.perf_counter()
        train_s = end - begin_train
        report(
            (
                "gensim skip-gram (direct)",
                train_s,
                end - start,
                round(tokens * args.epochs / train_s),
                *scores(emb.Vectors.from_gensim(model.wv)),
            )
        )

        start = time.perf_counter()
        gl = emb.train(
            corpus,
            "glove",
            vector_size=100,
            window=5,
            min_count=5,
            epochs=args.glove_epochs,
            workers=args.workers,
            seed=0,
        )
        total = time.perf_counter() - start
        report(
            (
                f"rnnlab GloVe ({gl.stats['nonzeros']:,} nonzeros)",
                gl.stats["train_seconds"],
                total,
                gl.stats["words_per_s"],
                *scores(gl.vectors),
            )
        )

    table = Table(title=f"IMDB train text, {tokens:,} tokens, 100-d, workers={args.workers}")
    for col in ("method", "train s", "total s", "words/s", "analogy acc", "WordSim353 rho"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name, train_s, total_s, wps, acc, rho in rows:
        table.add_row(
            name, f"{train_s:.1f}", f"{total_s:.1f}", f"{wps:,}", f"{acc:.4f}", f"{rho:.4f}"
        )
    console.print(table)
    console.print(f"rnnlab / gensim words/s: {rows[0][3] / rows[1][3]:.2f}x (target >= 0.95x)")


if __name__ == "__main__":
    main()
