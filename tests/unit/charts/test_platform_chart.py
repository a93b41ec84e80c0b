"""floe-platform chart: what a cluster operator would notice if it were wrong."""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal
from typing import Any

import kubernetes_validate
import pytest
import yaml

from floe.k8s.render import ChartRenderError, lint_chart

from .conftest import (
    COMBINATIONS,
    JOBS,
    K8S_VERSION,
    KIND_COMBOS,
    PLATFORM,
    PLATFORM_COMBOS,
    containers,
    labels_of,
    pod_specs,
    pod_template_labels,
    validate_k8s,
)

FULLNAME = "floe-platform"
SECRET = f"{FULLNAME}-credentials"
DEMO_PRODUCTS = ["customer-360", "iot-telemetry", "financial-risk"]
SECRETISH_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY", re.IGNORECASE)
# A literal that looks like a credential: long random-looking tokens, AWS key ids, URLs with passwords.
SECRETISH_VALUE = re.compile(r"AKIA[0-9A-Z]{16}|://[^/\s:@]+:[^/\s@]+@|^[A-Za-z0-9+/=_-]{32,}$|password\s*=", re.I)
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"}


# ----------------------------------------------------------------------------- lint + schema


@pytest.mark.parametrize("combo", list(COMBINATIONS))
def test_chart_lints_without_warnings(combo: str) -> None:
    chart, files = COMBINATIONS[combo]
    report = lint_chart(chart, [chart / f for f in files], strict=True, kube_version=f"v{K8S_VERSION}")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == [], f"helm lint {combo}: {report}"


@pytest.mark.parametrize("combo", list(COMBINATIONS))
def test_every_rendered_object_is_valid_kubernetes(rendered, combo: str) -> None:
    r = rendered(combo)
    assert r.objects, f"{combo} rendered nothing"
    failures = []
    for template, obj in r.sources:
        try:
            validate_k8s(obj)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{template} {obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not failures, "\n".join(failures)


@pytest.mark.requirement("15-FR-002")
def test_schema_rejects_lowercase_cubestore_key(render_with) -> None:
    with pytest.raises(ChartRenderError, match=r"additional properties 'cubestore' not allowed"):
        render_with(PLATFORM, ("values-test.yaml",), {"cubestore": {"enabled": False}})


def test_schema_rejects_cubestore_nested_under_cube(render_with) -> None:
    # The upstream typo: cube.cubestore.enabled=false was silently ignored.
    with pytest.raises(ChartRenderError, match=r"at '/cube': additional properties 'cubestore' not allowed"):
        render_with(PLATFORM, ("values-test.yaml",), {"cube": {"cubestore": {"enabled": False}}})


def test_schema_rejects_unknown_top_level_key(render_with) -> None:
    with pytest.raises(ChartRenderError, match=r"additional properties 'minio' not allowed"):
        render_with(PLATFORM, (), {"minio": {"buckets": [{"name": "floe-iceberg"}]}})


def test_values_files_only_use_schema_keys() -> None:
    schema = json.loads((PLATFORM / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False
    for name in ("values.yaml", "values-test.yaml", "values-demo.yaml"):
        keys = set(yaml.safe_load((PLATFORM / name).read_text()))
        assert keys <= set(schema["properties"]), f"{name}: {keys - set(schema['properties'])} not in the schema"


# ----------------------------------------------------------------------------- labels and wiring


@pytest.mark.parametrize("combo", list(COMBINATIONS))
def test_every_object_and_pod_has_the_standard_labels(rendered, combo: str) -> None:
    r = rendered(combo)
    missing = []
    for obj in r.objects:
        sets = {"object": labels_of(obj)}
        pod_labels = pod_template_labels(obj)
        if pod_labels is not None:
            sets["pod"] = pod_labels
        for where, labels in sets.items():
            for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"):
                if not labels.get(key):
                    missing.append(f"{obj['kind']}/{obj['metadata']['name']} {where}: {key}")
            if labels.get("app.kubernetes.io/part-of") != "floe":
                missing.append(f"{obj['kind']}/{obj['metadata']['name']} {where}: part-of=floe")
            if labels.get("app.kubernetes.io/instance") != r.chart.name:
                missing.append(f"{obj['kind']}/{obj['metadata']['name']} {where}: instance={r.chart.name}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_workload_selectors_match_their_pods_and_services_find_pods(rendered, combo: str) -> None:
    r = rendered(combo)
    pods = [(o, pod_template_labels(o)) for o in r.objects if o["kind"] in POD_KINDS]
    for obj, labels in pods:
        selector = obj["spec"].get("selector", {}).get("matchLabels")
        if obj["kind"] in ("Deployment", "StatefulSet"):
            assert selector and selector.items() <= labels.items(), f"{obj['metadata']['name']}: selector {selector}"
    for svc in r.kind("Service"):
        selector = svc["spec"]["selector"]
        targets = [
            o for o, labels in pods if o["kind"] in ("Deployment", "StatefulSet") and selector.items() <= labels.items()
        ]
        assert len(targets) == 1, f"Service {svc['metadata']['name']} selects {len(targets)} workloads"
        ports = {p["name"] for c in containers(targets[0]) for p in c.get("ports", [])}
        for port in svc["spec"]["ports"]:
            assert port["targetPort"] in ports, (
                f"Service {svc['metadata']['name']}: no container port {port['targetPort']}"
            )


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_expected_services_and_ports(rendered, combo: str) -> None:
    r = rendered(combo)
    expected = {
        "postgresql": {5432},
        "seaweedfs": {8333},
        "polaris": {8181, 8182},
        "dagster-webserver": {80},
        "otel": {4317, 4318},
        "jaeger-query": {16686},
        "jaeger-collector": {4317},
        "marquez": {5000, 5001},
        "cube-api": {4000},
        "cube-store": {3030},
    }
    for suffix, ports in expected.items():
        svc = r.named("Service", f"{FULLNAME}-{suffix}")
        assert ports <= {p["port"] for p in svc["spec"]["ports"]}, suffix


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_polaris_probes_and_jdbc_persistence(rendered, combo: str) -> None:
    r = rendered(combo)
    deploy = r.named("Deployment", f"{FULLNAME}-polaris")
    spec = deploy["spec"]["template"]["spec"]
    polaris = spec["containers"][0]
    assert {p["containerPort"] for p in polaris["ports"]} == {8181, 8182}
    for probe in ("readinessProbe", "livenessProbe"):
        assert polaris[probe]["httpGet"]["port"] == "management"
    assert polaris["readinessProbe"]["httpGet"]["path"] == "/q/health/ready"
    env = {e["name"]: e for e in polaris["env"]}
    assert env["QUARKUS_DATASOURCE_JDBC_URL"]["value"] == f"jdbc:postgresql://{FULLNAME}-postgresql:5432/polaris"
    props = r.named("ConfigMap", f"{FULLNAME}-polaris")["data"]["application.properties"]
    assert "polaris.persistence.type=relational-jdbc" in props
    # The realm is bootstrapped in the database before Polaris starts.
    init = {c["name"]: c for c in spec["initContainers"]}
    assert list(init) == ["wait-for-postgresql", "bootstrap-realm"]
    script = init["bootstrap-realm"]["command"][-1]
    assert "polaris-admin-tool.jar bootstrap" in script
    # a restart must not fail on the realm it bootstrapped the first time
    assert "already been bootstrapped" in script and "exit 0" in script
    mounts = {m["name"]: m["mountPath"] for m in polaris["volumeMounts"]}
    assert mounts["config"] == "/deployments/config"


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_postgresql_creates_the_platform_databases(rendered, combo: str) -> None:
    r = rendered(combo)
    script = r.named("ConfigMap", f"{FULLNAME}-postgresql-init")["data"]["01-databases.sh"]
    assert re.search(r"for db in dagster marquez polaris; do", script)
    assert "CREATE DATABASE" in script and "WHERE NOT EXISTS" in script
    sts = r.named("StatefulSet", f"{FULLNAME}-postgresql")
    mounts = {m["mountPath"] for m in sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
    assert "/docker-entrypoint-initdb.d" in mounts


@pytest.mark.requirement("15-FR-006")
@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_otel_collector_is_labelled_and_forwards_traces_to_jaeger(rendered, combo: str) -> None:
    r = rendered(combo)
    collectors = [o for o in r.with_component("opentelemetry-collector") if o["kind"] == "Deployment"]
    assert len(collectors) == 1
    assert pod_template_labels(collectors[0])["app.kubernetes.io/component"] == "opentelemetry-collector"
    config = yaml.safe_load(r.named("ConfigMap", f"{FULLNAME}-otel")["data"]["config.yaml"])
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    assert "otlp/jaeger" in config["service"]["pipelines"]["traces"]["exporters"]
    host, port = config["exporters"]["otlp/jaeger"]["endpoint"].split(":")
    jaeger_ports = {p["port"] for p in r.named("Service", host)["spec"]["ports"]}
    assert int(port) in jaeger_ports


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_marquez_and_jaeger_health_endpoints(rendered, combo: str) -> None:
    r = rendered(combo)
    marquez = r.named("Deployment", f"{FULLNAME}-marquez")["spec"]["template"]["spec"]["containers"][0]
    assert {p["containerPort"] for p in marquez["ports"]} == {5000, 5001}
    assert marquez["readinessProbe"]["httpGet"] == {"path": "/healthcheck", "port": "admin"}
    env = {e["name"]: e for e in marquez["env"]}
    assert env["POSTGRES_DB"]["value"] == "marquez"
    jaeger = r.named("Deployment", f"{FULLNAME}-jaeger")["spec"]["template"]["spec"]["containers"][0]
    assert 16686 in {p["containerPort"] for p in jaeger["ports"]}


# ----------------------------------------------------------------------------- Dagster workspace


def _workspace(r) -> list[dict[str, Any]]:
    maps = [o for o in r.with_component("workspace") if o["kind"] == "ConfigMap"]
    assert len(maps) == 1, "exactly one ConfigMap labelled app.kubernetes.io/component=workspace"
    return yaml.safe_load(maps[0]["data"]["workspace.yaml"])["load_from"]


@pytest.mark.parametrize("combo", ["platform-test", "platform-demo", "platform-test+demo"])
def test_workspace_has_one_code_location_per_product(rendered, combo: str) -> None:
    r = rendered(combo)
    products = [p["name"] for p in r.values["products"]]
    assert products == DEMO_PRODUCTS
    locations = [entry["python_file"] for entry in _workspace(r)]
    assert [loc["location_name"] for loc in locations] == products
    for loc in locations:
        # docker/Dockerfile compiles each product to /app/products/<product>/definitions.py
        assert loc["relative_path"] == f"/app/products/{loc['location_name']}/definitions.py"
        assert loc["attribute"] == "defs"
        assert loc["working_directory"] == "/app"


def test_workspace_is_empty_without_products(rendered) -> None:
    assert _workspace(rendered("platform-default")) == []


def test_extra_code_locations_from_dagster_values(render_with) -> None:
    r = render_with(
        PLATFORM,
        ("values-test.yaml",),
        {
            "products": [{"name": "customer-360", "module": "c360.definitions"}],
            "dagster": {
                "codeLocations": [{"name": "ad-hoc", "product": "ad-hoc"}, {"name": "x", "module": "pkg.defs"}]
            },
        },
    )
    entries = {next(iter(e.values()))["location_name"]: e for e in _workspace(r)}
    assert entries["customer-360"]["python_module"]["module_name"] == "c360.definitions"
    assert entries["ad-hoc"]["python_file"]["relative_path"] == "/app/products/ad-hoc/definitions.py"
    assert entries["x"]["python_module"]["module_name"] == "pkg.defs"
    assert len(entries) == 3


def test_code_location_without_module_or_product_is_rejected(render_with) -> None:
    with pytest.raises(ChartRenderError, match=r"dagster.codeLocations"):
        render_with(PLATFORM, ("values-test.yaml",), {"dagster": {"codeLocations": [{"name": "lost"}]}})


@pytest.mark.parametrize(("combo", "keep"), [("platform-test", 3), ("platform-demo", 6), ("platform-test+demo", 6)])
def test_demo_snapshot_retention_reaches_the_runs_through_the_manifest(rendered, combo: str, keep: int) -> None:
    r = rendered(combo)
    manifest = yaml.safe_load(r.named("ConfigMap", f"{FULLNAME}-floe-manifest")["data"]["manifest.yaml"])
    assert manifest["governance"]["snapshot_keep_last"] == keep


# ----------------------------------------------------------------------------- secrets


def _secret_values(r) -> dict[str, str]:
    secrets = [o for o in r.kind("Secret")]
    assert len(secrets) == 1
    return {k: base64.b64decode(v).decode() for k, v in secrets[0]["data"].items()}


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_secrets_reach_containers_only_through_secret_key_refs(rendered, combo: str) -> None:
    r = rendered(combo)
    secret = _secret_values(r)
    literal_secrets = {v for v in secret.values() if len(v) >= 8}
    problems = []
    for obj in r.objects:
        for c in containers(obj):
            where = f"{obj['kind']}/{obj['metadata']['name']}/{c['name']}"
            for env in c.get("env", []):
                name, value = env["name"], env.get("value")
                if SECRETISH_NAME.search(name):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if not ref:
                        problems.append(f"{where}: {name} is not a secretKeyRef")
                    elif ref["name"] != SECRET or ref["key"] not in secret:
                        problems.append(f"{where}: {name} refers to missing {ref['name']}/{ref['key']}")
                if value is not None and (SECRETISH_VALUE.search(value) or value in literal_secrets):
                    problems.append(f"{where}: {name} has a literal secret-looking value")
            text = json.dumps([c.get("command", []), c.get("args", [])])
            problems += [f"{where}: a secret value appears in command/args" for s in literal_secrets if s in text]
    for cm in r.kind("ConfigMap"):
        text = json.dumps(cm.get("data", {}))
        problems += [
            f"ConfigMap {cm['metadata']['name']} contains a secret value" for s in literal_secrets if s in text
        ]
    assert not problems, "\n".join(problems)


def test_secret_values_default_to_empty_in_values_yaml() -> None:
    secrets = yaml.safe_load((PLATFORM / "values.yaml").read_text())["secrets"]
    assert secrets.pop("productCredentials") == {}
    assert secrets and all(v == "" for v in secrets.values()), secrets


def test_generated_polaris_credentials_have_the_format_polaris_accepts(rendered) -> None:
    secret = _secret_values(rendered("platform-test"))
    for product in DEMO_PRODUCTS:
        assert re.fullmatch(r"[0-9a-f]{16}", secret[f"polaris-{product}-client-id"])
        assert re.fullmatch(r"[0-9a-f]{32}", secret[f"polaris-{product}-client-secret"])
    assert len(secret["postgres-password"]) >= 24


def test_existing_secret_replaces_the_generated_one(render_with) -> None:
    r = render_with(PLATFORM, ("values-test.yaml",), {"secrets": {"existingSecret": "vault-synced"}})
    assert r.kind("Secret") == []
    refs = {
        env["valueFrom"]["secretKeyRef"]["name"]
        for obj in r.objects
        for c in containers(obj)
        for env in c.get("env", [])
        if "secretKeyRef" in env.get("valueFrom", {})
    }
    assert refs == {"vault-synced"}


def test_pinned_secret_values_are_used(render_with) -> None:
    client_secret = "0123456789abcdef" * 2  # pragma: allowlist secret
    password = "pinned-pass-1"  # pragma: allowlist secret
    creds = {"customer-360": {"clientId": "0123456789abcdef", "clientSecret": client_secret}}
    values = {"secrets": {"postgresPassword": password, "productCredentials": creds}}
    secret = _secret_values(render_with(PLATFORM, ("values-test.yaml",), values))
    assert secret["postgres-password"] == password
    assert secret["polaris-customer-360-client-id"] == "0123456789abcdef"
    assert secret["polaris-customer-360-client-secret"] == client_secret


# ----------------------------------------------------------------------------- network policies


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not (selector.get("matchLabels") or {}).items() <= labels.items():
        return False
    for expr in selector.get("matchExpressions") or []:
        if expr["operator"] == "In" and labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_network_policies_deny_by_default_and_allow_explicitly(rendered, combo: str) -> None:
    r = rendered(combo)
    policies = r.kind("NetworkPolicy")
    deny = r.named("NetworkPolicy", f"{FULLNAME}-default-deny")["spec"]
    assert deny["podSelector"] == {"matchLabels": {"app.kubernetes.io/instance": "floe-platform"}}
    assert sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny and "egress" not in deny
    for policy in policies:
        spec = policy["spec"]
        assert "podSelector" in spec and spec["policyTypes"], policy["metadata"]["name"]
        for rule in spec.get("ingress", []):
            assert rule.get("from"), f"{policy['metadata']['name']}: ingress rule without from"
        for rule in spec.get("egress", []):
            assert rule.get("to"), f"{policy['metadata']['name']}: egress rule without to"
    egress = r.named("NetworkPolicy", f"{FULLNAME}-allow-egress")["spec"]["egress"]
    assert any({"protocol": "UDP", "port": 53} in rule.get("ports", []) for rule in egress), "DNS egress"

    # Every Service port is opened by some ingress policy selecting the Service's pods.
    workloads = [o for o in r.objects if o["kind"] in ("Deployment", "StatefulSet")]
    for svc in r.kind("Service"):
        workload = next(w for w in workloads if svc["spec"]["selector"].items() <= pod_template_labels(w).items())
        labels = pod_template_labels(workload)
        named = {p["name"]: p["containerPort"] for c in containers(workload) for p in c.get("ports", [])}
        # The collector's own metrics port is opened only to networkPolicy.monitoringNamespaces.
        target_ports = {named[p["targetPort"]] for p in svc["spec"]["ports"] if p["name"] != "metrics"}
        opened = {
            port["port"]
            for policy in policies
            if "Ingress" in policy["spec"]["policyTypes"] and _selects(policy["spec"]["podSelector"], labels)
            for rule in policy["spec"].get("ingress", [])
            for port in rule.get("ports", [])
        }
        assert target_ports <= opened, f"{svc['metadata']['name']}: ports {target_ports - opened} unreachable"


def test_postgresql_only_accepts_platform_clients(rendered) -> None:
    r = rendered("platform-test")
    rule = r.named("NetworkPolicy", f"{FULLNAME}-allow-postgresql")["spec"]["ingress"][0]
    allowed = set(rule["from"][0]["podSelector"]["matchExpressions"][0]["values"])
    assert allowed == {"polaris", "dagster-webserver", "dagster-daemon", "marquez", "test"}


def test_collector_metrics_open_only_to_monitoring_namespaces(render_with) -> None:
    r = render_with(PLATFORM, ("values-test.yaml",), {"networkPolicy": {"monitoringNamespaces": ["monitoring"]}})
    spec = r.named("NetworkPolicy", f"{FULLNAME}-allow-opentelemetry-collector-metrics")["spec"]
    rule = spec["ingress"][0]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8888}]
    assert rule["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"] == ["monitoring"]


def test_network_policies_can_be_disabled(render_with) -> None:
    assert (
        render_with(PLATFORM, ("values-test.yaml",), {"networkPolicy": {"enabled": False}}).kind("NetworkPolicy") == []
    )


# ----------------------------------------------------------------------------- Kind budget

_SUFFIX = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "m": Decimal("0.001"),
}


def quantity(value: str | int | float) -> Decimal:
    text = str(value)
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", text)
    assert match, f"bad quantity {value!r}"
    number, suffix = match.groups()
    return Decimal(number) * Decimal(_SUFFIX[suffix] if suffix else 1)


def requested(r) -> tuple[Decimal, Decimal, list[str]]:
    cpu = mem = Decimal(0)
    unset = []
    for obj in r.objects:
        for spec, replicas in pod_specs(obj):
            for c in spec.get("initContainers", []) + spec.get("containers", []):
                req = c.get("resources", {}).get("requests", {})
                if "cpu" not in req or "memory" not in req:
                    unset.append(f"{obj['kind']}/{obj['metadata']['name']}/{c['name']}")
                    continue
                cpu += quantity(req["cpu"]) * replicas
                mem += quantity(req["memory"]) * replicas
    return cpu, mem, unset


@pytest.mark.requirement("15-FR-002")
@pytest.mark.parametrize("combo", KIND_COMBOS)
def test_kind_values_fit_one_node(rendered, combo: str) -> None:
    cpu, mem, unset = requested(rendered(combo))
    assert not unset, f"containers without cpu+memory requests: {unset}"
    assert cpu <= 2, f"{combo}: containers request {cpu} CPU in total (budget 2)"
    assert mem <= 4 * 2**30, f"{combo}: containers request {mem / 2**20} MiB in total (budget 4096 MiB)"


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_every_container_declares_requests(rendered, combo: str) -> None:
    assert requested(rendered(combo))[2] == []


# ----------------------------------------------------------------------------- Cube Store


@pytest.mark.requirement("15-FR-002")
def test_cube_store_persistence_off_in_test_values_means_no_pvc(rendered) -> None:
    r = rendered("platform-test")
    sts = r.named("StatefulSet", f"{FULLNAME}-cube-store")
    assert "volumeClaimTemplates" not in sts["spec"]
    assert r.kind("PersistentVolumeClaim") == []
    assert all("volumeClaimTemplates" not in s["spec"] for s in r.kind("StatefulSet")), "test values use no PVCs"


def test_cube_store_persistence_on_by_default(rendered) -> None:
    sts = rendered("platform-default").named("StatefulSet", f"{FULLNAME}-cube-store")
    claims = sts["spec"]["volumeClaimTemplates"]
    assert claims[0]["spec"]["resources"]["requests"]["storage"] == "10Gi"


def test_cube_store_small_requests_in_test_values(rendered) -> None:
    c = rendered("platform-test").named("StatefulSet", f"{FULLNAME}-cube-store")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert quantity(c["resources"]["requests"]["cpu"]) <= Decimal("0.1")
    assert quantity(c["resources"]["requests"]["memory"]) <= 256 * 2**20


@pytest.mark.parametrize(("arch", "suffix"), [("amd64", ""), ("arm64", "-arm64v8")])
def test_cube_store_image_and_node_follow_the_architecture(render_with, arch: str, suffix: str) -> None:
    r = render_with(PLATFORM, ("values-test.yaml",), {"cubeStore": {"arch": arch}})
    spec = r.named("StatefulSet", f"{FULLNAME}-cube-store")["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/arch": arch}
    assert spec["containers"][0]["image"].endswith(f":v1.6.31{suffix}")


def test_cube_store_key_disables_cube_store(render_with) -> None:
    r = render_with(PLATFORM, ("values-test.yaml",), {"cubeStore": {"enabled": False}})
    assert r.with_component("cube-store") == []
    env = {
        e["name"]
        for e in r.named("Deployment", f"{FULLNAME}-cube-api")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert "CUBEJS_CUBESTORE_HOST" not in env


# ----------------------------------------------------------------------------- bootstrap Job


def _bootstrap(r) -> tuple[dict[str, Any], dict[str, Any], str]:
    job = r.named("Job", f"{FULLNAME}-polaris-bootstrap")
    cm = r.named("ConfigMap", f"{FULLNAME}-bootstrap")
    return job, json.loads(cm["data"]["polaris-bootstrap.json"]), cm["data"]["bootstrap.py"]


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_bootstrap_job_is_a_post_install_hook_that_keeps_its_logs(rendered, combo: str) -> None:
    job, _, _ = _bootstrap(rendered(combo))
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"post-install", "post-upgrade"}
    policy = annotations["helm.sh/hook-delete-policy"].split(",")
    assert policy == ["before-hook-creation"], "hook-succeeded would delete the evidence"
    assert "ttlSecondsAfterFinished" not in job["spec"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "/opt/floe/bootstrap.py", "/opt/floe/polaris-bootstrap.json"]


@pytest.mark.parametrize("combo", ["platform-test", "platform-test+demo"])
def test_bootstrap_config_names_bucket_catalog_and_product_access(rendered, combo: str) -> None:
    _, config, _ = _bootstrap(rendered(combo))
    assert config["s3"]["buckets"] == ["floe-iceberg"]
    assert config["s3"]["endpoint"] == f"http://{FULLNAME}-seaweedfs:8333"
    catalog = config["polaris"]["catalog"]
    assert catalog["name"] == "floe-e2e"
    assert catalog["baseLocation"] == "s3://floe-iceberg/floe-e2e"
    assert catalog["storage"]["allowedLocations"] == ["s3://floe-iceberg/"]
    products = config["polaris"]["products"]
    assert [p["name"] for p in products] == DEMO_PRODUCTS
    for p in products:
        assert p["principal"] == p["name"] and p["privileges"] == ["CATALOG_MANAGE_CONTENT"]
        assert p["principalRole"] and p["catalogRole"]


def test_bootstrap_script_reads_back_what_it_creates(rendered) -> None:
    _, _, script = _bootstrap(rendered("platform-test"))
    # Each create is followed by a GET of the same thing (behaviour is exercised in test_bootstrap_script.py).
    assert 'polaris.mgmt("POST", "/catalogs", body)' in script
    assert 'polaris.mgmt("GET", f"/catalogs/{q(name)}")' in script
    assert 's3.request("HEAD", f"/{bucket}")' in script
    assert "elif reply.status == 409:" in script


def test_storage_init_job_runs_when_polaris_is_off(render_with) -> None:
    r = render_with(PLATFORM, ("values-test.yaml",), {"polaris": {"enabled": False}, **EXTERNAL_CATALOG})
    assert [j["metadata"]["name"] for j in r.kind("Job")] == [f"{FULLNAME}-storage-init"]
    config = json.loads(r.named("ConfigMap", f"{FULLNAME}-bootstrap")["data"]["storage-init.json"])
    assert "polaris" not in config and config["s3"]["buckets"] == ["floe-iceberg"]


# ----------------------------------------------------------------------------- observability, tests


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_grafana_dashboards_configmap(rendered, combo: str) -> None:
    r = rendered(combo)
    maps = [cm for cm in r.kind("ConfigMap") if "grafana-dashboards" in cm["metadata"]["name"]]
    assert len(maps) == 1
    assert labels_of(maps[0])["grafana_dashboard"] == "1"
    dashboards = maps[0]["data"]
    assert set(dashboards) == {"data-quality.json", "lineage-overview.json", "pipeline-metrics.json"}
    for name, text in dashboards.items():
        assert "__" not in text.replace("__name__", ""), f"{name}: unreplaced placeholder"
        board = json.loads(text)
        assert board["panels"], name
        types = {p["datasource"]["type"] for p in board["panels"]}
        assert types <= {"prometheus", "jaeger"} and types, name
        products = next(v for v in board["templating"]["list"] if v["name"] == "product")["query"]
        assert products.split(",") == [p["name"] for p in r.values.get("products", [])] or products == ""


@pytest.mark.parametrize("combo", PLATFORM_COMBOS)
def test_helm_test_pod_checks_every_service(rendered, combo: str) -> None:
    r = rendered(combo)
    pod = r.named("Pod", f"{FULLNAME}-test-connection")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    names = {c["name"] for c in pod["spec"]["containers"]}
    assert names == {"polaris", "dagster", "s3", "marquez", "jaeger", "cube", "postgresql"}
    urls = {c["name"]: c["command"][-1] for c in pod["spec"]["containers"] if c["name"] != "postgresql"}
    assert urls["polaris"] == f"http://{FULLNAME}-polaris:8182/q/health/ready"
    assert urls["dagster"] == f"http://{FULLNAME}-dagster-webserver:80/server_info"


# ----------------------------------------------------------------------------- enable / disable

# Without Polaris the products' runs need another catalog in the cluster's manifest.
EXTERNAL_CATALOG = {"manifest": {"plugins": {"catalog": {
    "type": "iceberg-rest", "uri": "https://catalog.example.internal/api/catalog", "warehouse": "floe",
    "client_id": "env:CATALOG_CLIENT_ID", "client_secret": "env:CATALOG_CLIENT_SECRET"}}}}

COMPONENTS = {
    # values key -> (extra values needed when it is off, components that must disappear)
    "postgresql": ({"externalDatabase": {"host": "pg.example.internal"}}, {"postgresql"}),
    "seaweedfs": ({"storage": {"endpoint": "https://s3.example.internal"}}, {"s3"}),
    "polaris": (EXTERNAL_CATALOG, {"polaris", "polaris-bootstrap"}),
    "dagster": ({}, {"dagster-webserver", "dagster-daemon", "workspace", "dagster-instance"}),
    "otel": ({}, {"opentelemetry-collector"}),
    "jaeger": ({}, {"jaeger"}),
    "marquez": ({}, {"marquez"}),
    "cube": ({}, {"cube-api"}),
    "cubeStore": ({}, {"cube-store"}),
    "grafanaDashboards": ({}, {"observability"}),
    "tests": ({}, {"test"}),
}


@pytest.mark.parametrize("key", list(COMPONENTS))
def test_each_component_can_be_disabled(render_with, key: str) -> None:
    extra, gone = COMPONENTS[key]
    r = render_with(PLATFORM, ("values-test.yaml",), {key: {"enabled": False}, **extra})
    present = {labels_of(o).get("app.kubernetes.io/component") for o in r.objects}
    assert not gone & present, f"{key}.enabled=false still renders {gone & present}"
    for obj in r.objects:
        validate_k8s(obj)
    text = json.dumps(r.objects)
    if key in ("otel", "jaeger", "marquez", "polaris"):
        service = {
            "otel": "otel:4317",
            "jaeger": "jaeger-collector",
            "marquez": "marquez:5000",
            "polaris": "polaris:8181",
        }[key]
        assert f"{FULLNAME}-{service}" not in text, f"something still points at the disabled {key}"


def test_disabling_postgresql_without_an_external_database_explains_itself(render_with) -> None:
    with pytest.raises(ChartRenderError, match=r"postgresql.enabled=false needs externalDatabase.host"):
        render_with(PLATFORM, ("values-test.yaml",), {"postgresql": {"enabled": False}})


def test_charts_declare_no_downloadable_dependencies() -> None:
    for chart in (PLATFORM, JOBS):
        meta = yaml.safe_load((chart / "Chart.yaml").read_text())
        assert "dependencies" not in meta, chart.name
        assert not (chart / "charts").exists(), chart.name
