from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from floe.errors import CompilationError, ConfigError, ConfigErrors, FloeError

DEMO = Path(__file__).resolve().parents[2] / "demo"
CASES = {"run": 0}
"""Generated cases run in this session (reported by the lane, asserted >= 10,000 when all ran)."""

# Errors about a whole file rather than one key: they name the file and a line, or nothing more is
# meaningful (the file is missing, empty, not YAML at all).
WHOLE_FILE = ("file not found", "the document must be a mapping", "more than one YAML document",
              "file is larger than", "not UTF-8", "invalid YAML at", "value cannot be read", "nested too deeply",
              "no dbt project here", "has no dbt model", "refs unknown model", "circular model dependency",
              "is not valid Jinja", "keys must be plain strings", "cannot read the file", "empty key")


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One private copy of demo/ (no build outputs) for the whole lane; tests write only their own files."""
    target = tmp_path_factory.mktemp("hostile") / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("target", "logs", ".floe", "dbt_packages",
                                                                "*.duckdb"))
    return target


@pytest.fixture(autouse=True, scope="session")
def _report_cases() -> Iterator[None]:
    yield
    print(f"\nhostile lane: {CASES['run']:,} generated cases")


def check_floe_error(exc: BaseException) -> None:
    """The contract: a FloeError (no traceback, no internal error in disguise) whose message names the
    file and the key path."""
    if not isinstance(exc, FloeError):
        raise exc
    if isinstance(exc, CompilationError):  # an unexpected exception the stage wrapper caught: a bug
        raise AssertionError(f"internal error surfaced as {exc}") from exc
    text = str(exc)
    assert "Traceback" not in text
    if isinstance(exc, ConfigError):
        for leaf in exc.errors if isinstance(exc, ConfigErrors) else [exc]:
            assert leaf.file is not None and str(leaf.file) in text, text
            assert leaf.key or any(m in leaf.message for m in WHOLE_FILE), f"no key path in: {text}"


def floe_cli(*args: str) -> tuple[int, str]:
    """Run the real `floe` entry point in-process: (exit code, stderr)."""
    import contextlib
    import io
    import sys

    from floe.cli.main import main

    err, argv = io.StringIO(), sys.argv
    sys.argv = ["floe", *args]
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    return code, err.getvalue()


@pytest.fixture
def product(demo_copy: Path) -> Path:
    """A private, modifiable customer-360 next to its manifests."""
    return demo_copy / "customer-360"
