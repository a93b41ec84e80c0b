"""Ed25519 signatures over an artifact's digest and where it was published.

The signed payload names the manifest digest, the repository and the tag the artifact was pushed as,
so a valid signature can neither be moved to other content (digest), to another repository, nor used
to pass an old release off under a newer tag (tag binding, see ``tag_is_covered``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from floe.oci.errors import SigningKeyError
from floe.oci.media import canonical_json
from floe.oci.tags import DEFAULT_ENVIRONMENTS, ENV_TAG_PREFIX

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNATURE_SCHEMA = "floe.dev/artifact-signature/v1"
KEY_FILE = "floe-artifacts.key"

Status = Literal["valid", "invalid", "unsigned", "tampered", "skipped"]


def default_key_path() -> Path:
    """``$FLOE_HOME/keys/floe-artifacts.key`` (override with ``FLOE_SIGNING_KEY``)."""
    from floe.home import Home

    env = os.environ.get("FLOE_SIGNING_KEY")
    return Path(env).expanduser() if env else Home.current().root / "keys" / KEY_FILE


def public_key_path(private_path: Path) -> Path:
    return private_path.with_suffix(".pub")


def default_public_key_path() -> Path:
    """``$FLOE_HOME/keys/floe-artifacts.pub`` (override with ``FLOE_VERIFY_KEY``)."""
    env = os.environ.get("FLOE_VERIFY_KEY")
    return Path(env).expanduser() if env else public_key_path(default_key_path())


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short stable name for a public key: ``ed25519:`` + 16 hex of sha256(raw key)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class KeyPair:
    private_path: Path
    public_path: Path
    key_id: str


def generate_keypair(private_path: Path, *, force: bool = False) -> KeyPair:
    """Write a new Ed25519 key pair: the private key (PKCS#8 PEM, mode 0600) and ``<name>.pub``.

    Raises:
        SigningKeyError: the key exists and ``force`` is false (a lost key orphans every signature).
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    public_path = public_key_path(private_path)
    if private_path.exists() and not force:
        raise SigningKeyError(f"signing key {private_path} already exists",
                              hint="keep it (artifacts signed with it verify only against its .pub), "
                                   "or pass --force to replace it")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(private_path.parent, 0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    tmp = private_path.with_name(private_path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.chmod(tmp, 0o600)  # umask cannot widen it, but an existing tmp file keeps its old mode
    tmp.replace(private_path)
    public_path.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    os.chmod(public_path, 0o644)
    return KeyPair(private_path, public_path, key_id(key.public_key()))


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a private key; refuse one that group or others can read (like ssh does)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if not path.is_file():
        raise SigningKeyError(f"signing key {path} does not exist",
                              hint="create one with `floe artifacts keygen` (or pass --key / set FLOE_SIGNING_KEY)")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SigningKeyError(f"signing key {path} is readable by others (mode {mode:04o})",
                              hint=f"chmod 600 {path}")
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"signing key {path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"signing key {path} is a {type(key).__name__}, not Ed25519",
                              hint="create one with `floe artifacts keygen`")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if not path.is_file():
        raise SigningKeyError(f"public key {path} does not exist",
                              hint="pass --public-key (or set FLOE_VERIFY_KEY) to the signer's .pub file")
    try:
        key = load_pem_public_key(path.read_bytes())
    except ValueError as exc:
        raise SigningKeyError(f"public key {path} is not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"public key {path} is a {type(key).__name__}, not Ed25519")
    return key


@dataclass(frozen=True)
class SignaturePayload:
    """What a signature covers."""

    digest: str
    repository: str
    tag: str | None
    artifact_type: str
    key_id: str
    signed_at: str

    def to_bytes(self) -> bytes:
        return canonical_json({"schema": SIGNATURE_SCHEMA, "digest": self.digest, "repository": self.repository,
                               "tag": self.tag, "artifact_type": self.artifact_type, "key_id": self.key_id,
                               "signed_at": self.signed_at})

    @classmethod
    def from_bytes(cls, data: bytes) -> SignaturePayload:
        doc = json.loads(data)
        if doc.get("schema") != SIGNATURE_SCHEMA:
            raise ValueError(f"unknown signature schema {doc.get('schema')!r}")
        return cls(str(doc["digest"]), str(doc["repository"]), doc.get("tag"), str(doc["artifact_type"]),
                   str(doc["key_id"]), str(doc["signed_at"]))


def sign(private_key: Ed25519PrivateKey, *, digest: str, repository: str, tag: str | None,
         artifact_type: str, now: datetime | None = None) -> bytes:
    """Return the signature envelope (JSON bytes) stored next to the artifact."""
    payload = SignaturePayload(digest=digest, repository=repository, tag=tag, artifact_type=artifact_type,
                               key_id=key_id(private_key.public_key()),
                               signed_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"))
    body = payload.to_bytes()
    return canonical_json({
        "schema": SIGNATURE_SCHEMA,
        "algorithm": "ed25519",
        "key_id": payload.key_id,
        "payload": base64.b64encode(body).decode(),
        "signature": base64.b64encode(private_key.sign(body)).decode(),
    })


@dataclass(frozen=True)
class VerificationResult:
    status: Status
    message: str
    digest: str | None = None
    key_id: str | None = None
    signed_at: str | None = None
    signed_tag: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message, "digest": self.digest, "key_id": self.key_id,
                "signed_at": self.signed_at, "signed_tag": self.signed_tag}


def tag_is_covered(requested: str, signed: str | None,
                   environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS) -> bool:
    """May content signed as ``signed`` be served under ``requested``?

    Yes for the tag itself, its promotion tags (``<signed>-<env>``) and the environment pointers
    (``env-<env>``); no for any other tag, which is how re-pointing ``v2.0.0`` at v1's signed
    digest (a downgrade) is caught.
    """
    if requested.startswith(ENV_TAG_PREFIX) and requested[len(ENV_TAG_PREFIX):] in environments:
        return True
    if signed is None:
        return False
    return requested == signed or any(requested == f"{signed}-{env}" for env in environments)


def verify(envelope: bytes, public_key: Ed25519PublicKey, *, digest: str, repository: str,
           requested_tag: str | None = None, environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS
           ) -> VerificationResult:
    """Check a signature envelope against the trusted key and the artifact it claims to sign.

    Never raises for a bad signature: the result says ``valid`` or ``invalid`` and why.
    """
    from cryptography.exceptions import InvalidSignature

    trusted = key_id(public_key)
    try:
        doc = json.loads(envelope)
        if doc.get("schema") != SIGNATURE_SCHEMA or doc.get("algorithm") != "ed25519":
            return VerificationResult("invalid", f"unknown signature format {doc.get('schema')!r}/"
                                                 f"{doc.get('algorithm')!r}", digest)
        body = base64.b64decode(doc["payload"], validate=True)
        signature = base64.b64decode(doc["signature"], validate=True)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        return VerificationResult("invalid", f"malformed signature envelope ({type(exc).__name__})", digest)
    claimed = str(doc.get("key_id"))
    if claimed != trusted:
        return VerificationResult("invalid", f"signed by key {claimed}, but the trusted key is {trusted}",
                                  digest, claimed)
    try:
        public_key.verify(signature, body)
    except InvalidSignature:
        return VerificationResult("invalid", "the Ed25519 signature does not match its payload "
                                             "(the signature or what it covers was altered)", digest, trusted)
    try:
        payload = SignaturePayload.from_bytes(body)
    except (ValueError, KeyError, TypeError) as exc:
        return VerificationResult("invalid", f"malformed signed payload ({exc})", digest, trusted)
    found = VerificationResult("valid", "", digest, trusted, payload.signed_at, payload.tag)
    if payload.digest != digest:
        return _with(found, "invalid", f"the signature covers {payload.digest}, not this artifact ({digest})")
    if payload.repository != repository:
        return _with(found, "invalid", f"the signature was made for repository {payload.repository}, "
                                       f"not {repository}")
    if requested_tag is not None and not tag_is_covered(requested_tag, payload.tag, environments):
        return _with(found, "invalid", f"tag {requested_tag} points at content signed as {payload.tag} "
                                       "(a re-pointed tag, e.g. a downgrade)")
    return _with(found, "valid", f"signed by {trusted} at {payload.signed_at} as {payload.tag or digest}")


def _with(result: VerificationResult, status: Status, message: str) -> VerificationResult:
    return VerificationResult(status, message, result.digest, result.key_id, result.signed_at, result.signed_tag)
