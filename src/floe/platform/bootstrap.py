"""Bootstrap: create what the platform needs and verify each step by reading it back.

Idempotent: a second run changes nothing and says "already present". A failing step raises
``BootstrapError`` naming the step and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from floe.errors import FloeError


class BootstrapError(FloeError):
    def __init__(self, step: str, reason: str) -> None:
        self.step = step
        super().__init__(f"bootstrap step {step!r} failed: {reason}",
                         hint="see `floe platform logs <service>`; rerun `floe platform bootstrap` once fixed")


@dataclass(frozen=True)
class StepResult:
    step: str
    outcome: str  # "created" | "already present"
    detail: str = ""


def _step(name: str, fn: Callable[[], StepResult]) -> StepResult:
    try:
        return fn()
    except BootstrapError:
        raise
    except Exception as exc:
        raise BootstrapError(name, f"{type(exc).__name__}: {exc}") from exc


def s3_client(manifest: Any, secrets: dict[str, str]) -> Any:
    import boto3

    st = manifest.plugins.storage
    return boto3.client(
        "s3", endpoint_url=st.endpoint, region_name=st.region,
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


def run_bootstrap(manifest: Any, secrets: dict[str, str]) -> list[StepResult]:
    results: list[StepResult] = []
    if manifest.plugins.storage.type == "s3":
        results.append(ensure_bucket(manifest, secrets))
        if manifest.plugins.catalog.type == "iceberg-rest":
            results.append(ensure_warehouse(manifest, secrets))
    return results


def ensure_warehouse(manifest: Any, secrets: dict[str, str]) -> StepResult:
    """The Iceberg warehouse (a SeaweedFS table bucket), verified through the Iceberg REST API."""
    import boto3
    import httpx

    warehouse = manifest.plugins.catalog.warehouse
    name = f"warehouse {warehouse}"

    def run() -> StepResult:
        st = manifest.plugins.storage
        tables = boto3.client(
            "s3tables", endpoint_url=st.endpoint, region_name=st.region,
            aws_access_key_id=secrets["FLOE_S3_ACCESS_KEY_ID"],
            aws_secret_access_key=secrets["FLOE_S3_SECRET_ACCESS_KEY"])
        existing = {b["name"] for b in tables.list_table_buckets().get("tableBuckets", [])}
        outcome = "already present"
        if warehouse not in existing:
            tables.create_table_bucket(name=warehouse)
            outcome = "created"
        # read back through the catalog itself, authenticated, as a client would
        uri = manifest.plugins.catalog.uri.rstrip("/")
        token = httpx.post(f"{uri}/v1/oauth/tokens", timeout=10, data={
            "grant_type": "client_credentials", "client_id": secrets["FLOE_S3_ACCESS_KEY_ID"],
            "client_secret": secrets["FLOE_S3_SECRET_ACCESS_KEY"]})
        if token.status_code != 200:
            raise BootstrapError(name, f"token request answered {token.status_code}")
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        r = httpx.get(f"{uri}/v1/{warehouse}/namespaces", headers=headers, timeout=10)
        if r.status_code != 200:
            raise BootstrapError(name, f"listing namespaces of {warehouse} answered {r.status_code}: {r.text[:200]}")
        return StepResult(name, outcome)

    return _step(name, run)
