"""Ed25519 signing and verification with in-memory data: valid, tampered, wrong key, replayed."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from floe.oci.errors import SigningKeyError
from floe.oci.media import ARTIFACT_TYPE
from floe.oci.signing import (
    default_key_path,
    default_public_key_path,
    generate_keypair,
    key_id,
    load_private_key,
    load_public_key,
    sign,
    tag_is_covered,
    verify,
)

DIGEST = "sha256:" + "1f" * 32
OTHER = "sha256:" + "2e" * 32
REPO = "floe/customer-360"


def _envelope(private_key: Any, digest: str = DIGEST, repository: str = REPO, tag: str | None = "v1.0.0") -> bytes:
    return sign(private_key, digest=digest, repository=repository, tag=tag, artifact_type=ARTIFACT_TYPE)


def test_keygen_writes_0600_private_key_under_floe_home(_home: Path) -> None:
    pair = generate_keypair(default_key_path())
    assert pair.private_path == _home / "keys" / "floe-artifacts.key"
    assert pair.public_path == default_public_key_path()
    assert stat.S_IMODE(pair.private_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(pair.private_path.parent.stat().st_mode) == 0o700
    assert b"PRIVATE KEY" in pair.private_path.read_bytes()
    assert key_id(load_private_key(pair.private_path).public_key()) == pair.key_id == key_id(
        load_public_key(pair.public_path))


def test_keygen_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    key = tmp_path / "k" / "signing.key"
    first = generate_keypair(key)
    with pytest.raises(SigningKeyError, match="already exists") as exc:
        generate_keypair(key)
    assert "--force" in str(exc.value)
    assert generate_keypair(key, force=True).key_id != first.key_id


def test_key_paths_follow_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOE_SIGNING_KEY", str(tmp_path / "ci.key"))
    assert default_key_path() == tmp_path / "ci.key"
    assert default_public_key_path() == tmp_path / "ci.pub"
    monkeypatch.setenv("FLOE_VERIFY_KEY", str(tmp_path / "trusted.pub"))
    assert default_public_key_path() == tmp_path / "trusted.pub"


def test_private_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    pair = generate_keypair(tmp_path / "x.key")
    os.chmod(pair.private_path, 0o644)
    with pytest.raises(SigningKeyError, match="readable by others") as exc:
        load_private_key(pair.private_path)
    assert f"chmod 600 {pair.private_path}" in str(exc.value)


def test_missing_keys_say_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="floe artifacts keygen"):
        load_private_key(tmp_path / "none.key")
    with pytest.raises(SigningKeyError, match="--public-key"):
        load_public_key(tmp_path / "none.pub")


def test_valid_signature(private_key: Any, public_key: Any) -> None:
    result = verify(_envelope(private_key), public_key, digest=DIGEST, repository=REPO, requested_tag="v1.0.0")
    assert result.ok and result.status == "valid"
    assert result.key_id == key_id(public_key) and result.signed_tag == "v1.0.0"
    assert result.signed_at


def test_signature_over_other_digest_is_invalid(private_key: Any, public_key: Any) -> None:
    result = verify(_envelope(private_key, digest=OTHER), public_key, digest=DIGEST, repository=REPO)
    assert result.status == "invalid"
    assert f"covers {OTHER}, not this artifact ({DIGEST})" in result.message


def test_altered_payload_breaks_the_signature(private_key: Any, public_key: Any) -> None:
    doc = json.loads(_envelope(private_key, digest=OTHER))
    payload = json.loads(base64.b64decode(doc["payload"]))
    payload["digest"] = DIGEST  # an attacker re-targets a real signature at their content
    doc["payload"] = base64.b64encode(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).decode()
    result = verify(json.dumps(doc).encode(), public_key, digest=DIGEST, repository=REPO)
    assert result.status == "invalid"
    assert "does not match its payload" in result.message


def test_flipped_signature_byte_is_invalid(private_key: Any, public_key: Any) -> None:
    doc = json.loads(_envelope(private_key))
    sig = bytearray(base64.b64decode(doc["signature"]))
    sig[0] ^= 1
    doc["signature"] = base64.b64encode(bytes(sig)).decode()
    assert verify(json.dumps(doc).encode(), public_key, digest=DIGEST, repository=REPO).status == "invalid"


def test_other_key_is_not_trusted(private_key: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = Ed25519PrivateKey.generate()
    result = verify(_envelope(stranger), private_key.public_key(), digest=DIGEST, repository=REPO)
    assert result.status == "invalid"
    assert f"signed by key {key_id(stranger.public_key())}, but the trusted key is " \
           f"{key_id(private_key.public_key())}" in result.message


def test_key_id_lie_is_caught_by_the_signature(private_key: Any, public_key: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    doc = json.loads(_envelope(Ed25519PrivateKey.generate()))
    doc["key_id"] = key_id(public_key)
    assert verify(json.dumps(doc).encode(), public_key, digest=DIGEST, repository=REPO).status == "invalid"


def test_signature_for_other_repository_is_invalid(private_key: Any, public_key: Any) -> None:
    result = verify(_envelope(private_key, repository="floe/other"), public_key, digest=DIGEST, repository=REPO)
    assert result.status == "invalid" and "repository floe/other" in result.message


def test_downgrade_by_repointed_tag_is_invalid(private_key: Any, public_key: Any) -> None:
    result = verify(_envelope(private_key, tag="v1.0.0"), public_key, digest=DIGEST, repository=REPO,
                    requested_tag="v2.0.0")
    assert result.status == "invalid"
    assert "tag v2.0.0 points at content signed as v1.0.0" in result.message


@pytest.mark.parametrize("envelope", [b"", b"not json", b"{}", b'{"schema": "floe.dev/artifact-signature/v1", '
                                      b'"algorithm": "ed25519", "payload": "!!", "signature": "!!"}'])
def test_malformed_envelopes_are_invalid_not_crashes(envelope: bytes, public_key: Any) -> None:
    assert verify(envelope, public_key, digest=DIGEST, repository=REPO).status == "invalid"


@pytest.mark.parametrize(("requested", "signed", "covered"), [
    ("v1.0.0", "v1.0.0", True), ("v1.0.0-staging", "v1.0.0", True), ("v1.0.0-prod", "v1.0.0", True),
    ("env-prod", "v1.0.0", True), ("env-prod", None, True), ("v2.0.0", "v1.0.0", False),
    ("v1.0.0-qa", "v1.0.0", False), ("v1.0.0", None, False), ("env-qa", "v1.0.0", False),
])
def test_tag_coverage(requested: str, signed: str | None, covered: bool) -> None:
    assert tag_is_covered(requested, signed) is covered
