"""Per-product principals: the compiled credentials, the generated secrets, the S3 identities and the
catalog grants each product gets (the e2e lane proves them against the running SeaweedFS)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from tests.conftest import ROOT

from floe.compiler.stages import compile_pipeline
from floe.config.manifest import PlatformManifest
from floe.config.principals import product_namespaces, product_secret_names, scope_to_product
from floe.errors import ConfigError
from floe.home import Home, ensure_secrets
from floe.platform.services import local_platform
from floe.plugins.local import Grant
from floe.plugins.rbac.k8s import K8sRbacPlugin
from floe.plugins.registry import load_manifest
from floe.plugins.storage.seaweedfs import identities as seaweedfs_identities
from floe.plugins.storage.seaweedfs import table_bucket_policy

PRODUCTS = ["customer-360", "iot-telemetry", "financial-risk"]


@pytest.fixture(scope="module")
def platform_manifest() -> PlatformManifest:
    return load_manifest(ROOT / "demo" / "manifest.yaml")


def test_names_follow_the_product() -> None:
    assert product_namespaces("customer-360") == ("customer_360_raw", "customer_360")
    assert product_secret_names("iot-telemetry") == ("FLOE_PRODUCT_IOT_TELEMETRY_CLIENT_ID",
                                                     "FLOE_PRODUCT_IOT_TELEMETRY_CLIENT_SECRET")


def test_per_product_manifest_gives_each_product_its_own_credentials(platform_manifest: PlatformManifest) -> None:
    scoped = scope_to_product(platform_manifest, "customer-360")
    assert str(scoped.plugins.catalog.client_id) == "env:FLOE_PRODUCT_CUSTOMER_360_CLIENT_ID"
    assert str(scoped.plugins.catalog.client_secret) == "env:FLOE_PRODUCT_CUSTOMER_360_CLIENT_SECRET"
    assert str(scoped.plugins.storage.access_key_id) == "env:FLOE_PRODUCT_CUSTOMER_360_CLIENT_ID"
    # the platform's own (admin) credentials are untouched in the manifest itself
    assert str(platform_manifest.plugins.catalog.client_id) == "env:FLOE_S3_ACCESS_KEY_ID"


def test_shared_principals_change_nothing(platform_manifest: PlatformManifest) -> None:
    shared = platform_manifest.model_copy(update={"plugins": platform_manifest.plugins.model_copy(
        update={"catalog": platform_manifest.plugins.catalog.model_copy(update={"principals": "shared"})})})
    assert scope_to_product(shared, "customer-360") is shared


def test_storage_keeps_the_platform_key_unless_it_says_product_principal(
        platform_manifest: PlatformManifest) -> None:
    plugins = platform_manifest.plugins
    platform_key = platform_manifest.model_copy(update={"plugins": plugins.model_copy(
        update={"storage": plugins.storage.model_copy(update={"access": "platform"})})})
    scoped = scope_to_product(platform_key, "customer-360")
    assert str(scoped.plugins.catalog.client_id) == "env:FLOE_PRODUCT_CUSTOMER_360_CLIENT_ID"
    assert str(scoped.plugins.storage.access_key_id) == "env:FLOE_S3_ACCESS_KEY_ID"


def test_product_principal_storage_without_per_product_catalog_is_refused(tmp_path: Path) -> None:
    text = (ROOT / "demo" / "manifest.yaml").read_text().replace("principals: per-product", "principals: shared")
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_manifest(path)
    message = str(err.value)
    assert "storage.access: product-principal" in message and "catalog.principals: per-product" in message
    assert str(path) in message


def test_compiled_artifacts_carry_only_the_products_references(tmp_path: Path) -> None:
    out = tmp_path / "out"
    compile_pipeline(ROOT / "demo" / "iot-telemetry", ROOT / "demo" / "manifest.yaml", output_dir=out)
    plugins = json.loads((out / "compiled_artifacts.json").read_text())["plugins"]
    refs = {plugins["catalog"]["config"]["client_id"], plugins["storage"]["config"]["access_key_id"]}
    assert refs == {"env:FLOE_PRODUCT_IOT_TELEMETRY_CLIENT_ID"}
    assert "env:FLOE_S3_" not in (out / "compiled_artifacts.json").read_text()  # no admin reference


def test_secrets_are_generated_per_product_once(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    first = ensure_secrets(home, products=PRODUCTS)
    again = ensure_secrets(home, products=PRODUCTS)
    names = [n for p in PRODUCTS for n in product_secret_names(p)]
    assert all(first[n] for n in names) and {n: again[n] for n in names} == {n: first[n] for n in names}
    assert len({first[n] for n in names}) == len(names)  # no two principals share a credential
    assert stat.S_IMODE(home.secrets_file.stat().st_mode) == 0o600


def test_s3_identities_confine_products_to_their_folders() -> None:
    secrets = {name: f"{name}-value" for name in ("FLOE_S3_ACCESS_KEY_ID", "FLOE_S3_SECRET_ACCESS_KEY")}
    for p in PRODUCTS:
        key_id, secret = product_secret_names(p)
        secrets |= {key_id: f"{p}-id", secret: f"{p}-secret"}
    grants = [g for p in PRODUCTS for g in K8sRbacPlugin().grants(p)]
    identities = {i["name"]: i for i in seaweedfs_identities(secrets, grants, "floe-e2e")["identities"]}
    assert "Admin" in identities["floe"]["actions"]
    cust = identities["floe-customer-360"]
    key_id, secret = product_secret_names("customer-360")
    assert cust["credentials"] == [{"accessKey": secrets[key_id], "secretKey": secrets[secret]}]
    assert all(a.split(":", 1)[1] in {"floe-e2e/customer_360/*", "floe-e2e/customer_360_raw/*"}
               for a in cust["actions"])
    assert {a.split(":")[0] for a in cust["actions"]} == {"Read", "List", "Write"}


def _grants(products: list[str]) -> list[Grant]:
    return [g for p in products for g in K8sRbacPlugin().grants(p)]


def test_grants_allow_each_principal_only_its_namespaces() -> None:
    policy = table_bucket_policy(_grants(PRODUCTS))
    by_principal: dict[str, list[dict]] = {}
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow"
        by_principal.setdefault(st["Principal"], []).append(st)
    assert set(by_principal) == {f"floe-{p}" for p in PRODUCTS}
    for product in PRODUCTS:
        unconditioned = [s for s in by_principal[f"floe-{product}"] if "Condition" not in s]
        # without a namespace condition a principal may only see the warehouse, not act in it
        assert all(set(s["Action"]) <= {"s3tables:GetTableBucket", "s3tables:ListNamespaces"} for s in unconditioned)
        scoped = [s for s in by_principal[f"floe-{product}"] if "Condition" in s]
        assert [s["Condition"]["StringEquals"]["s3tables:namespace"] for s in scoped] == [
            list(product_namespaces(product))]
    assert table_bucket_policy(_grants(list(reversed(PRODUCTS)))) == policy  # stable: a rerun writes nothing new


def test_read_only_grant_cannot_write() -> None:
    grant = Grant(product="customer-360", principal="floe-customer-360", namespaces=("customer_360",), write=False)
    secrets = {"FLOE_S3_ACCESS_KEY_ID": "a", "FLOE_S3_SECRET_ACCESS_KEY": "b",  # pragma: allowlist secret
               **dict.fromkeys(product_secret_names("customer-360"), "c")}
    reader = seaweedfs_identities(secrets, [grant], "wh")["identities"][1]
    assert {a.split(":")[0] for a in reader["actions"]} == {"Read", "List"}
    scoped = [s for s in table_bucket_policy([grant])["Statement"] if "Condition" in s]
    assert scoped and all(a.startswith("s3tables:Get") or a.startswith("s3tables:List") for a in scoped[0]["Action"])


def test_platform_grants_come_from_the_rbac_plugin(platform_manifest: PlatformManifest, tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    platform = local_platform(platform_manifest, home, {}, [])
    platform = type(platform)(**{**platform.__dict__, "principals": ["customer-360"]})
    assert [(g.principal, g.namespaces) for g in platform.grants()] == [
        ("floe-customer-360", ("customer_360_raw", "customer_360"))]
    without = platform_manifest.model_copy(update={"plugins": platform_manifest.plugins.model_copy(
        update={"rbac": None})})
    bare = local_platform(without, home, {}, [])
    bare = type(bare)(**{**bare.__dict__, "principals": ["customer-360"]})
    with pytest.raises(ConfigError, match="no rbac plugin") as err:
        bare.grants()
    assert err.value.key == "plugins.rbac"
