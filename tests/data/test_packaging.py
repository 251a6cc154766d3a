"""What a user installing rnnlab relies on: one version string everywhere (the distribution,
``rnnlab.__version__``, ``rnnlab --version``, CITATION.cff, the CHANGELOG), the licence, the
project links, and a wheel that carries ``py.typed``, the C++ sources and the web page."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from importlib import metadata, resources
from pathlib import Path

import pytest

import rnnlab

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
RNNLAB = Path(sys.executable).parent / "rnnlab"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = rnnlab.__version__


def test_the_version_is_written_once_and_installed_as_written():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "rnnlab.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)
    assert metadata.version("rnnlab") == VERSION


def test_the_version_is_a_literal_setuptools_reads_without_importing_torch():
    """setuptools reads ``attr:`` statically only from a plain string assignment; otherwise
    it would import rnnlab (and so torch) to build the package."""
    tree = ast.parse((ROOT / "src" / "rnnlab" / "__init__.py").read_text(encoding="utf-8"))
    values = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and [getattr(t, "id", None) for t in node.targets] == ["__version__"]
        and isinstance(node.value, ast.Constant)
    ]
    assert values == [VERSION]


def test_no_other_copy_of_the_version_in_the_sources():
    copies = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "src" / "rnnlab").rglob("*.py")
        if f'"{VERSION}"' in path.read_text(encoding="utf-8")
        or f"'{VERSION}'" in path.read_text(encoding="utf-8")
    ]
    assert copies == ["src/rnnlab/__init__.py"]


def test_rnnlab_version_prints_the_version():
    env = {k: v for k, v in os.environ.items() if k != "RNNLAB_DEBUG"}
    result = subprocess.run(
        [str(RNNLAB), "--version"], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"rnnlab {VERSION}\n"


def test_py_typed_ships_in_the_package():
    assert resources.files("rnnlab").joinpath("py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["rnnlab"]
    assert "Typing :: Typed" in PYPROJECT["project"]["classifiers"]


def test_licence_is_mit_and_ships():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the rnnlab authors\n")
    assert metadata.metadata("rnnlab")["License-Expression"] == "MIT"


def test_project_links_point_at_one_repository_and_one_docs_site():
    urls = PYPROJECT["project"]["urls"]
    assert set(urls) == {"Homepage", "Documentation", "Source", "Changelog", "Issues"}
    repo = "https://github.com/rnnlab/rnnlab"
    assert urls["Source"] == urls["Homepage"] == repo
    assert urls["Issues"] == f"{repo}/issues"
    assert urls["Changelog"].startswith(f"{repo}/blob/main/") and urls["Changelog"].endswith(
        "/CHANGELOG.md"
    )
    assert urls["Documentation"] == "https://rnnlab.readthedocs.io"


def _citation() -> dict:
    yaml = pytest.importorskip("yaml", reason="reading CITATION.cff needs PyYAML (rnnlab[docs])")
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def _changelog_sections() -> list[tuple[str, str]]:
    """(version, date) of each ``## [X] - DATE`` heading, top first; Unreleased has no date."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, flags=re.M)


def test_citation_names_this_version_licence_and_repository():
    cff = _citation()
    assert cff["cff-version"] == "1.2.0"
    assert str(cff["version"]) == VERSION
    assert cff["license"] == "MIT"
    assert cff["authors"] == [{"name": "The rnnlab authors"}]
    assert cff["repository-code"] == PYPROJECT["project"]["urls"]["Source"]
    assert cff["title"] and cff["abstract"] and cff["keywords"]
    released = dict(_changelog_sections())[VERSION]
    assert str(cff["date-released"]) == released


def test_changelog_has_this_version_under_an_empty_unreleased_section():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = _changelog_sections()
    assert sections[0] == ("Unreleased", "")
    assert sections[1][0] == VERSION
    unreleased = text.split("## [Unreleased]", 1)[1].split(f"## [{VERSION}]", 1)[0]
    assert unreleased.strip() == ""
    for version, _ in sections:
        assert re.search(
            rf"^\[{re.escape(version)}\]: https://github\.com/rnnlab/rnnlab/", text, re.M
        )
    release = text.split(f"## [{VERSION}]", 1)[1].split("\n## [", 1)[0]
    headings = re.findall(r"^### (\w+)$", release, flags=re.M)
    keep_a_changelog = ["Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"]
    assert headings and headings == [h for h in keep_a_changelog if h in headings]


@pytest.mark.slow
def test_the_wheel_carries_py_typed_the_sources_and_the_web_page(tmp_path):
    """Builds the wheel as pip does for an install from the source tree (about 20 s)."""
    import zipfile

    setuptools = pytest.importorskip("setuptools", reason="building the wheel needs setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"the build needs setuptools>=77 (PEP 639 licence), {setuptools.__version__}")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
         "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    # e.g. "BuildBackendWarning: `project.license` as a TOML table is deprecated"
    assert not re.search(r"Warning: .*deprecated", output), output[-3000:]
    (wheel,) = tmp_path.glob(f"rnnlab-{VERSION}-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "rnnlab/py.typed",
        "rnnlab/nn/csrc/step_loops.cpp",
        "rnnlab/serve/static/index.html",
        "rnnlab/serve/static/app.js",
        "rnnlab/serve/static/style.css",
        f"rnnlab-{VERSION}.dist-info/licenses/LICENSE",
    ):
        assert needed in names, needed
    assert not any(name.startswith(("tests/", "docs/", "benchmarks/")) for name in names)
