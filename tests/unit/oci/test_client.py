"""Push, pull, inspect and verify against an in-memory registry: immutability, auth, tamper detection."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from tests.unit.oci.conftest import variant
from tests.unit.oci.fake_registry import URL, FakeRegistry

from floe.errors import AuthenticationError, ConfigError, ServiceUnavailableError
from floe.oci.client import (
    ArtifactStore,
    RegistryClient,
    RegistryCredentials,
    read_artifacts_file,
    registry_url,
    resolve_credentials,
)
from floe.oci.errors import (
    ArtifactError,
    ImmutableTagError,
    InvalidReferenceError,
    SignatureInvalidError,
    TamperedArtifactError,
    UnsignedArtifactError,
)
from floe.oci.media import ARTIFACT_TYPE, OCI_EMPTY, SIGNATURE_TYPE, Manifest, artifacts_manifest, sha256_digest
from floe.oci.tags import ArtifactRef, signature_tag

REF = ArtifactRef.parse("floe/customer-360:v1.0.0")


def test_push_pull_round_trip_is_byte_identical(store: ArtifactStore, artifacts_json: bytes, private_key: Any,
                                                public_key: Any) -> None:
    pushed = store.push(REF, artifacts_json, signing_key=private_key)
    assert pushed.created and pushed.digest.startswith("sha256:") and pushed.signed_by
    pulled = store.pull(REF, public_key)
    assert pulled.content == artifacts_json
    assert pulled.digest == pushed.digest
    assert pulled.verification is not None and pulled.verification.status == "valid"
    assert pulled.compiled().metadata.product_name == "customer-360"
    by_digest = store.pull(ArtifactRef("floe/customer-360", digest=pushed.digest), public_key)
    assert by_digest.content == artifacts_json


def test_manifest_shape(store: ArtifactStore, fake: FakeRegistry, artifacts_json: bytes) -> None:
    digest = store.push(REF, artifacts_json).digest
    doc = json.loads(fake.manifests[digest])
    assert doc["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert doc["artifactType"] == ARTIFACT_TYPE == "application/vnd.floe.compiled-artifacts.v1+json"
    assert doc["config"]["mediaType"] == OCI_EMPTY
    assert [layer["mediaType"] for layer in doc["layers"]] == [ARTIFACT_TYPE]
    assert doc["layers"][0]["digest"] == sha256_digest(artifacts_json)
    assert doc["annotations"]["dev.floe.product"] == "customer-360"
    # deterministic: the same content gives the same manifest on any machine
    assert artifacts_manifest(artifacts_json).to_bytes() == fake.manifests[digest]


def test_same_content_again_is_a_no_op(store: ArtifactStore, fake: FakeRegistry, artifacts_json: bytes) -> None:
    first = store.push(REF, artifacts_json)
    puts = sum(1 for m, _ in fake.requests if m == "PUT")
    second = store.push(REF, artifacts_json)
    assert not second.created and second.digest == first.digest
    assert sum(1 for m, _ in fake.requests if m == "PUT") == puts


def test_semver_tag_with_other_content_is_refused(store: ArtifactStore, fake: FakeRegistry,
                                                   artifacts_json: bytes) -> None:
    first = store.push(REF, artifacts_json)
    changed = variant(artifacts_json, metadata__description="changed")
    with pytest.raises(ImmutableTagError) as exc:
        store.push(REF, changed)
    msg = str(exc.value)
    assert f"floe/customer-360:v1.0.0 already points at {first.digest}" in msg
    assert "Semver tags are immutable" in msg and "bump the version" in msg
    assert fake.tags["floe/customer-360"]["v1.0.0"] == first.digest


def test_mutable_tag_moves(store: ArtifactStore, artifacts_json: bytes) -> None:
    ref = ArtifactRef.parse("floe/customer-360:latest")
    first = store.push(ref, artifacts_json)
    second = store.push(ref, variant(artifacts_json, metadata__description="next"))
    assert second.created and second.digest != first.digest
    assert store.client.resolve("floe/customer-360", "latest") == second.digest


@pytest.mark.parametrize("tag", ["env-prod", "v1.0.0-staging", "audit-x"])
def test_reserved_tags_cannot_be_pushed(store: ArtifactStore, artifacts_json: bytes, tag: str) -> None:
    with pytest.raises(InvalidReferenceError, match=f"tag {tag} is reserved"):
        store.push(ArtifactRef("floe/x", tag=tag), artifacts_json)


def test_unsigned_artifact_is_refused(store: ArtifactStore, artifacts_json: bytes, public_key: Any) -> None:
    digest = store.push(REF, artifacts_json).digest
    with pytest.raises(UnsignedArtifactError) as exc:
        store.pull(REF, public_key)
    assert f"floe/customer-360:v1.0.0 ({digest}) is not signed; refusing to use it" in str(exc.value)
    assert "--insecure-skip-verify" in str(exc.value)
    assert store.verify(REF, public_key).status == "unsigned"
    skipped = store.pull(REF, None, verify=False)
    assert skipped.content == artifacts_json and skipped.verification is not None
    assert skipped.verification.status == "skipped"


def test_sign_later_then_pull(store: ArtifactStore, artifacts_json: bytes, private_key: Any,
                              public_key: Any) -> None:
    store.push(REF, artifacts_json)
    digest, kid = store.sign(REF, private_key)
    assert store.client.resolve("floe/customer-360", signature_tag(digest)) is not None
    assert store.pull(REF, public_key).verification.key_id == kid  # type: ignore[union-attr]


def test_only_tags_can_be_signed(store: ArtifactStore, artifacts_json: bytes, private_key: Any) -> None:
    digest = store.push(REF, artifacts_json).digest
    with pytest.raises(InvalidReferenceError, match="sign a tag, not a digest"):
        store.sign(ArtifactRef("floe/customer-360", digest=digest), private_key)


def test_signature_is_stored_next_to_the_artifact(store: ArtifactStore, fake: FakeRegistry, artifacts_json: bytes,
                                                  private_key: Any) -> None:
    digest = store.push(REF, artifacts_json, signing_key=private_key).digest
    sig_digest = fake.tags["floe/customer-360"][signature_tag(digest)]
    sig = Manifest.from_bytes(fake.manifests[sig_digest], "sig")
    assert sig.artifact_type == SIGNATURE_TYPE
    assert sig.subject is not None and sig.subject.digest == digest
    envelope = json.loads(fake.blobs[sig.layers[0].digest])
    assert envelope["algorithm"] == "ed25519"
    assert json.loads(base64.b64decode(envelope["payload"]))["digest"] == digest


def test_blob_edited_in_storage_is_detected(store: ArtifactStore, fake: FakeRegistry, artifacts_json: bytes,
                                            private_key: Any, public_key: Any) -> None:
    store.push(REF, artifacts_json, signing_key=private_key)
    layer = sha256_digest(artifacts_json)
    fake.tamper_blob(layer, artifacts_json.replace(b'"passed": true', b'"passed": fals'))
    with pytest.raises(TamperedArtifactError) as exc:
        store.pull(REF, public_key)
    assert f"blob floe/customer-360@{layer}" in str(exc.value) and "was altered" in str(exc.value)
    with pytest.raises(TamperedArtifactError):
        store.pull(REF, None, verify=False)  # even when skipping signatures, bytes must match digests
    assert store.verify(REF, public_key).status == "tampered"


def test_repointed_tag_with_copied_signature_is_refused(store: ArtifactStore, fake: FakeRegistry,
                                                        artifacts_json: bytes, private_key: Any,
                                                        public_key: Any) -> None:
    """An attacker with raw registry access re-points v1.0.0 and copies the old signature over."""
    from floe.oci.media import OCI_MANIFEST, Descriptor

    good = store.push(REF, artifacts_json, signing_key=private_key).digest
    evil = variant(artifacts_json, metadata__owner="mallory")
    fake.blobs[sha256_digest(evil)] = evil
    evil_manifest = artifacts_manifest(evil).to_bytes()
    evil_digest = fake.force_tag("floe/customer-360", "v1.0.0", evil_manifest)
    good_sig = Manifest.from_bytes(fake.manifests[fake.tags["floe/customer-360"][signature_tag(good)]], "sig")
    fake.force_tag("floe/customer-360", signature_tag(evil_digest), good_sig.to_bytes())
    with pytest.raises(SignatureInvalidError) as exc:
        store.pull(REF, public_key)
    assert f"({evil_digest}): signature is invalid" in str(exc.value)
    assert f"belongs to {good} (copied from other content)" in str(exc.value)
    # the same envelope under a signature manifest that names the new subject: the payload still says `good`
    resubjected = Manifest(good_sig.artifact_type, good_sig.layers, good_sig.annotations,
                           Descriptor(OCI_MANIFEST, evil_digest, len(evil_manifest)))
    fake.force_tag("floe/customer-360", signature_tag(evil_digest), resubjected.to_bytes())
    result = store.verify(REF, public_key)
    assert result.status == "invalid"
    assert f"the signature covers {good}, not this artifact ({evil_digest})" in result.message


def test_downgrade_by_repointing_a_tag_is_refused(store: ArtifactStore, fake: FakeRegistry, artifacts_json: bytes,
                                                  private_key: Any, public_key: Any) -> None:
    v1 = store.push(REF, artifacts_json, signing_key=private_key)
    v2 = ArtifactRef.parse("floe/customer-360:v2.0.0")
    store.push(v2, variant(artifacts_json, metadata__product_version="2.0.0"), signing_key=private_key)
    fake.tags["floe/customer-360"]["v2.0.0"] = v1.digest  # raw re-point to the older, validly signed release
    with pytest.raises(SignatureInvalidError, match=re.escape("tag v2.0.0 points at content signed as v1.0.0")):
        store.pull(v2, public_key)


def test_wrong_key_is_refused(store: ArtifactStore, artifacts_json: bytes, private_key: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    store.push(REF, artifacts_json, signing_key=private_key)
    with pytest.raises(SignatureInvalidError, match="but the trusted key is"):
        store.pull(REF, Ed25519PrivateKey.generate().public_key())


def test_inspect(store: ArtifactStore, artifacts_json: bytes, private_key: Any, public_key: Any) -> None:
    digest = store.push(REF, artifacts_json, signing_key=private_key).digest
    info = store.inspect(REF, public_key)
    assert info.digest == digest and info.artifact_type == ARTIFACT_TYPE
    assert info.size == len(artifacts_json)
    assert info.signature.status == "valid" and info.tags == ["v1.0.0"] and info.environments == []
    assert info.annotations["org.opencontainers.image.version"] == "1.0.0"
    assert json.loads(json.dumps(info.to_json()))["layers"][0]["digest"] == sha256_digest(artifacts_json)
    assert store.inspect(REF).signature.status == "skipped"  # signed, but no key to check with


def test_anonymous_client_gets_401_without_retrying(fake: FakeRegistry, artifacts_json: bytes) -> None:
    anonymous = ArtifactStore(RegistryClient(URL, None, adapter=fake))
    with pytest.raises(AuthenticationError) as exc:
        anonymous.pull(REF, None, verify=False)
    assert "HTTP 401" in str(exc.value) and "this client is anonymous" in str(exc.value)
    assert len(fake.requests) == 1


def test_anonymous_ignores_docker_config_and_oras_env(fake: FakeRegistry, credentials: RegistryCredentials,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `docker login`/`oras login` left in ~/.docker/config.json must not turn anonymous into authenticated."""
    user, password = credentials.username.get_secret_value(), credentials.password.get_secret_value()
    (tmp_path / ".docker").mkdir()
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (tmp_path / ".docker" / "config.json").write_text(json.dumps({"auths": {"registry.test:5000": {"auth": auth}}}))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ORAS_USER", user)
    monkeypatch.setenv("ORAS_PASS", password)
    with pytest.raises(AuthenticationError):
        RegistryClient(URL, None, adapter=fake).ping()


def test_wrong_password_names_the_references_not_the_values(fake: FakeRegistry) -> None:
    wrong = secrets.token_hex(16)
    creds = RegistryCredentials(SecretStr("floe"), SecretStr(wrong), "env:FLOE_REGISTRY_USER / env:X")
    with pytest.raises(AuthenticationError) as exc:
        RegistryClient(URL, creds, adapter=fake).ping()
    assert "credentials from env:FLOE_REGISTRY_USER / env:X were rejected" in str(exc.value)
    assert wrong not in str(exc.value) and wrong not in repr(creds)


def test_credentials_resolve_from_secret_references(monkeypatch: pytest.MonkeyPatch, _home: Path) -> None:
    password = secrets.token_hex(16)
    _home.mkdir(parents=True)
    (_home / "secrets.env").write_text(f"FLOE_REGISTRY_USER=floe\nFLOE_REGISTRY_PASSWORD={password}\n")
    creds = resolve_credentials()  # env:FLOE_REGISTRY_* falling back to $FLOE_HOME/secrets.env
    assert creds.username.get_secret_value() == "floe" and creds.password.get_secret_value() == password
    monkeypatch.setenv("CI_REGISTRY_TOKEN", password[::-1])
    assert resolve_credentials(password_ref="env:CI_REGISTRY_TOKEN").password.get_secret_value() == password[::-1]
    with pytest.raises(ConfigError, match="MISSING_VAR is not set"):
        resolve_credentials(password_ref="env:MISSING_VAR")
    not_a_reference = "no-source-prefix"
    with pytest.raises(ConfigError, match="--password-ref"):
        resolve_credentials(password_ref=not_a_reference)


def test_unreachable_registry_fails_fast_with_next_step() -> None:
    start = time.monotonic()
    with pytest.raises(ServiceUnavailableError) as exc:
        RegistryClient("http://127.0.0.1:9", None).ping()
    assert time.monotonic() - start < 5  # oras's own retry loop would sleep 2 + 3^n seconds
    assert "unreachable" in str(exc.value) and "floe platform up" in str(exc.value)


def test_registry_url_default_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert registry_url() == "http://127.0.0.1:5050"
    monkeypatch.setenv("FLOE_REGISTRY_URL", "http://127.0.0.1:5051")
    assert RegistryClient().url == "http://127.0.0.1:5051"
    with pytest.raises(InvalidReferenceError, match="http://host:port"):
        RegistryClient("127.0.0.1:5050")


def test_not_found(store: ArtifactStore, public_key: Any) -> None:
    from floe.errors import NotFoundError

    with pytest.raises(NotFoundError, match="not found"):
        store.pull(ArtifactRef.parse("floe/nothing:v9.9.9"), public_key)
    assert store.client.tags("floe/nothing") == []


def test_only_valid_compiled_artifacts_are_pushed(tmp_path: Path, artifacts_json: bytes) -> None:
    (tmp_path / "compiled_artifacts.json").write_bytes(artifacts_json)
    assert read_artifacts_file(tmp_path) == artifacts_json
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": "1.0.0"}))
    with pytest.raises(ArtifactError, match="is not valid CompiledArtifacts"):
        read_artifacts_file(bad)
    with pytest.raises(ArtifactError, match="floe compile"):
        read_artifacts_file(tmp_path / "missing.json")
