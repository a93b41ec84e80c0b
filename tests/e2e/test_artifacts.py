"""Artifact distribution against the platform's real OCI registry (docker-registry, htpasswd auth).

Registry: FLOE_REGISTRY_URL (default the platform's http://127.0.0.1:5050); credentials: the
platform's $FLOE_HOME/secrets.env (FLOE_REGISTRY_USER / FLOE_REGISTRY_PASSWORD; variables of the same
name in the environment win, which is how the suite runs against a developer's own registry).
Tampering is done the ways an attacker with access would: editing a blob file in the registry's
filesystem storage (FLOE_REGISTRY_STORAGE, default $FLOE_HOME/data/registry), and re-pointing a tag
with raw registry API calls that bypass floe's immutability check.

Every test uses its own repository (floe-e2e/<run>/<test>) so runs never collide on immutable tags.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import ROOT
from tests.e2e.conftest import RUN

pytestmark = pytest.mark.e2e
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


# -- helpers (the registry, credential, key and repository fixtures are in conftest) --------------
def cli(*args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`floe artifacts ...` in a subprocess, with the real CLI's error handling."""
    r = subprocess.run([sys.executable, "-m", "floe.cli.artifacts", *args], capture_output=True, text=True,
                       cwd=ROOT, timeout=300, check=False, env={**os.environ, **(env or {})})
    if check and r.returncode != 0:
        raise AssertionError(f"floe artifacts {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def product_file(tmp_path: Path, artifact_json: bytes, label: str, **metadata: Any) -> Path:
    """Real compiled artifacts made unique to this run (metadata only; still valid CompiledArtifacts)."""
    doc = json.loads(artifact_json)
    doc["metadata"].update({"description": f"e2e {RUN} {label}", **metadata})
    path = tmp_path / label / "compiled_artifacts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def manifest_with_audit(tmp_path: Path, manifest_path: Path, audit_command: list[str]) -> Path:
    """The platform manifest with ``artifacts.promotion.audit_command`` set (promotion settings live there)."""
    import yaml

    doc = yaml.safe_load(manifest_path.read_text())
    doc.setdefault("artifacts", {}).setdefault("promotion", {})["audit_command"] = audit_command
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def push(path: Path, ref: str, key: Path, *extra: str) -> dict[str, Any]:
    return dict(json.loads(cli("push", str(path), ref, "--key", str(key), "--json", *extra).stdout))


def raw(registry: str, creds: tuple[str, str]) -> httpx.Client:
    """A plain registry API client: what an attacker with (stolen) push credentials would use."""
    return httpx.Client(base_url=registry, auth=creds, timeout=30)


def put_blob(client: httpx.Client, repo: str, data: bytes) -> str:
    from floe.oci.media import sha256_digest

    digest = sha256_digest(data)
    r = client.post(f"/v2/{repo}/blobs/uploads/")
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    sep = "&" if "?" in location else "?"
    r = client.put(f"{location}{sep}digest={digest}", content=data,
                   headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 201, r.text
    return digest


def storage_root() -> Path:
    from floe.home import Home

    return Path(os.environ.get("FLOE_REGISTRY_STORAGE") or Home.current().data / "registry")


@pytest.fixture
def restore_blobs() -> Iterator[dict[Path, bytes]]:
    """Blob files a test edits in the registry's storage are put back afterwards."""
    saved: dict[Path, bytes] = {}
    yield saved
    for path, data in saved.items():
        path.write_bytes(data)


# -- tests --------------------------------------------------------------------------------------------
@pytest.mark.requirement("FLOE-OCI-ROUNDTRIP")
def test_push_pull_inspect_round_trip_is_byte_identical(registry: str, creds: tuple[str, str], artifact_json: bytes,
                                                        keys: tuple[Path, Path], repo: str, tmp_path: Path) -> None:
    key, pub = keys
    source = product_file(tmp_path, artifact_json, "roundtrip")
    pushed = push(source, f"{repo}:v1.0.0", key)
    assert pushed["created"] and pushed["digest"].startswith("sha256:") and pushed["signed_by"].startswith("ed25519:")

    out = tmp_path / "pulled.json"
    pulled = cli("pull", f"{repo}:v1.0.0", "-o", str(out), "--public-key", str(pub))
    assert out.read_bytes() == source.read_bytes()
    assert "signature valid" in pulled.stdout

    info = json.loads(cli("inspect", f"{repo}:v1.0.0", "--public-key", str(pub), "--json").stdout)
    assert info["digest"] == pushed["digest"]
    assert info["artifact_type"] == "application/vnd.floe.compiled-artifacts.v1+json"
    assert info["size"] == len(source.read_bytes()) and info["signature"]["status"] == "valid"
    assert info["annotations"]["dev.floe.product"] == "customer-360"

    # what the registry itself holds: an OCI manifest with floe's types, and the signature next to it
    with raw(registry, creds) as client:
        r = client.get(f"/v2/{repo}/manifests/v1.0.0", headers={"Accept": OCI_MANIFEST})
        assert r.headers["Docker-Content-Digest"] == pushed["digest"]
        manifest = r.json()
        assert manifest["artifactType"] == "application/vnd.floe.compiled-artifacts.v1+json"
        assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
        layer = client.get(f"/v2/{repo}/blobs/{manifest['layers'][0]['digest']}")
        assert layer.content == source.read_bytes()
        sig_tag = pushed["digest"].replace(":", "-") + ".sig"
        sig = client.get(f"/v2/{repo}/manifests/{sig_tag}", headers={"Accept": OCI_MANIFEST}).json()
        assert sig["artifactType"] == "application/vnd.floe.artifact-signature.v1+json"
        assert sig["subject"]["digest"] == pushed["digest"]
    # by digest, the same bytes
    cli("pull", f"{repo}@{pushed['digest']}", "-o", str(tmp_path / "by-digest.json"), "--public-key", str(pub))
    assert (tmp_path / "by-digest.json").read_bytes() == source.read_bytes()


@pytest.mark.requirement("FLOE-OCI-AUTH")
def test_anonymous_access_gets_401(registry: str, creds: tuple[str, str], artifact_json: bytes, keys: tuple[Path, Path],
                                   repo: str, tmp_path: Path) -> None:
    from floe.errors import AuthenticationError
    from floe.oci.client import ArtifactStore, RegistryClient
    from floe.oci.tags import ArtifactRef

    key, pub = keys
    push(product_file(tmp_path, artifact_json, "auth"), f"{repo}:v1.0.0", key)
    for path in ("/v2/", f"/v2/{repo}/manifests/v1.0.0", f"/v2/{repo}/tags/list"):
        r = httpx.get(f"{registry}{path}", timeout=10)
        assert r.status_code == 401 and r.headers["Www-Authenticate"].startswith("Basic"), path
    assert httpx.post(f"{registry}/v2/{repo}/blobs/uploads/", timeout=10).status_code == 401

    # a docker/oras login left in ~/.docker/config.json must not make floe's anonymous client authenticated
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    host = registry.split("://", 1)[1]
    auth = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    env = {"HOME": str(home), "ORAS_USER": creds[0], "ORAS_PASS": creds[1]}
    r = cli("pull", f"{repo}:v1.0.0", "--anonymous", "--public-key", str(pub), "-o", str(tmp_path / "x.json"),
            check=False, env=env)
    assert r.returncode == AuthenticationError.exit_code
    assert "HTTP 401" in r.stderr and "this client is anonymous" in r.stderr
    assert creds[1] not in r.stderr + r.stdout
    assert not (tmp_path / "x.json").exists()
    with pytest.raises(AuthenticationError):
        ArtifactStore(RegistryClient(registry, None)).fetch(ArtifactRef(repo, tag="v1.0.0"))


@pytest.mark.requirement("FLOE-OCI-IMMUTABLE")
def test_semver_tags_are_immutable(registry: str, creds: tuple[str, str], artifact_json: bytes, keys: tuple[Path, Path],
                                   repo: str, tmp_path: Path) -> None:
    key, _ = keys
    first = push(product_file(tmp_path, artifact_json, "one"), f"{repo}:v1.0.0", key)
    again = push(product_file(tmp_path, artifact_json, "one"), f"{repo}:v1.0.0", key)
    assert not again["created"] and again["digest"] == first["digest"]
    r = cli("push", str(product_file(tmp_path, artifact_json, "two")), f"{repo}:v1.0.0", "--key", str(key), check=False)
    assert r.returncode == 8
    assert f"{repo}:v1.0.0 already points at {first['digest']}" in r.stderr and "immutable" in r.stderr
    with raw(registry, creds) as client:
        head = client.head(f"/v2/{repo}/manifests/v1.0.0", headers={"Accept": OCI_MANIFEST})
        assert head.headers["Docker-Content-Digest"] == first["digest"]


@pytest.mark.requirement("FLOE-OCI-TAMPER")
def test_blob_edited_in_registry_storage_is_refused(registry: str, artifact_json: bytes, keys: tuple[Path, Path],
                                                    repo: str, tmp_path: Path,
                                                    restore_blobs: dict[Path, bytes]) -> None:
    """Someone with write access to the registry's disk edits the stored artifact (same size)."""
    from floe.oci.media import sha256_digest

    key, pub = keys
    source = product_file(tmp_path, artifact_json, "tamper-disk")
    push(source, f"{repo}:v1.0.0", key)
    cli("verify", f"{repo}:v1.0.0", "--public-key", str(pub))

    layer = sha256_digest(source.read_bytes())
    blob = storage_root() / "docker/registry/v2/blobs/sha256" / layer[7:9] / layer[7:] / "data"
    assert blob.is_file(), f"no blob file {blob}: set FLOE_REGISTRY_STORAGE to the registry's rootdirectory"
    original = blob.read_bytes()
    restore_blobs[blob] = original
    marker = f"e2e {RUN} tamper-disk".encode()
    blob.write_bytes(original.replace(marker, marker.upper()))
    assert blob.read_bytes() != original and len(blob.read_bytes()) == len(original)

    out = tmp_path / "out.json"
    r = cli("pull", f"{repo}:v1.0.0", "-o", str(out), "--public-key", str(pub), check=False)
    assert r.returncode == 11, r.stderr
    assert f"hashes to {sha256_digest(blob.read_bytes())}" in r.stderr and "was altered" in r.stderr
    assert not out.exists()
    r = cli("pull", f"{repo}:v1.0.0", "-o", str(out), "--insecure-skip-verify", check=False)
    assert r.returncode == 11 and not out.exists()  # skipping signatures never skips digests
    v = cli("verify", f"{repo}:v1.0.0", "--public-key", str(pub), "--json", check=False)
    assert v.returncode == 11 and json.loads(v.stdout)["status"] == "tampered"


@pytest.mark.requirement("FLOE-OCI-TAMPER")
def test_repointed_tag_with_copied_signature_is_refused(registry: str, creds: tuple[str, str], artifact_json: bytes,
                                                        keys: tuple[Path, Path], repo: str, tmp_path: Path) -> None:
    """An attacker with push credentials bypasses floe: re-points v1.0.0 at modified content through the
    registry API and copies the genuine signature to the new digest's signature tag."""
    from floe.oci.media import artifacts_manifest, sha256_digest

    key, pub = keys
    good = push(product_file(tmp_path, artifact_json, "tamper-tag"), f"{repo}:v1.0.0", key)["digest"]
    evil = product_file(tmp_path, artifact_json, "tamper-tag-evil", owner="mallory@example.com").read_bytes()
    evil_manifest = artifacts_manifest(evil).to_bytes()
    good_sig_tag = good.replace(":", "-") + ".sig"
    with raw(registry, creds) as client:
        put_blob(client, repo, b"{}")
        put_blob(client, repo, evil)
        r = client.put(f"/v2/{repo}/manifests/v1.0.0", content=evil_manifest,
                       headers={"Content-Type": OCI_MANIFEST})
        assert r.status_code == 201, r.text  # the registry itself does not enforce immutability
        evil_digest = sha256_digest(evil_manifest)
        sig = client.get(f"/v2/{repo}/manifests/{good_sig_tag}", headers={"Accept": OCI_MANIFEST}).content
        r = client.put(f"/v2/{repo}/manifests/{evil_digest.replace(':', '-')}.sig", content=sig,
                       headers={"Content-Type": OCI_MANIFEST})
        assert r.status_code == 201, r.text

    r = cli("pull", f"{repo}:v1.0.0", "-o", str(tmp_path / "evil.json"), "--public-key", str(pub), check=False)
    assert r.returncode == 11
    assert f"({evil_digest}): signature is invalid" in r.stderr and f"belongs to {good}" in r.stderr
    assert not (tmp_path / "evil.json").exists()
    # the genuine release is still intact and verifiable by digest
    cli("verify", f"{repo}@{good}", "--public-key", str(pub))


@pytest.mark.requirement("FLOE-OCI-SIGNING")
def test_unsigned_artifact_is_refused(registry: str, artifact_json: bytes, keys: tuple[Path, Path], repo: str,
                                      tmp_path: Path) -> None:
    key, pub = keys
    source = product_file(tmp_path, artifact_json, "unsigned")
    pushed = push(source, f"{repo}:v1.0.0", key, "--no-sign")
    assert pushed["signed_by"] is None
    out = tmp_path / "out.json"
    r = cli("pull", f"{repo}:v1.0.0", "-o", str(out), "--public-key", str(pub), check=False)
    assert r.returncode == 11
    assert f"{repo}:v1.0.0 ({pushed['digest']}) is not signed; refusing to use it" in r.stderr
    assert not out.exists()
    v = cli("verify", f"{repo}:v1.0.0", "--public-key", str(pub), check=False)
    assert v.returncode == 11 and "unsigned" in v.stdout
    skipped = cli("pull", f"{repo}:v1.0.0", "-o", str(out), "--insecure-skip-verify")
    assert "WARNING: --insecure-skip-verify" in skipped.stderr and out.read_bytes() == source.read_bytes()
    cli("sign", f"{repo}:v1.0.0", "--key", str(key))
    cli("pull", f"{repo}:v1.0.0", "-o", str(out), "--public-key", str(pub))


@pytest.mark.requirement("FLOE-OCI-PROMOTION")
def test_promotion_and_rollback_leave_audit_records(registry: str, creds: tuple[str, str], artifact_json: bytes,
                                                    keys: tuple[Path, Path], repo: str, tmp_path: Path,
                                                    manifest_path: Path) -> None:
    from floe.oci.promotion import default_audit_log

    key, pub = keys
    manifest = manifest_with_audit(tmp_path, manifest_path, [sys.executable, "-c", "import sys, json; "
                                                             "json.load(open(sys.argv[1]))", "{path}"])
    common = ("--manifest", str(manifest), "--public-key", str(pub), "--json")
    digests = {}
    records = []
    for version in ("1.0.0", "1.1.0"):
        path = product_file(tmp_path, artifact_json, f"promo-{version}", product_version=version)
        digests[version] = push(path, f"{repo}:v{version}", key)["digest"]
        for env in ("staging", "prod"):
            out = cli("promote", f"{repo}:v{version}", "--to", env, "--operator", "ci@floe.dev", *common)
            records.append(json.loads(out.stdout))
    assert [(r["source_env"], r["target_env"]) for r in records] == [("dev", "staging"), ("staging", "prod")] * 2
    assert all(r["outcome"] == "promoted" and len(r["trace_id"]) == 32 for r in records)
    assert all(g["status"] == "passed" for r in records for g in r["gate_results"])

    rolled = json.loads(cli("rollback", repo, "--env", "prod", "--reason", "e2e rollback",
                            "--operator", "oncall@floe.dev", *common).stdout)
    assert (rolled["action"], rolled["outcome"], rolled["tag"]) == ("rollback", "rolled_back", "v1.0.0")
    assert rolled["digest"] == digests["1.0.0"] and rolled["previous_digest"] == digests["1.1.0"]

    with raw(registry, creds) as client:
        def at(tag: str) -> str:
            r = client.head(f"/v2/{repo}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
            return str(r.headers["Docker-Content-Digest"])

        assert at("env-prod") == digests["1.0.0"] and at("env-staging") == digests["1.1.0"]
        assert at("v1.1.0-prod") == digests["1.1.0"] and at("v1.0.0-staging") == digests["1.0.0"]
        # each record is also an artifact in the registry whose subject is the promoted manifest
        record_manifest = client.get(f"/v2/{repo}/manifests/audit-{rolled['id']}",
                                     headers={"Accept": OCI_MANIFEST}).json()
        assert record_manifest["artifactType"] == "application/vnd.floe.promotion-record.v1+json"
        assert record_manifest["subject"]["digest"] == digests["1.0.0"]
        stored = client.get(f"/v2/{repo}/blobs/{record_manifest['layers'][0]['digest']}").json()
        assert stored == rolled

    history = json.loads(cli("history", repo, "--json").stdout)
    assert [r["id"] for r in history] == [r["id"] for r in [*records, rolled]]
    local = [json.loads(line) for line in default_audit_log().read_text().splitlines()]
    ids = {r["id"] for r in local}
    assert {r["id"] for r in [*records, rolled]} <= ids
    assert next(r for r in local if r["id"] == rolled["id"])["reason"] == "e2e rollback"
    pulled = cli("pull", f"{repo}:env-prod", "-o", str(tmp_path / "prod.json"), "--public-key", str(pub))
    assert "signature valid" in pulled.stdout
    assert json.loads((tmp_path / "prod.json").read_text())["metadata"]["product_version"] == "1.0.0"


@pytest.mark.requirement("FLOE-OCI-PROMOTION")
def test_forbidden_transitions_fail_naming_them(registry: str, artifact_json: bytes, keys: tuple[Path, Path], repo: str,
                                                tmp_path: Path, manifest_path: Path) -> None:
    key, pub = keys
    manifest = manifest_with_audit(tmp_path, manifest_path, [sys.executable, "-c", "pass"])
    push(product_file(tmp_path, artifact_json, "transitions"), f"{repo}:v1.0.0", key)
    common = ("--manifest", str(manifest), "--public-key", str(pub))

    r = cli("promote", f"{repo}:v1.0.0", "--to", "prod", *common, check=False)
    assert r.returncode == 12 and "dev -> prod skips staging" in r.stderr
    cli("promote", f"{repo}:v1.0.0", "--to", "staging", *common)
    cli("promote", f"{repo}:v1.0.0", "--to", "prod", *common)
    r = cli("promote", f"{repo}:v1.0.0", "--to", "staging", *common, check=False)
    assert r.returncode == 12 and "prod -> staging goes backwards" in r.stderr and "rollback" in r.stderr
    r = cli("promote", f"{repo}:v1.0.0", "--to", "qa", *common, check=False)
    assert r.returncode == 12 and "unknown environment 'qa'" in r.stderr
    r = cli("rollback", repo, "--env", "prod", *common, check=False)
    assert r.returncode == 10 and "no earlier version promoted to prod" in r.stderr


@pytest.mark.requirement("FLOE-OCI-GATES")
def test_failing_audit_gate_blocks_promotion_with_error_and_duration(registry: str, artifact_json: bytes,
                                                                      keys: tuple[Path, Path], repo: str,
                                                                      tmp_path: Path, manifest_path: Path) -> None:
    key, pub = keys
    scanner = "import sys; print('CVE-2099-0001 critical in left-pad'); sys.exit(4)"
    manifest = manifest_with_audit(tmp_path, manifest_path, [sys.executable, "-c", scanner])
    push(product_file(tmp_path, artifact_json, "gates"), f"{repo}:v1.0.0", key)
    r = cli("promote", f"{repo}:v1.0.0", "--to", "staging", "--manifest", str(manifest), "--public-key", str(pub),
            "--json", check=False)
    assert r.returncode == 12
    assert "gate(s) failed: vulnerability_audit" in r.stderr and "CVE-2099-0001" in r.stderr
    record = json.loads(r.stdout)
    assert record["outcome"] == "rejected"
    gate = next(g for g in record["gate_results"] if g["gate"] == "vulnerability_audit")
    assert gate["status"] == "failed" and "exited 4" in gate["error"] and gate["duration_ms"] > 0
    [stored] = json.loads(cli("history", repo, "--json").stdout)
    assert stored["id"] == record["id"] and stored["outcome"] == "rejected"
    info = json.loads(cli("inspect", f"{repo}:v1.0.0", "--json", "--public-key", str(pub)).stdout)
    assert info["environments"] == []


@pytest.mark.requirement("FLOE-OCI-TAGS")
def test_tag_injection_is_refused_before_any_request(registry: str, creds: tuple[str, str], artifact_json: bytes,
                                                     keys: tuple[Path, Path], repo: str, tmp_path: Path) -> None:
    key, _ = keys
    path = product_file(tmp_path, artifact_json, "injection")
    for tag, fragment in [("v1;touch /tmp/pwned", "whitespace"), ("v1$(id)", "shell metacharacter"),
                          ("v1`id`", "shell metacharacter"), ("v1\nv2", "whitespace"), ("", "tag is empty"),
                          ("a" * 129, "at most 128")]:
        r = cli("push", str(path), f"{repo}:{tag}", "--key", str(key), check=False)
        assert r.returncode == 10, (tag, r.stderr)
        assert fragment in r.stderr, (tag, r.stderr)
    with raw(registry, creds) as client:
        assert client.get(f"/v2/{repo}/tags/list").status_code == 404  # nothing was created
