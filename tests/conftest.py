from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
PRODUCTS = ["customer-360", "iot-telemetry", "financial-risk"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees another's telemetry endpoint, service name or floe home."""
    for key in list(os.environ):
        if key.startswith(("OTEL_", "OPENLINEAGE_", "FLOE_CATALOG", "FLOE_S3")):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    yield


@pytest.fixture(autouse=True)
def _reset_plugin_registry() -> Iterator[None]:
    from floe.plugins.registry import _reset_registry

    _reset_registry()
    yield
    _reset_registry()


def copy_demo(parent: Path) -> Path:
    """``parent/demo``: a copy of demo/ without build outputs."""
    target = parent / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("target", "logs", ".floe", "dbt_packages",
                                                                "*.duckdb"))
    return target


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A private copy of demo/ (without build outputs) that a test may modify."""
    return copy_demo(tmp_path)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Lanes by folder; e2e tests must never be skipped or xfailed."""
    for item in items:
        lane = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
        if lane in {"unit", "integration", "e2e", "hygiene"}:
            item.add_marker(getattr(pytest.mark, lane if lane != "hygiene" else "unit"))
        if lane == "e2e":
            bad = [m.name for m in item.iter_markers() if m.name in {"skip", "skipif", "xfail"}]
            if bad:
                raise pytest.UsageError(f"{item.nodeid}: e2e tests may not be marked {bad} (NF-2)")
            if not list(item.iter_markers("requirement")):
                raise pytest.UsageError(f"{item.nodeid}: e2e tests need @pytest.mark.requirement (NF-4)")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
