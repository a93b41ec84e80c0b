"""The Polaris bootstrap script, exactly as the chart ships it, against in-process fakes."""

from __future__ import annotations

import copy
import datetime
import json
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from .fake_platform import ROOT_ID, ROOT_SECRET, FakePolaris, FakeS3, Fault, running

PRODUCTS = ["customer-360", "iot-telemetry", "financial-risk"]


@pytest.fixture(scope="module")
def shipped(rendered) -> tuple[str, dict[str, Any]]:
    cm = rendered("platform-test").named("ConfigMap", "floe-platform-bootstrap")
    return cm["data"]["bootstrap.py"], json.loads(cm["data"]["polaris-bootstrap.json"])


@pytest.fixture
def bootstrap(shipped) -> Iterator[types.ModuleType]:
    """The script from the rendered ConfigMap, loaded as a module (fresh per test)."""
    module = types.ModuleType("floe_bootstrap_under_test")
    sys.modules[module.__name__] = module  # dataclasses look their module up while defining
    try:
        exec(compile(shipped[0], "bootstrap.py", "exec"), module.__dict__)
        module.POLL_SECONDS = 0.01
        yield module
    finally:
        del sys.modules[module.__name__]


@pytest.fixture
def fakes() -> Iterator[tuple[FakePolaris, FakeS3]]:
    polaris, s3 = FakePolaris(), FakeS3("s3key", "s3secret")
    with running(polaris, s3):
        yield polaris, s3


@pytest.fixture
def config(shipped, fakes) -> dict[str, Any]:
    polaris, s3 = fakes
    cfg = json.loads(json.dumps(shipped[1]))
    cfg["waitSeconds"] = 2
    cfg["s3"]["endpoint"] = s3.url
    cfg["polaris"]["url"] = polaris.url
    cfg["polaris"]["managementUrl"] = polaris.url
    return cfg


def product_creds(i: int) -> tuple[str, str]:
    return f"{i:016x}", f"{i:032x}"


@pytest.fixture
def env() -> dict[str, str]:
    values = {
        "AWS_ACCESS_KEY_ID": "s3key",
        "AWS_SECRET_ACCESS_KEY": "s3secret",  # pragma: allowlist secret
        "POLARIS_ROOT_CLIENT_ID": ROOT_ID,
        "POLARIS_ROOT_CLIENT_SECRET": ROOT_SECRET,
    }
    for i, product in enumerate(PRODUCTS, start=1):
        slug = product.upper().replace("-", "_")
        values[f"POLARIS_{slug}_CLIENT_ID"], values[f"POLARIS_{slug}_CLIENT_SECRET"] = product_creds(i)
    return values


def test_fresh_platform_gets_bucket_catalog_and_product_access(bootstrap, config, env, fakes) -> None:
    polaris, s3 = fakes
    bootstrap.run(config, env)

    assert s3.buckets == {"floe-iceberg"}
    catalog = polaris.state.catalogs["floe-e2e"]
    assert catalog["properties"]["default-base-location"] == "s3://floe-iceberg/floe-e2e"
    assert catalog["storageConfigInfo"]["storageType"] == "S3"
    for i, product in enumerate(PRODUCTS, start=1):
        client_id, client_secret = product_creds(i)
        assert polaris.state.principals[product] == {"clientId": client_id, "clientSecret": client_secret}
        assert polaris.state.principal_assignments[product] == {f"{product}-pipeline"}
        assert polaris.state.grants[("floe-e2e", f"{product}-writer")] == {"CATALOG_MANAGE_CONTENT"}
        assert polaris.state.catalog_role_assignments[(f"{product}-pipeline", "floe-e2e")] == {f"{product}-writer"}


def test_every_create_is_read_back(bootstrap, config, env, fakes) -> None:
    polaris, s3 = fakes
    bootstrap.run(config, env)
    log = polaris.requests
    create = log.index(("POST", "/api/management/v1/catalogs"))
    assert ("GET", "/api/management/v1/catalogs/floe-e2e") in log[create + 1 :]
    assert ("GET", "/api/catalog/v1/config") in log[create + 1 :]
    assert s3.requests.index(("HEAD", "/floe-iceberg")) > s3.requests.index(("PUT", "/floe-iceberg"))
    assert ("GET", "/floe-iceberg/.floe-bootstrap/probe") in s3.requests
    for product in PRODUCTS:
        assert ("GET", f"/api/management/v1/principals/{product}") in log
        assert ("GET", f"/api/management/v1/catalogs/floe-e2e/catalog-roles/{product}-writer/grants") in log
        # the product's own token reached the warehouse
        assert ("GET", "/api/catalog/v1/floe-e2e/namespaces") in log


def test_second_run_finds_everything_and_still_verifies(bootstrap, config, env, fakes, capsys) -> None:
    polaris, _ = fakes
    bootstrap.run(config, env)
    before = copy.deepcopy(polaris.state)
    polaris.requests.clear()
    capsys.readouterr()

    bootstrap.run(config, env)  # 409s and Polaris' duplicate-grant 500s are all tolerated

    out = capsys.readouterr().out
    assert "bucket s3://floe-iceberg already exists" in out
    assert "catalog floe-e2e (s3://floe-iceberg/floe-e2e) already exists" in out
    assert "already in place" in out or "checking whether it is already in place" in out
    assert polaris.state == before
    assert ("GET", "/api/management/v1/catalogs/floe-e2e") in polaris.requests
    assert not any(path.endswith("/reset") for _, path in polaris.requests), "working credentials are left alone"


def test_principal_with_foreign_credentials_is_reset_to_the_secret(bootstrap, config, env, fakes) -> None:
    polaris, _ = fakes
    polaris.state.principals["customer-360"] = {"clientId": "ffffffffffffffff", "clientSecret": "f" * 32}
    bootstrap.run(config, env)
    assert polaris.state.principals["customer-360"] == dict(
        zip(("clientId", "clientSecret"), product_creds(1), strict=True)
    )
    assert ("POST", "/api/management/v1/principals/customer-360/reset") in polaris.requests


def test_catalog_that_is_not_persisted_fails_the_job(bootstrap, config, env, fakes) -> None:
    polaris, _ = fakes
    polaris.faults.append(Fault("GET", r"/api/management/v1/catalogs/floe-e2e", 404))
    with pytest.raises(bootstrap.BootstrapError, match=r"reading back catalog floe-e2e failed: GET .* -> HTTP 404"):
        bootstrap.run(config, env)


def test_catalog_create_error_other_than_409_fails_loudly(bootstrap, config, env, fakes) -> None:
    polaris, _ = fakes
    polaris.faults.append(Fault("POST", r"/api/management/v1/catalogs", 500))
    with pytest.raises(
        bootstrap.BootstrapError, match=r"creating catalog floe-e2e .* failed: POST .*/catalogs -> HTTP 500"
    ):
        bootstrap.run(config, env)


def test_existing_catalog_with_another_location_is_reported(bootstrap, config, env, fakes) -> None:
    polaris, _ = fakes
    polaris.state.catalogs["floe-e2e"] = {
        "name": "floe-e2e",
        "properties": {"default-base-location": "s3://elsewhere/"},
        "storageConfigInfo": {"storageType": "S3"},
    }
    with pytest.raises(bootstrap.BootstrapError, match=r"'s3://elsewhere/', expected 's3://floe-iceberg/floe-e2e'"):
        bootstrap.run(config, env)


def test_grant_that_does_not_stick_fails_even_after_a_500(bootstrap, config, env, fakes) -> None:
    polaris, _ = fakes
    polaris.faults.append(Fault("PUT", r".*/catalog-roles/customer-360-writer/grants", 500))
    with pytest.raises(
        bootstrap.BootstrapError, match=r"grant CATALOG_MANAGE_CONTENT .* HTTP 500.*lacks CATALOG_MANAGE_CONTENT"
    ):
        bootstrap.run(config, env)


def test_wrong_root_credentials_are_named(bootstrap, config, env, fakes) -> None:
    env["POLARIS_ROOT_CLIENT_SECRET"] = "wrong"  # pragma: allowlist secret
    with pytest.raises(
        bootstrap.BootstrapError, match=r"Polaris rejected the root credentials: POST .*oauth/tokens -> HTTP 401"
    ):
        bootstrap.run(config, env)


def test_wrong_s3_credentials_fail_before_polaris(bootstrap, config, env, fakes) -> None:
    polaris, _ = fakes
    env["AWS_ACCESS_KEY_ID"] = "other"
    with pytest.raises(bootstrap.BootstrapError, match=r"creating bucket s3://floe-iceberg failed: PUT .* HTTP 403"):
        bootstrap.run(config, env)
    assert polaris.requests == []


def test_polaris_that_never_gets_ready_times_out_with_a_reason(bootstrap, config, env, fakes) -> None:
    polaris, _ = fakes
    polaris.ready = False
    config["waitSeconds"] = 0.2
    with pytest.raises(bootstrap.BootstrapError, match=r"Polaris .*q/health/ready\) did not become ready in time"):
        bootstrap.run(config, env)


def test_missing_product_credentials_are_named(bootstrap, config, env, fakes) -> None:
    del env["POLARIS_IOT_TELEMETRY_CLIENT_SECRET"]
    with pytest.raises(
        bootstrap.BootstrapError, match=r"POLARIS_IOT_TELEMETRY_CLIENT_ID and POLARIS_IOT_TELEMETRY_CLIENT_SECRET"
    ):
        bootstrap.run(config, env)


def test_main_exit_codes_and_output(bootstrap, config, env, fakes, tmp_path, capsys) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert bootstrap.main([str(path)], env) == 0
    assert "bootstrap complete" in capsys.readouterr().out
    env["POLARIS_ROOT_CLIENT_ID"] = "nobody"
    assert bootstrap.main([str(path)], env) == 1
    assert "[floe-bootstrap] FAILED: Polaris rejected the root credentials" in capsys.readouterr().out
    assert bootstrap.main([], env) == 2


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c["s3"].update(buckets=["Bad_Bucket"]), "not a valid S3 bucket name"),
        (lambda c: c["polaris"]["catalog"].update(name="x; rm -rf /"), "must match"),
        (
            lambda c: c["polaris"]["products"][0].update(privileges=["all privileges"]),
            "is not a Polaris privilege name",
        ),
    ],
)
def test_invalid_names_are_rejected_before_any_request(bootstrap, config, env, fakes, mutate, message) -> None:
    polaris, s3 = fakes
    mutate(config)
    with pytest.raises(bootstrap.BootstrapError, match=message):
        bootstrap.run(config, env)
    assert polaris.requests == [] and s3.requests == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/floe-iceberg", b""),
        ("HEAD", "/floe-iceberg", b""),
        ("PUT", "/floe-iceberg/.floe-bootstrap/probe", b"x"),
    ],
)
def test_sigv4_signature_matches_botocore(bootstrap, method: str, path: str, body: bytes) -> None:
    """The stdlib signer agrees with botocore's S3 signer byte for byte."""
    from unittest import mock

    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    url = "http://floe-platform-seaweedfs:8333" + path
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    key, secret = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # pragma: allowlist secret
    ours = bootstrap.sigv4_headers(
        method, url, region="us-east-1", access_key=key, secret_key=secret, payload=body, now=now
    )
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=now.replace(tzinfo=None)):
        botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(key, secret), "s3", "us-east-1").add_auth(request)
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["x-amz-content-sha256"] == request.headers["X-Amz-Content-SHA256"]
