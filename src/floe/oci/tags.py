"""The OCI reference grammar floe accepts, tag immutability and the names of promotion tags.

Tags reach the registry inside URLs and show up in CI logs and shell scripts, so anything outside the
OCI tag grammar (shell metacharacters, whitespace, newlines) is refused before a request is made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from floe.oci.errors import InvalidReferenceError

DEFAULT_ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")

TAG_GRAMMAR = "[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"
_TAG = re.compile(TAG_GRAMMAR)
_TAG_CHARS = re.compile(r"[A-Za-z0-9._-]")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
# Release-looking tags never move: v1.2.3, 1.2.3, 1.2.3-rc.1 (OCI tags cannot carry semver's `+build`).
_SEMVER = re.compile(r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?")
_SHELL = set(";&|$`<>()\\'\"*?!#~{}[]")

ENV_TAG_PREFIX = "env-"
AUDIT_TAG_PREFIX = "audit-"
SIGNATURE_TAG_SUFFIX = ".sig"
MAX_REPOSITORY = 255


def validate_tag(tag: str) -> str:
    """Return ``tag`` if it follows the OCI tag grammar, else raise naming the offending character.

    Raises:
        InvalidReferenceError: empty, longer than 128 characters, or containing anything outside
            ``[A-Za-z0-9._-]`` (or starting with ``.`` or ``-``).
    """
    if not isinstance(tag, str) or not tag:
        raise InvalidReferenceError("tag is empty", hint=f"use a tag matching {TAG_GRAMMAR}, e.g. v1.0.0")
    if len(tag) > 128:
        raise InvalidReferenceError(
            f"tag {_show(tag)} is {len(tag)} characters long; OCI tags have at most 128",
            hint="shorten the tag")
    if _TAG.fullmatch(tag):
        return tag
    bad = next((c for c in tag if not _TAG_CHARS.fullmatch(c)), tag[0])
    if bad.isspace():
        kind = "whitespace/newline"
    elif bad in _SHELL:
        kind = "a shell metacharacter"
    elif bad in ".-":
        kind = "not allowed as the first character"
    else:
        kind = "not allowed in a tag"
    raise InvalidReferenceError(
        f"tag {_show(tag)} contains {bad!r} ({kind})",
        hint=f"tags must match {TAG_GRAMMAR}: letters, digits, '_', '.', '-' (e.g. v1.0.0, 1.2.3-rc.1)")


def validate_repository(repository: str) -> str:
    """Return ``repository`` if it is a valid OCI repository path such as ``floe/customer-360``."""
    if not repository or len(repository) > MAX_REPOSITORY or not _REPOSITORY.fullmatch(repository):
        hint = "lower-case path components separated by '/', e.g. floe/customer-360"
        if ":" in repository.split("/")[0] or "." in repository.split("/")[0]:
            hint += "; give the registry with --registry or FLOE_REGISTRY_URL, not in the reference"
        raise InvalidReferenceError(f"repository {_show(repository)} is not a valid OCI repository name",
                                    hint=hint)
    return repository


def validate_digest(digest: str) -> str:
    if not _DIGEST.fullmatch(digest):
        raise InvalidReferenceError(f"digest {_show(digest)} is not 'sha256:' followed by 64 lower-case hex digits")
    return digest


def is_immutable(tag: str) -> bool:
    """Semver tags (``v1.0.0``, ``1.2.3-rc.1``) are immutable; ``latest``, ``dev-*`` and the like move."""
    return _SEMVER.fullmatch(tag) is not None


def promotion_tag(tag: str, environment: str) -> str:
    """``v1.0.0`` promoted to ``staging`` is also tagged ``v1.0.0-staging`` (same digest)."""
    return validate_tag(f"{tag}-{environment}")


def environment_tag(environment: str) -> str:
    """The moving pointer to what an environment runs now: ``env-prod``."""
    return validate_tag(f"{ENV_TAG_PREFIX}{environment}")


def signature_tag(digest: str) -> str:
    """Where the signature of ``digest`` lives (registries without the referrers API): ``sha256-<hex>.sig``."""
    return validate_digest(digest).replace(":", "-") + SIGNATURE_TAG_SUFFIX


def audit_tag(record_id: str) -> str:
    return validate_tag(f"{AUDIT_TAG_PREFIX}{record_id}")


def reserved_reason(tag: str, environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS) -> str | None:
    """Why users may not push ``tag`` themselves (floe manages it), or None when they may."""
    if tag.startswith(ENV_TAG_PREFIX):
        return f"'{ENV_TAG_PREFIX}*' tags point at what an environment runs; they move only by promote/rollback"
    if tag.startswith(AUDIT_TAG_PREFIX):
        return f"'{AUDIT_TAG_PREFIX}*' tags hold promotion audit records"
    if tag.startswith("sha256-"):
        return "'sha256-*' tags hold signatures"
    for env in environments:
        if tag.endswith(f"-{env}"):
            return f"'*-{env}' tags record promotions to {env}"
    return None


@dataclass(frozen=True)
class ArtifactRef:
    """``repository:tag`` or ``repository@sha256:...`` (the registry comes from the client)."""

    repository: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        validate_repository(self.repository)
        if self.tag is not None:
            validate_tag(self.tag)
        if self.digest is not None:
            validate_digest(self.digest)
        if (self.tag is None) == (self.digest is None):
            raise InvalidReferenceError(f"reference to {self.repository} needs exactly one of a tag or a digest")

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/`` in the registry API."""
        return self.digest or self.tag or ""

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest}" if self.digest else f"{self.repository}:{self.tag}"

    @classmethod
    def parse(cls, text: str) -> ArtifactRef:
        """Parse ``floe/customer-360:v1.0.0`` or ``floe/customer-360@sha256:<hex>``.

        Raises:
            InvalidReferenceError: no tag or digest, or any part outside the OCI grammar.
        """
        if not text or any(c.isspace() for c in text):
            raise InvalidReferenceError(f"reference {_show(text)} is empty or contains whitespace",
                                        hint="write repository:tag, e.g. floe/customer-360:v1.0.0")
        if "@" in text:
            repository, _, digest = text.partition("@")
            return cls(repository, digest=digest)
        slash = text.rfind("/")
        colon = text.rfind(":")
        if colon <= slash:
            raise InvalidReferenceError(f"reference {_show(text)} has no tag",
                                        hint="write repository:tag (floe never guesses 'latest'), "
                                             "e.g. floe/customer-360:v1.0.0")
        return cls(text[:colon], tag=text[colon + 1:])


def _show(value: str, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
