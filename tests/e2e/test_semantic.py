"""The semantic layer as a platform service (`floe semantic serve`): listed and healthy in
`floe platform status`, answering metric queries over the products' Iceberg marts with the same
numbers as hand-written SQL, refusing calls without its token, and failing its health check clearly
when it is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import PRODUCTS
from tests.e2e.conftest import floe, service_state, wait_for
from tests.semantic_cases import CASES, hand_written_sql, norm, query_body

from floe.plugins import HealthState, PluginType, get_registry

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def semantic(platform: dict[str, Any], manifest_path: Path, secrets: dict[str, str]) -> dict[str, Any]:
    from floe.platform.controller import load_manifest

    plugins = load_manifest(manifest_path).plugins
    cfg, identity = plugins.semantic_layer, plugins.identity
    assert cfg is not None and cfg.api_url, "demo/manifest.yaml runs the semantic service"
    assert identity is not None and identity.type == "static-token", "demo/manifest.yaml guards it with a static token"
    return {"config": cfg, "url": cfg.api_url.rstrip("/"),
            "headers": {"Authorization": f"Bearer {secrets[identity.token.name]}"}}


@pytest.fixture(scope="module")
def marts_sql(platform_runs: dict[str, Any], platform_catalog: Any) -> Iterator[Any]:
    """Hand-written SQL: DuckDB over copies of the Iceberg tables, read as the platform's principal."""
    import duckdb

    con = duckdb.connect(":memory:")

    def sql(query: str, namespace: str, *tables: str) -> list[tuple[Any, ...]]:
        return hand_written_sql(con, platform_catalog, namespace, query, tables)

    yield sql
    con.close()


@pytest.mark.requirement("15-FR-002")
def test_semantic_service_is_healthy_in_platform_status(semantic: dict[str, Any]) -> None:
    assert service_state("semantic")["state"] == "healthy"
    health = httpx.get(f"{semantic['url']}/health", timeout=10).json()
    assert health["status"] == "ok" and health["products"] == sorted(PRODUCTS)


@pytest.mark.requirement("15-FR-002")
@pytest.mark.parametrize("product", PRODUCTS)
def test_service_numbers_equal_hand_written_sql(semantic: dict[str, Any], marts_sql: Any, product: str) -> None:
    namespace = product.replace("-", "_")
    for args, sql, tables in CASES[product]:
        r = httpx.post(f"{semantic['url']}/v1/query", json=query_body(product, args), headers=semantic["headers"],
                       timeout=120)
        assert r.status_code == 200, r.text
        got = [tuple(row) for row in r.json()["rows"]]
        assert got and norm(got) == norm(marts_sql(sql, namespace, *tables)), f"{product} {args}"


@pytest.mark.requirement("15-FR-002")
@pytest.mark.parametrize("product", PRODUCTS)
def test_cli_query_equals_hand_written_sql(manifest_path: Path, marts_sql: Any, product: str) -> None:
    """`floe semantic query` on the platform manifest: the product's own principal, the same numbers."""
    import json

    from tests.conftest import DEMO

    args, sql, tables = CASES[product][0]
    r = floe("semantic", "query", str(DEMO / product), "-m", str(manifest_path), "--format", "json", *args)
    got = [tuple(row.values()) for row in json.loads(r.stdout)]
    assert got and norm(got) == norm(marts_sql(sql, product.replace("-", "_"), *tables))


@pytest.mark.requirement("15-FR-002")
def test_service_lists_metrics_and_refuses_without_its_token(semantic: dict[str, Any]) -> None:
    meta = httpx.get(f"{semantic['url']}/v1/meta", headers=semantic["headers"], timeout=10).json()["products"]
    for product in PRODUCTS:
        assert len(meta[product]["metrics"]) >= 2 and len(meta[product]["dimensions"]) >= 2
    body = {"product": "customer-360", "metrics": ["customer_count"]}
    refusals = [({}, "missing bearer token"), ({"Authorization": "Bearer not-the-token"}, "wrong bearer token")]
    for headers, why in refusals:
        r = httpx.post(f"{semantic['url']}/v1/query", json=body, headers=headers, timeout=10)
        assert r.status_code == 401 and "Traceback" not in r.text
        assert why in r.json()["error"] and "not-the-token" not in r.text


@pytest.mark.restarts_platform
@pytest.mark.requirement("15-FR-002")
def test_health_check_fails_clearly_when_the_service_is_down(semantic: dict[str, Any]) -> None:
    cfg = semantic["config"]
    plugin = get_registry().create(PluginType.SEMANTIC_LAYER, cfg.type, cfg.model_dump(mode="json"))
    assert plugin.health_check(timeout=5).state is HealthState.HEALTHY
    floe("platform", "stop", "semantic")
    try:
        status = plugin.health_check(timeout=5)
        assert status.state is HealthState.UNHEALTHY
        assert "semantic service" in status.message and semantic["url"] in status.message
        assert "floe platform start semantic" in status.details["fix"]
    finally:
        floe("platform", "start", "semantic")
    wait_for(lambda: plugin.health_check(timeout=5).state is HealthState.HEALTHY, timeout=60,
             what="the semantic service to answer again")
