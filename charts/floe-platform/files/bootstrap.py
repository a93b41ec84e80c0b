"""floe platform bootstrap: make the S3 bucket, the Polaris catalog and per-product access exist,
then prove each one by reading it back.

Run by the chart's hook Jobs as ``python bootstrap.py <config.json>``. The config (non-secret) is
rendered by Helm; credentials arrive as environment variables from the platform Secret:
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` (S3), ``POLARIS_ROOT_CLIENT_ID``/``..._SECRET``
(realm root) and ``POLARIS_<PRODUCT>_CLIENT_ID``/``..._SECRET`` per product.

Every step is create-then-verify. HTTP 409 means "already exists" and is followed by the same
verification; any other failure stops the run with a non-zero exit code and a message naming the
request, the status and the response body. Standard library only (runs on python:3.11-slim).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
PRIVILEGE_RE = re.compile(r"^[A-Z][A-Z_]{2,63}$")
# Privileges that let a principal list the catalog's namespaces (used for the end-to-end check).
LISTING_PRIVILEGES = {
    "CATALOG_MANAGE_CONTENT",
    "CATALOG_MANAGE_METADATA",
    "NAMESPACE_LIST",
    "NAMESPACE_FULL_METADATA",
}
POLL_SECONDS = 2.0


class BootstrapError(Exception):
    """A step failed; the message says which request, what came back and what to check."""


def log(message: str) -> None:
    print(f"[floe-bootstrap] {message}", flush=True)


# --------------------------------------------------------------------------- HTTP


@dataclass
class Response:
    method: str
    url: str
    status: int
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise BootstrapError(f"{self.method} {self.url} returned non-JSON: {self.excerpt()}") from exc

    def excerpt(self) -> str:
        return self.body[:500].decode("utf-8", "replace")

    def describe(self) -> str:
        return f"{self.method} {self.url} -> HTTP {self.status}: {self.excerpt()}"


def http(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 30.0,
) -> Response:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise BootstrapError(f"refusing non-HTTP URL {url!r}; endpoints must be http:// or https://")
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 - scheme checked above
            return Response(method, url, reply.status, reply.read())
    except urllib.error.HTTPError as exc:
        return Response(method, url, exc.code, exc.read() or b"")
    except (urllib.error.URLError, OSError) as exc:
        raise BootstrapError(f"{method} {url} failed: {exc}") from exc


def wait_until(what: str, probe: Callable[[], bool], deadline: float) -> None:
    """Poll ``probe`` until it returns True; fail once ``deadline`` (monotonic) has passed."""
    last_error = ""
    while True:
        try:
            if probe():
                log(f"{what} is up")
                return
        except BootstrapError as exc:
            last_error = str(exc)
        if time.monotonic() >= deadline:
            raise BootstrapError(f"{what} did not become ready in time. Last error: {last_error or 'none'}")
        time.sleep(POLL_SECONDS)


# --------------------------------------------------------------------------- S3


def sigv4_headers(
    method: str,
    url: str,
    *,
    region: str,
    access_key: str,
    secret_key: str,
    payload: bytes = b"",
    service: str = "s3",
    now: datetime.datetime | None = None,
) -> dict[str, str]:
    """AWS Signature Version 4 headers for a path-style S3 request."""
    now = now or datetime.datetime.now(datetime.UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = now.strftime("%Y%m%d")
    parts = urllib.parse.urlsplit(url)
    payload_hash = hashlib.sha256(payload).hexdigest()
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    canonical_query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(query)
    )
    signed = {"host": parts.netloc, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    signed_names = ";".join(sorted(signed))
    canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in sorted(signed))
    canonical_request = "\n".join(
        [method, parts.path or "/", canonical_query, canonical_headers, signed_names, payload_hash]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = ("AWS4" + secret_key).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed_names}, Signature={signature}"
        ),
        "x-amz-date": amz_date,
        "x-amz-content-sha256": payload_hash,
    }


class S3:
    def __init__(self, endpoint: str, region: str, access_key: str, secret_key: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.access_key = access_key
        self.secret_key = secret_key

    def request(self, method: str, path: str, body: bytes = b"") -> Response:
        url = self.endpoint + urllib.parse.quote(path)
        headers = sigv4_headers(
            method, url, region=self.region, access_key=self.access_key, secret_key=self.secret_key, payload=body
        )
        return http(method, url, headers=headers, body=body if method in ("PUT", "POST") else None)

    def reachable(self) -> bool:
        http("GET", self.endpoint + "/")  # any HTTP answer (even 403) means the server is up
        return True


def ensure_bucket(s3: S3, bucket: str) -> None:
    what = f"bucket s3://{bucket}"
    body = b""
    if s3.region != "us-east-1":
        body = (
            '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<LocationConstraint>{s3.region}</LocationConstraint></CreateBucketConfiguration>"
        ).encode()
    created = s3.request("PUT", f"/{bucket}", body)
    if created.status in (200, 201, 204):
        log(f"created {what}")
    elif created.status == 409 and b"BucketAlreadyOwnedByYou" in created.body:
        log(f"{what} already exists (owned by these credentials)")
    elif created.status == 409:
        log(f"{what} already exists; checking these credentials can use it")
    else:
        raise BootstrapError(f"creating {what} failed: {created.describe()}")

    head = s3.request("HEAD", f"/{bucket}")
    if head.status != 200:
        raise BootstrapError(
            f"{what} is not readable after create: HEAD returned {head.status}. "
            "Check the s3-access-key/s3-secret-key entries of the credentials Secret."
        )
    probe_key = f"/{bucket}/.floe-bootstrap/probe"
    payload = f"floe bootstrap probe {time.time()}".encode()
    put = s3.request("PUT", probe_key, payload)
    if put.status not in (200, 201, 204):
        raise BootstrapError(f"{what} is not writable: {put.describe()}")
    got = s3.request("GET", probe_key)
    if got.status != 200 or got.body != payload:
        raise BootstrapError(f"{what}: read-back of the probe object differs from what was written: {got.describe()}")
    s3.request("DELETE", probe_key)
    log(f"verified {what} (HEAD 200, probe object written and read back)")


# --------------------------------------------------------------------------- Polaris


class Polaris:
    def __init__(self, url: str, realm: str) -> None:
        self.url = url.rstrip("/")
        self.realm = realm
        self.token = ""

    def get_token(self, client_id: str, client_secret: str) -> Response:
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
                "scope": "PRINCIPAL_ROLE:ALL",
            }
        ).encode()
        return http(
            "POST",
            f"{self.url}/api/catalog/v1/oauth/tokens",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Polaris-Realm": self.realm},
            body=form,
        )

    def login(self, client_id: str, client_secret: str, who: str) -> None:
        reply = self.get_token(client_id, client_secret)
        if reply.status != 200:
            raise BootstrapError(f"Polaris rejected the {who} credentials: {reply.describe()}")
        self.token = reply.json()["access_token"]

    def call(self, method: str, path: str, payload: Any = None, *, token: str | None = None) -> Response:
        headers = {
            "Authorization": f"Bearer {token or self.token}",
            "Polaris-Realm": self.realm,
            "Accept": "application/json",
        }
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        return http(method, self.url + path, headers=headers, body=body)

    def mgmt(self, method: str, path: str, payload: Any = None) -> Response:
        return self.call(method, "/api/management/v1" + path, payload)


def q(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def ensure(
    what: str, create: Callable[[], Response], verify: Callable[[], None], *, tolerate_500: bool = False
) -> None:
    """Create ``what``; 2xx = created, 409 = exists; then always ``verify`` (which raises on mismatch)."""
    reply = create()
    if 200 <= reply.status < 300:
        log(f"created {what}")
    elif reply.status == 409:
        log(f"{what} already exists")
    elif tolerate_500 and reply.status == 500:
        # Polaris answers a duplicate grant with 500; only the read-back can tell.
        log(f"{what}: Polaris answered 500, checking whether it is already in place")
    else:
        raise BootstrapError(f"creating {what} failed: {reply.describe()}")
    try:
        verify()
    except BootstrapError as exc:
        if tolerate_500 and reply.status == 500:
            raise BootstrapError(f"creating {what} failed: {reply.describe()}; read-back: {exc}") from exc
        raise
    log(f"verified {what}")


def expect_ok(reply: Response, what: str) -> Any:
    if reply.status != 200:
        raise BootstrapError(f"reading back {what} failed: {reply.describe()}")
    return reply.json()


def names_in(document: Any, key: str) -> set[str]:
    return {str(item.get("name")) for item in (document or {}).get(key, []) if isinstance(item, dict)}


def ensure_catalog(polaris: Polaris, catalog: Mapping[str, Any]) -> None:
    name = catalog["name"]
    base = catalog["baseLocation"]
    storage = catalog["storage"]
    properties = {"default-base-location": base, **catalog.get("properties", {})}
    body = {
        "catalog": {
            "name": name,
            "type": "INTERNAL",
            "properties": properties,
            "storageConfigInfo": {
                "storageType": "S3",
                "allowedLocations": storage["allowedLocations"],
                "endpoint": storage["endpoint"],
                "endpointInternal": storage["endpointInternal"],
                "pathStyleAccess": storage["pathStyleAccess"],
                "region": storage["region"],
                "stsUnavailable": True,
            },
        }
    }

    def verify() -> None:
        found = expect_ok(polaris.mgmt("GET", f"/catalogs/{q(name)}"), f"catalog {name}")
        if found.get("name") != name:
            raise BootstrapError(f"GET /catalogs/{name} returned catalog {found.get('name')!r}")
        got_base = str((found.get("properties") or {}).get("default-base-location", ""))
        if got_base.rstrip("/") != base.rstrip("/"):
            raise BootstrapError(
                f"catalog {name} exists with default-base-location {got_base!r}, expected {base!r}. "
                "Set polaris.catalog.baseLocation to the existing value or drop the catalog."
            )
        storage_type = (found.get("storageConfigInfo") or {}).get("storageType")
        if storage_type != "S3":
            raise BootstrapError(f"catalog {name} has storageType {storage_type!r}, expected 'S3'")
        config = polaris.call("GET", f"/api/catalog/v1/config?warehouse={q(name)}")
        expect_ok(config, f"Iceberg REST config of warehouse {name}")

    ensure(f"catalog {name} ({base})", lambda: polaris.mgmt("POST", "/catalogs", body), verify)


def ensure_product(polaris: Polaris, catalog_name: str, product: Mapping[str, Any], env: Mapping[str, str]) -> None:
    principal = product["principal"]
    principal_role = product["principalRole"]
    catalog_role = product["catalogRole"]
    id_env = f"POLARIS_{product['envSlug']}_CLIENT_ID"
    secret_env = f"POLARIS_{product['envSlug']}_CLIENT_SECRET"
    client_id, client_secret = env.get(id_env, ""), env.get(secret_env, "")
    if not client_id or not client_secret:
        raise BootstrapError(
            f"product {product['name']}: {id_env} and {secret_env} must be set (from the credentials Secret)"
        )

    def verify_principal() -> None:
        found = expect_ok(polaris.mgmt("GET", f"/principals/{q(principal)}"), f"principal {principal}")
        if found.get("name") != principal:
            raise BootstrapError(f"GET /principals/{principal} returned {found.get('name')!r}")

    ensure(
        f"principal {principal}",
        lambda: polaris.mgmt(
            "POST",
            "/principals",
            {
                "principal": {"name": principal, "properties": {"floe.product": product["name"]}},
                "credentialRotationRequired": False,
            },
        ),
        verify_principal,
    )
    # Converge the principal's credentials on the Secret's values (the ones the product uses).
    if polaris.get_token(client_id, client_secret).status != 200:
        reset = polaris.mgmt(
            "POST", f"/principals/{q(principal)}/reset", {"clientId": client_id, "clientSecret": client_secret}
        )
        if reset.status != 200:
            raise BootstrapError(f"setting the credentials of principal {principal} failed: {reset.describe()}")
        log(f"set credentials of principal {principal} from the credentials Secret")
    token_reply = polaris.get_token(client_id, client_secret)
    if token_reply.status != 200:
        raise BootstrapError(
            f"principal {principal} cannot log in with its Secret credentials: {token_reply.describe()}"
        )
    product_token = token_reply.json()["access_token"]
    log(f"verified principal {principal} logs in with its credentials")

    ensure(
        f"principal role {principal_role}",
        lambda: polaris.mgmt("POST", "/principal-roles", {"principalRole": {"name": principal_role}}),
        lambda: expect_ok(
            polaris.mgmt("GET", f"/principal-roles/{q(principal_role)}"), f"principal role {principal_role}"
        ),
    )

    def verify_assignment() -> None:
        roles = expect_ok(polaris.mgmt("GET", f"/principals/{q(principal)}/principal-roles"), f"roles of {principal}")
        if principal_role not in names_in(roles, "roles"):
            raise BootstrapError(f"principal {principal} does not hold principal role {principal_role}: {roles}")

    ensure(
        f"assignment of {principal_role} to {principal}",
        lambda: polaris.mgmt(
            "PUT", f"/principals/{q(principal)}/principal-roles", {"principalRole": {"name": principal_role}}
        ),
        verify_assignment,
    )
    role_path = f"/catalogs/{q(catalog_name)}/catalog-roles/{q(catalog_role)}"
    ensure(
        f"catalog role {catalog_name}/{catalog_role}",
        lambda: polaris.mgmt(
            "POST", f"/catalogs/{q(catalog_name)}/catalog-roles", {"catalogRole": {"name": catalog_role}}
        ),
        lambda: expect_ok(polaris.mgmt("GET", role_path), f"catalog role {catalog_role}"),
    )
    for privilege in product["privileges"]:

        def verify_grant(privilege: str = privilege) -> None:
            grants = expect_ok(polaris.mgmt("GET", role_path + "/grants"), f"grants of {catalog_role}")
            held = {(g.get("type"), g.get("privilege")) for g in (grants or {}).get("grants", [])}
            if ("catalog", privilege) not in held:
                raise BootstrapError(f"catalog role {catalog_role} lacks {privilege}; it holds {sorted(held)}")

        ensure(
            f"grant {privilege} on {catalog_name} to {catalog_role}",
            lambda privilege=privilege: polaris.mgmt(
                "PUT", role_path + "/grants", {"grant": {"type": "catalog", "privilege": privilege}}
            ),
            verify_grant,
            tolerate_500=True,
        )

    def verify_catalog_role_assignment() -> None:
        roles = expect_ok(
            polaris.mgmt("GET", f"/principal-roles/{q(principal_role)}/catalog-roles/{q(catalog_name)}"),
            f"catalog roles of {principal_role}",
        )
        if catalog_role not in names_in(roles, "roles"):
            raise BootstrapError(
                f"principal role {principal_role} does not hold {catalog_name}/{catalog_role}: {roles}"
            )

    ensure(
        f"assignment of {catalog_name}/{catalog_role} to {principal_role}",
        lambda: polaris.mgmt(
            "PUT",
            f"/principal-roles/{q(principal_role)}/catalog-roles/{q(catalog_name)}",
            {"catalogRole": {"name": catalog_role}},
        ),
        verify_catalog_role_assignment,
    )

    # End to end: the product's own token reaches the warehouse through the Iceberg REST API.
    config = expect_ok(
        polaris.call("GET", f"/api/catalog/v1/config?warehouse={q(catalog_name)}", token=product_token),
        f"warehouse {catalog_name} as {principal}",
    )
    prefix = ((config or {}).get("overrides") or {}).get("prefix") or catalog_name
    if LISTING_PRIVILEGES & set(product["privileges"]):
        expect_ok(
            polaris.call("GET", f"/api/catalog/v1/{q(prefix)}/namespaces", token=product_token),
            f"namespaces of {catalog_name} as {principal}",
        )
    log(f"verified product {product['name']} can use warehouse {catalog_name}")


# --------------------------------------------------------------------------- driver


def validate(config: Mapping[str, Any]) -> None:
    """Reject names that would not survive a URL path or a Polaris entity name."""
    problems = []
    for bucket in config.get("s3", {}).get("buckets", []):
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            problems.append(f"bucket {bucket!r} is not a valid S3 bucket name")
    polaris = config.get("polaris")
    if polaris:
        names = [polaris["catalog"]["name"]]
        for product in polaris.get("products", []):
            names += [product["name"], product["principal"], product["principalRole"], product["catalogRole"]]
            problems += [
                f"privilege {p!r} of {product['name']} is not a Polaris privilege name"
                for p in product["privileges"]
                if not PRIVILEGE_RE.fullmatch(p)
            ]
        problems += [f"name {n!r} must match {NAME_RE.pattern}" for n in names if not NAME_RE.fullmatch(str(n))]
    if problems:
        raise BootstrapError("invalid bootstrap config: " + "; ".join(problems))


def require_env(env: Mapping[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise BootstrapError(f"missing environment variables {missing} (they come from the credentials Secret)")
    return [env[n] for n in names]


def run(config: Mapping[str, Any], env: Mapping[str, str]) -> None:
    validate(config)
    deadline = time.monotonic() + float(config.get("waitSeconds", 600))
    s3_config = config.get("s3")
    if s3_config:
        access_key, secret_key = require_env(env, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        s3 = S3(s3_config["endpoint"], s3_config["region"], access_key, secret_key)
        wait_until(f"S3 endpoint {s3.endpoint}", s3.reachable, deadline)
        for bucket in s3_config["buckets"]:
            ensure_bucket(s3, bucket)
    polaris_config = config.get("polaris")
    if polaris_config:
        polaris = Polaris(polaris_config["url"], polaris_config["realm"])
        ready_url = polaris_config["managementUrl"].rstrip("/") + "/q/health/ready"
        wait_until(f"Polaris ({ready_url})", lambda: http("GET", ready_url).status == 200, deadline)
        root_id, root_secret = require_env(env, "POLARIS_ROOT_CLIENT_ID", "POLARIS_ROOT_CLIENT_SECRET")
        polaris.login(root_id, root_secret, "root")
        ensure_catalog(polaris, polaris_config["catalog"])
        for product in polaris_config.get("products", []):
            ensure_product(polaris, polaris_config["catalog"]["name"], product, env)


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: bootstrap.py <config.json>", file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as handle:
            config = json.load(handle)
        run(config, os.environ if env is None else env)
    except BootstrapError as exc:
        log(f"FAILED: {exc}")
        return 1
    except (OSError, ValueError, KeyError) as exc:
        log(f"FAILED: bad config {args[0]}: {exc!r}")
        return 1
    log("bootstrap complete: everything above was created or found, and verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
