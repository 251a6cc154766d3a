"""``rnnlab train TASK``: one command per registered task, written from the task's contract.

Each command's flags are its run config's fields (:mod:`rnnlab.cli.config_flags`), plus the
switches every train command has (``--out``, ``--config``, ``--resume``, ``--overwrite``) and
the repeats its task offers (``--seeds``, ``--folds``: :class:`~rnnlab.tasks.base.
TrainCommand`). A task registered from outside, after this module is imported, gets its
command too: the group looks tasks up when the command line names one, which also keeps
``rnnlab --help`` from importing every task (and torch).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from rnnlab.cli.common import clean_errors, err_console, out_console, replacing_run
from rnnlab.cli.common import run_config as run_config_from
from rnnlab.cli.config_flags import ConfigFlag, config_flags, config_parameters, flag_values
from rnnlab.cli.display import print_metrics, print_repeats
from rnnlab.errors import ConfigError

__all__ = ["train_app", "train_command"]


def _fixed_parameters(task: Any) -> list[inspect.Parameter]:
    """The options that are not config keys: where the run goes and what to do with one
    already there, the config file, and the repeats the task offers."""

    def option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
        )

    parameters = [
        option(
            "out",
            Annotated[Path, typer.Option("--out", help="Run directory to write.")],
            Path(f"runs/{task.name}"),
        ),
        option(
            "config",
            Annotated[
                Path | None, typer.Option("--config", help="TOML config; flags override it.")
            ],
            None,
        ),
        option(
            "resume",
            Annotated[bool, typer.Option("--resume", help="Continue an interrupted run in --out.")],
            False,
        ),
        option(
            "overwrite",
            Annotated[
                bool,
                typer.Option(
                    "--overwrite",
                    help="Replace the run already in --out; the old one stays until the new "
                    "one finishes.",
                ),
            ],
            False,
        ),
    ]
    if task.command.seeds:
        parameters.append(
            option(
                "seeds",
                Annotated[
                    int | None,
                    typer.Option(
                        "--seeds",
                        help="Train N runs (seeds s, s+1, …) into OUT/seed-*; report mean ± sd.",
                    ),
                ],
                None,
            )
        )
    if task.command.folds:
        parameters.append(
            option(
                "folds",
                Annotated[
                    int | None,
                    typer.Option(
                        "--folds", help="K-fold cross-validation into OUT/fold-*; report mean ± sd."
                    ),
                ],
                None,
            )
        )
    return parameters


def train_command(task: Any) -> Any:
    """The click command ``rnnlab train <task>``: parse its flags, train, print."""
    options = config_flags(task.config_type)

    def command(**given: Any) -> None:
        _train(task, options, given)

    command.__name__ = f"train_{task.name}"  # clean_errors: an interrupted train can --resume
    command.__doc__ = task.command.help or f"Train a {task.title}."
    command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        _fixed_parameters(task) + config_parameters(options)
    )
    epilog = "Examples:\n\n" + "\n\n".join(f"  {line}" for line in task.command.examples)
    single = typer.Typer(add_completion=False, rich_markup_mode=None)
    single.command(task.command_name, epilog=epilog if task.command.examples else None)(
        clean_errors(command)
    )
    return typer.main.get_command(single)


def _train(task: Any, options: list[ConfigFlag], given: dict[str, Any]) -> None:
    """Build the run's config from the flags given, train (or repeat), print the results."""
    out, config, resume, overwrite = (given[k] for k in ("out", "config", "resume", "overwrite"))
    seeds, folds = given.get("seeds"), given.get("folds")
    values, spoken = flag_values(options, given)
    if task.command.flag_defaults is not None and config is None and not resume:
        values = {**task.command.flag_defaults(values), **values}
    run_config = run_config_from(task.config_type, config, out, resume, values, overwrite, spoken)
    if seeds is not None or folds is not None:
        _train_repeats(task, run_config, out, seeds, folds, resume, overwrite)
        return
    from rnnlab.train.progress import RichProgress

    with replacing_run(out, overwrite):
        summary = task.train(
            run_config, out, resume=resume, callbacks=(RichProgress(console=err_console),)
        )
    _print_summary(task, summary, run_config)


def _print_summary(task: Any, summary: Any, run_config: Any) -> None:
    """What every train command prints after training: notices about the batches and the
    embeddings, the task's metrics, its headline, and where the run and its report are."""
    metrics, split = summary.metrics, summary.evaluated_on
    pad = summary.padding
    if pad:
        err_console.print(
            f"length bucketing: {pad['bucketed']:.1%} padding per batch instead of "
            f"{pad['random']:.1%} with random batches"
        )
    coverage = metrics.get("embedding_coverage")
    if coverage is not None:
        source = metrics.get("embedding_source") or "pretrained vectors"
        frozen = getattr(getattr(run_config, "model", None), "freeze_embeddings", False)
        err_console.print(
            f"embeddings: {coverage:.1%} of the vocabulary initialised from {source}"
            + (" (frozen)" if frozen else "")
        )
    print_metrics(task.name, metrics, f"{split} metrics", out_console)
    line = task.command.headline(metrics, split) + ", " if task.command.headline else ""
    best = f", best epoch {summary.best_epoch}" if summary.best_epoch else ""
    out_console.print(f"{line}trained in {summary.seconds:.1f} s{best}")
    out_console.print(
        f"run directory: {summary.run_dir}  (metrics: {summary.run_dir / 'metrics.json'})"
    )
    if summary.report is not None:
        out_console.print(f"report: {summary.report}")


def _train_repeats(
    task: Any,
    config: Any,
    out: Path,
    seeds: int | None,
    folds: int | None,
    resume: bool,
    overwrite: bool,
) -> None:
    """``--seeds N`` or ``--folds K``: train the runs, print their summary. With
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
            summary = train_seeds(
                config, out, seeds, on_run=announce, train=task.train,
                scores=task.command.seeds, **options,
            )  # fmt: skip
        else:
            summary = cross_validate(config, out, folds, on_run=announce, **options)
    print_repeats(summary, out_console)


class TaskCommands(TyperGroup):
    """``rnnlab train``'s subcommands: one per registered task, built when named."""

    def list_commands(self, ctx: Any) -> list[str]:
        from rnnlab.tasks.base import task_names

        return [name.replace("_", "-") for name in task_names()]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        from rnnlab.tasks.base import get_task, task_names

        name = cmd_name.replace("-", "_")
        if name not in task_names():
            return None
        return train_command(get_task(name))


train_app = typer.Typer(
    cls=TaskCommands,
    help="Train a model; writes a run directory. Add --nproc N to any of these commands to "
    "train on N processes of this machine (torchrun, DistributedDataParallel).",
    no_args_is_help=True,
)


@train_app.callback()
def _train_group() -> None:
    """The group itself has no options; its commands come from the task registry."""
