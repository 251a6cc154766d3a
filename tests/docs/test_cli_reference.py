"""The command-line reference page is written from the commands (docs/hooks/cli_reference.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parents[2] / "docs/hooks/cli_reference.py"


@pytest.fixture(scope="module")
def reference():
    spec = importlib.util.spec_from_file_location("cli_reference", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def page(reference) -> str:
    return reference.render()


def test_every_command_and_subcommand_has_a_section(reference, page: str) -> None:
    from rnnlab.tasks.base import get_task, task_names

    names = reference.commands()
    expected = {"rnnlab", "rnnlab train", "rnnlab evaluate", "rnnlab predict", "rnnlab explain",
                "rnnlab generate", "rnnlab score", "rnnlab export", "rnnlab serve", "rnnlab embed",
                "rnnlab embed train"}  # fmt: skip
    expected |= {f"rnnlab train {get_task(name).command_name}" for name in task_names()}
    assert "rnnlab train translate" in expected and "rnnlab train classify-series" in expected
    assert expected <= set(names), sorted(expected - set(names))
    headings = set(re.findall(r"^#{2,4} (rnnlab.*)$", page, flags=re.MULTILINE))
    assert headings == set(names)


def test_sections_show_usage_help_and_every_option(reference, page: str) -> None:
    for name, command, context in reference.walk(reference.root_command()):
        section = page.split(f" {name}\n", 1)[1]
        assert section.lstrip().startswith(f"```text\nUsage: {name}"), name
        for param in command.get_params(context):
            for option in getattr(param, "opts", []):
                if param.param_type_name == "option" and not getattr(param, "hidden", False):
                    assert f"`{option}" in section or f" {option}" in section, (name, option)
    classify = page.split("### rnnlab train classify\n", 1)[1].split("\n### ", 1)[0]
    assert "| `--hidden-size <int>` |" in classify
    assert "rnnlab train classify --data imdb --out runs/imdb" in classify  # the epilog


def test_no_rich_markup_or_click_escapes_leak(page: str) -> None:
    assert "\b" not in page
    assert not re.search(r"\[/?(bold|dim|red|green|yellow|cyan|italic)[^\]]*\]", page)
