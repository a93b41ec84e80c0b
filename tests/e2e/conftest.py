"""E2E fixtures: the running local platform, started by `floe platform up` (never by the tests).

A missing or unhealthy platform fails every test loudly with what to start; nothing is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
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
    from floe.home import Home, read_env_file

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


# -- state shared across modules (fixtures defined here, once: a fixture imported into several modules
# would be registered, and set up, once per module) -------------------------------------------------
@pytest.fixture(scope="session")
def platform_runs(platform: dict[str, Any], manifest_path: Path) -> dict[str, Any]:
    """Each demo product launched on the platform's Dagster once for the whole suite, all three at
    once as a platform team would (`floe run --platform a b c`); product -> RunResult."""
    from tests.conftest import DEMO, PRODUCTS

    from floe.app import run_on_platform

    results = run_on_platform([DEMO / p for p in PRODUCTS], manifest_path=manifest_path)
    return {p: r for p, r in zip(PRODUCTS, results, strict=True)}


@dataclass
class FaultRuns:
    """Two faults injected at once into two products, launched together, then fixed and rerun together."""

    failing_test: str  # the injected singular test's name
    before: dict[str, dict[str, int]]  # product -> table -> rows, before the faults
    snapshots_before: dict[str, int]  # seed and model table -> current snapshot id, before the faults
    failures: dict[str, Any]  # product -> RuntimeFailure
    snapshots_after_failure: dict[str, int]
    fixed: dict[str, Any]  # product -> RunResult of the rerun after the fix


FAULT_MARTS = {"financial-risk": "financial_risk.mart_risk_dashboard", "customer-360": "customer_360.mart_customer_360"}


@pytest.fixture(scope="session")
def fault_runs(platform_runs: dict[str, Any], manifest_path: Path) -> FaultRuns:
    """financial-risk gets a singular test on stg_positions that always fails (block_on_failure must
    keep the mart from being rebuilt); customer-360 gets invalid SQL in int_customer_orders. Both run
    on the platform's Dagster at once and must fail, each with its own reason; with the faults taken
    out, both rerun together and must succeed."""
    from tests.conftest import DEMO
    from tests.dbt_faults import broken_model, failing_data_test

    from floe.app import run_on_platform
    from floe.errors import RunsFailed
    from floe.runtime.iceberg import load_catalog, row_counts

    ctx = {p: run_context(platform_runs[p]) for p in FAULT_MARTS}

    def snapshots() -> dict[str, int]:
        """Every table of both products: seeds, ingested tables and models."""
        out = {}
        for c in ctx.values():
            catalog = load_catalog(c)
            out.update({t: int(catalog.load_table(t).current_snapshot().snapshot_id) for t in c.table_identifiers()})
        return out

    before = {p: row_counts(c, [f"{c.artifacts.identity.namespace}.{m.name}" for m in c.artifacts.transforms.models])
              for p, c in ctx.items()}
    snapshots_before = snapshots()
    products = [DEMO / p for p in FAULT_MARTS]
    with (failing_data_test(DEMO / "financial-risk", "stg_positions") as test_name,
          broken_model(DEMO / "customer-360", "models/intermediate/int_customer_orders.sql"),
          pytest.raises(RunsFailed) as failed):
        run_on_platform(products, manifest_path=manifest_path)
    after_failure = snapshots()
    fixed = run_on_platform(products, manifest_path=manifest_path)
    return FaultRuns(test_name, before, snapshots_before, failed.value.failures, after_failure,
                     {p: r for p, r in zip(FAULT_MARTS, fixed, strict=True)})


@pytest.fixture(scope="session")
def compiled(platform: dict[str, Any], manifest_path: Path,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each demo product compiled once for the platform manifest by the real CLI (`floe compile`);
    product -> its compiled_artifacts.json."""
    from tests.conftest import DEMO, PRODUCTS

    out = tmp_path_factory.mktemp("compiled")
    paths = {}
    for product in PRODUCTS:
        floe("compile", str(DEMO / product), "-m", str(manifest_path), "-o", str(out / product))
        paths[product] = out / product / "compiled_artifacts.json"
    return paths


def load_artifacts(path: Path) -> Any:
    from floe.contract import CompiledArtifacts

    return CompiledArtifacts.model_validate_json(path.read_text())


def service_state(name: str) -> dict[str, Any]:
    return next(s for s in platform_status()["services"] if s["service"] == name)


@pytest.fixture(scope="session")
def rendered(manifest_path: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The Kubernetes objects `floe platform deploy --target kubernetes --dry-run` renders for this
    manifest with the chart's test values (what the local platform runs, as the cluster would run it)."""
    import yaml

    out = tmp_path_factory.mktemp("rendered")
    floe("platform", "deploy", "--target", "kubernetes", "--dry-run", "-m", str(manifest_path), "-f",
         str(ROOT / "charts" / "floe-platform" / "values-test.yaml"), "-o", str(out))
    return [o for o in yaml.safe_load_all((out / "floe-platform.yaml").read_text()) if o]


def component(objects: list[dict[str, Any]], name: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [o for o in objects if o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == name
            and (kind is None or o["kind"] == kind)]


def run_context(run: Any) -> Any:
    """The RunContext of a product run: its compiled artifacts exactly as the platform ran them."""
    from floe.runtime.context import RunContext

    assert run.artifacts_path is not None, f"{run.product}: the run kept no artifacts"
    return RunContext.load(run.artifacts_path)


@pytest.fixture(scope="session")
def platform_catalog(platform: dict[str, Any], secrets: dict[str, str], manifest_path: Path) -> Any:
    """The catalog as the platform's own principal (what the platform team sees: every namespace).
    A product's compiled artifacts carry its own principal instead, limited to its namespaces."""
    return connect_platform_catalog(secrets, manifest_path)


@pytest.fixture(scope="session")
def catalog(platform_catalog: Any) -> Any:
    """Generic catalog behaviour is checked as the platform's principal, in throwaway namespaces."""
    return platform_catalog


@pytest.fixture
def namespace(catalog: Any) -> Any:
    ns = f"e2e_{uuid.uuid4().hex[:8]}"
    catalog.create_namespace(ns)
    yield ns
    for table in catalog.list_tables(ns):
        catalog.drop_table(table)
    catalog.drop_namespace(ns)


def connect_platform_catalog(secrets: dict[str, str], manifest_path: Path) -> Any:
    from pyiceberg.catalog.rest import RestCatalog

    from floe.platform.controller import load_manifest

    plugins = load_manifest(manifest_path).plugins
    cat, st = plugins.catalog, plugins.storage
    return RestCatalog(
        "floe-platform", uri=cat.uri, warehouse=cat.warehouse,
        credential=f"{secrets[cat.client_id.name]}:{secrets[cat.client_secret.name]}",
        **{"s3.endpoint": st.endpoint, "s3.region": st.region, "s3.path-style-access": "true",
           "s3.access-key-id": secrets[st.access_key_id.name],
           "s3.secret-access-key": secrets[st.secret_access_key.name]})


# -- the platform's OCI registry (test_artifacts.py, test_promotion.py) -------------------------------
RUN = uuid.uuid4().hex[:8]  # every test pushes to its own repository under floe-e2e/<RUN>/


@pytest.fixture(scope="module")
def registry(platform: dict[str, Any]) -> str:
    from floe.oci.client import registry_url

    url = registry_url()
    r = httpx.get(f"{url}/v2/", timeout=10)
    assert r.status_code == 401, f"registry {url} should demand credentials, got HTTP {r.status_code}"
    return url


@pytest.fixture(scope="module")
def creds(registry: str) -> tuple[str, str]:
    from floe.home import Home, read_env_file

    values = {**read_env_file(Home.current().secrets_file),
              **{k: os.environ[k] for k in ("FLOE_REGISTRY_USER", "FLOE_REGISTRY_PASSWORD") if k in os.environ}}
    missing = [k for k in ("FLOE_REGISTRY_USER", "FLOE_REGISTRY_PASSWORD") if not values.get(k)]
    assert not missing, f"{missing} not in {Home.current().secrets_file}: start the platform (`floe platform up`)"
    user, password = values["FLOE_REGISTRY_USER"], values["FLOE_REGISTRY_PASSWORD"]
    assert httpx.get(f"{registry}/v2/", auth=(user, password), timeout=10).status_code == 200
    return user, password


@pytest.fixture(scope="module")
def artifact_json(tmp_path_factory: pytest.TempPathFactory, manifest_path: Path) -> bytes:
    from floe.compiler.stages import compile_pipeline

    out = tmp_path_factory.mktemp("artifacts-compiled")
    compile_pipeline(ROOT / "demo" / "customer-360", manifest_path, output_dir=out)
    return (out / "compiled_artifacts.json").read_bytes()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = tmp_path_factory.mktemp("keys") / "e2e.key"
    floe("artifacts", "keygen", "--key", str(key))
    return key, key.with_suffix(".pub")


@pytest.fixture
def repo(request: pytest.FixtureRequest) -> str:
    return f"floe-e2e/{RUN}/{request.node.name.removeprefix('test_').replace('_', '-')[:40]}"
