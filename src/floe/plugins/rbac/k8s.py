from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from floe.config.plugins import PluginConfig
from floe.config.principals import principal_name, product_namespaces
from floe.plugins.interfaces import RBACPlugin
from floe.plugins.local import Grant

if TYPE_CHECKING:
    from floe.contract import CompiledArtifacts

# Polaris catalog privileges a grant becomes on Kubernetes (the chart's bootstrap gives each product's
# catalog role these)
WRITE_PRIVILEGES = ["CATALOG_MANAGE_CONTENT"]
READ_PRIVILEGES = ["CATALOG_READ_PROPERTIES", "NAMESPACE_LIST", "NAMESPACE_READ_PROPERTIES", "TABLE_LIST",
                   "TABLE_READ_PROPERTIES", "TABLE_READ_DATA"]


class K8sRbacConfig(PluginConfig):
    type: Literal["k8s"]
    namespace: str = "floe"


class K8sRbacPlugin(RBACPlugin):
    """Kubernetes ServiceAccount + Role + RoleBinding per product, least privilege."""

    name: ClassVar[str] = "k8s"
    description: ClassVar[str] = "Kubernetes RBAC manifests"
    config_model = K8sRbacConfig
    config: K8sRbacConfig | None

    def grants(self, product: str) -> list[Grant]:
        # least privilege: the product reads and writes its own two namespaces, nothing else
        return [Grant(product=product, principal=principal_name(product), namespaces=product_namespaces(product))]

    def deploy_values(self, products: Sequence[CompiledArtifacts]) -> dict[str, Any]:
        """Per product: its Polaris catalog role's privileges (from its grants) and its ServiceAccount,
        Role and RoleBinding, which the chart renders as they are."""
        entries, objects = [], []
        for artifacts in products:
            name = artifacts.metadata.product_name
            grants = self.grants(name)
            writes = any(g.write for g in grants)
            entries.append({"name": name, "privileges": WRITE_PRIVILEGES if writes else READ_PRIVILEGES})
            objects += self.generate(name, [ns for g in grants for ns in g.namespaces])
        return {"products": entries, "rbac": {"objects": objects}} if products else {}

    def generate(self, product: str, namespaces: Sequence[str]) -> list[dict[str, Any]]:
        ns = (self.config or K8sRbacConfig(type="k8s")).namespace
        sa = f"floe-{product}"
        labels = {"app.kubernetes.io/part-of": "floe", "floe.dev/product": product}
        meta = {"name": sa, "namespace": ns, "labels": labels}
        return [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
            {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": [f"{sa}-catalog"],
                           "verbs": ["get"]}],
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa},
                "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
            },
        ]
