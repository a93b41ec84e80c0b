"""Seeds dbt could not load fail compile naming the file and the line, not with dbt's traceback at run
time (FLOE-COMPILE-RUNS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.compiler import compile_pipeline
from floe.errors import ConfigError

pytestmark = pytest.mark.requirement("FLOE-COMPILE-RUNS")

SEED = "customer-360/seeds/raw_customers.csv"


def _error(demo_copy: Path, content: bytes) -> ConfigError:
    (demo_copy / SEED).write_bytes(content)
    with pytest.raises(ConfigError) as err:
        compile_pipeline(demo_copy / "customer-360", demo_copy / "manifest.embedded.yaml")
    assert err.value.file is not None and err.value.file.name == "raw_customers.csv"
    return err.value


def test_a_latin1_seed_names_the_line(demo_copy: Path) -> None:
    good = (demo_copy / SEED).read_bytes().splitlines(keepends=True)
    e = _error(demo_copy, b"".join([*good[:3], "4,Ren\u00e9e,x@y.z\n".encode("latin-1"), *good[3:]]))
    assert e.key == "line 4" and "not UTF-8" in e.message and "0xe9" in e.message and "iconv" in str(e.hint)


def test_ragged_rows_and_bad_headers(demo_copy: Path) -> None:
    header = (demo_copy / SEED).read_bytes().splitlines()[0]
    width = len(header.split(b","))
    row = b",".join([b"1"] * width)
    e = _error(demo_copy, b"\n".join([header, row, row, b",".join([b"1"] * (width + 1)), row]) + b"\n")
    assert e.key == "line 4" and f"{width + 1} values, the header {width} columns" in e.message
    e = _error(demo_copy, b"")
    assert e.key == "line 1" and "no header" in e.message
    e = _error(demo_copy, b"id,name,id\n1,a,2\n")
    assert e.key == "line 1" and "'id' twice" in e.message
    e = _error(demo_copy, b"id,,name\n1,a,2\n")
    assert e.key == "line 1" and "empty column name" in e.message


def test_quoted_commas_and_newlines_are_one_value(tmp_path: Path) -> None:
    from floe.config.dbt_project import check_seed

    seed = tmp_path / "quoted.csv"
    seed.write_text('id,note\n1,"a, b"\n2,"two\nlines"\n', encoding="utf-8")
    check_seed(seed)  # raises if it miscounts
