"""SeaweedFS: the S3 store of the local platform, and the Iceberg REST catalog it serves itself.

The ``s3`` storage plugin runs it (``weed mini``) and bootstraps it: the bucket, the warehouse (a table
bucket) when the catalog says the store serves it, and the rbac plugin's grants as S3 identities plus
the warehouse's table bucket policy, each read back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from floe.config.principals import product_secret_names
from floe.errors import FloeError
from floe.plugins.local import (
    LOCALHOST,
    BootstrapError,
    Grant,
    LocalPlatform,
    Probe,
    ServiceSpec,
    StepResult,
    port_of,
    run_step,
    venv_bin,
    write_private,
)
from floe.plugins.types import PluginType

if TYPE_CHECKING:
    from floe.plugins.interfaces import CatalogPlugin
    from floe.plugins.storage.s3 import S3StorageConfig

SERVICE = "seaweedfs"
ADMIN_KEY_ID = "FLOE_S3_ACCESS_KEY_ID"
ADMIN_SECRET_KEY = "FLOE_S3_SECRET_ACCESS_KEY"  # noqa: S105  # pragma: allowlist secret - a variable name
TOKEN_PATH = "v1/oauth/tokens"  # noqa: S105 - SeaweedFS's OAuth2 token endpoint, a URL path


def served_catalog(platform: LocalPlatform) -> tuple[CatalogPlugin, str] | None:
    """The catalog plugin and its warehouse when this store serves the catalog, else None."""
    catalog = cast("CatalogPlugin | None", platform.plugin(PluginType.CATALOG))
    warehouse = catalog.served_by_storage() if catalog is not None else None
    return (catalog, warehouse) if catalog is not None and warehouse else None


def identities(secrets: Any, grants: Sequence[Grant], bucket: str) -> dict[str, Any]:
    """S3 identities: the platform's admin, and one per granted principal whose object access is
    limited to its namespaces' folders of ``bucket`` (the warehouse)."""
    result = [{
        "name": "floe",
        "credentials": [{"accessKey": secrets[ADMIN_KEY_ID], "secretKey": secrets[ADMIN_SECRET_KEY]}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }]
    for grant in grants:
        key_id, secret = product_secret_names(grant.product)
        actions = ("Read", "List", "Write") if grant.write else ("Read", "List")
        result.append({
            "name": grant.principal,
            "credentials": [{"accessKey": secrets[key_id], "secretKey": secrets[secret]}],
            "actions": [f"{action}:{bucket}/{ns}/*" for action in actions for ns in grant.namespaces],
        })
    return {"identities": result}


READ_TABLE_ACTIONS = ["s3tables:GetNamespace", "s3tables:ListTables", "s3tables:GetTable",
                      "s3tables:GetTableMetadataLocation"]


def table_bucket_policy(grants: Sequence[Grant]) -> dict[str, Any]:
    """The warehouse's table bucket policy: each principal may see the warehouse and act inside its
    granted namespaces only (the admin owns the bucket)."""
    statements: list[dict[str, Any]] = []
    for grant in sorted(grants, key=lambda g: g.principal):
        who = grant.principal
        statements += [
            {"Sid": f"{who}-warehouse", "Effect": "Allow", "Principal": who,
             "Action": ["s3tables:GetTableBucket", "s3tables:ListNamespaces"], "Resource": "*"},
            {"Sid": f"{who}-namespaces", "Effect": "Allow", "Principal": who,
             "Action": "s3tables:*" if grant.write else READ_TABLE_ACTIONS, "Resource": "*",
             "Condition": {"StringEquals": {"s3tables:namespace": list(grant.namespaces)}}},
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def service(cfg: S3StorageConfig, platform: LocalPlatform) -> ServiceSpec:
    served = served_catalog(platform)
    iceberg_port = port_of(served[0].endpoint() or "", 8181) if served else 0
    bucket = served[1] if served else cfg.bucket
    port = port_of(cfg.endpoint, 8333)
    data = platform.data / SERVICE
    conf = platform.config / "seaweedfs-s3.json"

    def prepare() -> None:
        data.mkdir(parents=True, exist_ok=True)
        write_private(conf, json.dumps(identities(platform.secrets, platform.grants(), bucket)))

    return ServiceSpec(
        name=SERVICE,
        command=[venv_bin("weed"), "mini", f"-dir={data}", f"-ip={LOCALHOST}", f"-ip.bind={LOCALHOST}",
                 "-master.telemetry=false", f"-s3.config={conf}", "-admin.ui=false", "-webdav=false",
                 "-s3.port.lance=0", f"-s3.port.iceberg={iceberg_port}", f"-s3.port={port}",
                 f"-s3.externalUrl=http://{LOCALHOST}:{port}", "-filer.port=18888"],
        probe=Probe("http", url=f"http://{LOCALHOST}:{iceberg_port}/v1/config") if iceberg_port
        else Probe("tcp", port=port),
        port=port, prepare=prepare, start_timeout=60,
    )


def s3_client(cfg: S3StorageConfig, secrets: Any, service_name: str = "s3") -> Any:
    """A boto3 client (``s3`` or ``s3tables``) for the store, as its admin."""
    import boto3

    return boto3.client(service_name, endpoint_url=cfg.endpoint, region_name=cfg.region,
                        aws_access_key_id=secrets[ADMIN_KEY_ID], aws_secret_access_key=secrets[ADMIN_SECRET_KEY])


def bootstrap(cfg: S3StorageConfig, platform: LocalPlatform) -> list[StepResult]:
    steps = [ensure_bucket(cfg, platform.secrets)]
    served = served_catalog(platform)
    if served is None:
        return steps
    uri, warehouse = served[0].endpoint() or "", served[1]
    steps.append(ensure_warehouse(cfg, platform.secrets, uri, warehouse))
    grants = platform.grants()
    if grants:
        steps.append(ensure_policy(cfg, platform.secrets, warehouse, grants))
        steps += [ensure_principal(platform.secrets, uri, warehouse, g) for g in grants]
        steps.append(verify_isolation(platform.secrets, uri, warehouse, grants))
    return steps


def ensure_bucket(cfg: S3StorageConfig, secrets: Any) -> StepResult:
    name = f"bucket {cfg.bucket}"

    def run() -> StepResult:
        s3 = s3_client(cfg, secrets)
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        outcome = "already present"
        if cfg.bucket not in existing:
            s3.create_bucket(Bucket=cfg.bucket)
            outcome = "created"
        s3.head_bucket(Bucket=cfg.bucket)  # read back: raises if it is not there
        return StepResult(name, outcome)

    return run_step(name, run)


def _catalog(uri: str, warehouse: str, client_id: str, client_secret: str, step: str) -> Any:
    """An authenticated client for the warehouse's part of the Iceberg REST API (``/v1/<warehouse>``)."""
    from floe.plugins.catalog.rest import rest_client

    try:
        return rest_client(uri, client_id, client_secret, token_path=TOKEN_PATH, base_path=f"v1/{warehouse}")
    except FloeError as exc:
        raise BootstrapError(step, exc.message) from None


def ensure_warehouse(cfg: S3StorageConfig, secrets: Any, uri: str, warehouse: str) -> StepResult:
    """The Iceberg warehouse (a table bucket), verified through the Iceberg REST API."""
    name = f"warehouse {warehouse}"

    def run() -> StepResult:
        tables = s3_client(cfg, secrets, "s3tables")
        existing = {b["name"] for b in tables.list_table_buckets().get("tableBuckets", [])}
        outcome = "already present"
        if warehouse not in existing:
            tables.create_table_bucket(name=warehouse)
            outcome = "created"
        # read back through the catalog itself, authenticated, as a client would
        with _catalog(uri, warehouse, secrets[ADMIN_KEY_ID], secrets[ADMIN_SECRET_KEY], name) as c:
            r = c.get("/namespaces")
        if r.status_code != 200:
            raise BootstrapError(name, f"listing namespaces of {warehouse} answered {r.status_code}: {r.text[:200]}")
        return StepResult(name, outcome)

    return run_step(name, run)


def ensure_policy(cfg: S3StorageConfig, secrets: Any, warehouse: str, grants: Sequence[Grant]) -> StepResult:
    name = f"grants on {warehouse}"

    def run() -> StepResult:
        from botocore.exceptions import ClientError

        tables = s3_client(cfg, secrets, "s3tables")
        arn = next(b["arn"] for b in tables.list_table_buckets().get("tableBuckets", []) if b["name"] == warehouse)
        wanted = table_bucket_policy(grants)

        def current() -> Any:
            try:
                return json.loads(tables.get_table_bucket_policy(tableBucketARN=arn)["resourcePolicy"])
            except ClientError as exc:  # SeaweedFS says NoSuchPolicy, AWS NotFoundException
                if exc.response.get("Error", {}).get("Code") in {"NoSuchPolicy", "NotFoundException"}:
                    return None
                raise

        outcome = "already present"
        if current() != wanted:
            tables.put_table_bucket_policy(tableBucketARN=arn, resourcePolicy=json.dumps(wanted))
            outcome = "created"
        if current() != wanted:
            raise BootstrapError(name, "the table bucket policy read back differs from the one written")
        return StepResult(name, outcome, f"{len(grants)} product principals")

    return run_step(name, run)


def ensure_principal(secrets: Any, uri: str, warehouse: str, grant: Grant) -> StepResult:
    """The granted namespaces exist, and the principal can use them."""
    name = f"principal {grant.principal}"

    def run() -> StepResult:
        outcome = "already present"
        with _catalog(uri, warehouse, secrets[ADMIN_KEY_ID], secrets[ADMIN_SECRET_KEY], name) as admin:
            for ns in grant.namespaces:
                r = admin.post("/namespaces", json={"namespace": [ns]})
                if r.status_code in (200, 201):
                    outcome = "created"
                elif r.status_code != 409:  # 409: it exists, which the read-back below verifies
                    raise BootstrapError(name, f"creating namespace {ns} answered {r.status_code}: {r.text[:200]}")
        key_id, secret = product_secret_names(grant.product)
        with _catalog(uri, warehouse, secrets[key_id], secrets[secret], name) as own:
            for ns in grant.namespaces:
                r = own.get(f"/namespaces/{ns}/tables")
                if r.status_code != 200:
                    raise BootstrapError(name, f"cannot list its own namespace {ns}: HTTP {r.status_code}")
        return StepResult(name, outcome, ", ".join(grant.namespaces))

    return run_step(name, run)


def verify_isolation(secrets: Any, uri: str, warehouse: str, grants: Sequence[Grant]) -> StepResult:
    """Read-back of the grants: every principal is refused on every namespace granted only to others."""
    name = "product isolation"

    def run() -> StepResult:
        for grant in grants:
            key_id, secret = product_secret_names(grant.product)
            others = sorted({ns for g in grants if g.principal != grant.principal for ns in g.namespaces}
                            - set(grant.namespaces))
            with _catalog(uri, warehouse, secrets[key_id], secrets[secret], name) as own:
                for ns in others:
                    r = own.get(f"/namespaces/{ns}/tables")
                    if r.status_code != 403:
                        raise BootstrapError(name, f"{grant.principal} can reach namespace {ns} of another "
                                                   f"product (HTTP {r.status_code}): the grants are not in force")
        return StepResult(name, "verified", f"{len(grants)} principals, each refused elsewhere")

    return run_step(name, run)
