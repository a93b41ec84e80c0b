"""Faults injected into a demo dbt project for a test, and always taken out again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def failing_data_test(product: Path, model: str) -> Iterator[str]:
    """A singular dbt test on ``model`` that always fails (it returns every row); yields its name."""
    name = f"floe_fault_{model}"
    path = product / "tests" / f"{name}.sql"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"-- injected by floe's tests: fails whenever {model} has rows\n"
                    f"select * from {{{{ ref('{model}') }}}}\n")
    try:
        yield name
    finally:
        path.unlink()


@contextmanager
def broken_model(product: Path, relative: str) -> Iterator[None]:
    """``relative`` (a model file) with invalid SQL in it: dbt fails when it runs the model."""
    path = product / relative
    original = path.read_text()
    path.write_text(original.replace("select", "selec", 1))
    try:
        yield
    finally:
        path.write_text(original)
