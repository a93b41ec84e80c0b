"""Bootstrap: create what the platform needs and verify each step by reading it back.

Idempotent: a second run changes nothing and says "already present". A failing step raises
``BootstrapError`` naming the step and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from floe.config.principals import principal_name, product_namespaces, product_secret_names
from floe.errors import FloeError


class BootstrapError(FloeError):
    def __init__(self, step: str, reason: str) -> None:
        self.step = step
        super().__init__(f"bootstrap step {step!r} failed: {reason}",
                         hint="see `floe platform logs <service>`; rerun `floe platform bootstrap` once fixed")


@dataclass(frozen=True)
class StepResult:
    step: str
    outcome: str  # "created" | "already present" | "verified"
    detail: str = ""


def _step(name: str, fn: Callable[[], StepResult]) -> StepResult:
    try:
        return fn()
    except BootstrapError:
        raise
    except Exception as exc:
        raise BootstrapError(name, f"{type(exc).__name__}: {exc}") from exc


def s3_client(manifest: Any, secrets: dict[str, str], service: str = "s3") -> Any:
    """A boto3 client (``s3`` or ``s3tables``) for the platform's storage, as its admin."""
    import boto3

    st = manifest.plugins.storage
    return boto3.client(
        service, endpoint_url=st.endpoint, region_name=st.region,
        aws_access_key_id=secrets["FLOE_S3_ACCESS_KEY_ID"], aws_secret_access_key=secrets["FLOE_S3_SECRET_ACCESS_KEY"],
    )


def ensure_bucket(manifest: Any, secrets: dict[str, str]) -> StepResult:
    bucket = manifest.plugins.storage.bucket
    name = f"bucket {bucket}"

    def run() -> StepResult:
        s3 = s3_client(manifest, secrets)
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        outcome = "already present"
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
            outcome = "created"
        s3.head_bucket(Bucket=bucket)  # read back: raises if it is not there
        return StepResult(name, outcome)

    return _step(name, run)


def run_bootstrap(manifest: Any, secrets: dict[str, str], products: Sequence[str] = ()) -> list[StepResult]:
    results: list[StepResult] = []
    if manifest.plugins.storage.type == "s3":
        results.append(ensure_bucket(manifest, secrets))
        if manifest.plugins.catalog.type == "iceberg-rest":
            results.append(ensure_warehouse(manifest, secrets))
            if products:
                results.append(ensure_grants_policy(manifest, secrets, products))
                results += [ensure_principal(manifest, secrets, p) for p in products]
                results.append(verify_isolation(manifest, secrets, products))
    return results


def _catalog(manifest: Any, client_id: str, client_secret: str, step: str) -> Any:
    """An authenticated client for the warehouse's part of the Iceberg REST API (``/v1/<warehouse>``)."""
    from floe.plugins.catalog.rest import rest_client

    cat = manifest.plugins.catalog
    try:
        return rest_client(cat.uri, client_id, client_secret, token_path=cat.oauth2_token_path,
                           base_path=f"v1/{cat.warehouse}")
    except FloeError as exc:
        raise BootstrapError(step, exc.message) from None


def ensure_warehouse(manifest: Any, secrets: dict[str, str]) -> StepResult:
    """The Iceberg warehouse (a SeaweedFS table bucket), verified through the Iceberg REST API."""
    warehouse = manifest.plugins.catalog.warehouse
    name = f"warehouse {warehouse}"

    def run() -> StepResult:
        tables = s3_client(manifest, secrets, "s3tables")
        existing = {b["name"] for b in tables.list_table_buckets().get("tableBuckets", [])}
        outcome = "already present"
        if warehouse not in existing:
            tables.create_table_bucket(name=warehouse)
            outcome = "created"
        # read back through the catalog itself, authenticated, as a client would
        with _catalog(manifest, secrets["FLOE_S3_ACCESS_KEY_ID"], secrets["FLOE_S3_SECRET_ACCESS_KEY"], name) as c:
            r = c.get("/namespaces")
        if r.status_code != 200:
            raise BootstrapError(name, f"listing namespaces of {warehouse} answered {r.status_code}: {r.text[:200]}")
        return StepResult(name, outcome)

    return _step(name, run)


def grants_policy(products: Sequence[str]) -> dict[str, Any]:
    """The warehouse's table bucket policy: each product's principal may see the warehouse and do
    anything inside its own two namespaces, nothing else (the admin owns the bucket)."""
    statements: list[dict[str, Any]] = []
    for product in sorted(products):
        who = principal_name(product)
        statements += [
            {"Sid": f"{who}-warehouse", "Effect": "Allow", "Principal": who,
             "Action": ["s3tables:GetTableBucket", "s3tables:ListNamespaces"], "Resource": "*"},
            {"Sid": f"{who}-namespaces", "Effect": "Allow", "Principal": who, "Action": "s3tables:*",
             "Resource": "*",
             "Condition": {"StringEquals": {"s3tables:namespace": list(product_namespaces(product))}}},
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def ensure_grants_policy(manifest: Any, secrets: dict[str, str], products: Sequence[str]) -> StepResult:
    warehouse = manifest.plugins.catalog.warehouse
    name = f"grants on {warehouse}"

    def run() -> StepResult:
        tables = s3_client(manifest, secrets, "s3tables")
        arn = next(b["arn"] for b in tables.list_table_buckets().get("tableBuckets", []) if b["name"] == warehouse)
        wanted = grants_policy(products)

        def current() -> Any:
            from botocore.exceptions import ClientError

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
        return StepResult(name, outcome, f"{len(products)} product principals")

    return _step(name, run)


def ensure_principal(manifest: Any, secrets: dict[str, str], product: str) -> StepResult:
    """The product's namespaces exist, and its principal can use them and nobody else's."""
    name = f"principal {principal_name(product)}"

    def run() -> StepResult:
        outcome = "already present"
        with _catalog(manifest, secrets["FLOE_S3_ACCESS_KEY_ID"], secrets["FLOE_S3_SECRET_ACCESS_KEY"], name) as admin:
            for ns in product_namespaces(product):
                r = admin.post("/namespaces", json={"namespace": [ns]})
                if r.status_code in (200, 201):
                    outcome = "created"
                elif r.status_code != 409:  # 409: it exists, which the read-back below verifies
                    raise BootstrapError(name, f"creating namespace {ns} answered {r.status_code}: {r.text[:200]}")
        key_id, secret = product_secret_names(product)
        with _catalog(manifest, secrets[key_id], secrets[secret], name) as own:
            for ns in product_namespaces(product):
                r = own.get(f"/namespaces/{ns}/tables")
                if r.status_code != 200:
                    raise BootstrapError(name, f"cannot list its own namespace {ns}: HTTP {r.status_code}")
        return StepResult(name, outcome, ", ".join(product_namespaces(product)))

    return _step(name, run)


def verify_isolation(manifest: Any, secrets: dict[str, str], products: Sequence[str]) -> StepResult:
    """Read-back of the grants: every product principal is refused on every other product's namespace."""
    name = "product isolation"

    def run() -> StepResult:
        for product in products:
            key_id, secret = product_secret_names(product)
            with _catalog(manifest, secrets[key_id], secrets[secret], name) as own:
                for other in (p for p in products if p != product):
                    ns = product_namespaces(other)[1]
                    r = own.get(f"/namespaces/{ns}/tables")
                    if r.status_code != 403:
                        raise BootstrapError(name, f"{principal_name(product)} can reach {other}'s namespace "
                                                   f"{ns} (HTTP {r.status_code}): the grants are not in force")
        return StepResult(name, "verified", f"{len(products)} principals, each refused elsewhere")

    return _step(name, run)
