"""`floe artifacts ...` through typer's runner, against the in-memory registry."""

from __future__ import annotations

import functools
import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tests.unit.oci.conftest import manifest_with
from tests.unit.oci.fake_registry import URL, FakeRegistry
from typer.testing import CliRunner

from floe.cli.artifacts import app
from floe.errors import ConfigError
from floe.oci.client import RegistryClient
from floe.oci.errors import SigningKeyError, UnsignedArtifactError

runner = CliRunner()


@pytest.fixture
def cli_fake(monkeypatch: pytest.MonkeyPatch) -> FakeRegistry:
    """The CLI's clients talk to an in-memory registry; credentials come from env references."""
    user = "floe"
    password = secrets.token_hex(16)
    monkeypatch.setenv("FLOE_REGISTRY_USER", user)
    monkeypatch.setenv("FLOE_REGISTRY_PASSWORD", password)
    monkeypatch.setenv("FLOE_REGISTRY_URL", URL)
    fake = FakeRegistry(user, password)
    monkeypatch.setattr(RegistryClient, "__init__", functools.partialmethod(RegistryClient.__init__, adapter=fake))
    return fake


def test_keygen(_home: Path) -> None:
    result = runner.invoke(app, ["keygen"])
    assert result.exit_code == 0, result.output
    key = _home / "keys" / "floe-artifacts.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and (_home / "keys" / "floe-artifacts.pub").exists()
    assert "ed25519:" in result.output and str(key) in result.output
    again = runner.invoke(app, ["keygen"])
    assert isinstance(again.exception, SigningKeyError)


def test_push_pull_verify_inspect(cli_fake: FakeRegistry, artifacts_json: bytes, tmp_path: Path) -> None:
    (tmp_path / "compiled_artifacts.json").write_bytes(artifacts_json)
    assert runner.invoke(app, ["keygen"]).exit_code == 0
    pushed = runner.invoke(app, ["push", str(tmp_path), "floe/customer-360:v1.0.0", "--json"])
    assert pushed.exit_code == 0, pushed.output
    digest = json.loads(pushed.output)["digest"]
    out = tmp_path / "pulled"
    out.mkdir()
    pulled = runner.invoke(app, ["pull", "floe/customer-360:v1.0.0", "-o", str(out)])
    assert pulled.exit_code == 0, pulled.output
    assert (out / "compiled_artifacts.json").read_bytes() == artifacts_json
    assert "signature valid" in pulled.output
    verified = runner.invoke(app, ["verify", "floe/customer-360:v1.0.0", "--json"])
    assert verified.exit_code == 0 and json.loads(verified.output)["status"] == "valid"
    inspected = runner.invoke(app, ["inspect", "floe/customer-360:v1.0.0", "--json"])
    info = json.loads(inspected.output)
    assert info["digest"] == digest and info["signature"]["status"] == "valid"
    again = runner.invoke(app, ["push", str(tmp_path), "floe/customer-360:v1.0.0"])
    assert "unchanged" in again.output


def test_unsigned_pull_is_refused_and_skip_verify_is_loud(cli_fake: FakeRegistry, artifacts_json: bytes,
                                                          tmp_path: Path) -> None:
    (tmp_path / "compiled_artifacts.json").write_bytes(artifacts_json)
    assert runner.invoke(app, ["keygen"]).exit_code == 0
    assert runner.invoke(app, ["push", str(tmp_path), "floe/x:v1.0.0", "--no-sign"]).exit_code == 0
    refused = runner.invoke(app, ["pull", "floe/x:v1.0.0", "-o", str(tmp_path / "a.json")])
    assert isinstance(refused.exception, UnsignedArtifactError)
    assert not (tmp_path / "a.json").exists()
    verify = runner.invoke(app, ["verify", "floe/x:v1.0.0"])
    assert isinstance(verify.exception, UnsignedArtifactError) and verify.exception.exit_code == 11
    assert "unsigned" in verify.output  # the report is printed before the error
    skipped = runner.invoke(app, ["pull", "floe/x:v1.0.0", "-o", str(tmp_path / "b.json"), "--insecure-skip-verify"])
    assert skipped.exit_code == 0
    assert "WARNING: --insecure-skip-verify" in skipped.output and "NOT checked" in skipped.output
    assert (tmp_path / "b.json").read_bytes() == artifacts_json


def test_promote_and_history(cli_fake: FakeRegistry, artifacts_json: bytes, tmp_path: Path, _home: Path) -> None:
    (tmp_path / "compiled_artifacts.json").write_bytes(artifacts_json)
    audit = json.dumps([sys.executable, "-I", "-S", "-c", "pass"])
    manifest = str(manifest_with(tmp_path, f"promotion:\n  audit_command: {audit}\n"))
    assert runner.invoke(app, ["keygen"]).exit_code == 0
    assert runner.invoke(app, ["push", str(tmp_path), "floe/x:v1.0.0", "-m", manifest]).exit_code == 0
    skip = runner.invoke(app, ["promote", "floe/x:v1.0.0", "--to", "prod", "-m", manifest])
    assert "dev -> prod skips staging" in str(skip.exception)
    promoted = runner.invoke(app, ["promote", "floe/x:v1.0.0", "--to", "staging", "--manifest", manifest, "--json",
                                   "--operator", "ci@floe.dev"])
    assert promoted.exit_code == 0, promoted.output
    record = json.loads(promoted.output)
    assert record["outcome"] == "promoted" and record["operator"] == "ci@floe.dev"
    assert {g["gate"]: g["status"] for g in record["gate_results"]}["vulnerability_audit"] == "passed"
    lines = (_home / "audit" / "promotions.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["id"] == record["id"]
    history = runner.invoke(app, ["history", "floe/x", "--json", "-m", manifest])
    assert [r["id"] for r in json.loads(history.output)] == [record["id"]]


def test_manifest_names_registry_credentials_and_environments(cli_fake: FakeRegistry, artifacts_json: bytes,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """No flags: the registry URL and the credential references come from artifacts.registry."""
    for name in ("USER", "PASSWORD"):  # only the manifest's references know where the credentials are
        monkeypatch.setenv(f"CI_REGISTRY_{name}", os.environ[f"FLOE_REGISTRY_{name}"])
        monkeypatch.delenv(f"FLOE_REGISTRY_{name}")
    monkeypatch.delenv("FLOE_REGISTRY_URL")
    manifest = str(manifest_with(tmp_path, f"""registry:
  url: {URL}
  username: env:CI_REGISTRY_USER
  password: env:CI_REGISTRY_PASSWORD
promotion:
  environments: [dev, qa, {{name: live, gates: {{tests_passed: false, vulnerability_audit: "off"}}}}]
"""))
    (tmp_path / "compiled_artifacts.json").write_bytes(artifacts_json)
    assert runner.invoke(app, ["keygen"]).exit_code == 0
    pushed = runner.invoke(app, ["push", str(tmp_path), "floe/x:v1.0.0", "-m", manifest])
    assert pushed.exit_code == 0, pushed.output
    reserved = runner.invoke(app, ["push", str(tmp_path), "floe/x:v1-qa", "-m", manifest])
    assert "promotions to qa" in str(reserved.exception)
    wrong = runner.invoke(app, ["promote", "floe/x:v1.0.0", "--to", "staging", "-m", manifest])
    assert "unknown environment 'staging'" in str(wrong.exception) and "dev -> qa -> live" in str(wrong.exception)
    assert runner.invoke(app, ["promote", "floe/x:v1.0.0", "--to", "qa", "-m", manifest]).exit_code == 0
    live = runner.invoke(app, ["promote", "floe/x:v1.0.0", "--to", "live", "-m", manifest, "--json"])
    gates = {g["gate"]: g for g in json.loads(live.output)["gate_results"]}
    assert gates["vulnerability_audit"]["status"] == gates["tests_passed"]["status"] == "skipped"
    assert "off for live" in gates["tests_passed"]["detail"]


def test_bad_artifacts_section_and_legacy_promotion_yaml_are_clear_errors(cli_fake: FakeRegistry, tmp_path: Path,
                                                                          _home: Path) -> None:
    bad = manifest_with(tmp_path, "promotion:\n  environments: [dev, Prod]\n")
    result = runner.invoke(app, ["history", "floe/x", "-m", str(bad)])
    assert isinstance(result.exception, ConfigError) and result.exception.exit_code == 5
    assert str(result.exception).startswith(f"{bad}: artifacts.promotion.environments[1].name: ")
    missing = runner.invoke(app, ["history", "floe/x", "-m", str(tmp_path / "nope.yaml")])
    assert isinstance(missing.exception, ConfigError) and "file not found" in str(missing.exception)
    legacy = _home / "config" / "promotion.yaml"
    legacy.parent.mkdir(parents=True)
    legacy.write_text("audit_required_in: [prod]\n")
    result = runner.invoke(app, ["promote", "floe/x:v1.0.0", "--to", "staging"])
    message = str(result.exception)
    assert isinstance(result.exception, ConfigError) and str(legacy) in message
    assert "moved to manifest.yaml" in message and "artifacts.promotion" in message


def test_bad_reference_is_a_clear_error() -> None:
    result = runner.invoke(app, ["pull", "floe/x:v1;rm -rf ~"])
    assert "whitespace" in str(result.exception)
    result = runner.invoke(app, ["pull", "floe/x:v1$(id)"])
    assert "shell metacharacter" in str(result.exception)


def test_cli_module_imports_no_heavy_libraries() -> None:
    code = ("import sys, floe.cli.artifacts; "
            "print([m for m in ('oras', 'requests', 'cryptography', 'floe.oci.client') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
