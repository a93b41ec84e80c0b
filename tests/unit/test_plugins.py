"""Plugin system: 14 types, every one mapped to an ABC and implemented, discovered via entry points."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pytest
from tests.conftest import DEMO

from floe.errors import PluginConfigurationError, PluginIncompatibleError, PluginNotFoundError
from floe.plugins import PLUGIN_ABC_MAP, HealthState, PluginType, get_registry, is_compatible
from floe.plugins.interfaces import AlertChannelPlugin, AlertEvent
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


def test_every_plugin_loads_and_implements_its_abc() -> None:
    reg = get_registry()
    for ptype, infos in reg.list_all().items():
        for info in infos:
            cls = reg.get(ptype, info.name)
            assert issubclass(cls, PLUGIN_ABC_MAP[ptype])
            assert cls.name == info.name


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


# -- one behaviour suite per plugin type, run against every implementation --------------------------

def _all(ptype: PluginType) -> list[tuple[PluginType, str]]:
    from floe.plugins.registry import PluginRegistry

    return [(ptype, name) for name in PluginRegistry().names(ptype)]


ALL_PLUGINS = [pair for t in PluginType for pair in _all(t)]


@pytest.mark.parametrize(("ptype", "name"), ALL_PLUGINS, ids=[f"{t.value}:{n}" for t, n in ALL_PLUGINS])
def test_common_behaviour(ptype: PluginType, name: str) -> None:
    cls = get_registry().get(ptype, name)
    assert cls.version and cls.description
    assert is_compatible(cls.floe_api_version)
    plugin = cls(None)
    status = plugin.health_check(timeout=2)
    assert status.state in set(HealthState)
    assert isinstance(status.message, str) and status.message


SAMPLE_CONFIGS: dict[tuple[PluginType, str], dict[str, Any]] = {
    (PluginType.CATALOG, "polaris"): {"type": "polaris", "uri": "http://127.0.0.1:8181/api/catalog",
                                      "warehouse": "w", "client_id": "env:CID", "client_secret": "env:CSEC"},
    (PluginType.CATALOG, "iceberg-rest"): {"type": "iceberg-rest", "uri": "http://127.0.0.1:8181",
                                           "warehouse": "w", "client_id": "env:CID", "client_secret": "env:CSEC"},
    (PluginType.CATALOG, "sql"): {"type": "sql"},
    # the third-party example package (tests/fixtures/plugins/floe-example), installed by the dev extra
    (PluginType.CATALOG, "example-sql"): {"type": "example-sql", "uri": "env:CID"},
    (PluginType.STORAGE, "local"): {"type": "local"},
    (PluginType.STORAGE, "s3"): {"type": "s3", "endpoint": "http://127.0.0.1:8333", "bucket": "floe-iceberg",
                                 "access_key_id": "env:AK", "secret_access_key": "env:SK"},
}


@pytest.mark.parametrize("name", [n for _, n in _all(PluginType.CATALOG)])
def test_catalog_behaviour(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from floe.contract import EnforcementLevel, ResolvedGovernance
    from floe.plugins.interfaces import SecretResolver
    from floe.plugins.secrets.env import EnvSecretsPlugin

    monkeypatch.setenv("CID", "id-from-env")
    monkeypatch.setenv("CSEC", "secret-from-env")
    plugin = get_registry().create(PluginType.CATALOG, name, SAMPLE_CONFIGS[(PluginType.CATALOG, name)])
    props = plugin.pyiceberg_properties(SecretResolver(EnvSecretsPlugin()), "file:///tmp/wh")  # type: ignore[attr-defined]
    assert props["type"] in {"sql", "rest"}
    attach = plugin.duckdb_attach("")  # type: ignore[attr-defined]
    if attach is not None:
        # secrets reach dbt only as env_var() references, never as values
        assert "secret-from-env" not in str(attach)
        assert "env_var('FLOE_CATALOG_CLIENT_SECRET')" in str(attach)
    gov = ResolvedGovernance(
        policy_enforcement_level=EnforcementLevel.WARN, minimum_test_coverage=0, require_descriptions=False,
        require_column_descriptions=False, block_on_failure=True, naming_pattern=None, data_retention_days=7,
        default_ttl_hours=48, snapshot_keep_last=5, audit_logging=True, secret_scanning=True)
    tp = plugin.table_properties(gov)  # type: ignore[attr-defined]
    assert tp["history.expire.max-snapshot-age-ms"] == str(48 * 3600 * 1000)
    assert tp["history.expire.min-snapshots-to-keep"] == "5"


@pytest.mark.parametrize("name", [n for _, n in _all(PluginType.STORAGE)])
def test_storage_behaviour(name: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from floe.plugins.interfaces import SecretResolver
    from floe.plugins.secrets.env import EnvSecretsPlugin

    monkeypatch.setenv("AK", "ak-from-env")
    monkeypatch.setenv("SK", "sk-from-env")
    plugin = get_registry().create(PluginType.STORAGE, name, SAMPLE_CONFIGS[(PluginType.STORAGE, name)])
    root = plugin.warehouse_root(tmp_path)  # type: ignore[attr-defined]
    assert root.startswith(("file://", "s3://"))
    plugin.fileio_properties(SecretResolver(EnvSecretsPlugin()))  # type: ignore[attr-defined]
    assert "sk-from-env" not in str(plugin.dbt_secrets())  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", [n for _, n in _all(PluginType.SECRETS)])
def test_secrets_behaviour_missing_names_reference(name: str, tmp_path: Any) -> None:
    from floe.config._base import SecretRef
    from floe.errors import ConfigError

    cfg = {"type": "env"} if name == "env" else {"type": "file", "directory": str(tmp_path)}
    plugin = get_registry().create(PluginType.SECRETS, name, cfg)
    ref = SecretRef.model_validate("env:FLOE_TEST_UNSET" if name == "env" else "file:FLOE_TEST_UNSET")
    with pytest.raises(ConfigError, match="FLOE_TEST_UNSET"):
        plugin.get_secret(ref)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", [n for _, n in _all(PluginType.ALERT_CHANNEL)])
def test_alert_channel_behaviour(name: str, tmp_path: Any) -> None:
    configs: dict[str, dict[str, Any]] = {
        "console": {"type": "console"},
        "webhook": {"type": "webhook", "url": "http://127.0.0.1:9/hook"},  # nothing listens on port 9
        "example-jsonl": {"type": "example-jsonl", "path": str(tmp_path / "alerts.jsonl")},
    }
    plugin = get_registry().create(PluginType.ALERT_CHANNEL, name, configs[name])  # a new channel: add it above
    assert plugin.validate_config() == []  # type: ignore[attr-defined]
    delivered = plugin.send_alert(AlertEvent("p", "error", "dbt test failed"))  # type: ignore[attr-defined]
    assert delivered is (name != "webhook")


def test_webhook_delivers_json(httpserver_like: Any) -> None:
    url, received = httpserver_like
    plugin = get_registry().create(PluginType.ALERT_CHANNEL, "webhook", {"type": "webhook", "url": url})
    assert plugin.send_alert(AlertEvent("customer-360", "error", "test failed", {"model": "m"}))  # type: ignore[attr-defined]
    assert received[0]["product"] == "customer-360" and "test failed" in received[0]["text"]


@pytest.fixture
def httpserver_like() -> Any:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_rbac_generates_least_privilege_objects() -> None:
    objs = get_registry().create(PluginType.RBAC, "k8s", {"type": "k8s"}).generate("customer-360", ["customer_360"])  # type: ignore[attr-defined]
    assert [o["kind"] for o in objs] == ["ServiceAccount", "Role", "RoleBinding"]
    assert objs[1]["rules"][0]["verbs"] == ["get"]


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
