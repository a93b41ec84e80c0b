"""CompiledArtifacts in an OCI registry, through the oras SDK.

``RegistryClient`` is the registry (blobs, manifests, tags) with one error mapping; ``ArtifactStore``
is what floe does with it: push immutable, signed artifacts and pull them back only when the bytes
hash to their digests and the signature is valid.

Credentials come only from secret references (default ``env:FLOE_REGISTRY_USER`` /
``env:FLOE_REGISTRY_PASSWORD``, resolved by the env secrets plugin, which falls back to
``$FLOE_HOME/secrets.env``). floe never calls ``oras login`` (it writes ``~/.docker/config.json``)
and never reads docker configs, credential helpers or ``ORAS_USER``/``ORAS_PASS``, so an anonymous
client really is anonymous and nothing leaves credentials on disk.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pydantic import SecretStr

from floe.config.artifacts import DEFAULT_PASSWORD_REF, DEFAULT_USER_REF
from floe.errors import (
    AuthenticationError,
    AuthorizationError,
    NotFoundError,
    ServiceError,
    ServiceUnavailableError,
    error_for_status,
)
from floe.oci.errors import (
    ArtifactError,
    ImmutableTagError,
    InvalidReferenceError,
    SignatureInvalidError,
    TamperedArtifactError,
    UnsignedArtifactError,
)
from floe.oci.media import (
    ARTIFACT_TYPE,
    EMPTY_CONFIG,
    OCI_EMPTY,
    OCI_MANIFEST,
    SIGNATURE_TYPE,
    Descriptor,
    Manifest,
    artifacts_manifest,
    sha256_digest,
)
from floe.oci.signing import VerificationResult
from floe.oci.tags import (
    DEFAULT_ENVIRONMENTS,
    ArtifactRef,
    is_immutable,
    reserved_reason,
    signature_tag,
    validate_repository,
    validate_tag,
)

if TYPE_CHECKING:
    import requests
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DEFAULT_REGISTRY = "http://127.0.0.1:5050"


def registry_url() -> str:
    """The registry floe talks to: ``FLOE_REGISTRY_URL``, default the local platform's."""
    return os.environ.get("FLOE_REGISTRY_URL") or DEFAULT_REGISTRY


@dataclass(frozen=True)
class RegistryCredentials:
    username: SecretStr
    password: SecretStr
    source: str = ""
    """Which references they came from (safe to show), e.g. ``env:FLOE_REGISTRY_USER``."""


def resolve_credentials(username_ref: str = DEFAULT_USER_REF, password_ref: str = DEFAULT_PASSWORD_REF,
                        secrets: Any = None) -> RegistryCredentials:
    """Resolve registry credentials from secret references through a secrets plugin (default: env).

    Raises:
        ConfigError: a reference is malformed or not set.
    """
    from pydantic import ValidationError

    from floe.config._base import SecretRef
    from floe.errors import ConfigError

    if secrets is None:
        from floe.plugins.secrets.env import EnvSecretsPlugin

        secrets = EnvSecretsPlugin()
    refs = []
    for key, text in (("--username-ref", username_ref), ("--password-ref", password_ref)):
        try:
            refs.append(SecretRef.model_validate(text))
        except ValidationError as exc:
            raise ConfigError(f"registry credential reference is not valid: {exc.errors()[0]['msg']}",
                              key=key, value=text, allowed="env:NAME, file:/path") from None
    user, password = (secrets.get_secret(ref) for ref in refs)
    return RegistryCredentials(user, password, f"{refs[0]} / {refs[1]}")


def _oras_registry() -> Any:
    import oras.provider

    class _Registry(oras.provider.Registry):  # type: ignore[misc]
        """oras's registry with one request path: no 2+3^n s retry loop on a dead registry, no
        client-side crash on an anonymous 401, and status codes mapped to floe errors in one place."""

        credentials: RegistryCredentials | None = None
        timeout: float = 30.0
        url: str = ""

        def do_request(self, url: str, method: str = "GET", data: Any = None, headers: dict[str, str] | None = None,
                       json: Any = None, stream: bool = False) -> requests.Response:
            import requests

            headers = dict(headers or {})
            headers.update(self.headers)
            if self.credentials is not None:
                headers.update(self.auth.get_auth_header())
            try:
                response = self.session.request(method, url, data=data, json=json, headers=headers, stream=stream,
                                                verify=self._tls_verify, timeout=self.timeout,
                                                allow_redirects=True)
            except requests.exceptions.RequestException as exc:
                raise ServiceUnavailableError(
                    f"OCI registry {self.url} is unreachable ({type(exc).__name__}: {_reason(exc)})",
                    hint="start the local platform (`floe platform up`) or point FLOE_REGISTRY_URL "
                         "(--registry) at a running registry") from None
            if response.status_code == 401:
                path = urlparse(url).path
                if self.credentials is None:
                    raise AuthenticationError(
                        f"OCI registry {self.url}: HTTP 401 on {method} {path}: the registry requires credentials "
                        "and this client is anonymous",
                        hint="drop --anonymous; floe reads env:FLOE_REGISTRY_USER / env:FLOE_REGISTRY_PASSWORD")
                raise AuthenticationError(
                    f"OCI registry {self.url}: HTTP 401 on {method} {path}: credentials from "
                    f"{self.credentials.source} were rejected",
                    hint="check the secret references' values ($FLOE_HOME/secrets.env for the local platform)")
            if response.status_code == 403:
                raise AuthorizationError(f"OCI registry {self.url}: HTTP 403 on {method} {urlparse(url).path}",
                                         hint="grant this user push/pull on the repository")
            return response  # type: ignore[no-any-return]

    return _Registry


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "timed out", "Name or service not known"):
        if marker in text:
            return marker
    return text[:200]


class RegistryClient:
    """Blobs, manifests and tags of one OCI registry (distribution v2 API), via oras.

    Args:
        url: ``http://host:port`` (plain HTTP, e.g. the local platform) or ``https://host``.
        credentials: None for anonymous access.
        timeout: seconds per request.
        adapter: a ``requests`` transport adapter mounted for the registry URL (tests use an
            in-memory registry).
    """

    def __init__(self, url: str | None = None, credentials: RegistryCredentials | None = None, *,
                 timeout: float = 30.0, tls_verify: bool = True, adapter: Any = None) -> None:
        self.url = (url or registry_url()).rstrip("/")
        parsed = urlparse(self.url)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc or parsed.path not in {"", "/"}:
            raise InvalidReferenceError(f"registry URL {self.url!r} must look like http://host:port or https://host",
                                        hint="set FLOE_REGISTRY_URL or --registry, e.g. http://127.0.0.1:5050")
        self.host = parsed.netloc
        self.anonymous = credentials is None
        self._uploaded: set[tuple[str, str]] = set()
        self._oras = _oras_registry()(hostname=self.host, insecure=parsed.scheme == "http", tls_verify=tls_verify,
                                      auth_backend="basic")
        self._oras.url = self.url
        self._oras.timeout = timeout
        self._oras.credentials = credentials
        # oras's BasicAuth picks up ORAS_USER/ORAS_PASS and docker configs; floe's credentials come
        # only from its secret references.
        self._oras.auth._basic_auth = None
        self._oras.auth.load_configs = lambda *args, **kwargs: None
        if credentials is not None:
            self._oras.auth.set_basic_auth(credentials.username.get_secret_value(),
                                           credentials.password.get_secret_value())
        if adapter is not None:
            self._oras.session.mount(f"{parsed.scheme}://{self.host}/", adapter)

    def __repr__(self) -> str:
        return f"RegistryClient({self.url!r}, anonymous={self.anonymous})"

    def _container(self, repository: str) -> Any:
        import oras.container

        namespace, _, name = validate_repository(repository).rpartition("/")
        container = oras.container.Container(name, registry=self.host)
        container.registry, container.namespace, container.repository = self.host, namespace or None, name
        return container

    def _request(self, method: str, url: str, what: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
                 ) -> requests.Response:
        response = self._oras.do_request(url, method, **kwargs)
        if response.status_code not in ok:
            raise _status_error(response, what)
        return response  # type: ignore[no-any-return]

    def _prefix(self) -> str:
        return str(self._oras.prefix)

    def ping(self) -> None:
        """Raise unless the registry answers ``/v2/`` (and accepts our credentials)."""
        self._request("GET", f"{self.url}/v2/", "registry API /v2/")

    def blob(self, repository: str, digest: str) -> bytes:
        """Fetch a blob and check it hashes to ``digest``.

        Raises:
            TamperedArtifactError: the registry served other bytes than the digest names.
        """
        response = self._oras.get_blob(self._container(repository), digest)
        if response.status_code != 200:
            raise _status_error(response, f"blob {repository}@{digest}")
        data = bytes(response.content)
        if sha256_digest(data) != digest:
            raise TamperedArtifactError(
                f"blob {repository}@{digest} from {self.url} hashes to {sha256_digest(data)}: the registry's "
                "copy was altered", hint="do not use this artifact; re-push it from a trusted build and investigate")
        return data

    def push_blob(self, repository: str, data: bytes, media_type: str, *, check_exists: bool = True) -> Descriptor:
        """Upload a blob (``check_exists=False`` skips oras's HEAD for content that is almost surely new)."""
        descriptor = Descriptor.of(media_type, data)
        # Every authenticated request costs the registry a bcrypt check (~0.4 s with htpasswd), so a
        # blob this client already uploaded is not even HEAD-checked again.
        if (repository, descriptor.digest) in self._uploaded:
            return descriptor
        layer = {"mediaType": media_type, "digest": descriptor.digest, "size": descriptor.size}
        # oras uploads from files; the temporary file lives only for the upload.
        with tempfile.TemporaryDirectory(prefix="floe-oci-") as tmp:
            path = Path(tmp) / "blob"
            path.write_bytes(data)
            container = self._container(repository)
            if check_exists:
                response = self._oras.upload_blob(str(path), container, layer)
            else:
                response = self._oras.put_upload(str(path), container, layer)
        if response.status_code not in (200, 201, 202):
            raise _status_error(response, f"upload of blob {descriptor.digest} to {repository}")
        self._uploaded.add((repository, descriptor.digest))
        return descriptor

    def manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        """The manifest bytes and digest for a tag or digest (bytes checked against the digest)."""
        found = self.find_manifest(repository, reference)
        if found is None:
            raise NotFoundError(f"manifest {_ref(repository, reference)}: not found in {self.url}",
                                hint="check the repository and tag (`floe artifacts inspect`) and the registry URL")
        return found

    def find_manifest(self, repository: str, reference: str) -> tuple[bytes, str] | None:
        """Like ``manifest`` but None when the tag, digest or repository does not exist."""
        url = f"{self._prefix()}://{self._container(repository).manifest_url(reference)}"
        response = self._request("GET", url, f"manifest {_ref(repository, reference)}", ok=(200, 404),
                                 headers={"Accept": OCI_MANIFEST})
        if response.status_code == 404:
            return None
        data = bytes(response.content)
        actual = sha256_digest(data)
        expected = reference if reference.startswith("sha256:") else response.headers.get("Docker-Content-Digest")
        if expected and expected != actual:
            raise TamperedArtifactError(
                f"manifest {_ref(repository, reference)} from {self.url} hashes to {actual}, "
                f"but the registry names it {expected}: the stored manifest was altered",
                hint="do not use this artifact; re-push it from a trusted build and investigate")
        return data, actual

    def resolve(self, repository: str, reference: str) -> str | None:
        """The digest a tag points at, or None when the tag (or repository) does not exist."""
        url = f"{self._prefix()}://{self._container(repository).manifest_url(reference)}"
        response = self._oras.do_request(url, "HEAD", headers={"Accept": OCI_MANIFEST})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _status_error(response, f"manifest {_ref(repository, reference)}")
        digest = response.headers.get("Docker-Content-Digest")
        if not digest:
            return self.manifest(repository, reference)[1]
        return str(digest)

    def put_manifest(self, repository: str, reference: str, data: bytes) -> str:
        """Store manifest bytes under a tag (or their digest); return the digest."""
        digest = sha256_digest(data)
        url = f"{self._prefix()}://{self._container(repository).manifest_url(reference)}"
        response = self._request("PUT", url, f"push of manifest {_ref(repository, reference)}", ok=(200, 201),
                                 data=data, headers={"Content-Type": OCI_MANIFEST})
        returned = response.headers.get("Docker-Content-Digest")
        if returned and returned != digest:
            raise TamperedArtifactError(f"registry {self.url} stored manifest {_ref(repository, reference)} as "
                                        f"{returned}, but floe sent {digest}")
        return digest

    def tags(self, repository: str) -> list[str]:
        """Every tag of a repository (empty when the repository does not exist yet)."""
        url: str | None = f"{self._prefix()}://{self._container(repository).tags_url()}"
        found: list[str] = []
        while url:
            response = self._oras.do_request(url, "GET")
            if response.status_code == 404:
                return found
            if response.status_code != 200:
                raise _status_error(response, f"tag list of {repository}")
            found.extend(response.json().get("tags") or [])
            link = response.links.get("next", {}).get("url")
            url = f"{self.url}{link}" if link and link.startswith("/") else link
        return found

    def tag(self, repository: str, digest: str, new_tag: str) -> str:
        """Point ``new_tag`` at an existing manifest (the same bytes, so the same digest)."""
        data, _ = self.manifest(repository, digest)  # fetched by digest: checked against it
        return self.put_manifest(repository, validate_tag(new_tag), data)


def _ref(repository: str, reference: str) -> str:
    return f"{repository}@{reference}" if reference.startswith("sha256:") else f"{repository}:{reference}"


def _status_error(response: requests.Response, what: str) -> ServiceError:
    try:
        errors = response.json().get("errors") or []
        body = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors if isinstance(e, dict))
    except ValueError:
        body = response.text[:300]
    if response.status_code == 404:
        return NotFoundError(f"{what}: not found ({body or 'HTTP 404'})",
                             hint="check the repository and tag (`floe artifacts inspect`) and the registry URL")
    return error_for_status(response.status_code, what, body)


@dataclass(frozen=True)
class PushResult:
    reference: ArtifactRef
    digest: str
    size: int
    created: bool
    """False when the tag already pointed at this exact content (a no-op)."""
    signed_by: str | None = None


@dataclass(frozen=True)
class FetchedArtifact:
    reference: ArtifactRef
    digest: str
    manifest: Manifest
    manifest_bytes: bytes
    content: bytes
    verification: VerificationResult | None = None

    def compiled(self) -> Any:
        """The content as ``CompiledArtifacts`` (raises pydantic's ValidationError when it is not)."""
        from floe.contract import CompiledArtifacts

        return CompiledArtifacts.model_validate_json(self.content)


@dataclass(frozen=True)
class ArtifactInfo:
    reference: ArtifactRef
    digest: str
    artifact_type: str
    size: int
    annotations: dict[str, str]
    layers: list[Descriptor]
    signature: VerificationResult
    environments: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": str(self.reference), "digest": self.digest, "artifact_type": self.artifact_type,
            "size": self.size, "annotations": self.annotations,
            "layers": [layer.to_json() for layer in self.layers],
            "signature": self.signature.to_json(), "environments": self.environments, "tags": self.tags,
        }


class ArtifactStore:
    """Push, pull, sign, verify and inspect CompiledArtifacts in one registry."""

    def __init__(self, client: RegistryClient, environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS) -> None:
        self.client = client
        self.environments = environments

    def push(self, ref: ArtifactRef, content: bytes, *, signing_key: Ed25519PrivateKey | None = None) -> PushResult:
        """Push content under ``ref.tag`` and sign it when a key is given.

        Semver tags are immutable: the same content again is a no-op, different content is refused.

        Raises:
            ImmutableTagError: the semver tag already points at other content.
            InvalidReferenceError: no tag, or a tag floe manages itself (``env-*``, ``*-<env>``...).
        """
        if ref.tag is None:
            raise InvalidReferenceError(f"push needs a tag, got {ref}", hint="write repository:tag, e.g. floe/x:v1.0.0")
        reason = reserved_reason(ref.tag, self.environments)
        if reason:
            raise InvalidReferenceError(f"tag {ref.tag} is reserved: {reason}",
                                        hint="push a release tag such as v1.0.0, then `floe artifacts promote`")
        manifest = artifacts_manifest(content)
        data = manifest.to_bytes()
        digest = sha256_digest(data)
        existing = self.client.resolve(ref.repository, ref.tag)
        created = existing != digest
        if existing is not None and existing != digest and is_immutable(ref.tag):
            raise ImmutableTagError(
                f"{ref} already points at {existing}; the new content is {digest}. Semver tags are immutable",
                hint=f"bump the version (e.g. a new tag than {ref.tag}); pushing identical content is a no-op")
        if created:
            self.client.push_blob(ref.repository, EMPTY_CONFIG, OCI_EMPTY)
            self.client.push_blob(ref.repository, content, ARTIFACT_TYPE, check_exists=existing is not None)
            self.client.put_manifest(ref.repository, ref.tag, data)
        signed_by = None
        if signing_key is not None:
            signed_by = self._sign(ref.repository, ref.tag, digest, len(data), signing_key)
        return PushResult(ref, digest, len(content), created, signed_by)

    def sign(self, ref: ArtifactRef, signing_key: Ed25519PrivateKey) -> tuple[str, str]:
        """Sign what ``ref`` points at now; return (digest, key id).

        The signature binds the tag (see ``signing.tag_is_covered``), so only tags can be signed.
        """
        if ref.tag is None:
            raise InvalidReferenceError(f"sign a tag, not a digest ({ref})",
                                        hint="signatures name the tag they were made for, e.g. floe/x:v1.0.0")
        data, digest = self.client.manifest(ref.repository, ref.reference)
        self._check_type(ref, Manifest.from_bytes(data, str(ref)))
        return digest, self._sign(ref.repository, ref.tag, digest, len(data), signing_key)

    def _sign(self, repository: str, tag: str | None, digest: str, size: int, key: Ed25519PrivateKey) -> str:
        from floe.oci import signing

        envelope = signing.sign(key, digest=digest, repository=repository, tag=tag, artifact_type=ARTIFACT_TYPE)
        layer = self.client.push_blob(repository, envelope, SIGNATURE_TYPE, check_exists=False)  # has a timestamp
        self.client.push_blob(repository, EMPTY_CONFIG, OCI_EMPTY)
        kid = signing.key_id(key.public_key())
        manifest = Manifest(SIGNATURE_TYPE, (layer,), {"dev.floe.signature.key-id": kid},
                            subject=Descriptor(OCI_MANIFEST, digest, size))
        self.client.put_manifest(repository, signature_tag(digest), manifest.to_bytes())
        return kid

    def fetch(self, ref: ArtifactRef) -> FetchedArtifact:
        """Manifest and content, each checked against its digest (no signature check)."""
        data, digest = self.client.manifest(ref.repository, ref.reference)
        manifest = Manifest.from_bytes(data, str(ref))
        self._check_type(ref, manifest)
        layer = manifest.single_layer(ARTIFACT_TYPE, str(ref))
        content = self.client.blob(ref.repository, layer.digest)
        return FetchedArtifact(ref, digest, manifest, data, content)

    def _check_type(self, ref: ArtifactRef, manifest: Manifest) -> None:
        if manifest.artifact_type != ARTIFACT_TYPE:
            raise ArtifactError(f"{ref} is a {manifest.artifact_type}, not floe compiled artifacts ({ARTIFACT_TYPE})")

    def signature_envelope(self, repository: str, digest: str) -> tuple[bytes, str | None] | None:
        """The signature stored next to ``digest`` and the subject its manifest names; None when unsigned."""
        sig_tag = signature_tag(digest)
        found = self.client.find_manifest(repository, sig_tag)
        if found is None:
            return None
        data, _ = found
        manifest = Manifest.from_bytes(data, f"{repository}:{sig_tag}")
        layer = manifest.single_layer(SIGNATURE_TYPE, f"{repository}:{sig_tag}")
        subject = manifest.subject.digest if manifest.subject is not None else None
        return self.client.blob(repository, layer.digest), subject

    def check_signature(self, ref: ArtifactRef, digest: str, public_key: Ed25519PublicKey) -> VerificationResult:
        from floe.oci import signing

        try:
            found = self.signature_envelope(ref.repository, digest)
        except TamperedArtifactError as exc:
            return VerificationResult("tampered", exc.message, digest)
        if found is None:
            return VerificationResult("unsigned", f"no signature for {digest} (expected tag {signature_tag(digest)})",
                                      digest)
        envelope, subject = found
        if subject is not None and subject != digest:
            return VerificationResult("invalid", f"the signature stored for {digest} belongs to {subject} "
                                                 "(copied from other content)", digest)
        return signing.verify(envelope, public_key, digest=digest, repository=ref.repository,
                              requested_tag=ref.tag, environments=self.environments)

    def verify(self, ref: ArtifactRef, public_key: Ed25519PublicKey) -> VerificationResult:
        """Report on ``ref``: valid, invalid, unsigned or tampered (never raises for those)."""
        try:
            fetched = self.fetch(ref)
        except TamperedArtifactError as exc:
            return VerificationResult("tampered", exc.message, ref.digest)
        return self.check_signature(ref, fetched.digest, public_key)

    def pull(self, ref: ArtifactRef, public_key: Ed25519PublicKey | None, *, verify: bool = True) -> FetchedArtifact:
        """Fetch and, unless ``verify`` is False, refuse anything not validly signed by ``public_key``.

        Raises:
            TamperedArtifactError: bytes do not match their digests.
            UnsignedArtifactError: no signature is stored for the digest.
            SignatureInvalidError: the signature is not valid for this digest/repository/tag and key.
        """
        fetched = self.fetch(ref)
        if not verify:
            skipped = VerificationResult("skipped", "signature verification was skipped (--insecure-skip-verify)",
                                         fetched.digest)
            return FetchedArtifact(ref, fetched.digest, fetched.manifest, fetched.manifest_bytes, fetched.content,
                                   skipped)
        if public_key is None:
            raise SignatureInvalidError(f"cannot verify {ref}: no public key",
                                        hint="pass --public-key (or set FLOE_VERIFY_KEY)")
        result = self.check_signature(ref, fetched.digest, public_key)
        raise_for(ref, result)
        return FetchedArtifact(ref, fetched.digest, fetched.manifest, fetched.manifest_bytes, fetched.content, result)

    def inspect(self, ref: ArtifactRef, public_key: Ed25519PublicKey | None = None) -> ArtifactInfo:
        """Digest, type, size, annotations, layers, signature and promotion status of ``ref``."""
        from floe.oci.tags import ENV_TAG_PREFIX, promotion_tag

        data, digest = self.client.manifest(ref.repository, ref.reference)
        manifest = Manifest.from_bytes(data, str(ref))
        if public_key is None:
            envelope = self.signature_envelope(ref.repository, digest)
            signature = VerificationResult(
                "unsigned" if envelope is None else "skipped",
                "no signature" if envelope is None else "signed; not verified (no public key)", digest)
        else:
            signature = self.verify(ref, public_key)
        # Only the tags floe derives from this one can point here; HEAD just those.
        existing = set(self.client.tags(ref.repository))
        candidates = {ref.tag} if ref.tag else set()
        for env in self.environments:
            candidates.add(f"{ENV_TAG_PREFIX}{env}")
            if ref.tag:
                candidates.add(promotion_tag(ref.tag, env))
        same = sorted(t for t in candidates & existing if self.client.resolve(ref.repository, t) == digest)
        envs = [env for env in self.environments
                if f"{ENV_TAG_PREFIX}{env}" in same or (ref.tag and promotion_tag(ref.tag, env) in same)]
        return ArtifactInfo(ref, digest, manifest.artifact_type, sum(layer.size for layer in manifest.layers),
                            manifest.annotations, list(manifest.layers), signature, envs, same)


def raise_for(ref: ArtifactRef, result: VerificationResult) -> None:
    """Turn a failed verification into the error a pull raises."""
    if result.status == "valid":
        return
    if result.status == "unsigned":
        raise UnsignedArtifactError(f"{ref} ({result.digest}) is not signed; refusing to use it",
                                    hint="sign it (`floe artifacts sign`) or, only for debugging, pass "
                                         "--insecure-skip-verify")
    if result.status == "tampered":
        raise TamperedArtifactError(f"{ref}: {result.message}",
                                    hint="do not use this artifact; investigate the registry")
    raise SignatureInvalidError(f"{ref} ({result.digest}): signature is invalid: {result.message}",
                                hint="do not use this artifact; check --public-key is the signer's key")


def read_artifacts_file(path: Path) -> bytes:
    """The bytes of ``compiled_artifacts.json`` (a file, or a folder holding one), validated.

    Raises:
        ArtifactError: missing, or not valid CompiledArtifacts (so nothing invalid is ever pushed).
    """
    from pydantic import ValidationError

    from floe.contract import ARTIFACTS_FILE, CompiledArtifacts

    file = path / ARTIFACTS_FILE if path.is_dir() else path
    if not file.is_file():
        raise ArtifactError(f"{file} does not exist", hint="compile first: `floe compile <product>`")
    content = file.read_bytes()
    try:
        CompiledArtifacts.model_validate_json(content)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ArtifactError(f"{file} is not valid CompiledArtifacts ({exc.error_count()} error(s); first: "
                            f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']})",
                            hint="recompile with `floe compile`") from None
    return content


