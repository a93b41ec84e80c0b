"""Plugin system: 14 types, every one mapped to an ABC and implemented, discovered via entry points."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pytest
from tests.conftest import DEMO

from floe.errors import PluginConfigurationError, PluginIncompatibleError, PluginNotFoundError
from floe.plugins import PLUGIN_ABC_MAP, HealthState, PluginType, get_registry, is_compatible
from floe.plugins.interfaces import AlertChannelPlugin
from floe.plugins.registry import load_manifest


@pytest.mark.requirement("15-FR-010")
def test_fourteen_types_each_with_an_abc() -> None:
    assert len(PluginType) == 14 == len(PLUGIN_ABC_MAP)
    assert PLUGIN_ABC_MAP[PluginType.ALERT_CHANNEL] is AlertChannelPlugin
    for ptype, abc in PLUGIN_ABC_MAP.items():
        assert abc.plugin_type is ptype


def test_entry_point_groups_round_trip() -> None:
    for ptype in PluginType:
        assert PluginType.from_entry_point_group(ptype.entry_point_group) is ptype
    with pytest.raises(ValueError, match="valid"):
        PluginType.from_entry_point_group("floe.nope")


@pytest.mark.requirement("15-FR-010")
def test_every_type_has_a_discovered_plugin() -> None:
    found = get_registry().list_all()
    missing = [t.value for t, infos in found.items() if not infos]
    assert missing == []
    # builtins come from floe's own distribution, the example plugins from theirs, through the same entry points
    dists = {(info.name, info.distribution) for infos in found.values() for info in infos}
    assert {d for _, d in dists} == {"floe", "floe-example"}
    assert {n for n, d in dists if d == "floe-example"} == {"example-sql", "example-jsonl"}


def test_health_check_every_plugin_within_deadline() -> None:
    manifest = load_manifest(DEMO / "manifest.embedded.yaml")
    start = time.monotonic()
    reports = get_registry().health_check_all(manifest, timeout=5.0)
    assert time.monotonic() - start < 10
    assert len(reports) >= 14
    assert all(r.seconds < 5.5 for r in reports)
    by_name = {(r.type, r.name): r.status for r in reports}
    # embedded plugins really work; unconfigured ones say so rather than crash
    assert by_name[(PluginType.COMPUTE, "duckdb")].state is HealthState.HEALTHY
    assert by_name[(PluginType.CATALOG, "sql")].state is HealthState.HEALTHY
    assert by_name[(PluginType.CATALOG, "polaris")].state is HealthState.NOT_CONFIGURED
    assert by_name[(PluginType.IDENTITY, "oidc")].state is HealthState.NOT_CONFIGURED


def test_configured_but_unreachable_service_is_unhealthy_not_a_crash() -> None:
    manifest = load_manifest(DEMO / "manifest.yaml")
    reg = get_registry()
    cfg = manifest.plugins.lineage_backend.model_copy(update={"url": "http://127.0.0.1:9"})  # type: ignore[union-attr]
    status = reg.create(PluginType.LINEAGE_BACKEND, "marquez", cfg).health_check(timeout=2)
    assert status.state is HealthState.UNHEALTHY
    assert "127.0.0.1:9" in status.message


@pytest.mark.parametrize(("plugin", "platform", "ok"), [
    ("1.0", "1.0", True), ("1.0", "1.3", True), ("1.4", "1.3", False), ("2.0", "1.9", False), ("1.0.2", "1.0", True),
])
def test_api_compatibility(plugin: str, platform: str, ok: bool) -> None:
    assert is_compatible(plugin, platform) is ok


def test_incompatible_plugin_refused_with_versions() -> None:
    from floe.plugins.lineage.backends import ConsoleLineagePlugin

    class Future(ConsoleLineagePlugin):
        name: ClassVar[str] = "future"
        floe_api_version: ClassVar[str] = "2.0"

    with pytest.raises(PluginIncompatibleError) as err:
        get_registry().register(PluginType.LINEAGE_BACKEND, Future)
    assert "incompatible" in str(err.value) and "2.0" in str(err.value) and "1.0" in str(err.value)


def test_unknown_plugin_lists_available() -> None:
    with pytest.raises(PluginNotFoundError) as err:
        get_registry().get(PluginType.CATALOG, "glue")
    assert "polaris" in str(err.value) and "floe.catalogs" in str(err.value)


def test_config_validation_names_field() -> None:
    with pytest.raises(PluginConfigurationError) as err:
        get_registry().create(PluginType.COMPUTE, "duckdb", {"type": "duckdb", "threads": 0})
    assert "threads" in str(err.value) and "duckdb" in str(err.value)


def test_rest_client_authenticates_once_and_names_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one OAuth2 client-credentials exchange (health checks and bootstrap both use it)."""
    import httpx

    from floe.errors import AuthenticationError, ServiceUnavailableError
    from floe.plugins.catalog.rest import rest_client

    secret = "not-the-real-secret"  # pragma: allowlist secret
    answers: list[httpx.Response | Exception] = [
        httpx.Response(200, json={"access_token": "tok"}), httpx.Response(401), httpx.ConnectError("refused")]
    seen: list[dict[str, Any]] = []

    def post(url: str, *, data: dict[str, str], timeout: float) -> httpx.Response:
        seen.append({"url": url, **data})
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(httpx, "post", post)
    with rest_client("http://127.0.0.1:8181/", "cid", secret, base_path="v1/wh") as c:
        assert str(c.base_url) == "http://127.0.0.1:8181/v1/wh/"
        assert c.headers["Authorization"] == "Bearer tok"
    assert seen[0]["url"] == "http://127.0.0.1:8181/v1/oauth/tokens" and seen[0]["grant_type"] == "client_credentials"
    with pytest.raises(AuthenticationError) as refused:
        rest_client("http://127.0.0.1:8181", "cid", secret)
    assert "HTTP 401" in refused.value.message and secret not in str(refused.value)
    with pytest.raises(ServiceUnavailableError) as down:
        rest_client("http://127.0.0.1:8181", "cid", secret)
    assert "ConnectError" in down.value.message
