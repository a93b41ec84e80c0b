"""The platform's Iceberg REST catalog through PyIceberg: tables, evolution, auth, persistence.

Polaris cannot be built from the registries reachable here (services/polaris/README.md); the local
platform's catalog is SeaweedFS's Iceberg REST API behind the generic `iceberg-rest` plugin.
"""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
from tests.conftest import DEMO
from tests.e2e.conftest import connect_platform_catalog, platform_status, wait_for

from floe.plugins import HealthState, PluginType, get_registry
from floe.runtime.context import RunContext
from floe.runtime.iceberg import load_catalog

pytestmark = pytest.mark.e2e
CATALOG = "http://127.0.0.1:8181"


@pytest.fixture(scope="module")
def ctx(platform: dict[str, Any], manifest_path: Path, tmp_path_factory: pytest.TempPathFactory) -> RunContext:
    from floe.compiler.stages import compile_pipeline

    out = tmp_path_factory.mktemp("catalog")
    compile_pipeline(DEMO / "customer-360", manifest_path, output_dir=out)
    return RunContext.load(out / "compiled_artifacts.json")


def _token(secrets: dict[str, str]) -> str:
    r = httpx.post(f"{CATALOG}/v1/oauth/tokens", timeout=10, data={
        "grant_type": "client_credentials", "client_id": secrets["FLOE_S3_ACCESS_KEY_ID"],
        "client_secret": secrets["FLOE_S3_SECRET_ACCESS_KEY"]})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.mark.requirement("15-FR-001")
def test_warehouse_floe_e2e_exists(platform: dict[str, Any], secrets: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {_token(secrets)}"}
    r = httpx.get(f"{CATALOG}/v1/config", params={"warehouse": "floe-e2e"}, headers=headers, timeout=10)
    assert r.status_code == 200
    assert httpx.get(f"{CATALOG}/v1/floe-e2e/namespaces", headers=headers, timeout=10).status_code == 200


@pytest.mark.requirement("15-FR-001")
def test_create_append_read(catalog: Any, namespace: str) -> None:
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": pa.array(["a", "b", "c"])})
    table = catalog.create_table(f"{namespace}.people", schema=data.schema)
    table.append(data)
    assert catalog.load_table(f"{namespace}.people").scan().to_arrow().sort_by("id").equals(data)


@pytest.mark.requirement("FLOE-SCHEMA-EVOLUTION")
def test_add_column_reads_old_and_new_rows(catalog: Any, namespace: str) -> None:
    from pyiceberg.types import StringType

    first = pa.table({"id": pa.array([1], pa.int64())})
    table = catalog.create_table(f"{namespace}.evolve", schema=first.schema)
    table.append(first)
    with table.update_schema() as update:
        update.add_column("region", StringType())
    table = catalog.load_table(f"{namespace}.evolve")
    table.append(pa.table({"id": pa.array([2], pa.int64()), "region": pa.array(["eu"])}))
    rows = sorted(catalog.load_table(f"{namespace}.evolve").scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    assert rows == [{"id": 1, "region": None}, {"id": 2, "region": "eu"}]


@pytest.mark.requirement("FLOE-SCHEMA-EVOLUTION")
def test_add_partition_field(catalog: Any, namespace: str) -> None:
    from pyiceberg.transforms import IdentityTransform

    data = pa.table({"id": pa.array([1, 2], pa.int64()), "day": pa.array(["mon", "tue"])})
    table = catalog.create_table(f"{namespace}.parts", schema=data.schema)
    with table.update_spec() as spec:
        spec.add_field("day", IdentityTransform(), "day")
    table = catalog.load_table(f"{namespace}.parts")
    table.append(data)
    assert [f.name for f in table.spec().fields] == ["day"]
    assert table.scan(row_filter="day = 'tue'").to_arrow().num_rows == 1


@pytest.mark.requirement("15-FR-015")
def test_wrong_or_missing_token_is_rejected_without_stack_trace(platform: dict[str, Any]) -> None:
    bad = httpx.get(f"{CATALOG}/v1/floe-e2e/namespaces", headers={"Authorization": "Bearer not-a-token"},
                    timeout=10)
    missing = httpx.get(f"{CATALOG}/v1/floe-e2e/namespaces", timeout=10)
    assert bad.status_code == 401
    assert missing.status_code in {401, 403}
    for r in (bad, missing):
        assert "Traceback" not in r.text and "Exception in" not in r.text and ".go:" not in r.text
    posted = httpx.post(f"{CATALOG}/v1/floe-e2e/namespaces", json={"namespace": ["x"]}, timeout=10)
    assert posted.status_code in {401, 403} and "Traceback" not in posted.text


@pytest.mark.requirement("15-FR-015")
def test_health_check_authenticates(ctx: RunContext) -> None:
    cfg = ctx.artifacts.plugins.catalog
    plugin = get_registry().create(PluginType.CATALOG, cfg.type, {"type": cfg.type, **cfg.config})
    assert plugin.health_check(timeout=5).state is HealthState.HEALTHY
    wrong = get_registry().create(PluginType.CATALOG, cfg.type, {"type": cfg.type, **cfg.config,
                                                                 "client_secret": "env:FLOE_TEST_WRONG"})
    os.environ["FLOE_TEST_WRONG"] = "wrong-" + uuid.uuid4().hex
    try:
        status = wrong.health_check(timeout=5)
    finally:
        del os.environ["FLOE_TEST_WRONG"]
    assert status.state is HealthState.UNHEALTHY and "authentication failed" in status.message
    absent = get_registry().create(PluginType.CATALOG, cfg.type, {"type": cfg.type, **cfg.config,
                                                                  "uri": "http://127.0.0.1:9"})
    down = absent.health_check(timeout=3)
    assert down.state is HealthState.UNHEALTHY and "127.0.0.1:9" in down.message


@pytest.mark.requirement("15-FR-015")
def test_wrong_credentials_are_a_typed_error(ctx: RunContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from floe.errors import AuthenticationError

    secret_ref = ctx.artifacts.plugins.catalog.config["client_secret"]  # the product's own: env:NAME
    monkeypatch.setenv(secret_ref.removeprefix("env:"), "wrong-" + uuid.uuid4().hex)
    with pytest.raises(AuthenticationError) as err:
        load_catalog(ctx).list_namespaces()
    assert "credentials" in str(err.value)


# -- per-product principals ---------------------------------------------------------------------------
PAIRS = [("customer-360", "iot-telemetry"), ("iot-telemetry", "financial-risk"), ("financial-risk", "customer-360")]


@pytest.fixture(scope="module")
def product_catalogs(platform: dict[str, Any], manifest_path: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each product's catalog exactly as its runs see it: from its compiled artifacts (its own principal)."""
    from floe.compiler.stages import compile_pipeline

    catalogs = {}
    for product in ("customer-360", "iot-telemetry", "financial-risk"):
        out = tmp_path_factory.mktemp(f"principal-{product}")
        compile_pipeline(DEMO / product, manifest_path, output_dir=out)
        catalogs[product] = load_catalog(RunContext.load(out / "compiled_artifacts.json"))
    return catalogs


def _s3_as(product: str, secrets: dict[str, str], manifest_path: Path) -> Any:
    import boto3

    from floe.config.principals import product_secret_names
    from floe.platform.controller import load_manifest

    key_id, secret = product_secret_names(product)
    st = load_manifest(manifest_path).plugins.storage
    return boto3.client("s3", endpoint_url=st.endpoint, region_name=st.region,
                        aws_access_key_id=secrets[key_id], aws_secret_access_key=secrets[secret])


@pytest.mark.requirement("FLOE-ISOLATION")
def test_product_principal_writes_its_own_namespace(product_catalogs: dict[str, Any]) -> None:
    catalog = product_catalogs["customer-360"]
    name = f"customer_360.e2e_own_{uuid.uuid4().hex[:8]}"
    data = pa.table({"id": pa.array([1, 2], pa.int64())})
    table = catalog.create_table(name, schema=data.schema)
    try:
        table.append(data)
        assert catalog.load_table(name).scan().to_arrow().num_rows == 2
    finally:
        catalog.drop_table(name)


@pytest.mark.requirement("FLOE-ISOLATION")
@pytest.mark.parametrize(("owner", "other"), PAIRS)
def test_product_principal_cannot_touch_another_products_namespace(
        product_catalogs: dict[str, Any], secrets: dict[str, str], manifest_path: Path, owner: str, other: str) -> None:
    from botocore.exceptions import ClientError
    from pyiceberg.exceptions import ForbiddenError

    from floe.config.principals import product_namespaces

    catalog = product_catalogs[owner]
    for ns in product_namespaces(other):
        with pytest.raises(ForbiddenError):
            catalog.create_table(f"{ns}.e2e_intruder", schema=pa.schema([("id", pa.int64())]))
        with pytest.raises(ForbiddenError):
            catalog.list_tables(ns)
    # nor with its storage key, around the catalog: not a byte into (or out of) the other's folders
    s3 = _s3_as(owner, secrets, manifest_path)
    warehouse = catalog.properties["warehouse"]
    for call in (lambda: s3.put_object(Bucket=warehouse, Key=f"{product_namespaces(other)[1]}/intruder", Body=b"x"),
                 lambda: s3.list_objects_v2(Bucket=warehouse, Prefix=f"{product_namespaces(other)[1]}/")):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "AccessDenied"


@pytest.mark.requirement("FLOE-ISOLATION")
def test_bootstrap_reports_each_principal_and_verifies_isolation(platform: dict[str, Any], manifest_path: Path) -> None:
    from tests.e2e.conftest import floe

    out = floe("platform", "bootstrap", "-m", str(manifest_path)).stdout
    for product in ("customer-360", "iot-telemetry", "financial-risk"):
        assert f"principal floe-{product}" in out
    assert "product isolation" in out and "verified" in out


@pytest.mark.restarts_platform
@pytest.mark.requirement("FLOE-PLAT-RESTART")
def test_catalog_restart_keeps_namespaces_tables_and_data(catalog: Any, secrets: dict[str, str],
                                                          manifest_path: Path) -> None:
    ns = f"e2e_keep_{uuid.uuid4().hex[:8]}"
    catalog.create_namespace(ns)
    data = pa.table({"id": pa.array([7, 8], pa.int64())})
    catalog.create_table(f"{ns}.kept", schema=data.schema).append(data)
    before = next(s for s in platform_status()["services"] if s["service"] == "seaweedfs")
    os.kill(before["pid"], signal.SIGKILL)
    wait_for(lambda: (s := next(x for x in platform_status()["services"] if x["service"] == "seaweedfs"))["state"]
             == "healthy" and s["pid"] != before["pid"], timeout=120, what="the catalog back after a restart")
    fresh = wait_for(lambda: connect_platform_catalog(secrets, manifest_path), timeout=60, what="catalog reachable")
    assert (ns,) in fresh.list_namespaces()
    # the S3 side may answer GetObject with INTERNAL_FAILURE for a moment while its volumes load again
    rows = wait_for(lambda: fresh.load_table(f"{ns}.kept").scan().to_arrow().sort_by("id"), timeout=60,
                    what="the table's data readable after the restart")
    assert rows.equals(data)
    fresh.drop_table(f"{ns}.kept")
    fresh.drop_namespace(ns)
