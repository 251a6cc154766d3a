"""Helpers that write small tables of every format into a test's temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest


@pytest.fixture
def write(tmp_path: Path):
    """``write(name, content)``: write text (UTF-8) or bytes to ``tmp_path / name``."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes(content)
        return path

    return _write


@pytest.fixture
def write_jsonl(tmp_path: Path):
    """``write_jsonl(name, records)``: one JSON object per line."""

    def _write(name: str, records: list[dict]) -> Path:
        path = tmp_path / name
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return _write


@pytest.fixture
def write_parquet(tmp_path: Path):
    """``write_parquet(name, columns, row_group_size)``: a Parquet file from a dict of lists."""

    def _write(name: str, columns: dict[str, list], row_group_size: int | None = None) -> Path:
        path = tmp_path / name
        pq.write_table(pa.table(columns), path, row_group_size=row_group_size)
        return path

    return _write
