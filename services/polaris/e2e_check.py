#!/usr/bin/env python3
"""End-to-end check of a running floe Polaris server (see README.md).

  e2e_check.py write    # health, token, 401 check, create catalog + namespace + table, append, read
  e2e_check.py verify   # after a restart: catalog, namespace and table still there, rows readable

Needs pyiceberg[pyarrow]==0.12.0. Configuration from the environment (no defaults for secrets):
  POLARIS_URL            default http://127.0.0.1:8181
  POLARIS_MGMT_URL       default http://127.0.0.1:8182
  POLARIS_CLIENT_ID, POLARIS_CLIENT_SECRET    root (or any admin) principal credentials
  FLOE_S3_ENDPOINT       e.g. http://127.0.0.1:8333 (path-style S3, e.g. SeaweedFS)
  FLOE_S3_BUCKET         default floe-iceberg
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (default us-east-1): S3 keys for the client
  FLOE_E2E_CATALOG       default floe-e2e
Exit code 0 when every check passed.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ.get("POLARIS_URL", "http://127.0.0.1:8181").rstrip("/")
MGMT = os.environ.get("POLARIS_MGMT_URL", "http://127.0.0.1:8182").rstrip("/")
CATALOG = os.environ.get("FLOE_E2E_CATALOG", "floe-e2e")
BUCKET = os.environ.get("FLOE_S3_BUCKET", "floe-iceberg")
REGION = os.environ.get("AWS_REGION", "us-east-1")
NAMESPACE = "e2e"
TABLE = f"{NAMESPACE}.events"


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"e2e: {name} is not set")
    return value


def http(method: str, url: str, body: dict | None = None, token: str | None = None,
         form: dict | None = None) -> tuple[int, str]:
    headers = {"Accept": "application/json"}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def check(cond: bool, what: str) -> None:
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        sys.exit(1)


def token() -> str:
    status, body = http("POST", f"{BASE}/api/catalog/v1/oauth/tokens", form={
        "grant_type": "client_credentials", "client_id": env("POLARIS_CLIENT_ID"),
        "client_secret": env("POLARIS_CLIENT_SECRET"), "scope": "PRINCIPAL_ROLE:ALL"})
    check(status == 200 and "access_token" in body, f"oauth token (HTTP {status})")
    return json.loads(body)["access_token"]


def pyiceberg_catalog():
    from pyiceberg.catalog import load_catalog

    return load_catalog("floe", **{
        "type": "rest",
        "uri": f"{BASE}/api/catalog",
        "warehouse": CATALOG,
        "credential": f"{env('POLARIS_CLIENT_ID')}:{env('POLARIS_CLIENT_SECRET')}",
        "scope": "PRINCIPAL_ROLE:ALL",
        # the catalog has stsUnavailable=true: no vended credentials, the client brings its own
        "header.X-Iceberg-Access-Delegation": "",
        "s3.endpoint": env("FLOE_S3_ENDPOINT"),
        "s3.access-key-id": env("AWS_ACCESS_KEY_ID"),
        "s3.secret-access-key": env("AWS_SECRET_ACCESS_KEY"),
        "s3.region": REGION,
        "s3.path-style-access": "true",
    })


def common_checks() -> str:
    status, body = http("GET", f"{MGMT}/q/health/ready")
    check(status == 200 and '"UP"' in body, f"health ready (HTTP {status})")
    tok = token()
    status, body = http("GET", f"{BASE}/api/management/v1/catalogs", token="not-a-valid-token")
    leaked = any(s in body for s in ("\tat ", "Exception", "Caused by", ".java:"))
    check(status == 401, f"wrong token -> HTTP {status} (want 401), body {body[:120]!r}")
    check(not leaked, "401 body carries no stack trace")
    status, _ = http("GET", f"{BASE}/api/catalog/v1/config?warehouse={CATALOG}", token="garbage")
    check(status == 401, f"wrong token on Iceberg REST -> HTTP {status} (want 401)")
    return tok


def write() -> None:
    import pyarrow as pa

    tok = common_checks()
    base = f"s3://{BUCKET}/{CATALOG}"
    status, body = http("POST", f"{BASE}/api/management/v1/catalogs", token=tok, body={"catalog": {
        "name": CATALOG, "type": "INTERNAL",
        "properties": {"default-base-location": base},
        "storageConfigInfo": {
            "storageType": "S3", "allowedLocations": [base], "region": REGION,
            "endpoint": env("FLOE_S3_ENDPOINT"), "pathStyleAccess": True, "stsUnavailable": True,
        }}})
    check(status in (201, 409), f"create catalog {CATALOG} (HTTP {status}) {body[:200] if status >= 300 else ''}")
    status, body = http("GET", f"{BASE}/api/management/v1/catalogs/{CATALOG}", token=tok)
    check(status == 200 and '"INTERNAL"' in body, f"get catalog (HTTP {status})")

    cat = pyiceberg_catalog()
    cat.create_namespace_if_not_exists(NAMESPACE)
    check((NAMESPACE,) in cat.list_namespaces(), f"namespace {NAMESPACE} listed")
    rows = pa.table({"id": pa.array([1, 2, 3], pa.int64()),
                     "name": pa.array(["a", "b", "c"], pa.string())})
    if cat.table_exists(TABLE):
        cat.drop_table(TABLE)
    tbl = cat.create_table(TABLE, schema=rows.schema)
    tbl.append(rows)
    tbl.append(pa.table({"id": pa.array([4], pa.int64()), "name": pa.array(["d"], pa.string())}))
    got = cat.load_table(TABLE).scan().to_arrow().sort_by("id")
    check(got.column("id").to_pylist() == [1, 2, 3, 4], f"read back {got.num_rows} rows")
    print(f"table location: {tbl.location()}")


def verify() -> None:
    tok = common_checks()
    status, body = http("GET", f"{BASE}/api/management/v1/catalogs", token=tok)
    names = [c["name"] for c in json.loads(body).get("catalogs", [])] if status == 200 else []
    check(CATALOG in names, f"catalog {CATALOG} survived the restart ({names})")
    cat = pyiceberg_catalog()
    check(cat.table_exists(TABLE), f"table {TABLE} survived the restart")
    got = cat.load_table(TABLE).scan().to_arrow().sort_by("id")
    check(got.column("id").to_pylist() == [1, 2, 3, 4], f"read {got.num_rows} rows after restart")


if __name__ == "__main__":
    phase = sys.argv[1] if len(sys.argv) > 1 else "write"
    t0 = time.monotonic()
    {"write": write, "verify": verify}[phase]()
    print(f"e2e {phase}: all checks passed in {time.monotonic() - t0:.1f}s")
