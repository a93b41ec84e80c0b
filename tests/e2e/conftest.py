"""E2E fixtures: the running local platform, started by `floe platform up` (never by the tests).

A missing or unhealthy platform fails every test loudly with what to start; nothing is skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.conftest import ROOT

T = TypeVar("T")
FLOE = [sys.executable, "-m", "floe.cli.main"]
DAGSTER = "http://127.0.0.1:3000"


def floe(*args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([*FLOE, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False)
    if check and r.returncode != 0:
        raise AssertionError(f"floe {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def wait_for(fn: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.5) -> T:
    """Poll ``fn`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            result = fn()
            if result:
                return result
            last = result
        except Exception as exc:  # keep polling; report the last problem
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def platform_status() -> dict[str, Any]:
    return dict(json.loads(floe("platform", "status", "--json").stdout))


@pytest.fixture(scope="session")
def platform() -> dict[str, Any]:
    st = platform_status()
    if not st["healthy"]:
        bad = [f"{s['service']}={s['state']}" for s in st["services"] if s["state"] != "healthy"]
        pytest.fail("the local platform is not running/healthy "
                    f"({', '.join(bad) or 'no services'}): start it with `floe platform up` (make test-e2e does)")
    return st


@pytest.fixture(scope="session")
def secrets() -> dict[str, str]:
    from floe.platform.home import Home, read_env_file

    return read_env_file(Home.current().secrets_file)


@pytest.fixture(scope="session")
def manifest_path() -> Path:
    return ROOT / "demo" / "manifest.yaml"


def graphql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    r = httpx.post(f"{DAGSTER}/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body["errors"]
    return dict(body["data"])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that restart the platform run last, so the others see one stable platform."""
    items.sort(key=lambda item: 1 if item.get_closest_marker("restarts_platform") else 0)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "restarts_platform: the test restarts services (runs last)")


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped or xfailed e2e test is a failure (seed NF-2): the run fails and names them."""
    if _skipped:
        session.config.get_terminal_writer().line(
            f"e2e tests may not skip or xfail; these did: {', '.join(_skipped)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
