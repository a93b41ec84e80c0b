"""RBAC: valid, least-privilege access-control objects for one product."""

from __future__ import annotations

import re

import pytest
import yaml

from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params

DNS_1123 = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@pytest.mark.parametrize("name", params(PluginType.RBAC))
def test_objects_are_valid_and_least_privilege(name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.RBAC, name)
    objects = plugin.generate("customer-360", ["customer_360_raw", "customer_360"])
    assert objects
    assert yaml.safe_load_all(yaml.safe_dump_all(objects))
    by_kind: dict[str, list[dict]] = {}
    for obj in objects:
        assert obj["apiVersion"] and obj["kind"]
        meta = obj["metadata"]
        assert DNS_1123.fullmatch(meta["name"]) and len(meta["name"]) <= 63, meta["name"]
        assert meta["namespace"] == sandbox.config(PluginType.RBAC, name).get("namespace", meta["namespace"])
        assert "customer-360" in str(meta), "every object names its product"
        by_kind.setdefault(obj["kind"], []).append(obj)
    for role in by_kind.get("Role", []) + by_kind.get("ClusterRole", []):
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"], "least privilege: no wildcards"
            assert set(rule["verbs"]) <= {"get", "list", "watch"}, rule
    # a binding binds a role and a subject the plugin generated
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for binding in by_kind.get("RoleBinding", []):
        assert (binding["roleRef"]["kind"], binding["roleRef"]["name"]) in names
        assert all((s["kind"], s["name"]) in names for s in binding["subjects"])


def test_k8s_generates_account_role_and_binding(sandbox: Sandbox) -> None:
    objs = sandbox.create(PluginType.RBAC, "k8s").generate("customer-360", ["customer_360"])
    assert [o["kind"] for o in objs] == ["ServiceAccount", "Role", "RoleBinding"]
    assert objs[1]["rules"][0]["verbs"] == ["get"]


@pytest.mark.parametrize("name", params(PluginType.RBAC))
def test_grants_stay_inside_the_products_own_namespaces(name: str, sandbox: Sandbox) -> None:
    from floe.config.principals import product_namespaces

    plugin = sandbox.create(PluginType.RBAC, name)
    grants = plugin.grants("customer-360")
    assert grants, "a product's principal must be able to reach its own tables"
    assert {g.product for g in grants} == {"customer-360"}
    assert {ns for g in grants for ns in g.namespaces} <= set(product_namespaces("customer-360"))
    assert all(g.principal and "iot" not in g.principal for g in grants)
    other = {ns for g in plugin.grants("iot-telemetry") for ns in g.namespaces}
    assert not other & {ns for g in grants for ns in g.namespaces}, "two products share no namespace"
