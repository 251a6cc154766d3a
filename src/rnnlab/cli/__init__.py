"""The ``rnnlab`` command: parses, calls the library, prints. Nothing else lives here.

One module per command group — :mod:`~rnnlab.cli.train`, :mod:`~rnnlab.cli.evaluate`,
:mod:`~rnnlab.cli.predict`, :mod:`~rnnlab.cli.explain`, :mod:`~rnnlab.cli.export`,
:mod:`~rnnlab.cli.serve`, :mod:`~rnnlab.cli.embed` — on :mod:`~rnnlab.cli.common` (consoles,
the error wrapper) and :mod:`~rnnlab.cli.display` (tables). Every command exits non-zero with
one clear sentence on bad input (no traceback); set ``RNNLAB_DEBUG=1`` to see the traceback
of an unexpected error. ``rnnlab --version`` prints the installed version; ``python -m rnnlab``
(:mod:`rnnlab.__main__`) is the same command, so ``torchrun … -m rnnlab train …`` works.
"""

from __future__ import annotations

from typing import Annotated

import typer

import rnnlab.cli.evaluate as evaluate
import rnnlab.cli.explain as explain
import rnnlab.cli.export as export
import rnnlab.cli.generate as generate
import rnnlab.cli.predict as predict
import rnnlab.cli.score as score
import rnnlab.cli.serve as serve
from rnnlab.cli.common import out_console
from rnnlab.cli.embed import embed_app
from rnnlab.cli.lazy import LazyCommands
from rnnlab.cli.train import train_app

__all__ = ["HELP", "app", "installed_version", "main"]

# What `rnnlab --help` says above its list of commands: three lines, kept as written ("\b").
HELP = (
    "\b\n"
    "Train recurrent sequence models (RNN, LSTM, GRU) on text and time series:\n"
    "text: classify, tag (NER, POS), language models, translation, word vectors (embed);\n"
    "series: forecast, classify. Then evaluate, predict, explain, export, serve."
)


class _Commands(LazyCommands):
    """rnnlab's commands; ``evaluate`` and ``predict`` are built when named (their reading
    flags come from every registered task)."""

    lazy = {  # noqa: RUF012 (read only)
        "evaluate": (evaluate.SHORT_HELP, evaluate.build),
        "predict": (predict.SHORT_HELP, predict.build),
    }
    order = ("train", "evaluate", "predict", "explain", "generate", "score", "export", "serve",
             "embed")  # fmt: skip


app = typer.Typer(
    cls=_Commands,
    name="rnnlab",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(train_app, name="train")
app.command("export", epilog=export.EPILOG)(export.export_command)
app.command("serve", epilog=serve.EPILOG)(serve.serve)
app.command("explain", epilog=explain.EPILOG)(explain.explain)
app.command("generate", epilog=generate.EPILOG)(generate.generate)
app.command("score", epilog=score.EPILOG)(score.score)
app.add_typer(embed_app, name="embed")


def installed_version() -> str:
    """rnnlab's version: the installed distribution's (importlib.metadata, what pip and
    bug reports see), else ``rnnlab.__version__`` when running from a source tree that was
    never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rnnlab")
    except PackageNotFoundError:
        from rnnlab import __version__

        return __version__


def _print_version(asked: bool) -> None:
    """``--version``: print ``rnnlab X.Y.Z`` and exit 0 before any command runs."""
    if asked:
        out_console.print(f"rnnlab {installed_version()}", highlight=False, markup=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print rnnlab's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """The options before the command (``--version``); the description is :data:`HELP`."""


def main(args: list[str] | None = None) -> None:
    """The ``rnnlab`` command. ``rnnlab train … --nproc N`` starts N processes under torchrun
    (:mod:`rnnlab.cli.launch`); under torchrun, each process joins the group first."""
    import sys

    args = list(sys.argv[1:] if args is None else args)
    if args[:1] != ["train"]:
        app(args=args, prog_name="rnnlab")
        return
    from rnnlab.cli.common import err_console, out_console
    from rnnlab.cli.launch import pop_nproc, run_torchrun, worker_arguments
    from rnnlab.errors import RnnlabError
    from rnnlab.train import distributed

    try:
        nproc, args = pop_nproc(args)
    except RnnlabError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    if nproc > 1:
        sys.exit(run_torchrun(nproc, args))
    place = distributed.init_from_environment()
    if not place.is_main:  # rank 0 writes the run directory and prints; the others train
        args = worker_arguments(args, place.rank)
        out_console.quiet = err_console.quiet = True
    finished = False
    try:
        app(args=args, prog_name="rnnlab")
    except SystemExit as exc:
        finished = exc.code in (0, None)
        raise
    finally:
        if place.active:
            import torch.distributed as dist

            if finished:  # no rank tears its connections down while another still uses them
                dist.barrier()
            dist.destroy_process_group()


if __name__ == "__main__":
    main()
